import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildApp } from "./app";
import { RULES } from "./guardrails/rules";
import { ENVIRONMENT_NAMES, loadSite, SiteConfigError } from "./site";

/**
 * Entry point of `cdktf synth|diff|deploy` (cdktf.json) and of `npm run synth`.
 * `--allow-example-site` (npm run synth) falls back to infra/site.example.json when no site is configured,
 * so a clean clone synthesizes offline; the cdktf CLI path never does.
 */
function main(): void {
  const allowExample = process.argv.includes("--allow-example-site");
  let site: ReturnType<typeof loadSite>;
  try {
    site = loadSite({ allowExample });
  } catch (error) {
    if (error instanceof SiteConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  if (site.example) {
    console.warn("note: synthesizing with the EXAMPLE site (placeholder project ids); not deployable.");
  }
  let outdir: string;
  try {
    const { app } = buildApp({ site });
    app.synth();
    outdir = app.outdir;
  } catch (error) {
    // Guardrail and monitoring-file failures are messages for a human, not stack traces.
    console.error((error as Error).message);
    process.exit(1);
  }
  if (!process.env.CDKTF_OUTDIR || process.argv.includes("--summary")) printSummary(outdir);
}

/** One line per stack: resource count and counts by type. */
function printSummary(outdir: string): void {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as {
    stacks: Record<string, { synthesizedStackPath: string }>;
  };
  let exemptions = 0;
  const order = (name: string) => ["bootstrap", ...ENVIRONMENT_NAMES].indexOf(name as never);
  const stacks = Object.entries(manifest.stacks).sort(([a], [b]) => order(a) - order(b));
  for (const [name, stack] of stacks) {
    const tf = JSON.parse(readFileSync(join(outdir, stack.synthesizedStackPath), "utf8")) as {
      resource?: Record<string, Record<string, unknown>>;
    };
    const counts = Object.entries(tf.resource ?? {})
      .map(([type, byName]) => [type.replace(/^google_/, ""), Object.keys(byName).length] as const)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const total = counts.reduce((n, [, c]) => n + c, 0);
    console.log(`${name}: ${total} resources → ${stack.synthesizedStackPath}`);
    console.log(`  ${counts.map(([t, c]) => `${t} ${c}`).join(", ")}`);
    exemptions += Object.values(tf.resource ?? {})
      .flatMap((byName) => Object.values(byName) as { "//"?: { guardrail_exemptions?: object } }[])
      .reduce((n, r) => n + Object.keys(r["//"]?.guardrail_exemptions ?? {}).length, 0);
  }
  console.log(`guardrails: ${RULES.length} rules passed on every stack (${exemptions} reasoned exemptions)`);
}

main();
