/** What the turn benchmarks (turn-cost, turn-round-trips, turn-profile) run, configured one way for all. */
import { SignJWT } from "jose";
import type { GeminiEmulator } from "../test/emulators/gemini";

export const JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789";

/** Signed-in users (HS256 JWTs, enterprise tier: no token budget refuses them), one per conversation. */
export function userTokens(count: number, prefix = "bench-user"): Promise<string[]> {
  const key = new TextEncoder().encode(JWT_SECRET);
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      new SignJWT({ tier: "enterprise" })
        .setProtectedHeader({ alg: "HS256" })
        .setSubject(`${prefix}-${i}`)
        .setExpirationTime("2h")
        .sign(key),
    ),
  );
}

/**
 * Switchboard as in production, on the Gemini emulator, with the limits that would refuse a benchmark's
 * traffic raised (per-user messages a minute, the model quota): the checks still run on every turn.
 */
export function switchboardEnv(gemini: GeminiEmulator, databaseUrl: string, pool: number) {
  return {
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_MAX: String(pool),
    MODEL_PROVIDER: "gemini",
    GEMINI_API_KEY: gemini.apiKey,
    GOOGLE_GEMINI_BASE_URL: gemini.url,
    SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef",
    JWT_SECRET,
    RATE_LIMIT_USER_PER_MINUTE: "100000000",
    MODEL_REQUESTS_PER_MINUTE: "100000000",
    MODEL_TOKENS_PER_MINUTE: "100000000000",
  };
}

/** The naive peer needs only its database and Gemini. */
export function peerEnv(gemini: GeminiEmulator, databaseUrl: string) {
  return { DATABASE_URL: databaseUrl, GEMINI_API_KEY: gemini.apiKey, GOOGLE_GEMINI_BASE_URL: gemini.url };
}

/** postgres.js's default pool, which the peer uses; Switchboard gets the same. */
export const POOL = 10;

/**
 * Ten turns: past Switchboard's 10-message history window, so its summary runs (once, at turn 7), and
 * under its 10-turn routing threshold, so every turn stays on the default model as the peer's do.
 */
export const TURNS_PER_SESSION = 10;
