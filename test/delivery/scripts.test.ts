import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { driftMarker, driftReport } from "../../scripts/drift-report";
import { parsePlan, summarizeNotApplied, summarizePlan } from "../../scripts/plan-summary";

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
      workerService: "switchboard-worker",
      registryHost: `${site.region}-docker.pkg.dev`,
      image: `${site.region}-docker.pkg.dev/${site.environments.staging.projectId}/switchboard/service`,
    });
    expect(deployTarget(site, "prod").image).toContain(site.environments.prod.projectId);
  });

  test("give the workflow the worker's name next to the public service's", async () => {
    const { exampleSite } = await import("../../infra/site");
    const { targetOutputs } = await import("../../scripts/deploy-target");
    const lines = targetOutputs(exampleSite(), "prod").trim().split("\n");
    expect(lines).toEqual(
      expect.arrayContaining(["service=switchboard", "worker_service=switchboard-worker"]),
    );
  });

  test("use the names the stack gives the Cloud Run service and the Artifact Registry repository", async () => {
    const { readFile } = await import("node:fs/promises");
    const root = join(import.meta.dirname, "../..");
    const stack = await readFile(join(root, "infra/stacks/platform-stack.ts"), "utf8");
    expect(stack).toMatch(/const SERVICE_NAME = "switchboard";/);
    expect(stack).toMatch(/const WORKER_SERVICE_NAME = "switchboard-worker";/);
    // The state object plans look for is the one the stack's backend writes.
    expect(stack).toMatch(
      /new GcsBackend\(this, \{ bucket: d\.site\.stateBucket, prefix: statePrefix\(env\.name\) \}\)/,
    );
    const { stateObject, statePrefix } = await import("../../infra/site");
    expect(stateObject("prod")).toBe(`${statePrefix("prod")}/default.tfstate`);
    const registry = await readFile(join(root, "infra/constructs/artifact-registry.ts"), "utf8");
    expect(registry).toMatch(/repositoryId = props\.repositoryId \?\? "switchboard"/);
  });
});

/** A local HTTP server that answers each request with `reply(req)`, remembering the requests. */
async function fakeApi(
  reply: (req: IncomingMessage) => { code: number; headers?: Record<string, string>; body?: string },
) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    const r = reply(req);
    res.writeHead(r.code, { "content-type": "application/json", ...r.headers }).end(r.body ?? "");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { seen, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe("state-exists.sh (plans skip an environment that was never applied)", () => {
  const SCRIPT = join(import.meta.dirname, "../../scripts/state-exists.sh");
  const check = (port: number) =>
    run(SCRIPT, ["tf-state-bucket", "switchboard/dev/default.tfstate"], {
      env: { ...process.env, STORAGE_API: `http://127.0.0.1:${port}`, STORAGE_TOKEN: "tok" },
    });

  test("exists=true when the state object is there, asked for with the caller's token", async () => {
    const api = await fakeApi(() => ({ code: 200, body: '{"name":"switchboard/dev/default.tfstate"}' }));
    const { stdout } = await check(api.port);
    await api.close();
    expect(stdout).toContain("exists=true");
    expect(stdout).toContain("state=gs://tf-state-bucket/switchboard/dev/default.tfstate");
    expect(api.seen[0]?.url).toBe(
      "/storage/v1/b/tf-state-bucket/o/switchboard%2Fdev%2Fdefault.tfstate?fields=name",
    );
    expect(api.seen[0]?.headers.authorization).toBe("Bearer tok");
  });

  test("exists=false with a notice when there is no such object", async () => {
    const api = await fakeApi(() => ({ code: 404, body: '{"error":{"message":"No such object: b/o"}}' }));
    const { stdout, stderr } = await check(api.port);
    await api.close();
    expect(stdout).toContain("exists=false");
    expect(stderr).toMatch(
      /::notice::no Terraform state at gs:\/\/tf-state-bucket\/switchboard\/dev\/default\.tfstate/,
    );
  });

  test("fails rather than guessing when the bucket is missing or the state cannot be read", async () => {
    for (const answer of [
      { code: 404, body: '{"error":{"message":"The specified bucket does not exist."}}' },
      { code: 403, body: '{"error":{"message":"does not have storage.objects.get access"}}' },
    ]) {
      const api = await fakeApi(() => answer);
      await expect(check(api.port)).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining("::error::"),
      });
      await api.close();
    }
  });
});

