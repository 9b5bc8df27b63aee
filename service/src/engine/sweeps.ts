import type { Logger } from "../logger";

/**
 * Periodic work beside the pipeline's poll, run on every poll (Cloud Scheduler calls /internal/poll;
 * locally a timer): due deliveries and notifications dispatched again, quiet conversations extracted.
 */
export interface Sweep {
  name: string;
  /** Does one bounded round of work and returns its counts. */
  run(): Promise<Record<string, number>>;
}

/** Runs every sweep in turn; one failing is logged and does not stop the others. */
export async function runSweeps(sweeps: readonly Sweep[], log: Pick<Logger, "warn">) {
  const results: Record<string, Record<string, number>> = {};
  for (const sweep of sweeps) {
    try {
      results[sweep.name] = await sweep.run();
    } catch (error) {
      log.warn({ event: "sweep.failed", sweep: sweep.name, error }, `the ${sweep.name} sweep failed`);
      results[sweep.name] = { failed: 1 };
    }
  }
  return results;
}
