/**
 * The customer's new words in a reply: quoted history, attribution lines, signatures and mobile footers
 * removed, everything else left as written.
 *
 * Hand-written rather than email-reply-parser (Crisp): that library hides any line starting "Sent from …",
 * "Cheers", "… Regards" or a bare "--" and everything after it, so customer text that happens to start
 * that way is lost, and it relies on the optional native re2 to keep its `.+\s.+` patterns from
 * backtracking. Here a line is history only when its shape says so (a header block, a dated attribution,
 * a separator), and forwarded mail — which the customer wants read — is kept.
 */

/** "On <date>, <name> <addr> wrote:" and its translations, on one line or wrapped over up to three. */
const ATTRIBUTIONS: readonly RegExp[] = [
  /^On\s.*\swrote\s?:$/i, // Gmail, Apple Mail, Thunderbird
  /^Le\s.*\sa\s[ée]crit\s?:$/iu, // "Le lun. 1 janv. 2024 à 10:00, Nom <a@b> a écrit :"
  /^Am\s.*\sschrieb\s.*:$/iu, // "Am Mo., 1. Jan. 2024 um 10:00 Uhr schrieb Name <a@b>:"
  /^El\s.*\sescribi[óo]\s?:$/iu,
  /^Il\s.*\sscritto\s?:$/iu,
  /^Em\s.*\sescreveu\s?:$/iu,
  /^Op\s.*\sschreef\s.*:$/iu,
  /^.*<[^<>\s]+@[^<>\s]+>\s(wrote|schrieb|a [ée]crit)\s?:$/iu, // "Name <a@b> wrote:"
];
/** Only these attributions wrap: the line that starts one says so before the "wrote:" arrives. */
const WRAPPING_ATTRIBUTION = /^(On|Le|Am|El|Il|Em|Op)\s/i;
/** An address, a time or a year: what a mail client's attribution has and a customer's sentence rarely does. */
const DATED = /@|\b\d{1,2}:\d{2}\b|\b(19|20)\d{2}\b/;
/** Longer than this, a line ending in "wrote:" is prose, not an attribution. */
const MAX_ATTRIBUTION_CHARS = 300;

/** Outlook's separators. The underscore line is what Outlook on the web and mobile put above "From:". */
const SEPARATORS: readonly RegExp[] = [
  /^-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d['’]origine|Mensaje original|Messaggio originale|Oorspronkelijk bericht|Originalmeddelande|Oprindelig meddelelse)\s*-{2,}$/iu,
  /^_{10,}$/,
];

/** Outlook's header block: From, then Sent/Date and To/Subject within a few lines (localized). */
const BLOCK_FROM = /^\*?(From|De|Von|Van|Da|Från|Fra|Od)\s?:\*?\s*\S/iu;
const BLOCK_SENT =
  /^\*?(Sent|Date|Envoyé|Gesendet|Datum|Enviado|Fecha|Inviato|Data|Verzonden|Skickat|Sendt)\s?:/iu;
const BLOCK_TO =
  /^\*?(To|Cc|Subject|À|A|An|Objet|Betreff|Para|Asunto|Oggetto|Aan|Onderwerp|Till|Ämne|Til|Emne)\s?:/iu;
/** Outlook sometimes flattens the block into one line. */
const BLOCK_ONE_LINE = /^\*?From\s?:.*\sSent\s?:.*\s(To|Subject)\s?:/i;
const BLOCK_LINES = 6;
/** A header block whose subject is a forward introduces mail the customer wants read. */
const FORWARD_SUBJECT =
  /^\*?(Subject|Objet|Betreff|Asunto|Oggetto|Onderwerp|Ämne|Emne)\s?:\*?\s*(Fwd?|FW|WG|TR|RV|Doorst)\s?:/iu;
const FORWARD_MARKERS: readonly RegExp[] = [
  /^-{2,}\s*(Forwarded message|Weitergeleitete Nachricht|Message transféré|Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht)\s*-{2,}$/iu,
  /^(Begin forwarded message|Anfang der weitergeleiteten Nachricht|Début du message réexpédié)\s?:$/iu,
];

/** "Sent from my iPhone", "Get Outlook for iOS" and their translations; a trailing link is allowed. */
const MOBILE_FOOTER =
  /^(Sent from my .{1,40}|Sent from (Outlook|Mail|Yahoo Mail|Samsung Mobile|my mobile)\b.{0,40}|Get Outlook for (iOS|Android)|Télécharger Outlook pour (iOS|Android)|Envoyé de mon .{1,40}|Envoyé depuis mon .{1,40}|Von meinem .{1,40} gesendet|Gesendet von meinem .{1,40}|Enviado desde mi .{1,40}|Inviato dal mio .{1,40}|Verzonden vanaf mijn .{1,40}|Verstuurd vanaf mijn .{1,40})\.?$/iu;

/**
 * Only the head of a huge body is read: the new words come first, the output is capped at 20 000 chars
 * anyway, and every pattern below then runs on bounded input.
 */
const MAX_INPUT_CHARS = 100_000;
/** Longer than this, a line is a paragraph, not a flattened header block. */
const MAX_HEADER_LINE_CHARS = 1_000;

export function newText(text: string): string {
  const lines = text
    .slice(0, MAX_INPUT_CHARS)
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.trimEnd());
  const kept: string[] = [];
  let forwarded = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (isQuoted(line) || isMobileFooter(line)) continue;
    if (!forwarded) {
      if (FORWARD_MARKERS.some((re) => re.test(line.trim()))) forwarded = true;
      const attribution = attributionAt(lines, i);
      if (attribution && isQuoted(nextContent(lines, i + attribution.lines) ?? "")) {
        // The quote follows (a top-post, or an inline reply): drop the attribution, keep reading.
        i += attribution.lines - 1;
        continue;
      }
      // A dated attribution with no quote marks: the history below it is unmarked, so it all goes.
      if (attribution && DATED.test(attribution.text)) break;
      if (startsHistory(lines, i)) break;
    }
    kept.push(line);
  }
  return tidy(kept);
}

