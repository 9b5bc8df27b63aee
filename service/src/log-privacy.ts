import { createHmac, hkdfSync, randomBytes } from "node:crypto";
import { redactPii } from "./redaction";

/**
 * What is rewritten in every log line (fields and child-logger bindings), wherever a future log call puts
 * it: credentials (→ "[secret]"), fields that hold a person's data or words (→ "[redacted]"), and identity
 * ids (hashed when they embed personal data, below), at the top of a line and one level down; secret
 * headers under `headers` (at the top or one level down) and the configuration's credentials under
 * `config`. Message strings, error messages and stacks are redacted for PII separately (logger.ts); these
 * rules catch structured fields.
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
  "SMTP_URL",
];

/**
 * Fields that name who a log line is about (`identity: "user:jane@example.com"`). A conversation id is one
 * too: an SMS conversation is the customer's phone number.
 */
const IDENTITY_KEYS = [
  "identity",
  "identityId",
  "userId",
  "user",
  "contactId",
  "externalRef",
  "conversationId",
];

/** Keys rewritten wherever they are (at the top of a line or one level down), and how. */
const FIELD_RULES = new Map<string, "secret" | "personal" | "identity">([
  ...SECRET_KEYS.map((key) => [key, "secret"] as const),
  ...PERSONAL_KEYS.map((key) => [key, "personal"] as const),
  ...IDENTITY_KEYS.map((key) => [key, "identity"] as const),
]);
/** Keys that are secret only inside one parent: `headers` (at the top or one level down) and `config`. */
const HEADER_NAMES = new Set(HEADER_SECRETS);
const CONFIG_NAMES = new Set(CONFIG_SECRETS);

type Fields = Record<string, unknown>;
const isFields = (value: unknown): value is Fields =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Error);

/**
 * The log line's fields with everything above rewritten, in one walk of the object the log call passed
 * (pino's own `redact` runs a path matcher over every field and serializes each of them again). The
 * caller's object is never changed: a field that needs rewriting gets a shallow copy of its parent.
 */
export type LogRedactor = (fields: Fields) => Fields;

export function logRedactor(identityHashKey: string | undefined): LogRedactor {
  const hashIdentity = identityHasher(identityHashKey);
  const censor = (key: string, value: unknown): unknown => {
    const rule = FIELD_RULES.get(key);
    if (rule === "identity") return hashIdentity(value);
    return rule === "secret" ? "[secret]" : "[redacted]";
  };
  /** One level down: the same keys, plus secret headers or configuration credentials by parent. */
  const nested = (parent: string, fields: Fields): Fields => {
    const only = parent === "headers" ? HEADER_NAMES : parent === "config" ? CONFIG_NAMES : undefined;
    return rewrite(fields, (key, value) => {
      if (only?.has(key) && value !== undefined) return "[secret]";
      if (FIELD_RULES.has(key) && value !== undefined) return censor(key, value);
      if (key === "headers" && isFields(value)) return rewrite(value, secretHeader);
      return value;
    });
  };
  return (fields) =>
    rewrite(fields, (key, value) => {
      if (value === undefined) return value;
      if (FIELD_RULES.has(key)) return censor(key, value);
      return isFields(value) ? nested(key, value) : value;
    });
}

const secretHeader = (key: string, value: unknown) =>
  HEADER_NAMES.has(key) && value !== undefined ? "[secret]" : value;

/** `fields` with each value passed through `map`: the same object when nothing changed, else a copy. */
function rewrite(fields: Fields, map: (key: string, value: unknown) => unknown): Fields {
  let copy: Fields | undefined;
  for (const key in fields) {
    if (!Object.hasOwn(fields, key)) continue;
    const value = fields[key];
    const mapped = map(key, value);
    if (mapped === value) continue;
    copy ??= { ...fields };
    copy[key] = mapped;
  }
  return copy ?? fields;
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
