/**
 * The consent and help keywords a customer can text. The lists are the union of what the providers act on
 * by default, so Switchboard's opt-out table never disagrees with a provider's block list:
 * - Twilio: opt-out STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT; opt-in START, YES,
 *   UNSTOP; help HELP, INFO; "only single-word messages" trigger them
 *   (https://www.twilio.com/docs/messaging/tutorials/advanced-opt-out,
 *   https://help.twilio.com/hc/en-us/articles/223134027-Twilio-support-for-opt-out-keywords-SMS-STOP-filtering-).
 * - Telnyx: opt-out STOP, STOPALL, STOP ALL, UNSUBSCRIBE, CANCEL, END, QUIT; opt-in START, UNSTOP; the
 *   block is per messaging profile
 *   (https://developers.telnyx.com/docs/messaging/messages/advanced-opt-in-out).
 */

export type KeywordKind = "opt_out" | "opt_in" | "help";

export interface Keyword {
  kind: KeywordKind;
  /** The keyword as listed (upper case, `STOP ALL` with one space), for the consent record. */
  keyword: string;
}

export const OPT_OUT_KEYWORDS = [
  "STOP",
  "STOPALL",
  "STOP ALL",
  "UNSUBSCRIBE",
  "CANCEL",
  "END",
  "QUIT",
  "REVOKE",
  "OPTOUT",
] as const;
export const OPT_IN_KEYWORDS = ["START", "UNSTOP", "YES"] as const;
export const HELP_KEYWORDS = ["HELP", "INFO"] as const;

const KINDS = new Map<string, KeywordKind>([
  ...OPT_OUT_KEYWORDS.map((k) => [k, "opt_out"] as const),
  ...OPT_IN_KEYWORDS.map((k) => [k, "opt_in"] as const),
  ...HELP_KEYWORDS.map((k) => [k, "help"] as const),
]);

// Quotes and closing punctuation around the word ("STOP.", "Stop!", "'stop'"): a person typing STOP with a
// full stop still means it. Honouring that is the compliant reading (an opt-out asked for in a reasonable
// way must be honoured) even where a provider's exact-match filter lets it through.
const SURROUNDING = /^["'\s]+|[\s"'.!?,;:]+$/g;

/**
 * The keyword a message is, or undefined. Only the whole message counts, in any case: "Stop texting me
 * about my order" is a message to answer, not an opt-out. `opt_in` only changes something for a number that
 * opted out: YES is also an ordinary answer, and must then reach the conversation like any other text.
 */
export function classifyKeyword(text: string): Keyword | undefined {
  const word = text.normalize("NFKC").replace(SURROUNDING, "").replace(/\s+/g, " ").toUpperCase();
  const kind = KINDS.get(word);
  return kind ? { kind, keyword: word } : undefined;
}
