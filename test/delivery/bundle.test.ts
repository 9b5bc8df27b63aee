import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type BuildResult, buildService } from "../../scripts/build";
import { type BundleProcess, launchBundle, stopBundle, timeToHealthy } from "../../scripts/bundle-process";
import { startIntercomEmulator } from "../emulators/intercom";

/**
 * `npm run build` end to end: the bundle is built into a temporary directory outside the repository (so no
 * node_modules can be resolved from it, as in the image) and started as a child process, on the embedded
 * database and, when TEST_DATABASE_URL is set, on the PostgreSQL server.
 */

let work: string;
let built: BuildResult;
const running: BundleProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "switchboard-bundle-"));
  built = await buildService({ outdir: join(work, "dist"), buildVersion: "test1234" });
}, 60_000);

afterAll(async () => {
  await Promise.all(running.map((p) => stopBundle(p)));
  await rm(work, { recursive: true, force: true });
});

const ADMIN_API_KEY = "bundle-test-admin-key-0123456789";

function start(env: Record<string, string>): BundleProcess {
  const p = launchBundle(built.outdir, { PORT: "0", LOG_LEVEL: "info", ADMIN_API_KEY, ...env });
  running.push(p);
  return p;
}

async function chat(port: number, message: string) {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/chat`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { reply?: string; model?: string; sessionId?: string },
  };
}

/** Health answers 200, the migrations shipped beside the bundle were applied, a chat is answered. */
async function expectServes(p: BundleProcess, databaseKind: "embedded" | "server") {
  await timeToHealthy(p);
  const port = await p.port;
  // The details (database, knowledge base) are shown to admin callers only.
  const health = await fetch(`http://127.0.0.1:${port}/api/v1/health`, {
    headers: { authorization: `Bearer ${ADMIN_API_KEY}` },
  });
  expect(health.status).toBe(200);
  const body = (await health.json()) as {
    version: string;
    database: { kind: string; status: string };
    knowledgeBase: { chunks: number };
  };
  expect(body.database).toMatchObject({ kind: databaseKind, status: "up" });
  expect(body.version).toBe(built.version);
  // The knowledge base copied beside the bundle was found and loaded.
  expect(body.knowledgeBase.chunks).toBeGreaterThan(0);

  const answer = await chat(port, "How do I reset my password?");
  expect(answer.status).toBe(200);
  expect(answer.body.model).toBe("local");
  expect(answer.body.reply).toMatch(/password/i);
}

