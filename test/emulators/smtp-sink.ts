/**
 * An SMTP server in process (`smtp-server`) that collects every message the service sends: the tests'
 * stand-in for the deployment's SMTP relay, and `npm run emulators`' mailbox. Any user and password is
 * accepted without TLS; it can refuse messages on demand. A test fixture, never part of the service.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface SunkMail {
  from: string;
  to: string[];
  subject: string;
  /** The text body, decoded (quoted-printable or base64 as the sender chose). */
  text: string;
  raw: string;
}

export interface SmtpSink {
  port: number;
  /** SMTP_URL for the service: `smtp://sink:sink@127.0.0.1:<port>`. */
  url: string;
  messages: SunkMail[];
  /** Refuse the next `count` messages with a 451 (a relay that is down for a while). */
  refuseNext(count: number): void;
  close(): Promise<void>;
}

export async function startSmtpSink(opts: { port?: number; onMessage?: (mail: SunkMail) => void } = {}) {
  const messages: SunkMail[] = [];
  let refusals = 0;
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    authOptional: true,
    allowInsecureAuth: true,
    logger: false,
    onAuth: (_auth, _session, done) => done(null, { user: "sink" }),
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        if (refusals > 0) {
          refusals--;
          const error = Object.assign(new Error("try again later"), { responseCode: 451 });
          done(error);
          return;
        }
        const raw = Buffer.concat(chunks).toString("utf8");
        const mail = parseMail(raw, session.envelope);
        messages.push(mail);
        opts.onMessage?.(mail);
        done();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  const sink: SmtpSink = {
    port,
    url: `smtp://sink:sink@127.0.0.1:${port}`,
    messages,
    refuseNext: (count) => {
      refusals = count;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return sink;
}

type Envelope = { mailFrom: false | { address: string }; rcptTo: { address: string }[] };

function parseMail(raw: string, envelope: Envelope): SunkMail {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
  const encoding = header("Content-Transfer-Encoding").toLowerCase();
  return {
    from: envelope.mailFrom ? envelope.mailFrom.address : "",
    to: envelope.rcptTo.map((r) => r.address),
    subject: decodeWords(header("Subject")),
    text: decodeBody(body, encoding),
    raw,
  };
}

function decodeBody(body: string, encoding: string): string {
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = body
      .replace(/=\r?\n/g, "")
      .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8").replace(/\r\n/g, "\n").trimEnd();
  }
  return body.replace(/\r\n/g, "\n").trimEnd();
}

/** RFC 2047 encoded words (`=?UTF-8?Q?...?=`), which nodemailer uses for a subject beyond ASCII. */
function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, kind: string, text: string) =>
    kind.toLowerCase() === "b"
      ? Buffer.from(text, "base64").toString("utf8")
      : Buffer.from(
          text
            .replace(/_/g, " ")
            .replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
          "latin1",
        ).toString("utf8"),
  );
}
