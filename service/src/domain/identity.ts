/** Budget tiers, cheapest first: what a caller may spend (BUDGETS) and which model it may reach. */
export const TIERS = ["guest", "free", "premium", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];

/**
 * What a signed-in person may do (docs/tenants.md): every tenant (`platform_admin`), their tenant's
 * settings, knowledge, channels, users, usage and audit (`tenant_admin`), their tenant's conversations,
 * escalations and contacts (`agent`). End users have none: they chat.
 */
export const TENANT_ROLES = ["platform_admin", "tenant_admin", "agent"] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** Who a turn is for, as every channel and the engine see it. */
export interface Identity {
  /**
   * Stable id: `anon:<uuid>`, `user:<sub>` or `user:<issuer>#<sub>`, `intercom:<contact id>`, `phone:<E.164>`
   * (a texting customer: their number within the tenant), `email:<address>` (a customer writing to a
   * tenant's mailbox, lowercased).
   */
  id: string;
  kind: "anonymous" | "user" | "intercom" | "phone" | "email";
  tier: Tier;
  /** A user JWT with `role: "admin"` (or `roles` containing it): may call the /intercom admin endpoints. */
  admin?: boolean;
  /** A user JWT's `sub`, as issued (the users table and the audit log name people by it). */
  subject?: string;
  /**
   * The tenant this caller belongs to: a user JWT's tenant claim (JWT_TENANT_CLAIM), or the tenant of the
   * widget an anonymous guest came through (its session token's `ten` claim).
   */
  tenantId?: string;
  /** A user JWT's role (`role` claim, or one of `roles`), when it is one of TENANT_ROLES. */
  role?: TenantRole;
  /** An anonymous session token signed with the previous (rotated-out) key: re-issue it. */
  staleSessionToken?: boolean;
}

/**
 * Who calls the admin API: the deployment's ADMIN_API_KEY (a platform admin) or a signed-in user with the
 * role of their token. A tenant user's role may still be overridden by the tenant's users table, which
 * the route reads in that tenant's scope (routes/admin/access.ts).
 */
export interface AdminPrincipal {
  /** `admin-api-key`, or the user's JWT subject: what the audit log names. */
  actor: string;
  /** The token's role; undefined when the token names none (the users table may still give one). */
  role?: TenantRole;
  /** A user's tenant (the tenant claim); a platform admin acts on every tenant. */
  tenantId?: string;
  /** A user's JWT subject, to find them in the tenant's users table; none for the API key. */
  subject?: string;
}

/** One tenant_users row that matched a console user: a tenant (none for a platform admin) and a role. */
export interface TenantMembership {
  tenantId: string | null;
  tenantName: string | null;
  /** The row's subject: what the admin API's authorization looks the person up by in that tenant. */
  subject: string;
  role: TenantRole;
}

/** Who is signed in to the console (console/session.ts), with every tenant they may act on. */
export interface ConsoleViewer {
  sessionId: string;
  csrfToken: string;
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  /** A platform admin acts on every tenant. */
  platformAdmin: boolean;
  /** The tenants they belong to and their role in each. */
  memberships: TenantMembership[];
  /** The tenant the console shows (the tenant switch), when there is one. */
  currentTenantId: string | null;
}
