import { beforeAll, describe, expect, it } from "vitest";
import { STACK_NAMES, type StackJson, type StackName, synthAll } from "./helpers";

/** Patterns of credentials that must never appear in synthesized Terraform (plan and state would keep them). */
const PATTERNS: readonly [string, RegExp][] = [
  ["private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ["service account key JSON", /"private_key_id"|"type":\s*"service_account"/],
  ["Google API key", /AIza[0-9A-Za-z_-]{35}/],
  ["GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
  ["Slack token", /\bxox[abprs]-[A-Za-z0-9-]{10,}/],
  ["AWS access key", /\bAKIA[0-9A-Z]{16}\b/],
  ["JWT", /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\./],
  ["Intercom token", /\bdG9rOj[A-Za-z0-9+/=]{20,}/],
  ["URL with password", /:\/\/[^/\s:@]+:[^/\s@]+@/],
];

/** Attribute names whose literal value would be a credential. */
const SECRET_KEYS =
  /(^|_)(password|passwd|secret_data|private_key|api_key|client_secret|access_token|auth_token|service_key)(_wo)?$/i;

function shannon(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return [...counts.values()].reduce((h, n) => h - (n / s.length) * Math.log2(n / s.length), 0);
}

/** Every finding as `path: what`. Terraform references (`${…}`) are not literal values and are skipped. */
function scan(value: unknown, path = "$"): string[] {
  if (typeof value === "string") {
    const out = PATTERNS.filter(([, re]) => re.test(value)).map(([what]) => `${path}: ${what}`);
    for (const token of value.split(/[^A-Za-z0-9+=]+/)) {
      if (
        token.length >= 32 &&
        /[0-9]/.test(token) &&
        /[A-Z]/.test(token) &&
        /[a-z]/.test(token) &&
        shannon(token) > 4.2
      ) {
        out.push(`${path}: high-entropy string`);
      }
    }
    return out;
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => scan(v, `${path}[${i}]`));
  if (value && typeof value === "object") {
    // `//` is cdktf's metadata (construct paths and ids), depends_on holds resource addresses.
    return Object.entries(value).flatMap(([k, v]) => {
      if (k === "//" || k === "depends_on") return [];
      const here = `${path}.${k}`;
      const literal = typeof v === "string" && v !== "" && !v.startsWith("${");
      return [
        ...(SECRET_KEYS.test(k) && literal ? [`${here}: literal value of a secret attribute`] : []),
        ...scan(v, here),
      ];
    });
  }
  return [];
}

let stacks: Record<StackName, StackJson>;
beforeAll(() => {
  stacks = synthAll();
});

describe("secret scan of the synthesized stacks", () => {
  it.each(STACK_NAMES)("%s holds no secret-looking value", (name) => {
    expect(scan(stacks[name])).toEqual([]);
  });

  it("catches planted secrets (the scanner works)", () => {
    const planted = {
      resource: {
        google_secret_manager_secret_version: { v: { secret_data: "s3cr3t" } },
        google_sql_user: { u: { password: "hunter2" } },
        env: [{ value: "AIzaSyA1234567890abcdefghijklmnopqrstuv" }],
        url: "postgres://app:pa55@10.0.0.3/db",
        blob: "kJ8sQ2mZx7Lp4Vb9Nc3Rt6Yw1He5Ga0Fd2Su8Xi4Oq7",
      },
    };
    const findings = scan(planted);
    expect(new Set(findings.map((f) => f.replace(/^.*: /, "")))).toEqual(
      new Set([
        "literal value of a secret attribute",
        "Google API key",
        "URL with password",
        "high-entropy string",
      ]),
    );
    expect(findings.some((f) => f.startsWith("$.resource.google_sql_user.u.password:"))).toBe(true);
    expect(findings.some((f) => f.startsWith("$.resource.blob: high-entropy"))).toBe(true);
  });
});
