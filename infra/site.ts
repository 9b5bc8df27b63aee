import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/**
 * Site values: what differs between one organisation's deployment and another's (project ids, region,
 * repository, billing account, people to page). Sizes and policies live in `environments.ts`.
 *
 * Resolution order (first hit wins, environment variables always override single fields):
 *   1. `SWITCHBOARD_SITE=<path>` (or `SWITCHBOARD_SITE=example` for the shipped example),
 *   2. `infra/site.json`,
 *   3. the shipped `infra/site.example.json`, only when the caller allows it (`npm run synth`, tests):
 *      its ids are placeholders, so anything that could reach a real cloud refuses it.
 */

export const ENVIRONMENT_NAMES = ["dev", "staging", "prod"] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/**
 * Where an environment's Terraform state lives in the state bucket: the GCS backend's prefix, and the
 * object of the default workspace under it. CI checks for that object before planning (a never-applied
 * environment has none, and the read-only plan identity cannot create it).
 */
export const statePrefix = (env: EnvironmentName): string => `switchboard/${env}`;
export const stateObject = (env: EnvironmentName): string => `${statePrefix(env)}/default.tfstate`;

const projectId = z
  .string()
  .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id (6-30 chars, a-z 0-9 -)");

const siteEnvironmentSchema = z.object({
  /** The Google Cloud project this environment deploys into (one project per environment). */
  projectId,
  /**
   * The project's number (`gcloud projects describe PROJECT --format='value(projectNumber)'`). It names
   * Cloud Run's deterministic URLs and the budget's project filter. Taken from here rather than read from
   * the Resource Manager API at plan time, because a new project has that API disabled and the first plan
   * would fail with 403 before the stack could enable it.
   */
  projectNumber: z
    .string()
    .regex(
      /^[1-9]\d{5,19}$/,
      "must be the numeric project number: gcloud projects describe PROJECT --format='value(projectNumber)'",
    ),
  /**
   * Image Cloud Run starts with on the very first deploy. CI owns the image after that (Terraform ignores
   * image changes), so this only matters once. The default is Google's hello container, which answers 200
   * on every path, so the health probes pass before the first real build.
   */
  image: z.string().min(1).default("us-docker.pkg.dev/cloudrun/container/hello"),
  /** Intercom admin id of the bot (GET /me with its access token). Not a secret. */
  intercomAdminId: z.string().min(1),
  intercomRegion: z.enum(["us", "eu", "au"]).default("us"),
  /** Browser origins allowed to call the chat API (the sites that embed the widget). */
  corsOrigins: z.array(z.string().url()).default([]),
  /**
   * The secrets that already have a version (secret ids such as `session-signing-key`, or their env var
   * names): only these are mounted. Cloud Run refuses to start a revision whose secret has no version, so a
   * new environment starts with none listed, and a secret added to the service later stays unmounted until
   * it has a version and is listed here (`npm run secrets -- status ENV` shows which have one). `false`
   * means none. `true` (every secret) is refused: it broke the revision whenever a secret was added.
   */
  secretsReady: z
    .union([z.boolean(), z.array(z.string().min(1))])
    .default([])
    .refine((v) => v !== true, {
      message:
        'list the secrets that have a version (e.g. ["session-signing-key", "ADMIN_API_KEY"]) instead of ' +
        "true, which mounted every secret and broke the revision whenever one without a version was added",
    })
    .transform((v) => v as false | string[]),
  /**
   * During a session signing key rotation: the version number of the previous key, exposed pinned as
   * SESSION_SIGNING_KEY_PREVIOUS so tokens it signed keep working (docs/runbook.md, "Rotating secrets").
   */
  previousSessionKeyVersion: z.number().int().positive().optional(),
  /** People paged for this environment; defaults to the site-wide list. */
  alertEmails: z.array(z.string().email()).optional(),
  /** Public URL when a custom domain fronts the service; defaults to Cloud Run's deterministic URL. */
  publicUrl: z.string().url().optional(),
  /**
   * Sender of the team notifications (escalations) sent through the SMTP relay of the `smtp-url` secret,
   * e.g. `Switchboard <support-bot@example.com>`; its domain needs SPF and DKIM for the relay
   * (docs/escalations.md). Unset: the service's default sender.
   */
  notifyFrom: z.string().min(3).max(200).optional(),
  /**
   * Custom domain (host name only, e.g. `chat.example.com`) the edge load balancer serves with a
   * Google-managed certificate, where `edge.enabled` in environments.ts; PUBLIC_URL becomes https://<domain>.
   */
  domain: z
    .string()
    .regex(
      /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
      "must be a lower-case host name such as chat.example.com (no scheme, no path)",
    )
    .refine((d) => !d.endsWith(".run.app"), "must be your own domain, not a run.app host")
    .optional(),
});

