import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { basename } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { BANNER } from "../scripts/build";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

export const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

/** Every scenario writes its figures with the machine they came from. */
export function writeResult<T extends Record<string, unknown>>(scenario: string, figures: T) {
  const result = {
    scenario,
    at: new Date().toISOString(),
    machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? "unknown", node: process.version },
    ...figures,
  };
  mkdirSync(`${ROOT}bench/results`, { recursive: true });
  writeFileSync(`${ROOT}bench/results/${scenario}.json`, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import postgres from "postgres";

export interface ServiceProcess {
  url: string;
  child: ChildProcess;
  /** Milliseconds from spawn to the first healthy /api/v1/health. */
  coldStartMs: number;
  stop(): Promise<void>;
}

/** The service in its own process (as in production), so the load generator never shares its event loop. */
/** What production runs (`npm run build`); the sources through tsx when there is no bundle. */
export const SERVICE_ENTRY = existsSync(`${ROOT}dist/server.mjs`)
  ? [`${ROOT}dist/server.mjs`]
  : ["--import", "tsx", "service/src/main.ts"];

export async function startServiceProcess(
  env: Record<string, string>,
  entry: string[] = SERVICE_ENTRY,
): Promise<ServiceProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, entry, {
    cwd: ROOT,
    // Info level, as in production: one log line per request is part of the cost being measured.
    env: { PATH: process.env.PATH ?? "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  const port = await new Promise<number>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /"event":"service.started","port":(\d+)/.exec(out);
      if (m?.[1]) {
        // Keep draining the log pipe, without keeping what it says.
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        out = "";
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`service exited with ${code}: ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    const ok = await fetch(`${url}/api/v1/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  const coldStartMs = performance.now() - started;
  return {
    url,
    child,
    coldStartMs,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A fresh schema on the PostgreSQL server for one benchmark, dropped afterwards. */
export async function benchSchema(serverUrl: string) {
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create schema ${schema}`);
  return {
    url: `${serverUrl}${serverUrl.includes("?") ? "&" : "?"}search_path=${schema}`,
    sql: admin,
    schema,
    async drop() {
      await admin.unsafe(`drop schema ${schema} cascade`);
      await admin.end();
    },
  };
}

export const SERVER_DB = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ): 100 on every Linux that Node supports. */
const USER_HZ = 100;

/**
 * CPU milliseconds (user + system, every thread) a process has used so far, read from the outside, so the
 * load generator's and the emulators' CPU never count. Resolution: 10 ms.
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name (which may contain spaces): utime is the 12th, stime the 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
}

/** Peak resident memory of a process over its whole life (Linux VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Math.round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024);
}

/**
 * A benchmark's own server (a peer, a baseline) bundled into one file the way `npm run build` bundles the
 * service, so every process in a comparison is started the same way: `node <file>.mjs`.
 */
export async function bundleBenchServer(entry: string): Promise<string[]> {
  const outfile = `${ROOT}dist/bench/${basename(entry, ".ts")}.mjs`;
  await build({
    entryPoints: [`${ROOT}${entry}`],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    keepNames: true,
    sourcemap: "linked",
    sourcesContent: false,
    banner: { js: BANNER },
    logLevel: "warning",
  });
  return [outfile];
}
