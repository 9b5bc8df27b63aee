/**
 * How many SMS segments a text costs, the way Twilio and Telnyx bill it.
 *
 * A segment carries 140 octets: 160 GSM-7 septets or 70 UCS-2 (UTF-16) code units. A longer text is split
 * and each part loses 6 octets to the concatenation header, leaving 153 septets or 67 code units
 * (https://www.twilio.com/docs/glossary/what-sms-character-limit,
 * https://developers.telnyx.com/docs/messaging/messages/message-encoding). One character outside the GSM-7
 * alphabet sends the whole text as UCS-2. The characters of the GSM 03.38 extension table cost two septets
 * (an escape and the character), and that pair is never split across segments; a UTF-16 surrogate pair
 * (an emoji) is not split either, so a part can hold a unit less than its capacity.
 */

export type SmsEncoding = "GSM-7" | "UCS-2";

export interface SegmentCount {
  encoding: SmsEncoding;
  /** Segments billed. An empty text is one (it is still a message). */
  segments: number;
  /** GSM-7 septets (extension characters count 2) or UTF-16 code units (an emoji counts 2). */
  units: number;
}

/**
 * Which characters count as GSM-7:
 * - `gsm-03.38`: the standard's basic set and extension table (what Twilio encodes as GSM-7);
 * - `portable`: only the ones both Twilio and Telnyx send as GSM-7. Telnyx's documented alphabet leaves out
 *   the Greek capitals, `€`, `Ç`, `§`, `¤` and form feed, so a text with a `€` is one GSM-7 segment on
 *   Twilio but UCS-2 on Telnyx. Capping a reply uses this set so the cap holds through either provider.
 */
export type GsmAlphabet = "gsm-03.38" | "portable";

// GSM 03.38 basic set (https://www.unicode.org/Public/MAPPINGS/ETSI/GSM0338.TXT; 0x09 as Twilio maps it, Ç).
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
// The extension table: an escape septet plus one, so two units each.
const GSM_EXTENSION = "\f^{}\\[~]|€";
// Not in Telnyx's GSM-7 alphabet (https://developers.telnyx.com/docs/messaging/messages/message-encoding).
const NOT_PORTABLE = new Set("ΔΦΓΛΩΠΨΣΘΞÇ¤§€\f");

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  "GSM-7": { single: 160, part: 153 },
  "UCS-2": { single: 70, part: 67 },
};

/** The GSM-7 cost of one character (a code point), or undefined when it is not in the alphabet. */
function gsmUnits(char: string, alphabet: GsmAlphabet): 1 | 2 | undefined {
  if (alphabet === "portable" && NOT_PORTABLE.has(char)) return undefined;
  if (BASIC.has(char)) return 1;
  if (EXTENSION.has(char)) return 2;
  return undefined;
}

/** Whether the whole text can go as GSM-7. */
export function isGsm7(text: string, alphabet: GsmAlphabet = "gsm-03.38"): boolean {
  for (const char of text) if (gsmUnits(char, alphabet) === undefined) return false;
  return true;
}

/** The units of each character (code point) in the text's encoding. */
function characterUnits(text: string, encoding: SmsEncoding, alphabet: GsmAlphabet): number[] {
  // Iterating a string yields code points, so a surrogate pair stays one character of 2 units.
  return Array.from(text, (char) => (encoding === "GSM-7" ? (gsmUnits(char, alphabet) ?? 1) : char.length));
}

/** Packs characters into parts of `capacity` units; a character that does not fit starts the next part. */
function packedParts(units: number[], capacity: number): number {
  let parts = 1;
  let used = 0;
  for (const u of units) {
    if (used + u > capacity) {
      parts += 1;
      used = 0;
    }
    used += u;
  }
  return parts;
}

/** The encoding, segments and units of a text as the provider would send it. */
export function countSegments(text: string, alphabet: GsmAlphabet = "gsm-03.38"): SegmentCount {
  const encoding: SmsEncoding = isGsm7(text, alphabet) ? "GSM-7" : "UCS-2";
  const perChar = characterUnits(text, encoding, alphabet);
  const units = perChar.reduce((sum, u) => sum + u, 0);
  const limit = LIMITS[encoding];
  const segments = units <= limit.single ? 1 : packedParts(perChar, limit.part);
  return { encoding, segments, units };
}
