import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { environments } from "../../infra/environments";
import { exampleSite } from "../../infra/site";
import { type Config, configSchema, type Env, loadConfig } from "../../service/src/config";
import type { SecretSource } from "../../service/src/ports/secret-source";
import { resources, type StackJson, synthAll } from "./helpers";

/**
 * Service and infra agree: the environment each stack gives each Cloud Run service is parsed by the
 * service's own configuration schema, the way the container would parse it at start-up. Terraform
 * references become plausible values derived from the resource they point at, secrets placeholder values.
 */

type EnvEntry = {
  name: string;
  value?: string;
  value_source?: { secret_key_ref: { secret: string; version: string } };
};

const SERVICES = { switchboard: "public", "switchboard-worker": "worker" } as const;
type ServiceName = keyof typeof SERVICES;

/** Plausible values of the resource attributes the services' environment refers to, from the resource. */
const PLAUSIBLE: Record<string, (r: Record<string, unknown>) => string> = {
  "google_service_account.email": (r) => `${r.account_id}@${r.project}.iam.gserviceaccount.com`,
  "google_secret_manager_secret.secret_id": (r) => String(r.secret_id),
  "google_sql_database_instance.connection_name": (r) => `${r.project}:${r.region}:${r.name}`,
  "google_cloud_tasks_queue.name": (r) => String(r.name),
  "google_pubsub_topic.id": (r) => `projects/${r.project}/topics/${r.name}`,
};

const REFERENCE = /\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}/g;

/** `value` with every `${type.name.attribute}` replaced by what Terraform would put there. */
function substitute(stack: StackJson, value: string): string {
  const literal = value.replace(REFERENCE, (ref, type: string, name: string, attribute: string) => {
    const resource = stack.resource[type]?.[name];
    if (!resource) throw new Error(`${ref} refers to a resource the stack does not have`);
    const plausible = PLAUSIBLE[`${type}.${attribute}`];
    if (!plausible)
      throw new Error(`${ref}: no plausible value for ${type}.${attribute}; add one to PLAUSIBLE`);
    return plausible(resource);
  });
  if (literal.includes("${")) throw new Error(`${value}: an expression this test cannot evaluate`);
  return literal;
}

/** The env entries infra sets on one Cloud Run service. */
function entriesOf(stack: StackJson, service: ServiceName): EnvEntry[] {
  const found = resources(stack, "google_cloud_run_v2_service").find((r) => r.name === service) as
    | { template: { containers: { env: EnvEntry[] }[] } }
    | undefined;
  if (!found) throw new Error(`no Cloud Run service ${service}`);
  return found.template.containers[0]?.env ?? [];
}

/** Secrets whose value has a shape the service checks: a plausible one (others are random). */
const SECRET_SHAPES: Record<string, () => string> = {
  SMTP_URL: () => `smtps://relay:${randomBytes(12).toString("hex")}@smtp.example.com:465`,
};

/** The same entries as the container sees them: references resolved, Secret Manager values filled in. */
function containerEnv(stack: StackJson, entries: readonly EnvEntry[]): Env {
  return Object.fromEntries(
    entries.map((e) => {
      if (e.value !== undefined) return [e.name, substitute(stack, e.value)];
      const secret = e.value_source?.secret_key_ref.secret;
      if (secret === undefined) throw new Error(`${e.name} has neither a value nor a secret`);
      substitute(stack, secret); // the secret must exist in the stack
      return [e.name, SECRET_SHAPES[e.name]?.() ?? randomBytes(24).toString("hex")];
    }),
  );
}

/** Secret Manager as the service meets it: only this stack's secrets, in this stack's project. */
function secretManagerOf(stack: StackJson, requested: string[]): SecretSource {
  const ids = new Set(
    resources(stack, "google_secret_manager_secret").map((s) => `${s.project}/${s.secret_id}`),
  );
  return {
    async access(name) {
      requested.push(name);
      const m = /^projects\/([^/]+)\/secrets\/([^/]+)\/versions\/[^/]+$/.exec(name);
      if (!m || !ids.has(`${m[1]}/${m[2]}`)) throw new Error(`NOT_FOUND: ${name}`);
      return randomBytes(24).toString("hex");
    },
  };
}

