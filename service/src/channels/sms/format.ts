import { countSegments, isGsm7 } from "./segments";

/**
 * A model's reply as a text message: Markdown turned into plain text (a phone shows `**` as two stars),
 * typographic punctuation made ASCII, whitespace tidied, then cut to the tenant's segment cap.
 */

/**
 * Typographic characters a model likes and their ASCII forms. One of them outside GSM-7 sends the whole
 * text as UCS-2: 70 characters a segment instead of 160, so a reply costs two or three times as much
 * (https://developers.telnyx.com/docs/messaging/messages/smart-encoding). Applied to prose only: a link
 * keeps every character it has.
 */
const PLAIN_PUNCTUATION: ReadonlyArray<[RegExp, string]> = [
  [/[\u2018\u2019\u201A\u201B\u2032]/g, "'"],
  [/[\u201C\u201D\u201E\u201F\u2033]/g, '"'],
  [/[\u2010-\u2015\u2212]/g, "-"],
  [/\u2026/g, "..."],
  [/\u2022/g, "-"],
  [/[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g, " "],
  // Invisible: a zero-width space or byte-order mark alone turns a text UCS-2. (Not U+200D, the joiner
  // inside emoji sequences.)
  [/[\u200B\uFEFF]/g, ""],
];

/** Prose with ASCII quotes, dashes, ellipses and spaces (see PLAIN_PUNCTUATION). */
export function plainPunctuation(text: string): string {
  return PLAIN_PUNCTUATION.reduce((t, [pattern, ascii]) => t.replace(pattern, ascii), text);
}

/** Something the prose must not touch, held out of it behind a placeholder: a link or a literal. */
interface Held {
  text: string;
  /** A link: never cut inside, dropped whole when it does not fit. */
  link: boolean;
}

// Private-use characters: no reply contains them, no Markdown or whitespace rule matches them.
const OPEN = "\uE000";
const CLOSE = "\uE001";
const HELD = /\uE000(\d+)\uE001/g;

const URL_TAIL = /[.,;:!?'"*_]+$/;

/** A bare URL as it ends in prose: not its closing punctuation, nor a `)` it did not open. */
function trimUrl(url: string): string {
  let u = url.replace(URL_TAIL, "");
  while (u.endsWith(")") && (u.match(/\(/g)?.length ?? 0) < (u.match(/\)/g)?.length ?? 0)) {
    u = u.slice(0, -1).replace(URL_TAIL, "");
  }
  return u;
}

function sameAsUrl(label: string, url: string): boolean {
  const bare = (s: string) => s.replace(/^(https?:\/\/)?(www\.)?/i, "").replace(/\/$/, "");
  return label === "" || bare(label) === bare(url);
}

/** Line-level Markdown: fences, rules, headings, quotes, bullets and tables. */
function plainLines(markdown: string): string {
  const lines: string[] = [];
  for (const line of markdown.replace(/\r\n?/g, "\n").split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) continue;
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) continue;
    if (/^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)+\|?\s*$/.test(line)) continue;
    let l = line.replace(/^\s{0,3}#{1,6}\s+/, "").replace(/\s+#+\s*$/, "");
    l = l.replace(/^\s*(>\s?)+/, "");
    l = l.replace(/^\s*[-*+\u2022]\s+/, "- ").replace(/^\s*(\d{1,3})[.)]\s+/, "$1. ");
    const row = /^\s*\|(.*)\|\s*$/.exec(l);
    if (row) {
      l = (row[1] ?? "")
        .split("|")
        .map((cell) => cell.trim())
        .filter(Boolean)
        .join(", ");
    }
    lines.push(l);
  }
  return lines.join("\n");
}

/** Takes links, code and escaped characters out of the prose, leaving placeholders. */
function holdOut(text: string, held: Held[]): string {
  const hold = (h: Held) => `${OPEN}${held.push(h) - 1}${CLOSE}`;
  const label = (s: string) => prose(s).replace(/\s+/g, " ").trim();
  const destination = '<?((?:[^()\\s<>]|\\([^()\\s]*\\))+)>?(?:\\s+"[^"]*")?';
  return (
    text
      .replace(/`{1,3}([^`]+?)`{1,3}/g, (_, code: string) => hold({ text: code, link: false }))
      .replace(/\\([\\`*_{}[\]()#+\-.!|>~])/g, (_, char: string) => hold({ text: char, link: false }))
      .replace(new RegExp(`!?\\[([^\\]]*)\\]\\(${destination}\\)`, "g"), (_, text: string, url: string) => {
        const l = label(text);
        return hold({ text: sameAsUrl(l, url) ? url : `${l} (${url})`, link: true });
      })
      .replace(/<((?:https?:\/\/|mailto:)[^<>\s]+)>/gi, (_, url: string) => hold({ text: url, link: true }))
      // Bare URLs (and www. hosts), without the punctuation that ends their sentence.
      .replace(/\b(?:https?:\/\/|www\.)[^\s<>\uE000\uE001]+/gi, (match: string) => {
        const url = trimUrl(match);
        return hold({ text: url, link: true }) + match.slice(url.length);
      })
  );
}

/** Inline Markdown and HTML out, ASCII punctuation in: the prose between the held-out pieces. */
function prose(text: string): string {
  const stripped = text
    .replace(/<br\s*\/?>/gi, "\n")
    .replace(/<\/?[a-z][a-z0-9]*(?:\s[^<>]*)?\/?>/gi, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/(\*\*\*|___)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "$2")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "$1")
    .replace(/(^|[^\p{L}\p{N}*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\p{L}\p{N}*])/gu, "$1$2")
    // An underscore pair only around words, so snake_case names keep theirs.
    .replace(/(^|[^\p{L}\p{N}_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\p{L}\p{N}_])/gu, "$1$2");
  return plainPunctuation(stripped);
}

