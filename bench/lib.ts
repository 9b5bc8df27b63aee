import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";

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
