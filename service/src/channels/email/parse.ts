/**
 * Reading an inbound e-mail: raw RFC 2822 bytes (Gmail's `format=raw`) → the fields the e-mail channel
 * needs to thread a reply, decide whether to answer, and hand the customer's new words to the engine.
 *
 * mailparser does the MIME work (charsets, base64/quoted-printable, encoded words, address groups,
 * format=flowed). HTML-only mail is converted with html-to-text directly, with our options: no
 * wrapping (the engine wants sentences, not 80-column lines), headings not upper-cased, images dropped,
 * the Gmail signature block left out. Quoted history and signatures are then cut by newText().
 */
import { compile } from "html-to-text";
import { type AddressObject, type EmailAddress, simpleParser } from "mailparser";
import { newText } from "./new-text";

export interface MailAddress {
  /** Lowercased. */
  address: string;
  name?: string | undefined;
}

export interface ParsedEmail {
  /** The Message-ID header as sent, with <angle brackets>. */
  messageId: string | undefined;
  inReplyTo: string | undefined;
  /** Each <id>. */
  references: string[];
  /** "" when none. */
  subject: string;
  from: MailAddress | undefined;
  replyTo: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  date: Date | undefined;
  /** lowercased header name -> value as a string (first occurrence), for the skip rules */
  headers: ReadonlyMap<string, string>;
  /** The customer's new words: plain part preferred, else HTML converted to text; quoted history and signature removed; trimmed; capped at 20 000 chars. */
  text: string;
}

/** What the engine gets at most; a longer message is cut (the model's context is the scarce thing). */
export const MAX_TEXT_CHARS = 20_000;
/** HTML beyond this is not converted: a support message is never that long, a hostile one may be. */
const MAX_HTML_CHARS = 1_000_000;
/** Deeper nesting makes htmlparser2 quadratic and html-to-text overflow its stack (mailparser's limit). */
const MAX_HTML_DEPTH = 1000;

const htmlToText = compile({
  wordwrap: false,
  limits: { maxDepth: MAX_HTML_DEPTH },
  selectors: [
    { selector: "a", options: { hideLinkHrefIfSameAsText: true } },
    { selector: "img", format: "skip" },
    // Gmail marks its signature; what follows "-- " in plain text is cut by newText() anyway.
    { selector: ".gmail_signature", format: "skip" },
    { selector: ".gmail_signature_prefix", format: "skip" },
    ...["h1", "h2", "h3", "h4", "h5", "h6"].map((h) => ({ selector: h, options: { uppercase: false } })),
    { selector: "table", options: { uppercaseHeaderCells: false } },
  ],
});

export async function parseEmail(raw: Uint8Array): Promise<ParsedEmail> {
  const mail = await simpleParser(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), {
    // We convert HTML ourselves (above) and never show the HTML, so mailparser's conversions are waste.
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    keepCidLinks: true,
    checksumAlgo: false,
  });
  const headers = firstHeaderValues(mail.headerLines);
  return {
    messageId: mail.messageId,
    inReplyTo: messageIds(headers.get("in-reply-to"))[0],
    references: messageIds(headers.get("references")),
    subject: mail.subject ?? "",
    from: addresses(mail.from)[0],
    replyTo: addresses(mail.replyTo),
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    date: parseDate(headers.get("date")),
    headers,
    text: capText(newText(bodyText(mail.text, mail.html))),
  };
}

/** The plain part when there is one (the sender's own words), else the HTML as text. */
function bodyText(text: string | undefined, html: string | false | undefined): string {
  if (text?.trim()) return text;
  if (!html || html.length > MAX_HTML_CHARS || htmlNestingDepth(html) > MAX_HTML_DEPTH) return "";
  return htmlToText(html);
}

/** Header lines as they arrived (mailparser folds `List-*` into one object), unfolded, first occurrence. */
function firstHeaderValues(lines: ReadonlyArray<{ key: string; line: string }>): Map<string, string> {
  const headers = new Map<string, string>();
  for (const { key, line } of lines) {
    if (headers.has(key)) continue;
    const colon = line.indexOf(":");
    headers.set(
      key,
      line
        .slice(colon + 1)
        .replace(/\r?\n(?=[ \t])/g, "")
        .trim(),
    );
  }
  return headers;
}

function messageIds(value: string | undefined): string[] {
  return value?.match(/<[^<>\s]+>/g) ?? [];
}

function addresses(value: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return objects.flatMap((o) => o.value.flatMap(mailboxes));
}

/** Groups (`Team: a@x, b@x;`) are flattened; an entry without an address (an empty group) is dropped. */
function mailboxes(entry: EmailAddress): MailAddress[] {
  if (entry.group) return entry.group.flatMap(mailboxes);
  if (!entry.address) return [];
  return [{ address: entry.address.toLowerCase(), name: entry.name.trim() || undefined }];
}

/** mailparser turns an unreadable Date into "now"; we would rather not know than believe a wrong date. */
function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const time = Date.parse(value.replace(/\([^)]*\)/g, " "));
  return Number.isNaN(time) ? undefined : new Date(time);
}

function capText(text: string): string {
  if (text.length <= MAX_TEXT_CHARS) return text;
  const cut = text.slice(0, MAX_TEXT_CHARS);
  // Never end on half a surrogate pair (an emoji cut in two is not valid UTF-16 for the model's API).
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1).trimEnd() : cut.trimEnd();
}

const VOID_OR_IMPLIED_END = new Set(
  "area base br col embed hr img input link meta param source track wbr p li dt dd option optgroup tr td th thead tbody tfoot rt rp".split(
    " ",
  ),
);

/** The deepest element nesting, counted in one pass over the tags (no parse: that is what is at risk). */
export function htmlNestingDepth(html: string): number {
  let depth = 0;
  let deepest = 0;
  // [^<>] keeps the scan linear: a "<a" that never closes stops at the next "<", not the end of the text.
  for (const match of html.matchAll(/<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^<>]*>/g)) {
    const [tag, closing, name = ""] = match;
    if (VOID_OR_IMPLIED_END.has(name.toLowerCase()) || tag.endsWith("/>")) continue;
    depth = closing ? Math.max(0, depth - 1) : depth + 1;
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}
