import type { Sql } from "../../db/client";
import { extractionCandidates } from "../../db/platform-extractions";
import { inTenant } from "../../db/tenant-scope";
import type { Logger } from "../../logger";
import type { Sweep } from "../sweeps";
import type { ContactInsights } from "./insights";

export interface ExtractionSweepOptions {
  /** Minutes a conversation must be quiet before it is read, unless its tenant says otherwise. */
  defaultIdleMinutes: number;
  /** The most conversations one poll extracts (each may be a model call). */
  batch: number;
}

/**
 * The poll's extraction round: quiet chat, SMS and Intercom conversations with new messages, failed
 * extractions due their one retry, and calls whose after-call run was lost. The list is read across
 * tenants; each is extracted in its own tenant's scope, and one failing does not stop the others.
 */
export function extractionSweep(
  deps: { sql: Sql; insights: ContactInsights; log: Pick<Logger, "warn"> },
  opts: ExtractionSweepOptions,
): Sweep {
  return {
    name: "extraction",
    async run() {
      const candidates = await extractionCandidates(deps.sql, {
        defaultIdleMinutes: opts.defaultIdleMinutes,
        limit: opts.batch,
      });
      const counts = { candidates: candidates.length, extracted: 0, unextracted: 0, errors: 0 };
      for (const c of candidates) {
        try {
          const result = await inTenant(c.tenantId, () =>
            c.kind === "call"
              ? deps.insights.afterCall(c.subjectId)
              : deps.insights.afterSession(c.subjectId),
          );
          if (result.extraction) counts.extracted++;
          else counts.unextracted++;
        } catch (error) {
          counts.errors++;
          // The error's code only: a constraint's message would quote a customer's handle.
          const code = (error as { code?: string }).code ?? (error instanceof Error ? error.name : "unknown");
          deps.log.warn({ event: "extraction.error", subject: c.kind, code }, "an extraction could not run");
        }
      }
      return counts;
    },
  };
}
