/**
 * Turns the output of `cdktf diff <stack>` into the Markdown section of the pull-request plan comment: the
 * `Plan:` totals and one line per resource action, with the full plan folded away.
 *
 *   npx tsx scripts/plan-summary.ts <stack> <success|failure|cancelled> <raw output file>
 *   npx tsx scripts/plan-summary.ts <stack> not-applied <gs://bucket/object of its state>
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal colour codes are control characters
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export interface PlanSummary {
  readonly totals: string | undefined;
  readonly noChanges: boolean;
  /** `create google_x.y`, `update in-place …`, `destroy …`, `replace …` */
  readonly actions: readonly string[];
}

/** cdktf prefixes each Terraform line with the stack name; strip it and the colours. */
export function cleanLines(stack: string, raw: string): string[] {
  const prefix = new RegExp(`^${stack.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+`);
  return raw
    .replace(ANSI, "")
    .split(/\r?\n/)
    .map((line) => line.replace(prefix, "").trimEnd());
}

export function parsePlan(stack: string, raw: string): PlanSummary {
  const lines = cleanLines(stack, raw);
  const totals = lines
    .map((l) => /Plan: \d+ to add, \d+ to change, \d+ to destroy\.?.*/.exec(l)?.[0])
    .find(Boolean);
  const noChanges = lines.some((l) => /No changes\. Your infrastructure matches the configuration/.test(l));
  const actions: string[] = [];
  for (const line of lines) {
    const m =
      /^\s*# (\S+) (?:will be|must be) (created|destroyed|updated in-place|replaced|read during apply)/.exec(
        line,
      );
    if (m?.[1] && m[2]) actions.push(`${m[2]}: \`${m[1]}\``);
  }
  return { totals, noChanges, actions };
}

export function summarizePlan(stack: string, outcome: string, raw: string): string {
  const plan = parsePlan(stack, raw);
  const icon = outcome !== "success" ? ":x:" : plan.noChanges ? ":white_check_mark:" : ":warning:";
  const headline =
    outcome !== "success"
      ? `plan ${outcome}`
      : plan.noChanges
        ? "no changes"
        : (plan.totals ?? "changes (no totals found in the output)");
  const out = [`### ${icon} ${stack}: ${headline}`, ""];
  if (plan.actions.length > 0) {
    const shown = plan.actions.slice(0, 50);
    out.push(...shown.map((a) => `- ${a}`));
    if (plan.actions.length > shown.length) out.push(`- … and ${plan.actions.length - shown.length} more`);
    out.push("");
  }
  // The tail of the output holds the error of a failed plan, or the plan itself.
  const tail = cleanLines(stack, raw).filter(Boolean).slice(-200).join("\n").slice(-12_000);
  out.push(
    "<details><summary>output</summary>",
    "",
    "```",
    tail.replaceAll("```", "'''"),
    "```",
    "",
    "</details>",
    "",
  );
  return out.join("\n");
}

/** The section for an environment that has never been applied: nothing to plan against, on purpose. */
export function summarizeNotApplied(stack: string, state: string): string {
  return [
    `### :information_source: ${stack}: not applied yet, plan skipped`,
    "",
    `There is no Terraform state at \`${state}\`, so this environment has never been applied, and the`,
    "read-only plan identity cannot create its state. Apply it once by hand (docs/infrastructure.md,",
    "bring-up); from then on every pull request plans it.",
    "",
  ].join("\n");
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  const [stack, outcome, file] = process.argv.slice(2);
  if (!stack || !outcome || !file) {
    console.error(
      "usage: plan-summary <stack> <outcome> <raw output file>  |  <stack> not-applied <gs://state>",
    );
    process.exit(2);
  }
  if (outcome === "not-applied") {
    process.stdout.write(summarizeNotApplied(stack, file));
    process.exit(0);
  }
  let raw = "";
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    raw = "(no output captured)";
  }
  process.stdout.write(summarizePlan(stack, outcome, raw));
}
