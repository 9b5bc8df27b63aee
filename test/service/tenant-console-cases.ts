/**
 * The console's sign-in records (db/platform-console.ts, migration 00017) belong to people, not to one
 * tenant: a person may work for several tenants and a platform admin for all. They run as the platform
 * (the runtime role has no grant on those tables); test/service/console-session.test.ts proves a session
 * acts on its person's own tenants only.
 */
export const CONSOLE_DEPLOYMENT_WIDE: Record<string, string> = {
  "platform-console.createConsoleSession": "a person's session (no tenant's data)",
  "platform-console.touchConsoleSession": "a person's session (no tenant's data)",
  "platform-console.revokeConsoleSession": "a person's session (no tenant's data)",
  "platform-console.setConsoleTenant":
    "a person's session; the caller checked the tenant (console/access.ts)",
  "platform-console.membershipsOf":
    "finds a signed-in person's tenants by subject or e-mail, across tenants by design",
};
