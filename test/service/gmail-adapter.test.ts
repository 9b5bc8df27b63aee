import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { googleOAuth } from "../../service/src/adapters/gmail";
import {
  GMAIL_SCOPES,
  GmailAuthRevoked,
  GmailHistoryGone,
  type GoogleOAuth,
  GoogleOAuthError,
} from "../../service/src/ports/gmail";
import { type GmailEmulator, startGmailEmulator } from "../emulators/gmail";
import { composeMail } from "../emulators/gmail-mime";

/**
 * The Gmail adapter (the only code that talks to Google for the e-mail channel) through the real
 * google-auth-library and @googleapis/gmail clients, against the Gmail + OAuth emulator.
 */

const REDIRECT = "http://127.0.0.1:8080/api/v1/email/oauth/callback";
const SUPPORT = "support@acme.example";
const CUSTOMER = "jane@customer.example";

let emu: GmailEmulator;
let google: GoogleOAuth;

beforeAll(async () => {
  emu = await startGmailEmulator({ redirectUris: [REDIRECT] });
  google = googleOAuth({
    ...emu.client,
    redirectUri: REDIRECT,
    oauthBase: emu.url,
    gmailApiBase: emu.url,
  });
});
afterEach(() => emu.reset());
afterAll(() => emu.close());

/** Consents as the mailbox the way a browser follows Google's redirects; returns the refresh token. */
async function connect(address = SUPPORT): Promise<string> {
  emu.consentAs(address);
  const { verifier, challenge } = await google.pkce();
  const url = google.authorizationUrl({ state: "state-1", codeChallenge: challenge });
  const back = await fetch(url, { redirect: "manual" });
  const query = new URL(back.headers.get("location") ?? "").searchParams;
  expect(query.get("state")).toBe("state-1");
  const { refreshToken, scopes } = await google.exchange(query.get("code") ?? "", verifier);
  expect(scopes.sort()).toEqual([...GMAIL_SCOPES].sort());
  return refreshToken ?? "";
}

describe("connecting", () => {
  it("asks for offline access with consent, PKCE (S256) and the two Gmail scopes only", async () => {
    const refreshToken = await connect();
    expect(refreshToken).not.toBe("");
    expect(emu.oauth.authorizations.at(-1)).toMatchObject({
      access_type: "offline",
      prompt: "consent",
      code_challenge_method: "S256",
      scope: GMAIL_SCOPES.join(" "),
    });
    expect(await google.mailbox(refreshToken).profile()).toMatchObject({ emailAddress: SUPPORT });
  });

  it("a code exchanged with the wrong verifier is refused with Google's error code", async () => {
    emu.consentAs(SUPPORT);
    const { challenge } = await google.pkce();
    const other = await google.pkce();
    const back = await fetch(google.authorizationUrl({ state: "s", codeChallenge: challenge }), {
      redirect: "manual",
    });
    const code = new URL(back.headers.get("location") ?? "").searchParams.get("code") ?? "";
    const refused = await google.exchange(code, other.verifier).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GoogleOAuthError);
    expect((refused as GoogleOAuthError).code).toBe("invalid_grant");
  });

  it("revoking ends the grant; revoking again is not an error", async () => {
    const refreshToken = await connect();
    await google.revoke(refreshToken);
    await expect(google.mailbox(refreshToken).profile()).rejects.toBeInstanceOf(GmailAuthRevoked);
    await google.revoke(refreshToken);
  });
});

describe("a connected mailbox", () => {
  it("watches INBOX, lists the history of new mail across pages, and reads each message raw", async () => {
    const box = google.mailbox(await connect());
    const watch = await box.watch("projects/p/topics/gmail");
    expect(watch.expiration.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    for (let i = 0; i < 3; i++)
      await emu.deliver(SUPPORT, {
        from: CUSTOMER,
        to: SUPPORT,
        subject: `Question ${i}`,
        text: `Hello ${i}`,
      });
    const { added, historyId } = await box.history(watch.historyId);
    expect(added).toHaveLength(3);
    expect(Number(historyId)).toBeGreaterThan(Number(watch.historyId));
    const first = await box.message(added[0]?.id ?? "");
    expect(first?.labelIds).toContain("INBOX");
    expect(Buffer.from(first?.raw ?? []).toString()).toContain("Subject: Question 0");
    expect(await box.message("0000000000000000")).toBeUndefined();
    expect((await box.recentInbox(new Date(Date.now() - 60_000), 10)).map((m) => m.id)).toEqual(
      added.map((m) => m.id),
    );
  });

  it("a history too old to list is GmailHistoryGone", async () => {
    const box = google.mailbox(await connect());
    const { historyId } = await box.profile();
    emu.expireHistory(SUPPORT);
    await expect(box.history(historyId)).rejects.toBeInstanceOf(GmailHistoryGone);
  });

  it("sends into a thread, drafts, labels, and finds a message or draft by its Message-ID", async () => {
    const box = google.mailbox(await connect());
    await emu.deliver(SUPPORT, { from: CUSTOMER, to: SUPPORT, subject: "Refund", text: "Hi" });
    const inbound = emu.messages(SUPPORT, "INBOX")[0];
    const reply = async (messageId: string) =>
      new TextEncoder().encode(
        await composeMail({
          from: SUPPORT,
          to: CUSTOMER,
          subject: "Re: Refund",
          text: "On its way.",
          messageId,
          headers: { "In-Reply-To": emu.header(inbound as never, "Message-ID") ?? "" },
        }),
      );
    const sent = await box.send(await reply("<sb.1@acme.example>"), inbound?.threadId ?? "");
    expect(sent.threadId).toBe(inbound?.threadId);
    expect(await box.findByMessageId("<sb.1@acme.example>")).toMatchObject([{ id: sent.id }]);
    const draft = await box.createDraft(await reply("<sb.2@acme.example>"), inbound?.threadId ?? "");
    expect((await box.findByMessageId("<sb.2@acme.example>"))[0]?.labelIds).toContain("DRAFT");
    expect(await box.findByMessageId("<never@acme.example>")).toEqual([]);
    const label = await box.labelId("Switchboard/Answered");
    expect(await box.labelId("Switchboard/Answered")).toBe(label);
    await box.addLabels(inbound?.id ?? "", [label]);
    expect(emu.messages(SUPPORT, label).map((m) => m.id)).toEqual([inbound?.id]);
    expect(draft.message.id).not.toBe("");
  });

  it("a revoked grant is GmailAuthRevoked on the next call, even while the access token looked valid", async () => {
    const box = google.mailbox(await connect());
    await box.profile();
    emu.revokeGrants(SUPPORT);
    await expect(box.profile()).rejects.toBeInstanceOf(GmailAuthRevoked);
  });
});
