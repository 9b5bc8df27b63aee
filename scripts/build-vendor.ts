/**
 * The vendor SDKs the service loads only when their feature is configured (Cloud Tasks, Secret Manager, the
 * Cloud SQL connector, Gemini, Intercom) are bundled into files of their own under `dist/vendor/`, which
 * the main bundle `require`s on first use.
 *
 * Why: the adapters already import them with a dynamic `import()`, and esbuild (no code splitting) keeps
 * such a module lazy — it is not evaluated until imported. But its source is still in `server.mjs`, and
 * V8 parses and keeps the whole file: measured on the bundle with DATABASE_URL and MODEL_PROVIDER=gemini,
 * stubbing out the unused SDKs took idle RSS from 108 to 88 MB and a cold start from ~350 to ~270 ms.
 * Code splitting would do the same, but would put static imports of shared chunks at the top of
 * `server.mjs`; a `require` of a self-contained CommonJS file stays inside the lazily evaluated module.
 */
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { Plugin } from "esbuild";

/**
 * One file per group: SDKs sharing most of their dependencies (google-gax, google-auth-library, gRPC) share
 * one copy of them. Within a file each SDK is evaluated only when its property is first read.
 */
export const VENDOR_GROUPS: Readonly<Record<string, readonly string[]>> = {
  "google-cloud": [
    "@google-cloud/tasks",
    "@google-cloud/secret-manager",
    "@google-cloud/cloud-sql-connector",
  ],
  genai: ["@google/genai"],
  intercom: ["intercom-client"],
};

const groupOf = new Map(
  Object.entries(VENDOR_GROUPS).flatMap(([group, pkgs]) => pkgs.map((pkg) => [pkg, group] as const)),
);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
const VENDOR_FILTER = new RegExp(`^(${[...groupOf.keys()].map(escapeRegExp).join("|")})$`);

/** The entry of one group: a lazy getter per SDK, so reading one does not evaluate the others. */
export function vendorEntry(group: string): string {
  const getters = (VENDOR_GROUPS[group] ?? []).map(
    (pkg) => `get ${JSON.stringify(pkg)}() { return require(${JSON.stringify(pkg)}); }`,
  );
  return `module.exports = { ${getters.join(", ")} };\n`;
}

/**
 * Main build: an import of a vendor SDK becomes `require("./vendor/<group>.cjs")[pkg]`, left to run time
 * (the banner's `require` resolves it next to the bundle). Only the SDK's own specifier is redirected.
 */
export const vendorStubs: Plugin = {
  name: "vendor-stubs",
  setup(build) {
    build.onResolve({ filter: VENDOR_FILTER }, (args) => ({ path: args.path, namespace: "vendor-stub" }));
    build.onResolve({ filter: /^\.\/vendor\// }, (args) => ({ path: args.path, external: true }));
    build.onLoad({ filter: /.*/, namespace: "vendor-stub" }, (args) => ({
      contents: `module.exports = require("./vendor/${groupOf.get(args.path)}.cjs")[${JSON.stringify(args.path)}];\n`,
      loader: "js",
    }));
  },
};

// gapic clients (Cloud Tasks 6.x) read their retry config, protos and version with
// `getJSON(path.join(dirname, …))` at load time, relative to their own file: in a bundle that file is gone.
const GET_JSON =
  /(?:\(0,\s*)?(?:_jsonHelper\.)?getJSON\)?\(\s*(?:_path\["default"\]|path)\.join\(\s*dirname\s*,((?:\s*'[^']*'\s*,?)+)\)\s*\)/g;

/** Turns those reads into `require` of the JSON file itself, which esbuild bundles. */
export const inlineGapicJson: Plugin = {
  name: "inline-gapic-json",
  setup(build) {
    build.onLoad({ filter: /[\\/]@google-cloud[\\/]tasks[\\/]build[\\/].*_client\.c?js$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const contents = source.replace(GET_JSON, (_, parts: string) => {
        const segments = [...parts.matchAll(/'([^']*)'/g)].map((m) => m[1] ?? "");
        return `require(${JSON.stringify(resolve(dirname(args.path), ...segments))})`;
      });
      if (/getJSON\)?\(/.test(contents))
        throw new Error(`inline-gapic-json: a getJSON call was left in ${args.path}`);
      return { contents, loader: "js" };
    });
  },
};
