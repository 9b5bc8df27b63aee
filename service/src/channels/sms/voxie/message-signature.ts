import { createHash, type KeyObject, timingSafeEqual, verify } from "node:crypto";
import type { InboundRequest } from "../../pipeline/channel";
import type { SignatureInput } from "./signature-fields";

/**
 * The parts of HTTP Message Signatures draft-05 that Voxie's deliveries rely on
 * (https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-message-signatures-05): the signature input
 * string ("signature base" in later drafts), the `Digest` header of RFC 3230 that carries the body into it,
 * and the ecdsa-p256-sha256 check.
 */

export const ECDSA_P256_SHA256 = "ecdsa-p256-sha256";

/**
 * A covered component's canonical value (draft-05 §2.1, §2.3.1), or undefined when the message lacks it (the
 * draft: an unresolvable component fails the verification). Header values are trimmed; several instances
 * reach us already joined with ", " (the Fetch Headers), which is the draft's own joining rule.
 */
export function componentValue(request: InboundRequest, component: string): string | undefined {
  if (component === "@request-target") return requestTarget(request);
  if (component.startsWith("@") || component !== component.toLowerCase()) return undefined;
  return request.header(component)?.trim();
}

/**
 * `@request-target`: the lowercased method, a space, then the path and query. Webhooks arrive only as POST
 * (the route accepts nothing else), so the method is not read from the request.
 */
function requestTarget(request: InboundRequest): string | undefined {
  try {
    const url = new URL(request.url);
    return `post ${url.pathname || "/"}${url.search}`;
  } catch {
    return undefined;
  }
}

/**
 * The signature input string (draft-05 §2.4): one `"<component>": <value>` line per covered component, in
 * the declared order, then `"@signature-params": <the member value re-serialized>` with no newline after it.
 */
export function signatureBase(
  input: Pick<SignatureInput, "components" | "serialized">,
  value: (component: string) => string | undefined,
): string | undefined {
  let base = "";
  for (const component of input.components) {
    const resolved = value(component);
    // The input is US-ASCII; a newline inside a value would also let one component forge the next line.
    if (resolved === undefined || /[^\t\x20-\x7e]/.test(resolved)) return undefined;
    base += `"${component}": ${resolved}\n`;
  }
  return `${base}"@signature-params": ${input.serialized}`;
}

/**
 * True when the `Digest` header (RFC 3230: `SHA-256=<base64>`, possibly among other algorithms) holds the
 * SHA-256 of exactly these bytes. Without a SHA-256 entry the body is not covered: false.
 */
export function digestMatches(header: string | undefined, body: Uint8Array): boolean {
  if (!header) return false;
  const expected = createHash("sha256").update(body).digest();
  for (const entry of header.split(",")) {
    const separator = entry.indexOf("=");
    if (separator < 0 || entry.slice(0, separator).trim().toLowerCase() !== "sha-256") continue;
    const claimed = Buffer.from(entry.slice(separator + 1).trim(), "base64");
    return claimed.length === expected.length && timingSafeEqual(claimed, expected);
  }
  return false;
}

/**
 * ECDSA P-256 with SHA-256 over the signature input. Draft-05 says only "the signed content byte array";
 * its own test vector (and RFC 9421 later, explicitly) is the 64-byte r‖s form (IEEE P1363), while many
 * libraries emit ASN.1 DER. Both encode the same (r, s) under the same key, so accepting either weakens
 * nothing: 64 bytes are read as r‖s first, anything else (and a 64-byte DER, rare but possible) as DER.
 */
export function verifyEcdsaP256(key: KeyObject, base: string, signature: Uint8Array): boolean {
  const data = Buffer.from(base, "utf8");
  const encodings = signature.length === 64 ? (["ieee-p1363", "der"] as const) : (["der"] as const);
  return encodings.some((dsaEncoding) => {
    try {
      return verify("sha256", data, { key, dsaEncoding }, signature);
    } catch {
      return false;
    }
  });
}
