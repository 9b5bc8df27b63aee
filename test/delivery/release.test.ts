import { execFile } from "node:child_process";
import { appendFileSync, chmodSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, test } from "vitest";

/**
 * scripts/release-cloud-run.sh against a fake `gcloud` on PATH and a local HTTP server standing in for the
 * URLs the smoke test calls (the tag URL, the run.app URL, the edge's domain, the worker's URL). Both write
 * to one timeline, so the tests read the order in which the script moved things and tested them.
 */

const RELEASE = join(import.meta.dirname, "../../scripts/release-cloud-run.sh");
const IMAGE = `europe-west1-docker.pkg.dev/p/switchboard/service@sha256:${"ab".repeat(32)}`;
const VERSION = "abc123def456";
const TAG = `c-${VERSION}`;
const PUBLIC_BEFORE = "switchboard-00041-old";
const WORKER_BEFORE = "switchboard-worker-00007-old";

// Records every call on the timeline; `run deploy` of a service named in not-ready fails as gcloud does
// when the revision never becomes ready; `describe` prints the service as the test set it up.
const FAKE_GCLOUD = `#!/usr/bin/env bash
set -euo pipefail
printf 'gcloud %s\\n' "$*" >> "$FAKE_DIR/timeline"
words=()
for a in "$@"; do [[ "$a" == --* ]] || words+=("$a"); done
case "\${words[*]}" in
  "run deploy "*)
    if grep -qx "\${words[2]}" "$FAKE_DIR/not-ready" 2>/dev/null; then
      echo "ERROR: (gcloud.run.deploy) Revision '\${words[2]}-00099-new' is not ready and cannot serve traffic." >&2
      exit 1
    fi ;;
  "run services describe "*) cat "$FAKE_DIR/\${words[3]}.json" ;;
  "run services update-traffic "*) ;;
  *) echo "fake gcloud: unexpected call: $*" >&2; exit 2 ;;
esac
`;

type Ingress = "all" | "internal-and-cloud-load-balancing" | "internal";
/** What the smoke test's URL answers: `where` is tag | run | edge | worker, `timeline` what happened so far. */
type Answer = (where: string, timeline: string[]) => { code: number; version?: string };

const healthy = (version: string) => ({ code: 200, version: `0.1.0+${version}` });
/** The new build once the public service's traffic has moved to it, the previous one before. */
const afterPromotion: Answer = (where, timeline) =>
  where === "tag" || timeline.some((l) => /update-traffic switchboard .*--to-latest/.test(l))
    ? healthy(VERSION)
    : healthy("000000000000");

