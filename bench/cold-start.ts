/**
 * Cold start (not a test; `npm run bench`): process spawn → first healthy /api/v1/health, median of 10,
 * for the bundled server (`npm run build`, what the image runs) and for `npm start` (tsx, development),
 * against the PostgreSQL server (already migrated, as on every start but the first). Target for the
 * bundle: ≤ 400 ms. `scripts/cold-start.ts` measures the embedded-database cases too.
 */
import { existsSync } from "node:fs";
import { benchSchema, median, ROOT, SERVER_DB, startServiceProcess, writeResult } from "./lib";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);
const db = await benchSchema(SERVER_DB);
const env = { DATABASE_URL: db.url, SESSION_SIGNING_KEY: "bench-session-signing-key-0123456789abcdef" };

async function series(entry: string[]) {
  const times: number[] = [];
  // One unmeasured start migrates the schema and warms the file cache.
  for (let i = -1; i < RUNS; i++) {
    const svc = await startServiceProcess(env, entry);
    if (i >= 0) times.push(svc.coldStartMs);
    await svc.stop();
  }
  return {
    medianMs: Math.round(median(times)),
    minMs: Math.round(Math.min(...times)),
    maxMs: Math.round(Math.max(...times)),
  };
}

const bundle = `${ROOT}dist/server.mjs`;
if (!existsSync(bundle)) throw new Error("run `npm run build` first: the bundle is what the image starts");
const bundled = await series([bundle]);
const tsx = await series(["--import", "tsx", "service/src/main.ts"]);
writeResult("cold-start", {
  runs: RUNS,
  database: "server (migrated)",
  bundled,
  npmStart: tsx,
  target: { bundledMedianMs: 400, met: bundled.medianMs <= 400 },
});
console.table([
  { start: "node dist/server.mjs", ...bundled },
  { start: "tsx service/src/main.ts", ...tsx },
]);
await db.drop();
