import { toE164 } from "../../domain/phone";
import { findEmails } from "../../redaction/email";
import { findPhones } from "../../redaction/phones";
import type { Extraction, ExtractionIntent } from "../follow-up";
import type { TranscriptLine } from "./transcript";

/**
 * Extraction without a model (the offline `local` provider, or one without structured output): patterns
 * for e-mail addresses and phone numbers (the redactor's own detectors), a name after "my name is" or
 * "this is", and keywords for intent, urgency and asking for a person. Reads the customer's lines only:
 * the bot's answers mention prices and bookings too. Crude on purpose, and predictable: the embedded
 * default still fills contacts and leads, and a test can say exactly what it finds.
 */
export function extractByRules(lines: readonly TranscriptLine[]): Extraction {
  const said = lines.filter((l) => l.role === "user").map((l) => l.text);
  const text = said.join("\n");
  const intent = intentOf(text);
  const wantsPerson = WANTS_PERSON.test(text);
  return {
    name: nameOf(text),
    email: emailOf(text),
    phone: phoneOf(text),
    company: companyOf(text),
    intent,
    urgency: URGENT.test(text) ? "high" : "normal",
    summary: summaryOf(said, intent),
    wantsPerson,
    followUps: followUpsOf(intent, wantsPerson),
  };
}

// In order: the first that matches wins (someone booking a paid session is booking).
const INTENT_KEYWORDS: [ExtractionIntent, RegExp][] = [
  ["booking", /\b(book|booking|appointment|reserv(e|ation)|schedule|availability)\b/i],
  ["purchase", /\b(buy|purchas\w*|pric(e|es|ing)|quote|order|subscri\w+|upgrade|how much)\b/i],
  ["billing", /\b(invoice|bill(ing|ed)?|refund|charged?|payment)\b/i],
  ["complaint", /\b(complain\w*|unacceptable|terrible|awful|disappointed)\b/i],
  ["support", /\b(help|problem|issue|error|broken|not working|reset|can't|cannot)\b/i],
];
const URGENT = /\b(urgent\w*|asap|immediately|right away|emergency|today)\b/i;
const WANTS_PERSON =
  /\b((talk|speak|chat) (to|with) (a |an |some )?(real )?(person|human|someone|agent|representative|manager)|real person|human agent|call me back)\b/i;
// The lead-in in either case, the name itself capitalised ("this is great" names nobody); one line only.
const NAME =
  /\b(?:[Mm]y name(?: is|'s)|[Tt]his is|[Cc]all me)[ \t]+([A-Z][\p{L}'-]+(?:[ \t]+[A-Z][\p{L}'-]+)?)/u;
const COMPANY =
  /\b(?:I work (?:at|for)|[Mm]y company is|calling from|I'm with)[ \t]+([A-Z][\w&-]*(?:[ \t]+[A-Z][\w&-]*){0,3})/;

function intentOf(text: string): ExtractionIntent {
  return INTENT_KEYWORDS.find(([, pattern]) => pattern.test(text))?.[0] ?? "other";
}

function nameOf(text: string): string | null {
  return NAME.exec(text)?.[1] ?? null;
}

function companyOf(text: string): string | null {
  return COMPANY.exec(text)?.[1] ?? null;
}

function emailOf(text: string): string | null {
  const [span] = findEmails(text);
  return span ? text.slice(span.start, span.end).toLowerCase() : null;
}

function phoneOf(text: string): string | null {
  for (const span of findPhones(text)) {
    const e164 = toE164(text.slice(span.start, span.end));
    if (e164) return e164;
  }
  return null;
}

/** The customer's own words, first and last, within ~60 words: no model, so nothing invented. */
function summaryOf(said: readonly string[], intent: ExtractionIntent): string {
  const first = said[0] ?? "";
  const last = said.length > 1 ? said.at(-1) : undefined;
  const words = [first, last].filter(Boolean).join(" … ").split(/\s+/).filter(Boolean);
  const quoted = words.length > 60 ? `${words.slice(0, 60).join(" ")} …` : words.join(" ");
  return quoted
    ? `The customer (${intent}) wrote: "${quoted}"`
    : `A conversation (${intent}) with no customer text.`;
}

function followUpsOf(intent: ExtractionIntent, wantsPerson: boolean): string[] {
  const follow: string[] = [];
  if (wantsPerson) follow.push("Contact the customer: they asked for a person");
  if (intent === "purchase") follow.push("Send the customer a quote or the pricing they asked about");
  if (intent === "booking") follow.push("Confirm the customer's booking or offer times");
  return follow;
}
