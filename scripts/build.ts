/**
 * `npm run build`: the service as one ESM file, `dist/server.mjs`, that `node` runs with no node_modules.
 *
 * Beside it, the files the service reads from disk at run time, each found relative to the bundle:
 * - `migrations/*.sql`: `MIGRATIONS_DIR` is `new URL("./migrations/", import.meta.url)`, and in the bundle
 *   `import.meta.url` is the bundle's own URL, so copying them next to it is all it takes (no service change).
 * - `pglite.wasm`, `pglite.data`, `initdb.wasm`: PGlite's Emscripten loader finds them with
 *   `new URL("./pglite.wasm", import.meta.url)` (and `locateFile` from the script directory for the data
 *   file), which after bundling also points next to the bundle. So the embedded database bundles too, and the
 *   image needs no node_modules at all.
 * - `widget.js`: the chat widget, served as written, found like the migrations.
 * - `console-assets/`: the web console's script and style sheet, found the same way.
 * - `knowledge/`: the default knowledge base. `KNOWLEDGE_DIR` is relative to the working directory, so the
 *   image sets `KNOWLEDGE_DIR=/app/knowledge`.
 *
 * `BUILD_VERSION` (CI passes the commit) is appended to the package version the health endpoint reports, so
 * a smoke test can tell the new revision from the old one.
 */
import { copyFile, cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { inlineGapicJson, VENDOR_GROUPS, vendorEntry, vendorStubs } from "./build-vendor";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface BuildOptions {
  /** @default "<repo>/dist" */
  readonly outdir?: string;
  /** Appended to the package version as `+<buildVersion>` (e.g. the commit SHA). */
  readonly buildVersion?: string;
  /** @default true */
  readonly minify?: boolean;
}

export interface BuildResult {
  readonly outdir: string;
  readonly bundle: string;
  readonly bundleBytes: number;
  /** Every file of the output directory with its size, relative paths. */
  readonly files: readonly { path: string; bytes: number }[];
  readonly version: string;
  readonly ms: number;
}

/** PGlite's runtime artifacts, loaded from the directory of the module that imports them. */
const PGLITE_ASSETS = ["pglite.wasm", "pglite.data", "initdb.wasm"] as const;

// CommonJS dependencies (pino, google-auth-library, gaxios…) call require() for Node built-ins and read
// __dirname; an ESM bundle has neither, so define them once at the top. The names are prefixed so they
// cannot collide with the bundle's own top-level `require` declarations (PGlite's Emscripten glue has one).
export const BANNER = [
  'import { createRequire as __sbCreateRequire } from "node:module";',
  'import { fileURLToPath as __sbFileURLToPath } from "node:url";',
  'import { dirname as __sbDirname } from "node:path";',
  "globalThis.require ??= __sbCreateRequire(import.meta.url);",
  "const __filename = __sbFileURLToPath(import.meta.url);",
  "const __dirname = __sbDirname(__filename);",
].join("\n");

async function listFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  const sized = await Promise.all(
    files.map(async (file) => ({ path: relative(dir, file), bytes: (await stat(file)).size })),
  );
  return sized.sort((a, b) => a.path.localeCompare(b.path));
}

/** `dist/vendor/<group>.cjs`: each group of vendor SDKs, self-contained, loaded by the bundle on first use. */
async function buildVendor(outdir: string, minify: boolean) {
  await build({
    entryPoints: Object.keys(VENDOR_GROUPS).map((group) => ({
      in: `vendor-entry:${group}`,
      out: `vendor/${group}`,
    })),
    outdir,
    outExtension: { ".js": ".cjs" },
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    minify,
    keepNames: true,
    legalComments: "linked",
    logLevel: "warning",
    plugins: [
      {
        name: "vendor-entries",
        setup(b) {
          b.onResolve({ filter: /^vendor-entry:/ }, (args) => ({
            path: args.path,
            namespace: "vendor-entry",
          }));
          b.onLoad({ filter: /.*/, namespace: "vendor-entry" }, (args) => ({
            contents: vendorEntry(args.path.slice("vendor-entry:".length)),
            resolveDir: ROOT,
            loader: "js",
          }));
        },
      },
      inlineGapicJson,
    ],
  });
}

export async function buildService(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const outdir = options.outdir ?? join(ROOT, "dist");
  const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string };
  const version = options.buildVersion ? `${pkg.version}+${options.buildVersion}` : pkg.version;

  await rm(outdir, { recursive: true, force: true });
  await mkdir(outdir, { recursive: true });
  const bundle = join(outdir, "server.mjs");

  await build({
    entryPoints: [join(ROOT, "service/src/main.ts")],
    outfile: bundle,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    // One file, but the vendor SDKs of optional features are left in dist/vendor/ (scripts/build-vendor.ts).
    splitting: false,
    sourcemap: "linked",
    sourcesContent: false,
    minify: options.minify ?? true,
    // Readable class and function names in stack traces and logs even when minified.
    keepNames: true,
    legalComments: "linked",
    banner: { js: BANNER },
    // The version is read from npm's environment under `npm start`; the bundle runs without npm.
    define: { "process.env.npm_package_version": JSON.stringify(version) },
    logLevel: "warning",
    plugins: [vendorStubs],
  });
  await buildVendor(outdir, options.minify ?? true);

  await cp(join(ROOT, "service/src/db/migrations"), join(outdir, "migrations"), {
    recursive: true,
    filter: (src) => !src.endsWith(".ts"),
  });
  await cp(join(ROOT, "service/knowledge"), join(outdir, "knowledge"), { recursive: true });
  // The chat widget is served as written; service/src/widget/assets.ts finds it next to the bundle.
  await copyFile(join(ROOT, "service/src/widget/widget.js"), join(outdir, "widget.js"));
  // The console's scripts and style sheet, served as written; service/src/console/assets.ts finds the folder.
  await cp(join(ROOT, "service/src/console/console-assets"), join(outdir, "console-assets"), {
    recursive: true,
  });

  const require = createRequire(join(ROOT, "service/src/db/client.ts"));
  const pgliteDist = dirname(require.resolve("@electric-sql/pglite"));
  for (const asset of PGLITE_ASSETS) await copyFile(join(pgliteDist, asset), join(outdir, asset));

  // Marks the directory as an ES module package for tools that look (the .mjs extension already does).
  await writeFile(
    join(outdir, "package.json"),
    `${JSON.stringify({ name: "switchboard-dist", version, private: true, type: "module" }, null, 2)}\n`,
  );

  const files = await listFiles(outdir);
  return {
    outdir,
    bundle,
    bundleBytes: (await stat(bundle)).size,
    files,
    version,
    ms: Math.round(performance.now() - started),
  };
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  const result = await buildService({ buildVersion: process.env.BUILD_VERSION || undefined });
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
  const total = result.files.reduce((n, f) => n + f.bytes, 0);
  console.log(`built ${relative(ROOT, result.bundle)} (${mb(result.bundleBytes)}) in ${result.ms} ms`);
  console.log(
    `version ${result.version}; ${result.files.length} files, ${mb(total)} in ${relative(ROOT, result.outdir)}/`,
  );
  for (const f of result.files.filter((f) => f.bytes > 256 * 1024)) console.log(`  ${f.path} ${mb(f.bytes)}`);
}
