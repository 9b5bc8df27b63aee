import { describe, expect, test } from "vitest";
import { MAX_TEXT_CHARS, parseEmail } from "../../../service/src/channels/email/parse";
import { composeMail, type MailFields } from "../../emulators/gmail-mime";

const base: MailFields = {
  from: "Jane Doe <jane@example.test>",
  to: "support@acme.test",
  subject: "My order",
};

async function parsed(fields: Partial<MailFields>) {
  return await parseEmail(Buffer.from(await composeMail({ ...base, ...fields })));
}

/** A hand-written message: header lines, a blank line, the body; CRLF as on the wire. */
function raw(headers: string[], body: string): Uint8Array {
  return new Uint8Array(Buffer.from([...headers, "", body].join("\r\n"), "latin1"));
}

describe("parseEmail: the body the customer wrote", () => {
  test("plain text only", async () => {
    const mail = await parsed({ text: "Hello,\n\nwhere is order 4411?\n\nJane" });
    expect(mail.text).toBe("Hello,\n\nwhere is order 4411?\n\nJane");
  });

  test("HTML only: readable text, no tags or entities left, links readable", async () => {
    const mail = await parsed({
      html: `<html><head><style>p { color: red }</style></head><body>
        <h1>Refund</h1>
        <p>Hi &amp; thanks! I paid &euro;20 &lt;twice&gt;.</p>
        <p>See <a href="https://shop.example.test/orders/4411">my order</a> or https://shop.example.test.</p>
        <img src="cid:logo@example.test" alt="logo">
        <script>alert("x")</script>
      </body></html>`,
    });
    expect(mail.text).toBe(
      [
        "Refund",
        "",
        "Hi & thanks! I paid €20 <twice>.",
        "",
        "See my order [https://shop.example.test/orders/4411] or https://shop.example.test.",
      ].join("\n"),
    );
  });

  test("multipart/alternative: the plain part wins over the HTML", async () => {
    const mail = await parsed({ text: "Plain words.", html: "<p>HTML words.</p>" });
    expect(mail.text).toBe("Plain words.");
  });

  test("an HTML reply from Gmail loses its quote and signature", async () => {
    const mail = await parsed({
      html: `<div dir="ltr">Yes, please refund it.<br clear="all"><br><span class="gmail_signature_prefix">-- </span><br>
        <div dir="ltr" class="gmail_signature">Jane Doe<br>Example Ltd</div></div><br>
        <div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Jan 1, 2024 at 10:00 AM Acme &lt;support@acme.test&gt; wrote:<br></div>
        <blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">Shall we refund the order?</blockquote></div>`,
    });
    expect(mail.text).toBe("Yes, please refund it.");
  });

  test("an HTML reply from Outlook loses the quoted message under its header block", async () => {
    const mail = await parsed({
      html: `<div>Can you deliver on Friday instead?</div><hr style="display:inline-block;width:98%">
        <div id="divRplyFwdMsg" dir="ltr"><b>From:</b> Acme &lt;support@acme.test&gt;<br><b>Sent:</b> Monday, January 1, 2024 10:00<br>
        <b>To:</b> Jane Doe &lt;jane@example.test&gt;<br><b>Subject:</b> Delivery</div><div>Your delivery is on Thursday.</div>`,
    });
    expect(mail.text).toBe("Can you deliver on Friday instead?");
  });

  test("ISO-8859-1 quoted-printable and base64 bodies are decoded", async () => {
    const qp = raw(
      [
        "From: a@example.test",
        "Subject: x",
        "Content-Type: text/plain; charset=ISO-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
      ],
      "Caf=E9 cr=E8me, s'il vous pla=EEt.",
    );
    const b64 = raw(
      [
        "From: a@example.test",
        "Subject: x",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: base64",
      ],
      Buffer.from("Grüße aus München", "latin1").toString("base64"),
    );
    expect((await parseEmail(qp)).text).toBe("Café crème, s'il vous plaît.");
    expect((await parseEmail(b64)).text).toBe("Grüße aus München");
  });

  test("a long message is capped, and never ends on half an emoji", async () => {
    const text = `${"a".repeat(MAX_TEXT_CHARS - 1)}\u{1F600}tail`;
    const mail = await parsed({ text });
    expect(mail.text.length).toBeLessThanOrEqual(MAX_TEXT_CHARS);
    expect(mail.text).toBe("a".repeat(MAX_TEXT_CHARS - 1));
  });

  test("pathologically nested HTML is not converted (and does not hang the worker)", async () => {
    const mail = await parsed({ html: `${"<div>".repeat(5000)}deep${"</div>".repeat(5000)}` });
    expect(mail.text).toBe("");
  });
});

