// Request counters (rate_limit_windows) are counted in the admission statement of a turn (admission.ts).
/** The counter key of an identity's own request limit (erasure deletes it with the identity). */
export const identityLimitKey = (identityId: string) => `user:${identityId}`;