/** A quoted line starts with ">"; a ">" inside a sentence is the customer's own. */
function isQuoted(line: string): boolean {
  return /^\s*>/.test(line);
}

function isMobileFooter(line: string): boolean {
  // html-to-text renders the footer's link as "[https://…]"; plain-text Outlook as "<https://…>".
  const bare = line.trim().replace(/\s*[[<]https?:\/\/[^\]>\s]*[\]>]$/, "");
  return bare.length > 0 && MOBILE_FOOTER.test(bare);
}

function attributionAt(lines: readonly string[], i: number): { lines: number; text: string } | undefined {
  let text = "";
  const most = WRAPPING_ATTRIBUTION.test((lines[i] ?? "").trim()) ? 3 : 1;
  for (let n = 1; n <= most && i + n <= lines.length; n++) {
    text = `${text} ${(lines[i + n - 1] ?? "").trim()}`.trim();
    if (text.length > MAX_ATTRIBUTION_CHARS || (n > 1 && lines[i + n - 1]?.trim() === "")) return undefined;
    if (ATTRIBUTIONS.some((re) => re.test(text))) return { lines: n, text };
  }
  return undefined;
}

function nextContent(lines: readonly string[], from: number): string | undefined {
  return lines.slice(from).find((line) => line.trim() !== "");
}

/** Where the rest of the message is signature or history. */
function startsHistory(lines: readonly string[], i: number): boolean {
  const line = (lines[i] ?? "").trim();
  if (line === "--") return true; // the signature delimiter "-- " (trailing space already trimmed)
  const oneLineBlock = line.length <= MAX_HEADER_LINE_CHARS && BLOCK_ONE_LINE.test(line);
  const marker = SEPARATORS.some((re) => re.test(line)) || oneLineBlock || isHeaderBlock(lines, i);
  return marker && !isForwardBlock(lines, i);
}

function isHeaderBlock(lines: readonly string[], i: number): boolean {
  if (!BLOCK_FROM.test((lines[i] ?? "").trim())) return false;
  const below = lines.slice(i + 1, i + 1 + BLOCK_LINES).map((line) => line.trim());
  return below.some((line) => BLOCK_SENT.test(line)) && below.some((line) => BLOCK_TO.test(line));
}

function isForwardBlock(lines: readonly string[], i: number): boolean {
  const block = lines.slice(i, i + BLOCK_LINES + 3).map((line) => line.trim());
  return block.some((line) => FORWARD_SUBJECT.test(line));
}

/** Blank runs left by removed quotes become one blank line; a separator left dangling at the end goes. */
function tidy(lines: string[]): string {
  while (lines.length > 0 && /^[-_=~*\s]*$/.test(lines.at(-1) ?? "")) lines.pop();
  return lines
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
