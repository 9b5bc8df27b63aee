import { Testing } from "cdktf";
import { beforeAll, describe, expect, it } from "vitest";
import { TENANT_SECRET_ROLES, TenantSecrets } from "../../infra/constructs/tenant-secrets";
import { environments } from "../../infra/environments";
import { exampleSite } from "../../infra/site";
import { parseConfig } from "../../service/src/config";
import { resources, type StackJson, synthAll } from "./helpers";

type Grant = {
  role: string;
  member: string;
  project: string;
  condition?: { expression: string; title: string };
};

let stacks: Record<"bootstrap" | "dev" | "staging" | "prod", StackJson>;
beforeAll(() => {
  stacks = synthAll();
});

const runtimeGrants = (stack: StackJson) =>
  (resources(stack, "google_project_iam_member") as Grant[]).filter((g) =>
    g.member.includes("identity_runtime"),
  );

describe("tenant secrets in Secret Manager (TenantSecrets)", () => {
  it.each([
    "dev",
    "staging",
    "prod",
  ] as const)("%s: the runtime creates, versions and reads only under the prefix", (name) => {
    const stack = stacks[name];
    const number = exampleSite().environments[name].projectNumber;
    const prefix = environments[name].tenantSecrets.prefix;
    const secretGrants = runtimeGrants(stack).filter((g) => g.role.startsWith("roles/secretmanager."));
    const byRole = Object.fromEntries(secretGrants.map((g) => [g.role, g.condition?.expression]));
    expect(secretGrants).toHaveLength(3);
    expect(byRole).toEqual({
      [TENANT_SECRET_ROLES.create]: 'resource.type == "cloudresourcemanager.googleapis.com/Project"',
      [TENANT_SECRET_ROLES.versions]: `resource.name.startsWith("projects/${number}/secrets/${prefix}")`,
      [TENANT_SECRET_ROLES.access]: `resource.name.startsWith("projects/${number}/secrets/${prefix}")`,
    });
    // The condition names the project by number (Secret Manager's resource names), never by id.
    expect(number).toMatch(/^\d+$/);
    // Both services are told the store and the same prefix, and wait for the grants.
    for (const service of resources(stack, "google_cloud_run_v2_service") as {
      template: { containers: { env: { name: string; value?: string }[] }[] };
      depends_on: string[];
    }[]) {
      const env = Object.fromEntries(service.template.containers[0]?.env.map((e) => [e.name, e.value]) ?? []);
      expect(env).toMatchObject({ SECRET_STORE: "secret-manager", SECRET_STORE_PREFIX: prefix });
      expect(service.depends_on.filter((d) => d.includes("tenant-secrets"))).toHaveLength(3);
    }
  });

  it("the prefix infra grants is one the service accepts", () => {
    for (const env of Object.values(environments)) {
      expect(parseConfig({ SECRET_STORE_PREFIX: env.tenantSecrets.prefix }).SECRET_STORE_PREFIX).toBe(
        env.tenantSecrets.prefix,
      );
    }
  });

  it("the deploy identity may grant the three roles (its Project IAM Admin condition lists them)", () => {
    const admin = (resources(stacks.bootstrap, "google_project_iam_member") as Grant[]).filter(
      (g) => g.role === "roles/resourcemanager.projectIamAdmin",
    );
    expect(admin.length).toBeGreaterThan(0);
    for (const g of admin) {
      for (const role of Object.values(TENANT_SECRET_ROLES))
        expect(g.condition?.expression).toContain(`'${role}'`);
    }
  });

  it("refuses a prefix another secret could share, and a project id where the number belongs", () => {
    const make = (prefix: string, projectNumber: string) =>
      Testing.synthScope((s) => {
        new TenantSecrets(s, "t", {
          projectId: "p",
          projectNumber,
          prefix,
          member: "serviceAccount:x@p.iam",
        });
      });
    expect(() => make("tenant", "123")).toThrow(/must end with "-" or "_"/);
    expect(() => make("tenant-", "switchboard-prod")).toThrow(/not a project number/);
    expect(() => make("tenant-", "123")).not.toThrow();
  });
});

describe("Data Access audit logs", () => {
  it("are on in prod for Secret Manager and Cloud SQL, every log type, and off elsewhere", () => {
    const configs = resources(stacks.prod, "google_project_iam_audit_config") as {
      service: string;
      project: string;
      audit_log_config: { log_type: string }[];
    }[];
    expect(configs.map((c) => c.service).sort()).toEqual([
      "cloudsql.googleapis.com",
      "secretmanager.googleapis.com",
    ]);
    for (const c of configs) {
      expect(c.project).toBe(exampleSite().environments.prod.projectId);
      expect(c.audit_log_config.map((l) => l.log_type)).toEqual(["ADMIN_READ", "DATA_READ", "DATA_WRITE"]);
    }
    expect(resources(stacks.dev, "google_project_iam_audit_config")).toEqual([]);
    expect(resources(stacks.staging, "google_project_iam_audit_config")).toEqual([]);
  });
});
