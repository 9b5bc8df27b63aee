import { z } from "zod";
import { toE164 } from "../../domain/phone";
import { EXTRACTION_INTENTS, type Extraction } from "../follow-up";

/**
 * The extraction's shape twice: as the JSON Schema the model is constrained to (Gemini's structured output,
 * `responseJsonSchema`), and as the zod schema its answer is validated with again, since a model may still
 * answer something else (a truncated answer, a missing field). Optional handles are `null` when unknown.
 */
export const EXTRACTION_JSON_SCHEMA: Record<string, unknown> = {
  type: "object",
  properties: {
    name: {
      type: ["string", "null"],
      description: "The customer's name, as they gave it; null if not given",
    },
    email: { type: ["string", "null"], description: "The customer's e-mail address; null if not given" },
    phone: { type: ["string", "null"], description: "The customer's phone number; null if not given" },
    company: { type: ["string", "null"], description: "The customer's company; null if not given" },
    intent: { type: "string", enum: [...EXTRACTION_INTENTS], description: "What the customer wants" },
    urgency: { type: "string", enum: ["low", "normal", "high"] },
    summary: { type: "string", description: "One paragraph: who they are, what they want, what was agreed" },
    wantsPerson: { type: "boolean", description: "The customer asked to talk to a person" },
    followUps: {
      type: "array",
      items: { type: "string" },
      description: "What the business should do next, each a short imperative sentence",
    },
  },
  required: ["name", "email", "phone", "company", "intent", "urgency", "summary", "wantsPerson", "followUps"],
};

/** The placeholders redaction leaves ("[EMAIL]", "[PHONE]"): a model reading them has no handle to give. */
const PLACEHOLDER = /^\[[A-Z_]+\]$/;

const optionalText = (max: number) =>
  z
    .string()
    .nullable()
    .transform((v) => {
      const t = v?.trim();
      return t && !PLACEHOLDER.test(t) ? t.slice(0, max) : null;
    });

/**
 * A handle that is not one (a placeholder, "unknown", a malformed address) becomes null rather than failing
 * the whole extraction: the summary and intent are still worth keeping, and a wrong handle would merge the
 * wrong contacts.
 */
const email = optionalText(320).transform((v) => {
  const lower = v?.toLowerCase() ?? null;
  return lower && z.email().safeParse(lower).success ? lower : null;
});
const phone = optionalText(40).transform((v) => (v ? (toE164(v) ?? null) : null));

export const extractionSchema = z.object({
  name: optionalText(200),
  email,
  phone,
  company: optionalText(200),
  intent: z.enum(EXTRACTION_INTENTS),
  urgency: z.enum(["low", "normal", "high"]),
  summary: z.string().trim().min(1).max(4000),
  wantsPerson: z.boolean(),
  followUps: z.array(z.string().trim().min(1).max(500)).max(20),
}) satisfies z.ZodType<Extraction, unknown>;

/** The model's text as an Extraction, or why it is not one (kept with the failed extraction). */
export function parseExtraction(
  text: string,
): { ok: true; value: Extraction } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: "the answer is not JSON" };
  }
  const parsed = extractionSchema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
  return { ok: false, error: `the answer does not match the schema: ${issues.join("; ")}` };
}
