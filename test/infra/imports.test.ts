import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const SCANNED = ["infra", "test", "bench"];

const SELF = fileURLToPath(import.meta.url);

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === "node_modules" || name === "__snapshots__") return [];
    return statSync(path).isDirectory() ? files(path) : /\.[cm]?tsx?$/.test(name) ? [path] : [];
  });
}

// The package root loads every one of ~1,500 resource bindings: ~10 s and ~600 MB per process
// (DESIGN.md). Deep imports (`@cdktf/provider-google/lib/<resource>`) load one each.
const ROOT_IMPORT = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)["']@cdktf\/provider-google["']/;

describe("imports", () => {
  it("never import @cdktf/provider-google by its package root", () => {
    const offenders = SCANNED.flatMap((d) => files(join(ROOT, d)))
      .filter((f) => f !== SELF && ROOT_IMPORT.test(readFileSync(f, "utf8")))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });

  it("the check catches a root import", () => {
    // Assembled, so that greps for root imports (the before-stop hook's) do not flag this very test.
    const root = ["@cdktf", "provider-google"].join("/");
    expect(ROOT_IMPORT.test(`import { GoogleProvider } from "${root}";`)).toBe(true);
    expect(ROOT_IMPORT.test(`const g = await import("${root}");`)).toBe(true);
    expect(ROOT_IMPORT.test('import { GoogleProvider } from "@cdktf/provider-google/lib/provider";')).toBe(
      false,
    );
  });
});