export const siteSchema = z.object({
  /** Set only in the shipped example: refuses deploys of placeholder values. */
  example: z.boolean().default(false),
  region: z.string().regex(/^[a-z]+-[a-z]+\d$/, "must be a Google Cloud region such as europe-west1"),
  /** Project that holds the Terraform state bucket and the CI identities (created out of band). */
  bootstrapProjectId: projectId,
  /** Globally unique name of the Terraform state bucket the bootstrap stack creates. */
  stateBucket: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/, "must be a valid bucket name"),
  /** `owner/name` of the GitHub repository whose Actions may plan and deploy. */
  githubRepository: z.string().regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be owner/name"),
  /** Numeric id of the repository owner (`gh api users/<owner> --jq .id`), pins federation to it. */
  githubRepositoryOwnerId: z.string().regex(/^\d+$/, "must be the numeric GitHub owner id").optional(),
  /** Billing account for budgets (`XXXXXX-XXXXXX-XXXXXX`); omit to skip budgets. */
  billingAccount: z
    .string()
    .regex(/^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$/, "must look like 012345-6789AB-CDEF01")
    .optional(),
  alertEmails: z.array(z.string().email()).default([]),
  environments: z.object({
    dev: siteEnvironmentSchema.superRefine(publicUrlMatchesDomain),
    staging: siteEnvironmentSchema.superRefine(publicUrlMatchesDomain),
    prod: siteEnvironmentSchema.superRefine(publicUrlMatchesDomain),
  }),
});

/** With a domain, the public URL is https://<domain>; a different publicUrl would send users elsewhere. */
function publicUrlMatchesDomain(env: z.infer<typeof siteEnvironmentSchema>, ctx: z.RefinementCtx): void {
  if (env.domain && env.publicUrl && env.publicUrl.replace(/\/+$/, "") !== `https://${env.domain}`) {
    ctx.addIssue({
      code: "custom",
      path: ["publicUrl"],
      message: `must be https://${env.domain} (or left out) when domain is set`,
    });
  }
}

export type Site = z.infer<typeof siteSchema>;
export type SiteEnvironment = z.infer<typeof siteEnvironmentSchema>;

export const EXAMPLE_SITE_PATH = fileURLToPath(new URL("./site.example.json", import.meta.url));
export const DEFAULT_SITE_PATH = fileURLToPath(new URL("./site.json", import.meta.url));

export interface LoadSiteOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Accept the shipped example (offline synth, tests). @default false */
  readonly allowExample?: boolean;
  /** @default infra/site.json */
  readonly sitePath?: string;
}

