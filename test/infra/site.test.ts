import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EXAMPLE_SITE_PATH, exampleSite, loadSite, SiteConfigError } from "../../infra/site";

const missing = join(tmpdir(), "switchboard-no-site.json");
const example = JSON.parse(readFileSync(EXAMPLE_SITE_PATH, "utf8")) as Record<string, unknown>;

function siteFile(content: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), "switchboard-site-")), "site.json");
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe("site configuration", () => {
  it("ships an example that parses, with placeholder ids", () => {
    const site = exampleSite();
    expect(site.example).toBe(true);
    expect(site.environments.prod.projectId).toBe("switchboard-prod-000000");
    expect(site.environments.dev.secretsReady).toEqual([
      "intercom-access-token",
      "intercom-webhook-secret",
      "session-signing-key",
      "admin-api-key",
      "jwt-secret",
    ]);
  });

  it("refuses to run without a site, saying how to make one", () => {
    expect(() => loadSite({ env: {}, sitePath: missing })).toThrow(SiteConfigError);
    expect(() => loadSite({ env: {}, sitePath: missing })).toThrow(
      /Copy infra\/site\.example\.json to infra\/site\.json/,
    );
  });

  it("falls back to the example only when allowed (npm run synth)", () => {
    expect(loadSite({ env: {}, sitePath: missing, allowExample: true }).example).toBe(true);
    expect(loadSite({ env: { SWITCHBOARD_SITE: "example" }, sitePath: missing }).example).toBe(true);
  });

  it("refuses the example values on the deploy path", () => {
    const path = siteFile(example);
    expect(() => loadSite({ env: {}, sitePath: path })).toThrow(/cannot be deployed/);
  });

  it("names each missing or invalid field and the variable that sets it", () => {
    const { environments: _e, ...rest } = example;
    const path = siteFile({ ...rest, example: false, region: "Europe West" });
    let message = "";
    try {
      loadSite({ env: {}, sitePath: path });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/region: must be a Google Cloud region.*\(or SWITCHBOARD_REGION\)/);
    expect(message).toMatch(/environments: /);
  });

  it("takes every value from environment variables alone (CI)", () => {
    const env: Record<string, string> = {
      SWITCHBOARD_REGION: "us-central1",
      SWITCHBOARD_BOOTSTRAP_PROJECT: "acme-ops-123456",
      SWITCHBOARD_STATE_BUCKET: "acme-ops-123456-tfstate",
      SWITCHBOARD_GITHUB_REPOSITORY: "acme/switchboard",
      SWITCHBOARD_ALERT_EMAILS: "oncall@acme.test, sre@acme.test",
    };
    for (const name of ["dev", "staging", "prod"]) {
      env[`SWITCHBOARD_${name.toUpperCase()}_PROJECT`] = `acme-sb-${name}-1`;
      env[`SWITCHBOARD_${name.toUpperCase()}_PROJECT_NUMBER`] = "123456789012";
      env[`SWITCHBOARD_${name.toUpperCase()}_INTERCOM_ADMIN_ID`] = "42";
    }
    env.SWITCHBOARD_DEV_SECRETS_READY = "false";
    const site = loadSite({ env, sitePath: missing });
    expect(site.example).toBe(false);
    expect(site.billingAccount).toBeUndefined();
    expect(site.alertEmails).toEqual(["oncall@acme.test", "sre@acme.test"]);
    expect(site.environments.prod.projectId).toBe("acme-sb-prod-1");
    expect(site.environments.dev.secretsReady).toBe(false);
    expect(site.environments.prod.image).toBe("us-docker.pkg.dev/cloudrun/container/hello");
  });

  it("requires each environment's project number, saying how to look it up", () => {
    const environments = example.environments as Record<string, Record<string, unknown>>;
    const { projectNumber: _drop, ...dev } = environments.dev ?? {};
    const path = siteFile({ ...example, example: false, environments: { ...environments, dev } });
    expect(() => loadSite({ env: {}, sitePath: path })).toThrow(
      /environments\.dev\.projectNumber: .*\(or SWITCHBOARD_DEV_PROJECT_NUMBER\)/,
    );
    expect(() =>
      loadSite({ env: { SWITCHBOARD_PROD_PROJECT_NUMBER: "switchboard-prod" }, sitePath: path }),
    ).toThrow(
      /environments\.prod\.projectNumber: must be the numeric project number: gcloud projects describe/,
    );
    const fixed = loadSite({ env: { SWITCHBOARD_DEV_PROJECT_NUMBER: "987654321098" }, sitePath: path });
    expect(fixed.environments.dev.projectNumber).toBe("987654321098");
  });

  it("lists the secrets that have a version: none by default, refusing the old all-or-nothing true", () => {
    const environments = example.environments as Record<string, Record<string, unknown>>;
    const { secretsReady: _drop, ...dev } = environments.dev ?? {};
    const path = siteFile({ ...example, example: false, environments: { ...environments, dev } });
    expect(loadSite({ env: {}, sitePath: path }).environments.dev.secretsReady).toEqual([]);
    const listed = loadSite({
      env: { SWITCHBOARD_DEV_SECRETS_READY: "session-signing-key, ADMIN_API_KEY" },
      sitePath: path,
    });
    expect(listed.environments.dev.secretsReady).toEqual(["session-signing-key", "ADMIN_API_KEY"]);
    expect(() => loadSite({ env: { SWITCHBOARD_DEV_SECRETS_READY: "true" }, sitePath: path })).toThrow(
      /environments\.dev\.secretsReady: list the secrets that have a version .*\(or SWITCHBOARD_DEV_SECRETS_READY\)/,
    );
  });

  it("takes a custom domain for the edge: a host name, agreeing with publicUrl, settable by variable", () => {
    const withProd = (prod: Record<string, unknown>) => {
      const environments = example.environments as Record<string, Record<string, unknown>>;
      return siteFile({
        ...example,
        example: false,
        environments: { ...environments, prod: { ...environments.prod, ...prod } },
      });
    };
    const message = (path: string, env: Record<string, string> = {}) => {
      try {
        loadSite({ env, sitePath: path });
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    };
    for (const bad of [
      "https://chat.example.com",
      "Chat.Example.com",
      "chat.example.com/x",
      "svc-1.europe-west1.run.app",
    ]) {
      expect(message(withProd({ domain: bad }))).toMatch(
        /environments\.prod\.domain: .*\(or SWITCHBOARD_PROD_DOMAIN\)/,
      );
    }
    expect(message(withProd({ domain: "chat.example.com", publicUrl: "https://other.example.com" }))).toMatch(
      /environments\.prod\.publicUrl: must be https:\/\/chat\.example\.com/,
    );
    const ok = loadSite({
      env: {},
      sitePath: withProd({ domain: "chat.example.com", publicUrl: "https://chat.example.com/" }),
    });
    expect(ok.environments.prod.domain).toBe("chat.example.com");
    const viaEnv = loadSite({
      env: { SWITCHBOARD_PROD_DOMAIN: "support.acme.test" },
      sitePath: withProd({}),
    });
    expect(viaEnv.environments.prod.domain).toBe("support.acme.test");
  });

  it("lets a variable override one field of the file", () => {
    const path = siteFile({ ...example, example: false });
    const site = loadSite({ env: { SWITCHBOARD_PROD_PROJECT: "acme-prod-777777" }, sitePath: path });
    expect(site.environments.prod.projectId).toBe("acme-prod-777777");
    expect(site.environments.dev.projectId).toBe("switchboard-dev-000000");
  });
});
