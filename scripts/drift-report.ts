/**
 * Turns one environment's scheduled plan into what the drift workflow does with its GitHub issue: a JSON
 * object `{ stack, status, title, body }`, where status is `clean` (close the issue), `drift` or `failed`
 * (open or update it) or `not-applied` (leave it alone). The body carries a marker the workflow finds the
 * issue by, so there is one issue per environment.
 *
 *   npx tsx scripts/drift-report.ts <stack> <diff step outcome> <raw cdktf diff output> [gs://state]
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parsePlan, summarizeNotApplied, summarizePlan } from "./plan-summary";

export type DriftStatus = "clean" | "drift" | "failed" | "not-applied";

export interface DriftReport {
  readonly stack: string;
  readonly status: DriftStatus;
  readonly title: string;
  readonly body: string;
}

/** The marker in an issue body that ties it to one environment. */
export const driftMarker = (stack: string): string => `<!-- switchboard:drift:${stack} -->`;

/** `outcome` is the diff step's: `skipped` when there was no state to plan against. */
export function driftReport(stack: string, outcome: string, raw: string, state = ""): DriftReport {
  const status: DriftStatus =
    outcome === "skipped"
      ? "not-applied"
      : outcome !== "success"
        ? "failed"
        : parsePlan(stack, raw).noChanges
          ? "clean"
          : "drift";
  const title =
    status === "failed"
      ? `Drift check of ${stack} failed`
      : `Infrastructure drift in ${stack}: the plan is not empty`;
  const details =
    status === "not-applied" ? summarizeNotApplied(stack, state) : summarizePlan(stack, outcome, raw);
  const advice =
    status === "failed"
      ? "The scheduled plan failed, so drift cannot be ruled out. Look at the output below and the run."
      : "Something changed outside Terraform, or main holds a change that was never applied. Apply it, or " +
        "bring the change into the code, until the scheduled plan is empty again; this issue then closes itself.";
  return { stack, status, title, body: [driftMarker(stack), advice, "", details].join("\n") };
}

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isEntry) {
  const [stack, outcome, file, state] = process.argv.slice(2);
  if (!stack || !outcome || !file) {
    console.error("usage: drift-report <stack> <outcome> <raw output file> [gs://state]");
    process.exit(2);
  }
  let raw = "";
  try {
    raw = readFileSync(file, "utf8");
  } catch {
    raw = "(no output captured)";
  }
  process.stdout.write(`${JSON.stringify(driftReport(stack, outcome, raw, state))}\n`);
}
