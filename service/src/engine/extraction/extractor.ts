import type { ModelPrice, TokenUsage } from "../../domain/accounting";
import type { ModelProvider } from "../../ports/model-provider";
import { costUsd, priceFor } from "../cost";
import type { Extraction } from "../follow-up";
import type { CircuitBreaker } from "../resilience";
import { extractByRules } from "./rules";
import { EXTRACTION_JSON_SCHEMA, parseExtraction } from "./schema";
import { renderTranscript, type TranscriptLine } from "./transcript";

/** A model call an extraction made, for the usage ledger (none for the local rules). */
export interface ExtractionCall {
  provider: string;
  model: string;
  usage: TokenUsage;
  costUsd: number;
  latencyMs: number;
  ok: boolean;
}

export type ExtractionOutcome =
  | { ok: true; extraction: Extraction; model: string; call?: ExtractionCall | undefined }
  | { ok: false; error: string; model: string; call?: ExtractionCall | undefined };

export interface ExtractorDeps {
  provider: ModelProvider;
  /** The model's circuit breaker: an open circuit fails the extraction fast (retried by the sweep). */
  breaker?: Pick<CircuitBreaker, "exec"> | undefined;
  /** The model extraction asks (the cheap one: the summaries' model). */
  model: string;
  maxOutputTokens?: number | undefined;
  /** USD per million tokens by model (MODEL_PRICES): the ledger's cost of each call. */
  prices?: Record<string, ModelPrice> | undefined;
}

/** The model identifier stored with an extraction made by the local rules. */
export const RULES_MODEL = "rules";

const INSTRUCTION = `You read a conversation between a business's assistant ("Agent") and a customer, and fill in
the JSON schema you are given, about the customer. Use only what the conversation says: a field the
customer did not give is null (never a guess, never a placeholder such as [EMAIL]). intent: what the
customer wants (purchase, booking, support, billing, complaint or other). urgency: high only when they say
it is urgent. summary: one paragraph for the business, in English. wantsPerson: true when they asked to
talk to a person. followUps: what the business should do next, each a short sentence; none when nothing.`;

/**
 * Reads who the customer is and what they want from a conversation: with the model's structured output
 * when the provider has it (validated again: an answer that fails the schema is a failed extraction, never
 * a crash), else with the local rules. A model error is a failed extraction too; the sweep retries it once.
 */
export class Extractor {
  constructor(private readonly deps: ExtractorDeps) {}

  async extract(lines: readonly TranscriptLine[]): Promise<ExtractionOutcome> {
    const { provider } = this.deps;
    if (!provider.structuredOutput)
      return { ok: true, extraction: extractByRules(lines), model: RULES_MODEL };
    const request = {
      model: this.deps.model,
      purpose: "extraction" as const,
      systemInstruction: INSTRUCTION,
      turns: [{ role: "user" as const, text: `Conversation:\n${renderTranscript(lines)}` }],
      temperature: 0,
      maxOutputTokens: this.deps.maxOutputTokens ?? 1024,
      responseJsonSchema: EXTRACTION_JSON_SCHEMA,
    };
    let text: string;
    let model = this.deps.model;
    let call: ExtractionCall;
    const started = performance.now();
    try {
      const generate = () => provider.generate(request);
      const result = this.deps.breaker ? await this.deps.breaker.exec(generate) : await generate();
      text = result.text;
      model = result.model;
      call = this.accounted(result.model, result.usage, started);
    } catch (error) {
      // The error's class and message only: never a model's raw text, which may quote the customer.
      const name = error instanceof Error ? error.name : "Error";
      return { ok: false, error: `the model call failed (${name}: ${describe(error)})`, model };
    }
    const parsed = parseExtraction(text);
    return parsed.ok
      ? { ok: true, extraction: parsed.value, model, call }
      : { ok: false, error: parsed.error, model, call: { ...call, ok: false } };
  }

  private accounted(model: string, usage: TokenUsage, started: number): ExtractionCall {
    const price = priceFor(model, this.deps.prices ?? {});
    return {
      provider: this.deps.provider.name,
      model,
      usage,
      costUsd: price ? costUsd(usage, price) : 0,
      latencyMs: Math.round(performance.now() - started),
      ok: true,
    };
  }
}

function describe(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}
