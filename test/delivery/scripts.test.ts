import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parsePlan, summarizePlan } from "../../scripts/plan-summary";

const run = promisify(execFile);
const SMOKE = join(import.meta.dirname, "../../scripts/smoke-test.sh");

describe("plan summary of cdktf diff output", () => {
  const changes = [
    "staging  Initializing the backend...",
    "staging  Terraform used the selected providers to generate the following execution",
    "         plan. Resource actions are indicated with the following symbols:",
    "\u001b[1mstaging    # google_cloud_run_v2_service.run_service_6F3F0A4B will be updated in-place\u001b[0m",
    "staging    # google_secret_manager_secret.secrets_jwt-secret_1A2B3C must be replaced",
    "staging    # google_monitoring_dashboard.dashboards_service_9F8E will be created",
    "staging  Plan: 2 to add, 1 to change, 1 to destroy.",
  ].join("\n");

  test("totals and one line per resource action, colours and stack prefixes removed", () => {
    const plan = parsePlan("staging", changes);
    expect(plan.totals).toBe("Plan: 2 to add, 1 to change, 1 to destroy.");
    expect(plan.noChanges).toBe(false);
    expect(plan.actions).toEqual([
      "updated in-place: `google_cloud_run_v2_service.run_service_6F3F0A4B`",
      "replaced: `google_secret_manager_secret.secrets_jwt-secret_1A2B3C`",
      "created: `google_monitoring_dashboard.dashboards_service_9F8E`",
    ]);
    const md = summarizePlan("staging", "success", changes);
    expect(md).toMatch(/^### :warning: staging: Plan: 2 to add, 1 to change, 1 to destroy\./);
    expect(md).toContain("<details>");
  });

  test("no changes, and a failed plan", () => {
    const none = "prod  No changes. Your infrastructure matches the configuration.";
    expect(summarizePlan("prod", "success", none)).toMatch(/^### :white_check_mark: prod: no changes/);
    const failed = summarizePlan("dev", "failure", "dev  Error: googleapi: Error 403: Permission denied");
    expect(failed).toMatch(/^### :x: dev: plan failure/);
    expect(failed).toContain("Error 403");
  });

  test("a code fence in the output cannot break out of the comment's code block", () => {
    const md = summarizePlan("dev", "success", "dev  ```\ndev  <script>");
    expect(md.match(/```/g)).toHaveLength(2);
  });
});

describe("smoke-test.sh", () => {
  let server: Server;
  let url: string;
  let answer: { code: number; body: unknown } = { code: 200, body: {} };

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url !== "/api/v1/health") {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(answer.code, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const smoke = (...args: string[]) =>
    run(SMOKE, [url, ...args], { env: { ...process.env, SMOKE_ATTEMPTS: "2", SMOKE_DELAY_SECONDS: "0" } });

  test("passes on 200 healthy with the expected build version", async () => {
    answer = { code: 200, body: { status: "healthy", version: "0.1.0+abc123def456" } };
    const { stdout } = await smoke("abc123def456");
    expect(stdout).toContain("smoke test passed");
  });

  test("fails when an older revision answers (other version), when degraded, or on 503", async () => {
    answer = { code: 200, body: { status: "healthy", version: "0.1.0+000000000000" } };
    await expect(smoke("abc123def456")).rejects.toMatchObject({ code: 1 });
    answer = { code: 200, body: { status: "degraded", version: "0.1.0+abc123def456" } };
    await expect(smoke("abc123def456")).rejects.toMatchObject({ code: 1 });
    answer = { code: 503, body: { status: "unhealthy" } };
    await expect(smoke()).rejects.toMatchObject({ code: 1 });
  });
});

describe("deploy targets", () => {
  test("come from the site configuration: project, region, registry and service of each environment", async () => {
    const { exampleSite } = await import("../../infra/site");
    const { deployTarget } = await import("../../scripts/deploy-target");
    const site = exampleSite();
    const staging = deployTarget(site, "staging");
    expect(staging).toEqual({
      environment: "staging",
      projectId: site.environments.staging.projectId,
      region: site.region,
      service: "switchboard",
      registryHost: `${site.region}-docker.pkg.dev`,
      image: `${site.region}-docker.pkg.dev/${site.environments.staging.projectId}/switchboard/service`,
    });
    expect(deployTarget(site, "prod").image).toContain(site.environments.prod.projectId);
  });

  test("use the names the stack gives the Cloud Run service and the Artifact Registry repository", async () => {
    const { readFile } = await import("node:fs/promises");
    const root = join(import.meta.dirname, "../..");
    const stack = await readFile(join(root, "infra/stacks/platform-stack.ts"), "utf8");
    expect(stack).toMatch(/const SERVICE_NAME = "switchboard";/);
    const registry = await readFile(join(root, "infra/constructs/artifact-registry.ts"), "utf8");
    expect(registry).toMatch(/repositoryId = props\.repositoryId \?\? "switchboard"/);
  });
});
