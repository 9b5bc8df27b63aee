/**
 * Cold start of the bundled server: process spawn → first 200 from `/api/v1/health`, median of several
 * runs, on the embedded database (fresh data directory, as on an instance without a volume; and reused) and
 * on a PostgreSQL server (already migrated, as on every start but the first).
 *
 *   npx tsx scripts/cold-start.ts [runs=7] [postgres://postgres@127.0.0.1:5432/test]
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { buildService } from "./build";
import { launchBundle, median, stopBundle, timeToHealthy } from "./bundle-process";

const runs = Number(process.argv[2] ?? 7);
const serverUrl = process.argv[3] ?? process.env.TEST_DATABASE_URL;

const work = await mkdtemp(join(tmpdir(), "switchboard-cold-"));
const built = await buildService({ outdir: join(work, "dist") });
console.log(
  `bundle ${(built.bundleBytes / 1024 / 1024).toFixed(2)} MB, built in ${built.ms} ms; ${runs} runs each`,
);
const knowledge = join(built.outdir, "knowledge");

async function measure(label: string, envFor: (i: number) => Promise<Record<string, string>>) {
  const times: number[] = [];
  // One unmeasured run first: it pays for migrations and fills the OS file cache.
  for (let i = -1; i < runs; i++) {
    const p = launchBundle(built.outdir, { PORT: "0", KNOWLEDGE_DIR: knowledge, ...(await envFor(i)) });
    const ms = await timeToHealthy(p);
    await stopBundle(p);
    if (i >= 0) times.push(ms);
  }
  const fmt = (n: number) => `${Math.round(n)} ms`;
  console.log(
    `${label.padEnd(44)} median ${fmt(median(times))}  (min ${fmt(Math.min(...times))}, max ${fmt(Math.max(...times))})`,
  );
}

try {
  await measure("embedded, fresh data dir (initdb + migrate)", async () => ({
    DATA_DIR: await mkdtemp(join(work, "data-")),
  }));
  const warm = await mkdtemp(join(work, "data-"));
  await measure("embedded, existing data dir", async () => ({ DATA_DIR: warm }));
  if (serverUrl) {
    const schema = `t_cold_${randomBytes(4).toString("hex")}`;
    const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create schema ${schema}`);
    try {
      const url = `${serverUrl}${serverUrl.includes("?") ? "&" : "?"}search_path=${schema}`;
      await measure("PostgreSQL server, migrated schema", async () => ({ DATABASE_URL: url }));
      // What the image runs: stack traces mapped to the TypeScript sources.
      await measure("PostgreSQL server, --enable-source-maps", async () => ({
        DATABASE_URL: url,
        NODE_OPTIONS: "--enable-source-maps",
      }));
    } finally {
      await admin.unsafe(`drop schema ${schema} cascade`);
      await admin.end();
    }
  } else {
    console.log("no PostgreSQL URL given (argument or TEST_DATABASE_URL): server run skipped");
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
