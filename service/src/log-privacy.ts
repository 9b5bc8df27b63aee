import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { redactPii } from "./redaction";

/**
 * What pino rewrites in every log line (fields and child-logger bindings), wherever a future log call
 * puts it: credentials (→ "[secret]"), fields that hold a person's data or words (→ "[redacted]"), and
 * identity ids (hashed when they embed personal data, below). Message strings, error messages and stacks
 * are redacted for PII separately (logger.ts); these paths catch structured fields.
 * https://getpino.io/#/docs/redaction
 */
const SECRET_KEYS = [
  "authorization",
  "cookie",
  "token",
  "accessToken",
  "refreshToken",
  "idToken",
  "sessionToken",
  "apiKey",
  "password",
  "secret",
  "clientSecret",
];
const HEADER_SECRETS = [
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "x-api-key",
  "x-hub-signature",
  "x-internal-token",
];
const PERSONAL_KEYS = [
  "email",
  "phone",
  "phoneNumber",
  "name",
  "text",
  "body",
  "content",
  "reply",
  "prompt",
  "transcript",
];
// Every credential the configuration holds, should the config object ever be logged.
const CONFIG_SECRETS = [
  "GEMINI_API_KEY",
  "GPT_TRAINER_API_KEY",
  "SESSION_SIGNING_KEY",
  "SESSION_SIGNING_KEY_PREVIOUS",
  "JWT_SECRET",
  "DATABASE_URL",
  "ADMIN_API_KEY",
  "INTERCOM_ACCESS_TOKEN",
  "INTERCOM_WEBHOOK_SECRET",
  "INTERNAL_SHARED_SECRET",
];

/** Fields that name who a log line is about (`identity: "user:jane@example.com"`). */
const IDENTITY_KEYS = ["identity", "identityId", "userId", "user", "contactId", "externalRef"];

const atTopAndOneDown = (key: string) => [key, `*.${key}`];
export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap(atTopAndOneDown),
  ...HEADER_SECRETS.flatMap((h) => [`headers["${h}"]`, `*.headers["${h}"]`]),
  ...PERSONAL_KEYS.flatMap(atTopAndOneDown),
  ...IDENTITY_KEYS.flatMap(atTopAndOneDown),
  ...CONFIG_SECRETS.map((key) => `config.${key}`),
];

const SECRET_NAMES = new Set([...SECRET_KEYS, ...HEADER_SECRETS, ...CONFIG_SECRETS]);
const IDENTITY_NAMES = new Set(IDENTITY_KEYS);

/** pino's `redact.censor`: what it writes instead of the value at one of REDACT_PATHS. */
export function logCensor(identityHashKey: string | undefined) {
  const hashIdentity = identityHasher(identityHashKey);
  return (value: unknown, path: string[]): unknown => {
    const key = path.at(-1) ?? "";
    if (IDENTITY_NAMES.has(key)) return hashIdentity(value);
    return SECRET_NAMES.has(key) ? "[secret]" : "[redacted]";
  };
}

/**
 * Replaces identity ids that embed personal data (`user:jane@example.com`, `intercom:+14155550132`) by a
 * keyed hash that keeps the namespace (`user:#4f0c2a9be1d37a55`): the same identity gets the same hash in
 * every line and on every instance, so its lines can still be found together, but the address cannot be
 * read back or guessed by hashing candidates without the key. Ids without personal data (`anon:<uuid>`,
 * `user:<opaque sub>`) are left as they are.
 */
function identityHasher(secret: string | undefined) {
  // A key of its own, derived from the secret (the session signing key in production, the same on every
  // instance); without one, a random key per process (local runs).
  const key = Buffer.from(
    hkdfSync("sha256", secret ?? randomBytes(32), Buffer.alloc(0), "switchboard log identity hash", 32),
  );
  return function hashIdentity(value: unknown): unknown {
    if (typeof value !== "string" || redactPii(value).text === value) return value;
    const colon = value.indexOf(":");
    const namespace = colon > 0 && colon <= 32 ? value.slice(0, colon) : "id";
    return `${namespace}:#${createHmac("sha256", key).update(value).digest("hex").slice(0, 16)}`;
  };
}
