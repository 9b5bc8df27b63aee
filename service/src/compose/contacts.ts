import type { Config } from "../config";
import type { Sql } from "../db/client";
import { Extractor } from "../engine/extraction/extractor";
import { extractionSweep } from "../engine/extraction/idle-sweep";
import { ContactInsights } from "../engine/extraction/insights";
import type { OutboundEvents } from "../engine/follow-up";
import type { Sweep } from "../engine/sweeps";
import type { Logger } from "../logger";
import type { ModelStack } from "./model-stack";

export interface ContactsParts {
  /** The voice channel's `CallInsights` (afterCall), and the sessions' extraction. */
  insights: ContactInsights;
}

/**
 * Contacts, extraction and leads: the extractor on the deployment's model (structured output with Gemini;
 * the local rules with the offline provider), the insights that apply it, and the idle-extraction sweep
 * added to the poll's sweeps.
 */
export function buildContacts(
  config: Config,
  deps: { sql: Sql; log: Logger; models: ModelStack; sweeps: Sweep[]; events: OutboundEvents },
): ContactsParts {
  const extractor = new Extractor({
    provider: deps.models.provider,
    breaker: deps.models.breaker,
    model: config.MODEL_SUMMARY,
    prices: config.MODEL_PRICES,
  });
  const insights = new ContactInsights({ sql: deps.sql, extractor, events: deps.events, log: deps.log });
  deps.sweeps.push(
    extractionSweep(
      { sql: deps.sql, insights, log: deps.log },
      { defaultIdleMinutes: config.EXTRACTION_IDLE_MINUTES, batch: config.EXTRACTION_BATCH },
    ),
  );
  return { insights };
}
