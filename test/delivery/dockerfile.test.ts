import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";

/**
 * There is no Docker engine where the tests run, so the image's properties are checked on the Dockerfile
 * itself: stages, pinned bases, a non-root user, nothing but the bundle in the runtime stage.
 */

const ROOT = join(import.meta.dirname, "../..");

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions with continuation lines joined and comments dropped, grouped by stage. */
function parseDockerfile(text: string): { stages: Stage[]; preamble: Instruction[] } {
  const instructions: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) return;
    if (pending && line.startsWith("#")) return;
    if (!pending) startLine = i + 1;
    pending += `${line.replace(/\\$/, "").trim()} `;
    if (line.endsWith("\\")) return;
    const [keyword = "", ...rest] = pending.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), line: startLine });
    pending = "";
  });
  const stages: Stage[] = [];
  const preamble: Instruction[] = [];
  for (const ins of instructions) {
    if (ins.keyword === "FROM") {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith("--"));
      const asIndex = parts.findIndex((p) => p.toUpperCase() === "AS");
      stages.push({
        from: parts[0] ?? "",
        name: asIndex >= 0 ? parts[asIndex + 1] : undefined,
        instructions: [],
      });
    } else {
      (stages.at(-1)?.instructions ?? preamble).push(ins);
    }
  }
  return { stages, preamble };
}

/** Exec-form JSON array of CMD/ENTRYPOINT, or undefined for shell form. */
function execForm(ins: Instruction | undefined): string[] | undefined {
  if (!ins) return undefined;
  try {
    const parsed = JSON.parse(ins.args) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
}

let stages: Stage[];
let runtime: Stage;
let build: Stage;
let dockerignore: string[];

beforeAll(async () => {
  ({ stages } = parseDockerfile(await readFile(join(ROOT, "service/Dockerfile"), "utf8")));
  runtime = stages.at(-1) as Stage;
  build = stages[0] as Stage;
  dockerignore = (await readFile(join(ROOT, ".dockerignore"), "utf8"))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));
});

const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string) => all(stage, keyword).at(-1);

describe("service/Dockerfile", () => {
  test("is multi-stage: a build stage and a runtime stage", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(build.name).toBe("build");
    expect(runtime.name).toBe("runtime");
  });

  test("every base image is pinned by digest, on a specific Node 20 tag", () => {
    for (const stage of stages) {
      expect(stage.from, stage.from).toMatch(/^[^\s:@]+(:[\w.-]+)?@sha256:[0-9a-f]{64}$/);
      expect(stage.from).not.toMatch(/:latest@/);
    }
    expect(build.from).toMatch(/^node:20[\w.-]*@/);
    // A small runtime: distroless Node 20, or the slim Debian image.
    expect(runtime.from).toMatch(/^(gcr\.io\/distroless\/nodejs20-debian12(:[\w-]+)?|node:20[\w.-]*-slim)@/);
  });

  test("the build stage installs from the lockfile and runs npm run build", () => {
    const runs = all(build, "RUN").map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
  });

  test("the runtime stage holds only the bundle: no package install, no node_modules, no sources", () => {
    for (const run of all(runtime, "RUN")) {
      expect(run.args).not.toMatch(/\b(npm|yarn|pnpm)\b/);
    }
    const copies = all(runtime, "COPY").concat(all(runtime, "ADD"));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      expect(copy.args, `line ${copy.line}`).toMatch(/--from=build\b/);
      const sources = copy.args
        .split(/\s+/)
        .filter((p) => !p.startsWith("--"))
        .slice(0, -1);
      for (const source of sources) expect(source).toMatch(/^\/src\/dist\/?$/);
    }
    expect(all(runtime, "COPY").some((c) => /node_modules|package-lock|infra|cdktf/.test(c.args))).toBe(
      false,
    );
  });

  test("runs as a non-root user", () => {
    const user = last(runtime, "USER");
    expect(user).toBeDefined();
    const name = (user?.args ?? "").split(":")[0];
    expect(name).not.toMatch(/^(root|0)$/);
    if (/^\d+$/.test(name ?? "")) expect(Number(name)).toBeGreaterThan(0);
  });

  test("production mode, PORT honoured, and the command runs the bundle", () => {
    const env = all(runtime, "ENV")
      .map((e) => e.args)
      .join(" ");
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    // The service reads PORT (Cloud Run sets it); the image only supplies the default.
    expect(env).toMatch(/\bPORT=8080\b/);
    expect(env).toMatch(/\bKNOWLEDGE_DIR=\/app\/knowledge\b/);
    const command = [
      ...(execForm(last(runtime, "ENTRYPOINT")) ?? []),
      ...(execForm(last(runtime, "CMD")) ?? []),
    ];
    // Exec form, so node is PID 1 and receives Cloud Run's SIGTERM directly.
    expect(command.length).toBeGreaterThan(0);
    expect(command[0]).toMatch(/(^|\/)node$/);
    expect(command).toContain("/app/server.mjs");
    expect(command.join(" ")).not.toMatch(/--port|\b8080\b/);
  });

  test("no HEALTHCHECK (Cloud Run uses its own probes) and no secrets baked in", () => {
    expect(all(runtime, "HEALTHCHECK")).toHaveLength(0);
    for (const stage of stages) {
      for (const ins of stage.instructions.filter((i) => ["ENV", "ARG"].includes(i.keyword))) {
        expect(ins.args).not.toMatch(/(KEY|TOKEN|SECRET|PASSWORD|DATABASE_URL)\s*=/i);
      }
    }
  });
});

describe(".dockerignore", () => {
  test("is an allow-list that keeps node_modules, .env files, site config and state out of the context", () => {
    expect(dockerignore[0]).toBe("*");
    const allowed = dockerignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    for (const forbidden of ["node_modules", ".env", "infra", "cdktf.out", ".data", "dist", ".git"]) {
      expect(allowed.some((a) => a === forbidden || a.startsWith(`${forbidden}/`))).toBe(false);
    }
    expect(dockerignore).toContain("**/.env");
  });

  test("lets in everything the build stage copies", () => {
    const allowed = dockerignore.filter((l) => l.startsWith("!")).map((l) => l.slice(1).replace(/\/$/, ""));
    for (const copy of all(build, "COPY")) {
      const sources = copy.args
        .split(/\s+/)
        .filter((p) => !p.startsWith("--"))
        .slice(0, -1);
      for (const source of sources) {
        const path = source.replace(/\/$/, "");
        expect(
          allowed.some((a) => path === a || path.startsWith(`${a}/`)),
          `${path} (line ${copy.line})`,
        ).toBe(true);
      }
    }
  });
});
