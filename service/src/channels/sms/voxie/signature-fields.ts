/**
 * The `Signature-Input` and `Signature` headers of HTTP Message Signatures draft-05 (Dictionary Structured
 * Fields, RFC 8941), read as far as Voxie's deliveries use them:
 *
 *   Signature-Input: sig1=("date" "content-type" "digest" "content-length" "user-agent" "@request-target")
 *     ;alg="ecdsa-p256-sha256";keyid="https://registry.voxie.com/keys/outbound-hooks/eabdc48d.pem"
 *     ;nonce=27fde337ab04852f23c8eccf3bc4e8a4
 *   Signature: sig1=:<base64>:
 *
 * One leniency on purpose: Voxie's documented example sends `nonce` as bare hex, which is not a valid
 * Structured Field item when it starts with a digit (RFC 8941 would read an integer and then fail). A bare
 * parameter value is therefore read as any run up to the next delimiter and kept exactly as received, so the
 * signature base repeats it byte for byte. Everything else malformed is refused (undefined), never thrown.
 */

/** One signature's metadata, as the `Signature-Input` member labelled `label` declares it. */
export interface SignatureInput {
  label: string;
  /** The covered components, in order (lowercased header names, or `@request-target`). */
  components: string[];
  /** Parameter name → value: strings unquoted, everything else as received. */
  params: ReadonlyMap<string, string>;
  /** The member value re-serialized (`("a" "b");alg="…";…`): the `@signature-params` line of the base. */
  serialized: string;
}

// RFC 8941 key: lcalpha or "*", then lcalpha, digits, "_", "-", ".", "*".
const KEY = /^[a-z*][a-z0-9_\-.*]*/;
// A bare parameter value (token, integer or Voxie's hex nonce): up to the next delimiter.
const BARE = /^[^\s;,()"]+/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** More labels than any sender needs: each one may cost a key fetch. */
const MAX_MEMBERS = 4;

class Cursor {
  private at = 0;
  constructor(private readonly text: string) {}
  get done(): boolean {
    return this.at >= this.text.length;
  }
  get position(): number {
    return this.at;
  }
  peek(): string {
    return this.text[this.at] ?? "";
  }
  eat(char: string): boolean {
    if (this.peek() !== char) return false;
    this.at += 1;
    return true;
  }
  skip(pattern: RegExp): void {
    while (!this.done && pattern.test(this.peek())) this.at += 1;
  }
  match(pattern: RegExp): string | undefined {
    const found = pattern.exec(this.text.slice(this.at))?.[0];
    if (found) this.at += found.length;
    return found;
  }
  slice(from: number): string {
    return this.text.slice(from, this.at);
  }
  /** An sf-string: printable ASCII in quotes, with `\"` and `\\` the only escapes. */
  quoted(): string | undefined {
    if (!this.eat('"')) return undefined;
    let out = "";
    while (!this.done) {
      const char = this.peek();
      this.at += 1;
      if (char === '"') return out;
      if (char === "\\") {
        const next = this.peek();
        if (next !== '"' && next !== "\\") return undefined;
        out += next;
        this.at += 1;
      } else if (char < " " || char > "~") {
        return undefined;
      } else {
        out += char;
      }
    }
    return undefined;
  }
}

const quote = (value: string): string => `"${value.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;

/** `;name=value` pairs after an item; `raw` keeps each as received for re-serialization. */
function readParams(cursor: Cursor): { params: Map<string, string>; raw: string } | undefined {
  const params = new Map<string, string>();
  let raw = "";
  while (cursor.eat(";")) {
    cursor.skip(/ /);
    const name = cursor.match(KEY);
    if (!name || params.has(name)) return undefined;
    if (!cursor.eat("=")) {
      // A bare name is the boolean true (RFC 8941 §3.1.2).
      params.set(name, "?1");
      raw += `;${name}`;
      continue;
    }
    if (cursor.peek() === '"') {
      const value = cursor.quoted();
      if (value === undefined) return undefined;
      params.set(name, value);
      raw += `;${name}=${quote(value)}`;
    } else {
      const value = cursor.match(BARE);
      if (!value) return undefined;
      params.set(name, value);
      raw += `;${name}=${value}`;
    }
  }
  return { params, raw };
}

/** The members of a Dictionary, each value read by `member`; undefined on any malformed member. */
function readDictionary<T>(
  header: string,
  member: (cursor: Cursor) => T | undefined,
): Map<string, T> | undefined {
  const cursor = new Cursor(header.trim());
  const out = new Map<string, T>();
  while (!cursor.done) {
    const label = cursor.match(KEY);
    if (!label || out.has(label) || !cursor.eat("=")) return undefined;
    const value = member(cursor);
    if (value === undefined) return undefined;
    out.set(label, value);
    if (out.size > MAX_MEMBERS) return undefined;
    cursor.skip(/[ \t]/);
    if (cursor.done) break;
    if (!cursor.eat(",")) return undefined;
    cursor.skip(/[ \t]/);
    if (cursor.done) return undefined;
  }
  return out;
}

function readInnerList(cursor: Cursor): Omit<SignatureInput, "label"> | undefined {
  if (!cursor.eat("(")) return undefined;
  const components: string[] = [];
  for (;;) {
    cursor.skip(/ /);
    if (cursor.eat(")")) break;
    const component = cursor.quoted();
    // Component parameters (`"x-dict";key=a`) are a draft-05 feature Voxie does not use: refused.
    if (component === undefined || cursor.peek() === ";") return undefined;
    components.push(component);
    if (cursor.peek() !== " " && cursor.peek() !== ")") return undefined;
  }
  const params = readParams(cursor);
  if (!params) return undefined;
  return {
    components,
    params: params.params,
    serialized: `(${components.map(quote).join(" ")})${params.raw}`,
  };
}

/** Every signature the `Signature-Input` header declares, in order; undefined when it is malformed. */
export function parseSignatureInput(header: string | undefined): SignatureInput[] | undefined {
  if (!header) return undefined;
  const members = readDictionary(header, readInnerList);
  if (!members || members.size === 0) return undefined;
  return [...members].map(([label, value]) => ({ label, ...value }));
}

function readByteSequence(cursor: Cursor): Buffer | undefined {
  const start = cursor.position;
  if (!cursor.eat(":")) return undefined;
  cursor.skip(/[A-Za-z0-9+/=]/);
  const text = cursor.slice(start + 1);
  if (!cursor.eat(":") || !BASE64.test(text) || text.length % 4 !== 0) return undefined;
  // Parameters on a signature value carry nothing the verifier uses; they are read past, not trusted.
  if (!readParams(cursor)) return undefined;
  return Buffer.from(text, "base64");
}

/** Label → signature bytes from the `Signature` header; undefined when it is malformed. */
export function parseSignatures(header: string | undefined): Map<string, Buffer> | undefined {
  if (!header) return undefined;
  return readDictionary(header, readByteSequence);
}
