/**
 * The console's sign-in flow (db/platform-console.ts): authorizations in flight, one-time links and the
 * local platform admin belong to browsers and people, not to one tenant; they run as the platform.
 * test/service/console-sign-in.test.ts proves each is single use and bound to its browser.
 */
export const SIGNIN_DEPLOYMENT_WIDE: Record<string, string> = {
  "platform-console.saveConsoleAuthorization": "a browser's sign-in in flight (no tenant's data)",
  "platform-console.takeConsoleAuthorization": "a browser's sign-in in flight, single use (no tenant's data)",
  "platform-console.createConsoleSignInLink": "the local one-time link (no tenant's data)",
  "platform-console.useConsoleSignInLink": "the local one-time link, single use (no tenant's data)",
  "platform-console.ensurePlatformAdmin": "the local platform admin: a platform user, of no tenant",
};