/** One space between words, no trailing spaces, at most one blank line, nothing around the text. */
function tidyWhitespace(text: string): string {
  return text
    .replace(/[ \t\f\v]+/g, " ")
    .replace(/ ?\n ?/g, "\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/** A reply as plain text, with the ranges (start, end) of its links. */
export interface PlainText {
  text: string;
  links: Array<[number, number]>;
}

/** Markdown to plain text for a phone: what `fitSms` sends before it caps. */
export function plainSms(markdown: string): PlainText {
  const held: Held[] = [];
  const body = tidyWhitespace(prose(holdOut(plainLines(markdown), held)));
  const links: Array<[number, number]> = [];
  let text = "";
  let last = 0;
  // A held piece can hold others (an escaped character in a link's label).
  const expand = (s: string): string =>
    s.replace(HELD, (_, i: string) => expand(held[Number(i)]?.text ?? ""));
  for (const match of body.matchAll(HELD)) {
    text += body.slice(last, match.index);
    const h = held[Number(match[1])];
    const piece = expand(h?.text ?? "");
    if (h?.link) links.push([text.length, text.length + piece.length]);
    text += piece;
    last = match.index + match[0].length;
  }
  text += body.slice(last);
  return { text, links };
}

/** The segments a text costs through either provider (see GsmAlphabet). */
const segmentsOf = (text: string) => countSegments(text, "portable").segments;

/** "..." keeps a GSM-7 text GSM-7; "…" costs one unit where the text is UCS-2 anyway. */
function withEllipsis(prefix: string): string {
  const kept = prefix.replace(/[\s,;:(-]+$/, "");
  return kept + (isGsm7(kept) ? "..." : "\u2026");
}

/** Cut positions before which the text may end: word gaps and sentence ends, none inside a link. */
function cutPoints(p: PlainText): Array<{ at: number; sentence: boolean }> {
  const inLink = (i: number) => p.links.some(([start, end]) => i > start && i < end);
  const points: Array<{ at: number; sentence: boolean }> = [];
  for (let i = 1; i < p.text.length; i++) {
    if (!/\s/.test(p.text[i] ?? "") || /\s/.test(p.text[i - 1] ?? "") || inLink(i)) continue;
    const sentence = p.text[i] === "\n" || /[.!?]["')]?$/.test(p.text.slice(Math.max(0, i - 2), i));
    points.push({ at: i, sentence });
  }
  return points;
}

/** How many code units of a text, cut between characters (never inside a surrogate pair), fit with an ellipsis. */
function fittingPrefix(text: string, maxSegments: number): number {
  const chars = Array.from(text);
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (segmentsOf(withEllipsis(chars.slice(0, mid).join(""))) <= maxSegments) lo = mid;
    else hi = mid - 1;
  }
  return chars.slice(0, lo).join("").length;
}

/** A cut anywhere: for a single word (or link) longer than the whole cap, the only way to send anything. */
function hardCut(text: string, maxSegments: number): string {
  const at = fittingPrefix(text, maxSegments);
  const cut = withEllipsis(text.slice(0, at));
  return cut === "..." || cut === "\u2026" ? `${Array.from(text)[0] ?? ""}...` : cut;
}

/**
 * Cuts a text to `maxSegments`: after the last whole sentence when that keeps at least half of what a cut
 * at a word would, else at the last word that fits, with an ellipsis. A link is kept whole or left out.
 */
function capText(p: PlainText, maxSegments: number): string {
  const limit = fittingPrefix(p.text, maxSegments);
  let word: string | undefined;
  let sentence: string | undefined;
  // From the last cut that can fit backwards (a sentence cut has no ellipsis: up to 3 units later).
  for (const c of cutPoints(p).reverse()) {
    if (c.at > limit + 3) continue;
    if (word === undefined && c.at <= limit) {
      const t = withEllipsis(p.text.slice(0, c.at));
      if (segmentsOf(t) <= maxSegments && /[^.\s\u2026]/.test(t)) word = t;
    }
    if (sentence === undefined && c.sentence) {
      const t = p.text.slice(0, c.at).trimEnd();
      if (segmentsOf(t) <= maxSegments) sentence = t;
    }
    // Further back, a sentence cut would lose more than half of the word cut.
    if (sentence !== undefined || (word !== undefined && c.at * 2 < word.length)) break;
  }
  if (sentence !== undefined && (word === undefined || sentence.length * 2 >= word.length)) return sentence;
  return word ?? hardCut(p.text, maxSegments);
}

/**
 * A reply fitted to SMS: plain text (see plainSms), at most `maxSegments` segments through Twilio or
 * Telnyx. Never empty when the reply had any text.
 */
export function fitSms(reply: string, maxSegments: number): string {
  const max = Math.max(1, Math.floor(maxSegments));
  const plain = plainSms(reply);
  if (plain.text === "") {
    // Only Markdown (a rule, an empty fence): send what was written rather than nothing.
    const raw = plainPunctuation(reply.trim());
    return raw === "" || segmentsOf(raw) <= max ? raw : hardCut(raw, max);
  }
  if (segmentsOf(plain.text) <= max) return plain.text;
  return capText(plain, max);
}
