/**
 * MIME for the Gmail emulator: turns an RFC 2822 message into the `payload` tree Gmail's `format=full`
 * answers with (parts, headers, base64url bodies), and composes a message from fields with nodemailer's
 * MailComposer (the well-kept builder) so `deliver()` stores what a real sender would have sent.
 *
 * The parser is deliberately small: multipart (any depth), base64 / quoted-printable / 7bit / 8bit bodies,
 * RFC 2047 encoded-word header values (Gmail shows them decoded). Parts with a filename get an
 * `attachmentId` instead of `data`, as Gmail does (attachments.get is not emulated).
 */
import MailComposer from "nodemailer/lib/mail-composer";

export interface GmailHeader {
  name: string;
  value: string;
}

export interface GmailPart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: GmailHeader[];
  body: { size: number; data?: string; attachmentId?: string };
  parts?: GmailPart[];
}

export interface MailFields {
  from: string;
  to: string | string[];
  cc?: string | string[];
  subject: string;
  text?: string;
  html?: string;
  /** Extra headers (e.g. `In-Reply-To`, `Auto-Submitted`, `List-Unsubscribe`, `Precedence`). */
  headers?: Record<string, string>;
  /** Without one, MailComposer makes a `Message-ID`. */
  messageId?: string;
  date?: Date;
}

/** Builds an RFC 2822 message (CRLF line ends) from fields. */
export async function composeMail(fields: MailFields): Promise<string> {
  const node = new MailComposer({
    from: fields.from,
    to: fields.to,
    cc: fields.cc,
    subject: fields.subject,
    text: fields.text,
    html: fields.html,
    headers: fields.headers,
    messageId: fields.messageId,
    date: fields.date ?? new Date(),
  }).compile();
  const built = await new Promise<Buffer>((resolve, reject) =>
    node.build((error, message) => (error ? reject(error) : resolve(message))),
  );
  return built.toString("utf8");
}

/** Splits a message (or a part) into its unfolded headers and its body. */
export function splitMessage(raw: string): { headers: GmailHeader[]; body: string } {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : "";
  const headers: GmailHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    const last = headers.at(-1);
    if (/^[ \t]/.test(line) && last) {
      last.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { headers: headers.map((h) => ({ name: h.name, value: decodeEncodedWords(h.value) })), body };
}

export function headerValue(headers: GmailHeader[], name: string): string | undefined {
  return headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
}

/** The payload tree of `format=full`; the top part's `partId` is "" as in Gmail. */
export function parsePayload(raw: string, partId = "", nextAttachment = counter()): GmailPart {
  const { headers, body } = splitMessage(raw);
  const contentType = parseContentType(headerValue(headers, "content-type") ?? "text/plain");
  const filename =
    dispositionFilename(headerValue(headers, "content-disposition")) ?? contentType.params.name ?? "";
  const child = (index: number) => (partId === "" ? String(index) : `${partId}.${index}`);
  if (contentType.type.startsWith("multipart/") && contentType.params.boundary) {
    const parts = splitMultipart(body, contentType.params.boundary).map((p, i) =>
      parsePayload(p, child(i), nextAttachment),
    );
    return { partId, mimeType: contentType.type, filename, headers, body: { size: 0 }, parts };
  }
  const bytes = decodeBody(body, headerValue(headers, "content-transfer-encoding"));
  const data = bytes.toString("base64url");
  return {
    partId,
    mimeType: contentType.type,
    filename,
    headers,
    body: filename
      ? { size: bytes.length, attachmentId: `ANGjdJ${nextAttachment()}` }
      : { size: bytes.length, ...(bytes.length > 0 ? { data } : {}) },
  };
}

/** The first text/plain leaf (else text/html), decoded: Gmail's snippet is drawn from it. */
export function firstText(part: GmailPart): string | undefined {
  const leaves = flatten(part).filter((p) => p.body.data !== undefined);
  const chosen =
    leaves.find((p) => p.mimeType === "text/plain") ?? leaves.find((p) => p.mimeType === "text/html");
  if (!chosen?.body.data) return undefined;
  const text = Buffer.from(chosen.body.data, "base64url").toString("utf8");
  return chosen.mimeType === "text/html" ? text.replace(/<[^>]*>/g, " ") : text;
}

function flatten(part: GmailPart): GmailPart[] {
  return [part, ...(part.parts ?? []).flatMap(flatten)];
}

function counter(): () => number {
  let n = 0;
  return () => ++n;
}

function parseContentType(value: string): { type: string; params: Record<string, string> } {
  const [type = "text/plain", ...rest] = value.split(";");
  const params: Record<string, string> = {};
  for (const param of rest) {
    const eq = param.indexOf("=");
    if (eq < 0) continue;
    params[param.slice(0, eq).trim().toLowerCase()] = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
  }
  return { type: type.trim().toLowerCase(), params };
}

function dispositionFilename(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return /filename\*?="?([^";]+)"?/i.exec(value)?.[1];
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  const delimiter = `--${boundary}`;
  const lines = body.split(/\r?\n/);
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.startsWith(delimiter)) {
      if (current) parts.push(current.join("\r\n"));
      if (line.startsWith(`${delimiter}--`)) return parts;
      current = [];
      continue;
    }
    current?.push(line);
  }
  if (current) parts.push(current.join("\r\n"));
  return parts;
}

function decodeBody(body: string, encoding: string | undefined): Buffer {
  const kind = (encoding ?? "7bit").trim().toLowerCase();
  if (kind === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64");
  if (kind === "quoted-printable") return decodeQuotedPrintable(body);
  return Buffer.from(body, "utf8");
}

function decodeQuotedPrintable(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, "");
  const bytes: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft.slice(i + 1, i + 3);
    if (soft[i] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i] ?? "", "utf8"));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047: `=?UTF-8?B?…?=` and `=?UTF-8?Q?…?=`; whitespace between adjacent encoded words is dropped. */
function decodeEncodedWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BQ]\?[^?]*\?=)\s+(?==\?)/gi, "$1")
    .replace(/=\?([^?]+)\?([BQ])\?([^?]*)\?=/gi, (_m, _charset: string, kind: string, text: string) =>
      kind.toUpperCase() === "B"
        ? Buffer.from(text, "base64").toString("utf8")
        : decodeQuotedPrintable(text.replace(/_/g, " ")).toString("utf8"),
    );
}
