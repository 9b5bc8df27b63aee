/** Budget tiers, cheapest first: what a caller may spend (BUDGETS) and which model it may reach. */
export const TIERS = ["guest", "free", "premium", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];

/** Who a turn is for, as every channel and the engine see it. */
export interface Identity {
  /** Stable id: `anon:<uuid>`, `user:<sub>` or `user:<issuer>#<sub>`, `intercom:<contact id>`. */
  id: string;
  kind: "anonymous" | "user" | "intercom";
  tier: Tier;
  /** A user JWT with `role: "admin"` (or `roles` containing it): may call the /intercom admin endpoints. */
  admin?: boolean;
  /** An anonymous session token signed with the previous (rotated-out) key: re-issue it. */
  staleSessionToken?: boolean;
}
