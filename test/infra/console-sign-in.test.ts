import { describe, expect, it } from "vitest";
import { type EnvironmentSpec, environments } from "../../infra/environments";
import { exampleSite } from "../../infra/site";
import { resources, type StackJson, synthAll } from "./helpers";

/**
 * The console's OpenID Connect sign-in in the cloud: the issuer and client id as plain configuration of
 * the services, the client secret from its own Secret Manager secret that only the runtime identity reads.
 */

const OIDC = { issuer: "https://login.example.com", clientId: "switchboard-console" };
const SECRET_ID = "console-oidc-client-secret";

function withOidc(): Record<keyof typeof environments, EnvironmentSpec> {
  const set = (e: EnvironmentSpec): EnvironmentSpec => ({ ...e, console: { oidc: OIDC } });
  return { dev: set(environments.dev), staging: set(environments.staging), prod: set(environments.prod) };
}

/** The example site with the client secret's version in place (listed as ready) in every environment. */
function siteWithSecretReady() {
  const site = exampleSite();
  for (const env of Object.values(site.environments)) {
    (env as { secretsReady: string[] }).secretsReady = [...(env.secretsReady || []), SECRET_ID];
  }
  return site;
}

interface EnvVar {
  name: string;
  value?: string;
  value_source?: { secret_key_ref: { secret: string; version: string } };
}

function publicEnv(stack: StackJson): EnvVar[] {
  const services = resources(stack, "google_cloud_run_v2_service") as {
    name: string;
    template: { containers: { env: EnvVar[] }[] };
  }[];
  const service = services.find((s) => !s.name.includes("worker"));
  return service?.template.containers[0]?.env ?? [];
}

describe("console sign-in, configured", () => {
  const stacks = synthAll({ environments: withOidc(), site: siteWithSecretReady() });

  it("gives the public service the issuer and client id, and the secret by reference", () => {
    for (const name of ["dev", "staging", "prod"] as const) {
      const env = publicEnv(stacks[name]);
      expect(env.find((v) => v.name === "OIDC_ISSUER")?.value, name).toBe(OIDC.issuer);
      expect(env.find((v) => v.name === "OIDC_CLIENT_ID")?.value, name).toBe(OIDC.clientId);
      const secret = env.find((v) => v.name === "OIDC_CLIENT_SECRET");
      expect(secret?.value, name).toBeUndefined();
      expect(secret?.value_source?.secret_key_ref.secret, name).toContain(SECRET_ID);
    }
  });

  it("creates the secret with an accessor grant to the runtime identity alone", () => {
    const prod = stacks.prod;
    const secrets = resources(prod, "google_secret_manager_secret") as { secret_id: string }[];
    expect(secrets.map((s) => s.secret_id)).toContain(SECRET_ID);
    const grants = (
      resources(prod, "google_secret_manager_secret_iam_member") as {
        secret_id: string;
        member: string;
        role: string;
      }[]
    ).filter((g) => JSON.stringify(g.secret_id).includes(SECRET_ID));
    expect(grants).toHaveLength(1);
    expect(grants[0]?.role).toBe("roles/secretmanager.secretAccessor");
    expect(grants[0]?.member).toMatch(/^serviceAccount:.*runtime/);
  });
});

describe("console sign-in, not configured (the environments' data)", () => {
  it("adds no OIDC variable and no secret", () => {
    const stacks = synthAll();
    for (const name of ["dev", "staging", "prod"] as const) {
      const text = JSON.stringify(stacks[name]);
      expect(text, name).not.toContain("OIDC_");
      expect(text, name).not.toContain(SECRET_ID);
    }
  });
});
