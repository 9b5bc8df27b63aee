import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

/** The bundled server as a child process, started the way the image starts it (`node server.mjs`). */
export interface BundleProcess {
  readonly child: ChildProcess;
  /** Resolves with the port from the `service.started` log line; rejects if the process exits first. */
  readonly port: Promise<number>;
  readonly exited: Promise<number | null>;
  /** `performance.now()` just before spawn. */
  readonly spawnedAt: number;
  output(): { out: string; err: string };
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
}

/**
 * Starts `node <dir>/server.mjs` with only PATH and `env` in its environment (nothing leaks in from the
 * test runner), in `dir` as working directory so no node_modules of the repository can be resolved.
 */
export function launchBundle(dir: string, env: Record<string, string>): BundleProcess {
  return launchProcess([join(dir, "server.mjs")], env, dir);
}

/**
 * The service as a child process: `node <args>` (the bundle, or `--import tsx service/src/main.ts` for the
 * sources) with only PATH and `env` in its environment.
 */
export function launchProcess(
  args: string[],
  env: Record<string, string>,
  cwd = process.cwd(),
): BundleProcess {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, {
    cwd,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const port = new Promise<number>((resolve, reject) => {
    child.stdout?.on("data", () => {
      const m = /"event":"service.started","port":(\d+)/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    });
    exited.then((code) => reject(new Error(`service exited (${code}) before listening:\n${err}${out}`)));
  });
  // Callers that expect an early exit never await the port.
  port.catch(() => {});
  return {
    child,
    port,
    exited,
    spawnedAt,
    output: () => ({ out, err }),
    logs: () =>
      out
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

/**
 * Milliseconds from spawn to the first 200 of `/api/v1/health`, polling every few milliseconds: what a
 * Cloud Run startup probe sees, minus the container start.
 */
export async function timeToHealthy(p: BundleProcess, timeoutMs = 30_000): Promise<number> {
  const port = await p.port;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`);
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - p.spawnedAt;
    } catch {
      // Not accepting yet.
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`not healthy within ${timeoutMs} ms`);
}

export async function stopBundle(p: BundleProcess): Promise<number | null> {
  if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGTERM");
  return p.exited;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const at = (i: number) => sorted[i] ?? Number.NaN;
  return sorted.length % 2 ? at(mid) : (at(mid - 1) + at(mid)) / 2;
}
