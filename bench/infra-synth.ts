/**
 * Benchmark of the infrastructure code (not a test; `npm run bench:infra`).
 *
 * 1. Full synth of every stack from a cold process: `node --import tsx infra/main.ts`, the same thing
 *    `npm run synth` and the cdktf CLI run, under /usr/bin/time -v for wall time and peak RSS.
 * 2. Type-check of infra/ alone (`tsc --noEmit -p infra/tsconfig.json`), same measurements.
 *
 * Targets on the 2-core CI machine: synth <= 4 s and <= 300 MB; type-check <= 10 s.
 * Results go to bench/results/infra-synth.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

interface Sample {
  readonly wallSeconds: number;
  readonly peakRssMb: number;
}

/** Run a command under GNU time and read its wall clock and maximum resident set size. */
function measure(command: string[], env: NodeJS.ProcessEnv = {}): Sample {
  const result = spawnSync("/usr/bin/time", ["-v", ...command], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`${command.join(" ")} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(
    result.stderr,
  );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  if (!wall || !rss) throw new Error(`could not read /usr/bin/time output:\n${result.stderr}`);
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  return { wallSeconds: seconds, peakRssMb: Math.round(Number(rss[1]) / 1024) };
}

function summarize(samples: readonly Sample[]) {
  const sorted = [...samples].sort((a, b) => a.wallSeconds - b.wallSeconds);
  const median = sorted[Math.floor(sorted.length / 2)] as Sample;
  return {
    runs: samples.length,
    wallSecondsMedian: median.wallSeconds,
    wallSecondsMax: Math.max(...samples.map((s) => s.wallSeconds)),
    peakRssMbMax: Math.max(...samples.map((s) => s.peakRssMb)),
    samples,
  };
}

const synthSamples: Sample[] = [];
for (let i = 0; i < RUNS; i++) {
  const outdir = mkdtempSync(join(tmpdir(), "switchboard-bench-"));
  synthSamples.push(
    measure(["node", "--import", "tsx", "infra/main.ts", "--allow-example-site"], {
      CDKTF_OUTDIR: outdir,
      SWITCHBOARD_SITE: "example",
    }),
  );
  rmSync(outdir, { recursive: true, force: true });
}
const typecheckSamples: Sample[] = [];
for (let i = 0; i < Math.min(RUNS, 3); i++) {
  typecheckSamples.push(
    measure(["node", "node_modules/typescript/bin/tsc", "--noEmit", "-p", "infra/tsconfig.json"]),
  );
}

const synth = summarize(synthSamples);
const typecheck = summarize(typecheckSamples);
const targets = { synthSeconds: 4, synthPeakRssMb: 300, typecheckSeconds: 10 };
const report = {
  measuredAt: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "unknown", node: process.version },
  targets,
  synth,
  typecheck,
  withinTargets:
    synth.wallSecondsMedian <= targets.synthSeconds &&
    synth.peakRssMbMax <= targets.synthPeakRssMb &&
    typecheck.wallSecondsMedian <= targets.typecheckSeconds,
};

mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
writeFileSync(join(ROOT, "bench", "results", "infra-synth.json"), `${JSON.stringify(report, null, 2)}\n`);
console.log(
  [
    `synth (all 4 stacks, cold process): median ${synth.wallSecondsMedian.toFixed(2)} s, max ${synth.wallSecondsMax.toFixed(2)} s, peak RSS ${synth.peakRssMbMax} MB (target <= ${targets.synthSeconds} s, <= ${targets.synthPeakRssMb} MB)`,
    `type-check of infra/: median ${typecheck.wallSecondsMedian.toFixed(2)} s, peak RSS ${typecheck.peakRssMbMax} MB (target <= ${targets.typecheckSeconds} s)`,
    `within targets: ${report.withinTargets ? "yes" : "NO"} -> bench/results/infra-synth.json`,
  ].join("\n"),
);
if (!report.withinTargets) process.exitCode = 1;