describe("image-digest.sh (a re-run reuses the image pushed under its commit)", () => {
  const SCRIPT = join(import.meta.dirname, "../../scripts/image-digest.sh");
  const DIGEST = `sha256:${"ab".repeat(32)}`;
  const lookup = (port: number) =>
    run(SCRIPT, [`127.0.0.1:${port}/p/switchboard/service`, "0123abc"], {
      env: { ...process.env, REGISTRY_SCHEME: "http", REGISTRY_TOKEN: "tok" },
    });

  test("prints the digest the tag points at, asking for the stored index or manifest", async () => {
    const api = await fakeApi(() => ({ code: 200, headers: { "Docker-Content-Digest": DIGEST } }));
    const { stdout } = await lookup(api.port);
    await api.close();
    expect(stdout.trim()).toBe(`digest=${DIGEST}`);
    expect(api.seen[0]).toMatchObject({ method: "HEAD", url: "/v2/p/switchboard/service/manifests/0123abc" });
    expect(api.seen[0]?.headers.accept).toContain("application/vnd.oci.image.index.v1+json");
    expect(api.seen[0]?.headers.authorization).toBe("Bearer tok");
  });

  test("prints an empty digest when the tag is not there yet (build it)", async () => {
    const api = await fakeApi(() => ({ code: 404 }));
    const { stdout } = await lookup(api.port);
    await api.close();
    expect(stdout.trim()).toBe("digest=");
  });

  test("fails on any other answer instead of building over an immutable tag", async () => {
    for (const answer of [{ code: 401 }, { code: 200 }]) {
      const api = await fakeApi(() => answer);
      await expect(lookup(api.port)).rejects.toMatchObject({ code: 1 });
      await api.close();
    }
  });
});

describe("check-lockfile.sh (CI keeps each stack's provider lock file)", () => {
  const SCRIPT = join(import.meta.dirname, "../../scripts/check-lockfile.sh");
  const LOCK = "cdktf.out/stacks/dev/.terraform.lock.hcl";

  test("warns while the lock is not committed, passes when unchanged, fails when init changed it", async () => {
    const repo = await mkdtemp(join(tmpdir(), "switchboard-lock-"));
    const git = (...args: string[]) =>
      run("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: repo });
    await git("init", "-q");
    await mkdir(join(repo, "cdktf.out/stacks/dev"), { recursive: true });
    await writeFile(
      join(repo, LOCK),
      'provider "registry.terraform.io/hashicorp/google" {\n  version = "6.50.0"\n}\n',
    );
    const check = () => run(SCRIPT, ["dev"], { cwd: repo });

    expect((await check()).stdout).toMatch(/::warning file=.*is not committed/);
    await git("add", "-f", LOCK);
    await git("commit", "-q", "-m", "lock");
    expect((await check()).stdout).toContain("committed and unchanged");
    await writeFile(
      join(repo, LOCK),
      'provider "registry.terraform.io/hashicorp/google" {\n  version = "6.51.0"\n}\n',
    );
    await expect(check()).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringMatching(/::error file=.*changed[\s\S]*6\.51\.0/),
    });
  });
});

describe("plan and drift reports", () => {
  test("a never-applied environment gets a clear skip message, not a failed plan", () => {
    const md = summarizeNotApplied("prod", "gs://b/switchboard/prod/default.tfstate");
    expect(md).toMatch(/^### :information_source: prod: not applied yet, plan skipped/);
    expect(md).toContain("`gs://b/switchboard/prod/default.tfstate`");
  });

  test("drift status per environment: clean, drift, failed or not applied, with one marker per environment", () => {
    const clean = driftReport(
      "prod",
      "success",
      "prod  No changes. Your infrastructure matches the configuration.",
    );
    expect(clean.status).toBe("clean");
    const drift = driftReport(
      "prod",
      "success",
      "prod  # google_x.y will be updated in-place\nprod  Plan: 0 to add, 1 to change, 0 to destroy.",
    );
    expect(drift).toMatchObject({
      status: "drift",
      title: "Infrastructure drift in prod: the plan is not empty",
    });
    expect(drift.body.startsWith(driftMarker("prod"))).toBe(true);
    expect(drift.body).toContain("updated in-place: `google_x.y`");
    expect(driftReport("dev", "failure", "dev  Error: 403").status).toBe("failed");
    expect(driftReport("dev", "skipped", "", "gs://b/o").status).toBe("not-applied");
    expect(driftMarker("dev")).not.toBe(driftMarker("prod"));
  });
});