/** What Cloud Run itself sets in every container (https://cloud.google.com/run/docs/container-contract#env-vars). */
const cloudRunEnv = (service: string) => ({
  PORT: "8080",
  K_SERVICE: service,
  K_REVISION: `${service}-00042-xyz`,
  K_CONFIGURATION: service,
});

const unknownNames = (entries: readonly EnvEntry[]) =>
  entries.map((e) => e.name).filter((name) => !Object.hasOwn(configSchema.shape, name));

async function startUpConfig(stack: StackJson, service: ServiceName, entries = entriesOf(stack, service)) {
  const requested: string[] = [];
  const env = { ...cloudRunEnv(service), ...containerEnv(stack, entries) };
  const config: Config = await loadConfig(env, secretManagerOf(stack, requested));
  return { config, requested };
}

const VARIANTS = ["example site", "rotation, Gemini API key and GPT-trainer"] as const;
const STACKS = ["dev", "staging", "prod"] as const;
let synthesized: Record<(typeof VARIANTS)[number], Record<(typeof STACKS)[number], StackJson>>;

beforeAll(() => {
  const site = exampleSite();
  const dev = site.environments.dev;
  const secretsReady = [
    ...(dev.secretsReady || []),
    "gemini-api-key",
    "gpt-trainer-api-key",
    "CHATBOT_UUID",
    "smtp-url",
  ];
  synthesized = {
    "example site": synthAll(),
    "rotation, Gemini API key and GPT-trainer": synthAll({
      site: {
        ...site,
        environments: {
          ...site.environments,
          dev: {
            ...dev,
            secretsReady,
            previousSessionKeyVersion: 3,
            notifyFrom: "Switchboard <escalations@notify.example.com>",
          },
        },
      },
      environments: {
        ...environments,
        dev: {
          ...environments.dev,
          model: { ...environments.dev.model, gemini: "api-key", gptTrainer: true },
        },
      },
    }),
  };
});

describe("the environment infra gives each Cloud Run service", () => {
  const matrix = VARIANTS.flatMap((variant) =>
    STACKS.flatMap((stack) =>
      (Object.keys(SERVICES) as ServiceName[]).map((service) => ({ variant, stack, service })),
    ),
  );

  it.each(
    matrix,
  )("$variant, $stack, $service: every variable is one the service knows, and it starts with their values", async ({
    variant,
    stack: name,
    service,
  }) => {
    const stack = synthesized[variant][name];
    const entries = entriesOf(stack, service);
    expect(unknownNames(entries)).toEqual([]);
    const { config, requested } = await startUpConfig(stack, service);
    expect(config).toMatchObject({ NODE_ENV: "production", SERVICE_ROLE: SERVICES[service] });
    // The service resolves its own references (sm://…) to secrets the stack created in its project.
    const selfResolved = entries.filter((e) => e.value?.startsWith("sm://")).map((e) => e.name);
    expect(requested).toHaveLength(selfResolved.length);
  });

  it("covers the variables a variant adds: the previous signing key, the model credentials, the SMTP relay", () => {
    const names = entriesOf(synthesized["rotation, Gemini API key and GPT-trainer"].dev, "switchboard").map(
      (e) => e.name,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        "SESSION_SIGNING_KEY_PREVIOUS",
        "GEMINI_API_KEY",
        "GPT_TRAINER_API_KEY",
        "CHATBOT_UUID",
        "SMTP_URL",
        "NOTIFY_FROM",
      ]),
    );
  });

  it("fails on a variable the service does not know and on a value it refuses", async () => {
    const stack = synthesized["example site"].prod;
    const entries = entriesOf(stack, "switchboard");
    const typo = [...entries, { name: "DATABSE_NAME", value: "switchboard" }];
    expect(unknownNames(typo)).toEqual(["DATABSE_NAME"]);
    const refused = entries.map((e) => (e.name === "DATABASE_POOL_MAX" ? { ...e, value: "0" } : e));
    await expect(startUpConfig(stack, "switchboard", refused)).rejects.toThrow(/DATABASE_POOL_MAX/);
    const missing = entries.map((e) =>
      e.value?.startsWith("sm://") ? { ...e, value: "sm://no-such-secret" } : e,
    );
    await expect(startUpConfig(stack, "switchboard", missing)).rejects.toThrow(/sm:\/\/no-such-secret/);
  });
});