describe("npm run build", () => {
  test("writes one ESM bundle plus the files it reads at run time", async () => {
    const names = built.files.map((f) => f.path);
    expect(names).toEqual(
      expect.arrayContaining([
        "server.mjs",
        "server.mjs.map",
        "pglite.wasm",
        "pglite.data",
        "initdb.wasm",
        "migrations/00001_init.sql",
        "package.json",
      ]),
    );
    // Every migration of the source tree ships, byte for byte.
    const source = join(import.meta.dirname, "../../service/src/db/migrations");
    for (const file of (await readdir(source)).filter((f) => f.endsWith(".sql"))) {
      expect(await readFile(join(built.outdir, "migrations", file), "utf8")).toBe(
        await readFile(join(source, file), "utf8"),
      );
    }
    const knowledge = (await readdir(join(import.meta.dirname, "../../service/knowledge"))).filter((f) =>
      f.endsWith(".md"),
    );
    for (const file of knowledge) expect(names).toContain(`knowledge/${file}`);
    // No package is left for node_modules to provide: only Node built-ins are imported at the top level.
    const code = await readFile(built.bundle, "utf8");
    const imports = [...code.matchAll(/^import\s*\{[^}]*\}\s*from\s*"([^"]+)"/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const specifier of imports) expect(specifier).toMatch(/^node:/);
    expect(built.bundleBytes).toBeLessThan(8 * 1024 * 1024);
  });

  test("the npm script runs this build", async () => {
    const pkg = JSON.parse(await readFile(join(import.meta.dirname, "../../package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.build).toBe("tsx scripts/build.ts");
  });
});

describe("the bundled server", () => {
  test("boots on the embedded database, answers health and a chat, and drains on SIGTERM", async () => {
    const dataDir = await mkdtemp(join(work, "data-"));
    const p = start({ DATA_DIR: dataDir, KNOWLEDGE_DIR: join(built.outdir, "knowledge") });
    await expectServes(p, "embedded");
    const migrated = p.logs().find((l) => l.event === "db.migrated");
    expect(migrated?.applied).toContain("00001_init");
    expect(await stopBundle(p)).toBe(0);
    expect(p.logs().some((l) => l.event === "service.stopped")).toBe(true);
  });

  test.skipIf(!process.env.TEST_DATABASE_URL)(
    "boots on the PostgreSQL server (TEST_DATABASE_URL) and migrates a fresh schema",
    async () => {
      const server = process.env.TEST_DATABASE_URL ?? "";
      const schema = `t_bundle_${randomBytes(4).toString("hex")}`;
      const admin = postgres(server, { max: 1, onnotice: () => {} });
      await admin.unsafe(`create schema ${schema}`);
      try {
        const url = `${server}${server.includes("?") ? "&" : "?"}search_path=${schema}`;
        const p = start({ DATABASE_URL: url, KNOWLEDGE_DIR: join(built.outdir, "knowledge") });
        await expectServes(p, "server");
        expect(p.logs().find((l) => l.event === "db.migrated")?.applied).toContain("00001_init");
        expect(await stopBundle(p)).toBe(0);
        const [row] = await admin.unsafe(`select count(*)::int as n from ${schema}.schema_migrations`);
        expect(row?.n).toBeGreaterThan(0);
      } finally {
        await admin.unsafe(`drop schema if exists ${schema} cascade`);
        await admin.end();
      }
    },
  );

  test("boots with the channels a Cloud Run deployment configures: Gemini, Intercom and Cloud Tasks", async () => {
    // Their SDKs are loaded from dist/vendor/ on first use, and Cloud Tasks reads its client config at
    // load: a bundle that lost either fails here, not on the first customer message in production.
    const intercom = await startIntercomEmulator();
    try {
      const p = start({
        DATA_DIR: await mkdtemp(join(work, "data-")),
        KNOWLEDGE_DIR: join(built.outdir, "knowledge"),
        MODEL_PROVIDER: "gemini",
        GEMINI_API_KEY: "bundle-test-gemini-key",
        INTERCOM_ACCESS_TOKEN: intercom.token,
        INTERCOM_API_BASE: intercom.url,
        INTERCOM_WEBHOOK_SECRET: "bundle-test-webhook-secret",
        TASK_QUEUE: "cloud-tasks",
        CLOUD_TASKS_QUEUE: "projects/switchboard-test/locations/europe-west1/queues/switchboard",
        TASKS_INVOKER_SA: "switchboard-tasks@switchboard-test.iam.gserviceaccount.com",
        PUBLIC_URL: "https://switchboard.example.com",
        GCE_METADATA_HOST: "127.0.0.1:9",
        GCE_METADATA_IP: "127.0.0.1:9",
      });
      await timeToHealthy(p);
      expect(p.output().err).not.toMatch(/Cannot find (module|package)|ENOENT|Dynamic require/);
      expect(await stopBundle(p)).toBe(0);
    } finally {
      await intercom.close();
    }
  });

  test("production without a signing key refuses to start with a clear message (exit 1)", async () => {
    const p = start({ NODE_ENV: "production", DATA_DIR: await mkdtemp(join(work, "data-")) });
    expect(await p.exited).toBe(1);
    expect(p.output().err).toContain("SESSION_SIGNING_KEY");
  });

  test("the Secret Manager client is bundled: an sm:// reference fails on credentials, not on a missing module", async () => {
    const p = start({
      GOOGLE_CLOUD_PROJECT: "switchboard-test",
      SESSION_SIGNING_KEY: "sm://session-signing-key",
      // No metadata server answers here; point the probe at a closed local port so it fails fast.
      GCE_METADATA_HOST: "127.0.0.1:9",
      GCE_METADATA_IP: "127.0.0.1:9",
      DATA_DIR: await mkdtemp(join(work, "data-")),
    });
    expect(await p.exited).toBe(1);
    const { err } = p.output();
    expect(err).toContain("SESSION_SIGNING_KEY: could not read sm://session-signing-key");
    expect(err).not.toMatch(/Cannot find (module|package)|ENOENT|Dynamic require/);
  });
});