describe("parseEmail: headers", () => {
  test("encoded-word subjects in several charsets", async () => {
    const mail = await parseEmail(
      raw(
        [
          "From: a@example.test",
          "Subject: =?ISO-8859-1?Q?R=E9servation?= =?UTF-8?B?IOKAlCBwcsOqdA==?=",
          "Content-Type: text/plain",
        ],
        "x",
      ),
    );
    expect(mail.subject).toBe("Réservation — prêt");
    expect((await parsed({ subject: "Grüße, ça va? 日本語" })).subject).toBe("Grüße, ça va? 日本語");
  });

  test("no subject is an empty string", async () => {
    expect((await parseEmail(raw(["From: a@example.test"], "hi"))).subject).toBe("");
  });

  test("addresses: lowercased, display names decoded, groups flattened", async () => {
    const mail = await parseEmail(
      raw(
        [
          "From: =?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <Renee@Example.TEST>",
          "Reply-To: Orders <orders@example.test>",
          "To: support@acme.test, Team: bob@acme.test, Carol <carol@acme.test>;",
          "Cc: undisclosed-recipients:;",
          "Subject: hi",
        ],
        "hi",
      ),
    );
    expect(mail.from).toEqual({ address: "renee@example.test", name: "Renée Müller" });
    expect(mail.replyTo).toEqual([{ address: "orders@example.test", name: "Orders" }]);
    expect(mail.to.map((a) => a.address)).toEqual(["support@acme.test", "bob@acme.test", "carol@acme.test"]);
    expect(mail.to[0]?.name).toBeUndefined();
    expect(mail.cc).toEqual([]);
  });

  test("threading headers: Message-ID with brackets, In-Reply-To, each Reference", async () => {
    const mail = await parsed({
      messageId: "<m3@example.test>",
      headers: { "In-Reply-To": "<m2@acme.test>", References: "<m1@example.test>\r\n <m2@acme.test>" },
      text: "x",
    });
    expect(mail.messageId).toBe("<m3@example.test>");
    expect(mail.inReplyTo).toBe("<m2@acme.test>");
    expect(mail.references).toEqual(["<m1@example.test>", "<m2@acme.test>"]);
    expect((await parsed({ text: "x" })).references).toEqual([]);
  });

  test("the Date header is read; a missing or unreadable one is undefined, not 'now'", async () => {
    const date = new Date("2024-01-01T10:00:00Z");
    expect((await parsed({ date, text: "x" })).date).toEqual(date);
    expect((await parseEmail(raw(["From: a@example.test"], "x"))).date).toBeUndefined();
    expect(
      (await parseEmail(raw(["From: a@example.test", "Date: sometime soon"], "x"))).date,
    ).toBeUndefined();
  });

  test("headers by lowercased name: first occurrence, unfolded, List-* kept as sent", async () => {
    const mail = await parseEmail(
      raw(
        [
          "From: a@example.test",
          "List-Unsubscribe: <mailto:unsub@example.test>,",
          " <https://example.test/unsub>",
          "Precedence: bulk",
          "Precedence: list",
          "Auto-Submitted: auto-replied",
        ],
        "x",
      ),
    );
    expect(mail.headers.get("list-unsubscribe")).toBe(
      "<mailto:unsub@example.test>, <https://example.test/unsub>",
    );
    expect(mail.headers.get("precedence")).toBe("bulk");
    expect(mail.headers.get("auto-submitted")).toBe("auto-replied");
    expect(mail.headers.has("x-autoreply")).toBe(false);
  });
});