/** `SWITCHBOARD_<ENV>_SECRETS_READY`: a comma-separated list, or `false`/`0` for none. */
function secretsReadyFromEnv(value: string): boolean | string[] {
  if (value === "false" || value === "0") return false;
  if (value === "true" || value === "1") return true; // refused by the schema, with the reason
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Field-level environment variable overrides, documented in docs/infrastructure.md. */
function overridesFromEnv(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const set = (path: string[], value: unknown) => {
    let node = out;
    for (const key of path.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  };
  const list = (v: string) =>
    v
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  const scalars: [string, string[], (v: string) => unknown][] = [
    ["SWITCHBOARD_REGION", ["region"], String],
    ["SWITCHBOARD_BOOTSTRAP_PROJECT", ["bootstrapProjectId"], String],
    ["SWITCHBOARD_STATE_BUCKET", ["stateBucket"], String],
    ["SWITCHBOARD_GITHUB_REPOSITORY", ["githubRepository"], String],
    ["SWITCHBOARD_GITHUB_REPOSITORY_OWNER_ID", ["githubRepositoryOwnerId"], String],
    ["SWITCHBOARD_BILLING_ACCOUNT", ["billingAccount"], String],
    ["SWITCHBOARD_ALERT_EMAILS", ["alertEmails"], list],
  ];
  for (const name of ENVIRONMENT_NAMES) {
    const prefix = `SWITCHBOARD_${name.toUpperCase()}_`;
    scalars.push(
      [`${prefix}PROJECT`, ["environments", name, "projectId"], String],
      [`${prefix}PROJECT_NUMBER`, ["environments", name, "projectNumber"], String],
      [`${prefix}IMAGE`, ["environments", name, "image"], String],
      [`${prefix}INTERCOM_ADMIN_ID`, ["environments", name, "intercomAdminId"], String],
      [`${prefix}INTERCOM_REGION`, ["environments", name, "intercomRegion"], String],
      [`${prefix}CORS_ORIGINS`, ["environments", name, "corsOrigins"], list],
      [`${prefix}SECRETS_READY`, ["environments", name, "secretsReady"], secretsReadyFromEnv],
      [`${prefix}PREVIOUS_SESSION_KEY_VERSION`, ["environments", name, "previousSessionKeyVersion"], Number],
      [`${prefix}DOMAIN`, ["environments", name, "domain"], String],
    );
  }
  for (const [variable, path, parse] of scalars) {
    const value = env[variable];
    if (value !== undefined && value !== "") set(path, parse(value));
  }
  return out;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    out[key] =
      value && typeof value === "object" && !Array.isArray(value) && prior && typeof prior === "object"
        ? deepMerge(prior as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

/** The hint printed next to a missing or invalid field: which file key or variable sets it. */
function hintFor(path: readonly PropertyKey[]): string {
  const [first, env, field] = path.map(String);
  if (first === "environments" && env && field) {
    const suffix: Record<string, string> = {
      projectId: "PROJECT",
      projectNumber: "PROJECT_NUMBER",
      image: "IMAGE",
      intercomAdminId: "INTERCOM_ADMIN_ID",
      intercomRegion: "INTERCOM_REGION",
      corsOrigins: "CORS_ORIGINS",
      secretsReady: "SECRETS_READY",
      previousSessionKeyVersion: "PREVIOUS_SESSION_KEY_VERSION",
      domain: "DOMAIN",
    };
    const s = suffix[field];
    return s ? ` (or SWITCHBOARD_${env.toUpperCase()}_${s})` : "";
  }
  const top: Record<string, string> = {
    region: "SWITCHBOARD_REGION",
    bootstrapProjectId: "SWITCHBOARD_BOOTSTRAP_PROJECT",
    stateBucket: "SWITCHBOARD_STATE_BUCKET",
    githubRepository: "SWITCHBOARD_GITHUB_REPOSITORY",
    githubRepositoryOwnerId: "SWITCHBOARD_GITHUB_REPOSITORY_OWNER_ID",
    billingAccount: "SWITCHBOARD_BILLING_ACCOUNT",
    alertEmails: "SWITCHBOARD_ALERT_EMAILS",
  };
  return first && top[first] ? ` (or ${top[first]})` : "";
}

export class SiteConfigError extends Error {
  override readonly name = "SiteConfigError";
}

/** Parse and validate a site object, naming every missing or invalid field and how to set it. */
export function parseSite(raw: unknown, source: string): Site {
  const result = siteSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const where = issue.path.join(".") || "(root)";
    return `  - ${where}: ${issue.message}${hintFor(issue.path)}`;
  });
  throw new SiteConfigError(`Invalid site configuration from ${source}:\n${lines.join("\n")}`);
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/** The shipped example site (placeholder ids), for offline synth and tests. */
export function exampleSite(): Site {
  return parseSite(readJson(EXAMPLE_SITE_PATH), EXAMPLE_SITE_PATH);
}

/** Resolve the site configuration; throws a {@link SiteConfigError} that says what is missing. */
export function loadSite(options: LoadSiteOptions = {}): Site {
  const env = options.env ?? process.env;
  const sitePath = options.sitePath ?? DEFAULT_SITE_PATH;
  const chosen = env.SWITCHBOARD_SITE;
  let base: Record<string, unknown> = {};
  let source = "SWITCHBOARD_* environment variables";
  let allowExample = options.allowExample ?? false;
  if (chosen === "example") {
    base = readJson(EXAMPLE_SITE_PATH);
    source = EXAMPLE_SITE_PATH;
    allowExample = true;
  } else if (chosen) {
    if (!existsSync(chosen))
      throw new SiteConfigError(`SWITCHBOARD_SITE points at ${chosen}, which does not exist`);
    base = readJson(chosen);
    source = chosen;
  } else if (existsSync(sitePath)) {
    base = readJson(sitePath);
    source = sitePath;
  } else if (allowExample) {
    base = readJson(EXAMPLE_SITE_PATH);
    source = EXAMPLE_SITE_PATH;
  } else if (!Object.keys(env).some((k) => k.startsWith("SWITCHBOARD_"))) {
    throw new SiteConfigError(
      [
        "No site configuration found.",
        "  Copy infra/site.example.json to infra/site.json and fill in your project ids, region, GitHub",
        "  repository and alert e-mails, or set SWITCHBOARD_* environment variables (docs/infrastructure.md).",
        "  For an offline synth with placeholder values run `npm run synth` or set SWITCHBOARD_SITE=example.",
      ].join("\n"),
    );
  }
  const site = parseSite(deepMerge(base, overridesFromEnv(env)), source);
  if (site.example && !allowExample) {
    throw new SiteConfigError(
      `${source} holds the shipped example values ("example": true); they cannot be deployed. ` +
        "Put real values in infra/site.json, or set SWITCHBOARD_SITE=example for an offline synth.",
    );
  }
  return site;
}