/** The stand-in for every URL: answers /<where>/api/v1/health, writing each request on the timeline. */
async function healthServer(timelinePath: string, answer: Answer) {
  const server = createServer((req, res) => {
    appendFileSync(timelinePath, `GET ${req.url}\n`);
    const [, where = "", ...rest] = (req.url ?? "").split("/");
    if (`/${rest.join("/")}` !== "/api/v1/health") return void res.writeHead(404).end();
    // The server answers while the script runs: the timeline as it is at that moment.
    const lines = readFileSync(timelinePath, "utf8").split("\n").filter(Boolean);
    const { code, version } = answer(where, lines);
    res
      .writeHead(code, { "content-type": "application/json" })
      .end(JSON.stringify({ status: code === 200 ? "healthy" : "unhealthy", version }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The fake gcloud and the two services as `describe` shows them before the release. */
async function fakeProject(dir: string, base: string, ingress: Ingress, notReady: string[]) {
  await writeFile(join(dir, "gcloud"), FAKE_GCLOUD);
  chmodSync(join(dir, "gcloud"), 0o755);
  await writeFile(join(dir, "not-ready"), notReady.map((s) => `${s}\n`).join(""));
  // The public service's PUBLIC_URL is the domain behind the edge: here, the server's /edge.
  const publicService = serviceJson("switchboard", ingress, `${base}/run`, `${base}/edge`, [
    { revisionName: PUBLIC_BEFORE, percent: 100, latestRevision: false },
    { revisionName: "switchboard-00042-new", tag: TAG, url: `${base}/tag` },
  ]);
  const worker = serviceJson("switchboard-worker", "internal", `${base}/worker`, `${base}/edge`, [
    { revisionName: WORKER_BEFORE, percent: 100, latestRevision: true },
  ]);
  await writeFile(join(dir, "switchboard.json"), JSON.stringify(publicService));
  await writeFile(join(dir, "switchboard-worker.json"), JSON.stringify(worker));
}

async function release(options: { ingress: Ingress; answer: Answer; notReady?: string[] }) {
  const dir = await mkdtemp(join(tmpdir(), "switchboard-release-"));
  const timelinePath = join(dir, "timeline");
  const output = join(dir, "github-output");
  await writeFile(timelinePath, "");
  await writeFile(output, "");
  const server = await healthServer(timelinePath, options.answer);
  await fakeProject(dir, server.base, options.ingress, options.notReady ?? []);
  const args = ["p", "europe-west1", "switchboard", "switchboard-worker", IMAGE, VERSION];
  const env = {
    ...process.env,
    PATH: `${dir}:${process.env.PATH}`,
    FAKE_DIR: dir,
    GITHUB_OUTPUT: output,
    SMOKE_ATTEMPTS: "2",
    SMOKE_DELAY_SECONDS: "0",
  };
  const result = await promisify(execFile)(RELEASE, args, { env }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  await server.close();
  const timeline = (await readFile(timelinePath, "utf8")).split("\n").filter(Boolean);
  return { ...result, base: server.base, timeline, output: await readFile(output, "utf8") };
}

/** The v1 service object `gcloud run services describe --format=json` prints, reduced to what is read. */
function serviceJson(
  name: string,
  ingress: string,
  url: string,
  publicUrl: string,
  traffic: Record<string, unknown>[],
) {
  return {
    metadata: { name, annotations: { "run.googleapis.com/ingress": ingress } },
    spec: {
      template: {
        spec: {
          containers: [
            {
              image: "us-docker.pkg.dev/cloudrun/container/hello",
              env: [{ name: "PUBLIC_URL", value: publicUrl }],
            },
          ],
        },
      },
    },
    status: { url, traffic },
  };
}

/** Index of the first timeline line matching `pattern`; -1 when none does. */
const at = (timeline: string[], pattern: RegExp) => timeline.findIndex((line) => pattern.test(line));
const deployOf = (service: string) => new RegExp(`^gcloud .*run deploy ${service} `);
const promotionOf = (service: string) => new RegExp(`update-traffic ${service} .*--to-latest`);

describe("release-cloud-run.sh rolls one image out to the public service and the worker", () => {
  test("no edge: both get the same digest with no traffic, the tag URL is tested, then worker before public", async () => {
    const r = await release({ ingress: "all", answer: afterPromotion });
    expect(r.code, r.stderr).toBe(0);
    const t = r.timeline;
    const worker = t[at(t, deployOf("switchboard-worker"))] ?? "";
    const publicDeploy = t[at(t, deployOf("switchboard"))] ?? "";
    for (const line of [worker, publicDeploy]) {
      expect(line).toContain(`--image=${IMAGE}`);
      expect(line).toContain("--no-traffic");
    }
    expect(publicDeploy).toContain(`--tag=${TAG}`);
    // The worker's revision (which migrates) must be ready before the public one is even created.
    expect(at(t, deployOf("switchboard-worker"))).toBeLessThan(at(t, deployOf("switchboard")));
    // Nothing moves until the public revision passed the smoke test at its tag URL.
    const firstTraffic = at(t, /update-traffic/);
    expect(at(t, /^GET \/tag\/api\/v1\/health/)).toBeLessThan(firstTraffic);
    // Consumer before producer: the worker takes its new revision first.
    expect(at(t, promotionOf("switchboard-worker"))).toBe(firstTraffic);
    expect(at(t, promotionOf("switchboard"))).toBeGreaterThan(firstTraffic);
    expect(at(t, /^GET \/run\/api\/v1\/health/)).toBeGreaterThan(at(t, promotionOf("switchboard")));
    // The worker is internal: nobody tries it over HTTP.
    expect(at(t, /^GET \/worker/)).toBe(-1);
    expect(r.output).toBe(`url=${r.base}/run\n`);
  });

  test("no edge: a failed tag smoke test moves no traffic on either service", async () => {
    const r = await release({ ingress: "all", answer: () => healthy("000000000000") });
    expect(r.code).toBe(1);
    expect(at(r.timeline, /^GET \/tag\/api\/v1\/health/)).toBeGreaterThan(-1);
    expect(at(r.timeline, /update-traffic/)).toBe(-1);
  });

  test("a worker revision that never becomes ready stops the release before the public service is touched", async () => {
    const r = await release({ ingress: "all", answer: afterPromotion, notReady: ["switchboard-worker"] });
    expect(r.code).not.toBe(0);
    expect(at(r.timeline, deployOf("switchboard-worker"))).toBeGreaterThan(-1);
    expect(at(r.timeline, deployOf("switchboard"))).toBe(-1);
    expect(at(r.timeline, /update-traffic/)).toBe(-1);
  });

  test("a public service nobody outside can reach (ingress internal) is refused before anything is deployed", async () => {
    const r = await release({ ingress: "internal", answer: afterPromotion });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ingress 'internal'");
    expect(at(r.timeline, /run deploy|update-traffic/)).toBe(-1);
  });

  test("behind the edge: gated on readiness, promoted (worker first), then smoke-tested at the domain", async () => {
    const r = await release({ ingress: "internal-and-cloud-load-balancing", answer: afterPromotion });
    expect(r.code, r.stderr).toBe(0);
    const t = r.timeline;
    expect(t[at(t, deployOf("switchboard"))]).toContain("--no-traffic");
    expect(at(t, promotionOf("switchboard-worker"))).toBeLessThan(at(t, promotionOf("switchboard")));
    // Only the domain is tried (the tag and run.app URLs are internal), and only after the promotion.
    expect(at(t, /^GET \/edge\/api\/v1\/health/)).toBeGreaterThan(at(t, promotionOf("switchboard")));
    expect(t.filter((l) => /^GET \/(tag|run|worker)\//.test(l))).toEqual([]);
    expect(at(t, /--to-revisions/)).toBe(-1);
    expect(r.output).toBe(`url=${r.base}/edge\n`);
  });

  test("behind the edge: a failed smoke test rolls both services back to what served before, public first", async () => {
    const r = await release({
      ingress: "internal-and-cloud-load-balancing",
      answer: () => ({ code: 503 }),
    });
    expect(r.code).toBe(1);
    const t = r.timeline;
    const smoke = at(t, /^GET \/edge\/api\/v1\/health/);
    const publicBack = at(t, new RegExp(`update-traffic switchboard .*--to-revisions=${PUBLIC_BEFORE}=100`));
    const workerBack = at(
      t,
      new RegExp(`update-traffic switchboard-worker .*--to-revisions=${WORKER_BEFORE}=100`),
    );
    expect(smoke).toBeGreaterThan(at(t, promotionOf("switchboard")));
    expect(publicBack).toBeGreaterThan(smoke);
    expect(workerBack).toBeGreaterThan(publicBack);
    expect(r.stderr).toMatch(/::error::.*rolling switchboard back/);
    expect(r.output).toBe("");
  });
});
