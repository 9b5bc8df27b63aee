import { gmail, type gmail_v1 } from "@googleapis/gmail";
import { CodeChallengeMethod, OAuth2Client } from "google-auth-library";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GMAIL_SCOPES, type GmailEmulator, startGmailEmulator } from "./gmail";
import { composeMail } from "./gmail-mime";
import { startEmulatorServer } from "./http-server";

const REDIRECT = "http://127.0.0.1:8080/api/v1/email/oauth/callback";
const SUPPORT = "support@acme.example";
const CUSTOMER = "jane@customer.example";

let emu: GmailEmulator;

beforeAll(async () => {
  emu = await startGmailEmulator({ redirectUris: [REDIRECT] });
});
afterEach(() => emu.reset());
afterAll(() => emu.close());

function oauthClient(): OAuth2Client {
  return new OAuth2Client({
    clientId: emu.client.clientId,
    clientSecret: emu.client.clientSecret,
    redirectUri: REDIRECT,
    endpoints: emu.oauthEndpoints,
  });
}

function gmailFor(auth: OAuth2Client): gmail_v1.Gmail {
  // @googleapis/gmail bundles its own google-auth-library; the project's OAuth2Client is the same client
  // at runtime (googleapis-common only calls `request()`), but a nominally different class.
  return gmail({ version: "v1", auth: auth as unknown as gmail_v1.Options["auth"], rootUrl: emu.rootUrl });
}

function gmailWithToken(address = SUPPORT): gmail_v1.Gmail {
  const auth = oauthClient();
  auth.setCredentials({ access_token: emu.accessToken(address) });
  return gmailFor(auth);
}

/** Runs the consent screen the way a browser follows Google's redirect; returns the callback's query. */
async function consent(authUrl: string): Promise<URLSearchParams> {
  const res = await fetch(authUrl, { redirect: "manual" });
  expect(res.status).toBe(302);
  const location = new URL(res.headers.get("location") ?? "");
  expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
  return location.searchParams;
}

async function connect(address = SUPPORT): Promise<{ auth: OAuth2Client; refreshToken: string }> {
  emu.consentAs(address);
  const auth = oauthClient();
  const { codeVerifier, codeChallenge } = await auth.generateCodeVerifierAsync();
  const url = auth.generateAuthUrl({
    access_type: "offline",
    prompt: "consent",
    scope: [GMAIL_SCOPES.modify, GMAIL_SCOPES.send],
    state: "state-123",
    code_challenge: codeChallenge,
    code_challenge_method: CodeChallengeMethod.S256,
  });
  const back = await consent(url);
  expect(back.get("state")).toBe("state-123");
  const { tokens } = await auth.getToken({ code: back.get("code") ?? "", codeVerifier });
  auth.setCredentials(tokens);
  return { auth, refreshToken: tokens.refresh_token ?? "" };
}

async function status(promise: Promise<unknown>): Promise<{ code: number; body: unknown }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { status?: number; response?: { status: number; data: unknown } };
    return { code: e.response?.status ?? e.status ?? 0, body: e.response?.data };
  }
  throw new Error("expected the call to fail");
}

describe("Google OAuth emulator with google-auth-library's OAuth2Client", () => {
  it("authorization code + PKCE: redirects back with code and state, issues a refresh token, the mailbox is learnt from the profile", async () => {
    const { auth, refreshToken } = await connect();
    expect(refreshToken).toMatch(/^1\/\//);
    expect(auth.credentials.scope).toBe(`${GMAIL_SCOPES.modify} ${GMAIL_SCOPES.send}`);
    const authorization = emu.oauth.authorizations.at(-1);
    expect(authorization).toMatchObject({
      access_type: "offline",
      prompt: "consent",
      code_challenge_method: "S256",
      response_type: "code",
    });
    const { data } = await gmailFor(auth).users.getProfile({ userId: "me" });
    expect(data.emailAddress).toBe(SUPPORT);
  });

  it("rejects a wrong code_verifier, a reused code, and an unregistered redirect URI", async () => {
    emu.consentAs(SUPPORT);
    const auth = oauthClient();
    const { codeChallenge, codeVerifier } = await auth.generateCodeVerifierAsync();
    const url = auth.generateAuthUrl({
      scope: [GMAIL_SCOPES.modify],
      state: "s",
      code_challenge: codeChallenge,
      code_challenge_method: CodeChallengeMethod.S256,
    });
    const code = (await consent(url)).get("code") ?? "";
    const other = await auth.generateCodeVerifierAsync();
    const wrong = await status(auth.getToken({ code, codeVerifier: other.codeVerifier }));
    expect(wrong).toEqual({
      code: 400,
      body: { error: "invalid_grant", error_description: "Invalid code verifier." },
    });

    const missing = await status(auth.getToken({ code }));
    expect(missing.body).toMatchObject({
      error: "invalid_grant",
      error_description: "Missing code verifier.",
    });
    const { tokens } = await auth.getToken({ code, codeVerifier });
    // Without access_type=offline Google issues no refresh token.
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeUndefined();
    const reused = await status(auth.getToken({ code, codeVerifier }));
    expect(reused).toEqual({ code: 400, body: { error: "invalid_grant", error_description: "Bad Request" } });

    const mismatched = auth.generateAuthUrl({
      scope: [GMAIL_SCOPES.modify],
      redirect_uri: "https://evil.example/cb",
    });
    const page = await fetch(mismatched, { redirect: "manual" });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain("redirect_uri_mismatch");
  });

  it("a user who denies consent comes back with error=access_denied and the state", async () => {
    emu.consentAs(undefined);
    const url = oauthClient().generateAuthUrl({ scope: [GMAIL_SCOPES.modify], state: "st" });
    const back = await consent(url);
    expect(back.get("error")).toBe("access_denied");
    expect(back.get("state")).toBe("st");
    expect(back.get("code")).toBeNull();
  });

  it("refreshes an expired access token transparently, and a revoked grant answers invalid_grant", async () => {
    const { auth, refreshToken } = await connect();
    // An hour later: the server no longer takes the token and the client's own expiry_date says so too.
    emu.expireAccessTokens();
    const before = auth.credentials.access_token;
    expect((await status(gmailFor(auth).users.getProfile({ userId: "me" }))).code).toBe(401);
    auth.setCredentials({ ...auth.credentials, expiry_date: Date.now() - 1 });
    const { data } = await gmailFor(auth).users.getProfile({ userId: "me" });
    expect(data.emailAddress).toBe(SUPPORT);
    expect(auth.credentials.access_token).not.toBe(before);
    expect(
      emu.requests.some((r) => r.path === "/token" && r.rawBody.includes("grant_type=refresh_token")),
    ).toBe(true);

    emu.revokeGrants(SUPPORT);
    const fresh = oauthClient();
    fresh.setCredentials({ refresh_token: refreshToken });
    const failed = await status(fresh.getAccessToken());
    expect(failed).toEqual({
      code: 400,
      body: { error: "invalid_grant", error_description: "Token has been expired or revoked." },
    });
  });

  it("revokeToken revokes the grant: the refresh token and its access tokens stop working", async () => {
    const { auth, refreshToken } = await connect();
    await auth.revokeToken(refreshToken);
    const api = await status(gmailFor(auth).users.getProfile({ userId: "me" }));
    expect(api.code).toBe(401);
    const again = await status(auth.revokeToken(refreshToken));
    expect(again.code).toBe(400);
  });
});

describe("Gmail API emulator with @googleapis/gmail", () => {
  it("watch returns historyId and a 7-day expiration (epoch ms strings); stop clears it; a bad topic is 400", async () => {
    const api = gmailWithToken();
    const { data } = await api.users.watch({
      userId: "me",
      requestBody: {
        topicName: "projects/p/topics/gmail",
        labelIds: ["INBOX"],
        labelFilterBehavior: "INCLUDE",
      },
    });
    expect(data.historyId).toBe(String(emu.mailbox(SUPPORT).historyId));
    const days = (Number(data.expiration) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(emu.mailbox(SUPPORT).watch?.labelIds).toEqual(["INBOX"]);
    await api.users.stop({ userId: "me" });
    expect(emu.mailbox(SUPPORT).watch).toBeUndefined();
    const bad = await status(api.users.watch({ userId: "me", requestBody: { topicName: "gmail" } }));
    expect(bad.code).toBe(400);
    expect(bad.body).toMatchObject({
      error: { code: 400, status: "INVALID_ARGUMENT", errors: [{ reason: "invalidArgument" }] },
    });
  });

  it("history.list pages INBOX messageAdded records after startHistoryId and 404s once history is expired", async () => {
    const api = gmailWithToken();
    const start = emu.mailbox(SUPPORT).historyId;
    const notes = [];
    for (let i = 0; i < 5; i++)
      notes.push(
        await emu.deliver(SUPPORT, { from: CUSTOMER, to: SUPPORT, subject: `Q${i}`, text: `question ${i}` }),
      );
    await api.users.messages.send({
      userId: "me",
      requestBody: {
        raw: Buffer.from(
          await composeMail({ from: SUPPORT, to: CUSTOMER, subject: "hello", text: "x" }),
        ).toString("base64url"),
      },
    });
    expect(notes.at(-1)).toEqual({ emailAddress: SUPPORT, historyId: start + 5 });

    const ids: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const { data } = await api.users.history.list({
        userId: "me",
        startHistoryId: String(start),
        historyTypes: ["messageAdded"],
        labelId: "INBOX",
        maxResults: 2,
        pageToken,
      });
      for (const h of data.history ?? [])
        for (const added of h.messagesAdded ?? []) ids.push(added.message?.id ?? "");
      expect(data.historyId).toBe(String(start + 6));
      pageToken = data.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(ids).toEqual(emu.messages(SUPPORT, "INBOX").map((m) => m.id));
    expect(emu.requests.at(-1)?.rawBody).toBe("");
    expect(emu.requests.at(-1)?.query.historyTypes).toBe("messageAdded");

    const { data: later } = await api.users.history.list({
      userId: "me",
      startHistoryId: String(start + 3),
      labelId: "INBOX",
    });
    expect(later.history?.map((h) => h.id)).toEqual([String(start + 4), String(start + 5)]);

    emu.expireHistory(SUPPORT);
    const gone = await status(api.users.history.list({ userId: "me", startHistoryId: String(start) }));
    expect(gone).toEqual({
      code: 404,
      body: {
        error: {
          code: 404,
          message: "Requested entity was not found.",
          errors: [{ message: "Requested entity was not found.", domain: "global", reason: "notFound" }],
          status: "NOT_FOUND",
        },
      },
    });
  });

  it("messages.list filters by labelIds and q (in:inbox after:, rfc822msgid:) and pages", async () => {
    const api = gmailWithToken();
    const old = new Date(Date.now() - 3_600_000);
    await emu.deliver(SUPPORT, { from: CUSTOMER, to: SUPPORT, subject: "old", text: "a", date: old });
    await emu.deliver(SUPPORT, {
      from: CUSTOMER,
      to: SUPPORT,
      subject: "new 1",
      text: "b",
      messageId: "<n1@customer.example>",
    });
    await emu.deliver(SUPPORT, { from: CUSTOMER, to: SUPPORT, subject: "new 2", text: "c" });
    const after = Math.floor((Date.now() - 60_000) / 1000);
    const { data } = await api.users.messages.list({
      userId: "me",
      q: `in:inbox after:${after}`,
      maxResults: 1,
    });
    expect(data.messages).toHaveLength(1);
    expect(data.resultSizeEstimate).toBe(2);
    const { data: rest } = await api.users.messages.list({
      userId: "me",
      q: `in:inbox after:${after}`,
      pageToken: data.nextPageToken ?? "",
    });
    const newer = [...(data.messages ?? []), ...(rest.messages ?? [])].map((m) => m.id);
    expect(newer).toEqual(
      emu
        .messages(SUPPORT)
        .slice(1)
        .reverse()
        .map((m) => m.id),
    );
    const { data: byId } = await api.users.messages.list({
      userId: "me",
      q: "rfc822msgid:n1@customer.example",
    });
    expect(byId.messages?.map((m) => m.id)).toEqual([emu.messages(SUPPORT)[1]?.id]);
    const { data: sent } = await api.users.messages.list({ userId: "me", labelIds: ["SENT"] });
    expect(sent.messages).toBeUndefined();
  });

  it("messages.get full gives a payload tree of MIME parts with base64url bodies; raw gives the message back", async () => {
    const api = gmailWithToken();
    await emu.deliver(SUPPORT, {
      from: `Jane <${CUSTOMER}>`,
      to: SUPPORT,
      subject: "Öffnungszeiten?",
      text: "Hallo, wann habt ihr offen?",
      html: "<p>Hallo, wann habt ihr <b>offen</b>?</p>",
      headers: { "List-Unsubscribe": "<mailto:u@x>" },
    });
    const id = emu.messages(SUPPORT)[0]?.id ?? "";
    const { data } = await api.users.messages.get({ userId: "me", id, format: "full" });
    expect(data.labelIds).toEqual(["INBOX", "UNREAD"]);
    expect(data.snippet).toBe("Hallo, wann habt ihr offen?");
    const header = (name: string) => data.payload?.headers?.find((h) => h.name === name)?.value;
    expect(header("Subject")).toBe("Öffnungszeiten?");
    expect(header("From")).toBe(`Jane <${CUSTOMER}>`);
    expect(header("List-Unsubscribe")).toBe("<mailto:u@x>");
    expect(header("Message-ID")).toMatch(/^<.+@.+>$/);
    expect(data.payload?.mimeType).toBe("multipart/alternative");
    expect(data.payload?.partId).toBe("");
    const [plain, html] = data.payload?.parts ?? [];
    expect(plain?.partId).toBe("0");
    expect(plain?.mimeType).toBe("text/plain");
    expect(Buffer.from(plain?.body?.data ?? "", "base64url").toString("utf8")).toBe(
      "Hallo, wann habt ihr offen?",
    );
    expect(html?.mimeType).toBe("text/html");
    expect(Buffer.from(html?.body?.data ?? "", "base64url").toString("utf8")).toContain("<b>offen</b>");
    expect(plain?.body?.data).not.toMatch(/[+/=]/);

    const { data: raw } = await api.users.messages.get({ userId: "me", id, format: "raw" });
    expect(raw.payload).toBeUndefined();
    expect(Buffer.from(raw.raw ?? "", "base64url").toString("utf8")).toBe(emu.messages(SUPPORT)[0]?.raw);
    const missing = await status(api.users.messages.get({ userId: "me", id: "ffff" }));
    expect(missing.code).toBe(404);
  });

  it("messages.send threads a proper reply (threadId, In-Reply-To, References, Re: subject) and puts it in SENT", async () => {
    const api = gmailWithToken();
    await emu.deliver(SUPPORT, {
      from: CUSTOMER,
      to: SUPPORT,
      subject: "Opening hours",
      text: "When?",
      messageId: "<q1@customer.example>",
    });
    const original = emu.messages(SUPPORT)[0];
    const reply = await composeMail({
      from: SUPPORT,
      to: CUSTOMER,
      subject: "Re: Opening hours",
      text: "9 to 5.",
      headers: { "In-Reply-To": "<q1@customer.example>", References: "<q1@customer.example>" },
    });
    const { data } = await api.users.messages.send({
      userId: "me",
      requestBody: { raw: Buffer.from(reply).toString("base64url"), threadId: original?.threadId ?? "" },
    });
    expect(data.threadId).toBe(original?.threadId);
    expect(data.labelIds).toEqual(["SENT"]);
    const sent = emu.messages(SUPPORT, "SENT")[0];
    expect(sent && emu.header(sent, "In-Reply-To")).toBe("<q1@customer.example>");
    expect(sent && emu.header(sent, "References")).toBe("<q1@customer.example>");
    expect(sent && emu.header(sent, "Subject")).toBe("Re: Opening hours");

    // Gmail ignores a threadId whose thread the headers do not belong to: a new thread.
    const unrelated = await composeMail({
      from: SUPPORT,
      to: CUSTOMER,
      subject: "Something else",
      text: "x",
    });
    const { data: lone } = await api.users.messages.send({
      userId: "me",
      requestBody: { raw: Buffer.from(unrelated).toString("base64url"), threadId: original?.threadId ?? "" },
    });
    expect(lone.threadId).not.toBe(original?.threadId);
    const { data: thread } = await api.users.threads.get({
      userId: "me",
      id: original?.threadId ?? "",
      format: "minimal",
    });
    expect(thread.messages?.map((m) => m.id)).toEqual([original?.id, data.id]);
  });

  it("drafts.create stores a DRAFT in the thread; labels.create/list and messages.modify label a message", async () => {
    const api = gmailWithToken();
    await emu.deliver(SUPPORT, {
      from: CUSTOMER,
      to: SUPPORT,
      subject: "Refund",
      text: "please",
      messageId: "<r1@customer.example>",
    });
    const original = emu.messages(SUPPORT)[0];
    const raw = await composeMail({
      from: SUPPORT,
      to: CUSTOMER,
      subject: "Re: Refund",
      text: "draft",
      headers: { "In-Reply-To": "<r1@customer.example>", References: "<r1@customer.example>" },
    });
    const { data: draft } = await api.users.drafts.create({
      userId: "me",
      requestBody: {
        message: { raw: Buffer.from(raw).toString("base64url"), threadId: original?.threadId ?? "" },
      },
    });
    expect(draft.id).toMatch(/^r/);
    expect(draft.message?.labelIds).toEqual(["DRAFT"]);
    expect(draft.message?.threadId).toBe(original?.threadId);
    expect(emu.messages(SUPPORT, "SENT")).toHaveLength(0);

    const { data: label } = await api.users.labels.create({
      userId: "me",
      requestBody: {
        name: "Switchboard/answered",
        labelListVisibility: "labelShow",
        messageListVisibility: "show",
      },
    });
    expect(label).toMatchObject({ id: "Label_1", name: "Switchboard/answered", type: "user" });
    const dup = await status(
      api.users.labels.create({ userId: "me", requestBody: { name: "Switchboard/answered" } }),
    );
    expect(dup.code).toBe(409);
    expect(dup.body).toMatchObject({
      error: { message: "Label name exists or conflicts", errors: [{ reason: "aborted" }] },
    });
    const { data: list } = await api.users.labels.list({ userId: "me" });
    expect(list.labels?.map((l) => l.id)).toEqual(expect.arrayContaining(["INBOX", "SENT", "Label_1"]));

    const { data: modified } = await api.users.messages.modify({
      userId: "me",
      id: original?.id ?? "",
      requestBody: { addLabelIds: ["Label_1"], removeLabelIds: ["UNREAD"] },
    });
    expect(modified.labelIds).toEqual(["INBOX", "Label_1"]);
    const invalid = await status(
      api.users.messages.modify({
        userId: "me",
        id: original?.id ?? "",
        requestBody: { addLabelIds: ["Label_9"] },
      }),
    );
    expect(invalid.code).toBe(400);
  });

  it("checks the bearer token: unknown → 401, another mailbox → 403, missing scope → 403", async () => {
    const stranger = oauthClient();
    stranger.setCredentials({ access_token: "ya29.made-up" });
    expect((await status(gmailFor(stranger).users.getProfile({ userId: "me" }))).code).toBe(401);
    const api = gmailWithToken(SUPPORT);
    const other = await status(api.users.messages.list({ userId: "sales@acme.example" }));
    expect(other.code).toBe(403);
    const sendOnly = oauthClient();
    sendOnly.setCredentials({ access_token: emu.accessToken(SUPPORT, [GMAIL_SCOPES.send]) });
    const scoped = await status(gmailFor(sendOnly).users.history.list({ userId: "me", startHistoryId: "1" }));
    expect(scoped.code).toBe(403);
    expect(scoped.body).toMatchObject({ error: { errors: [{ reason: "insufficientPermissions" }] } });
  });

  it("failNext injects a Gmail error once", async () => {
    const api = gmailWithToken();
    emu.failNext({
      code: 429,
      status: "RESOURCE_EXHAUSTED",
      reason: "rateLimitExceeded",
      pathIncludes: "/messages/send",
    });
    await emu.deliver(SUPPORT, { from: CUSTOMER, to: SUPPORT, subject: "x", text: "y" });
    const { data } = await api.users.messages.list({ userId: "me" });
    expect(data.messages).toHaveLength(1);
    const raw = Buffer.from(
      await composeMail({ from: SUPPORT, to: CUSTOMER, subject: "a", text: "b" }),
    ).toString("base64url");
    const failed = await status(
      api.users.messages.send({ userId: "me", requestBody: { raw } }, { retry: false }),
    );
    expect(failed.code).toBe(429);
    await api.users.messages.send({ userId: "me", requestBody: { raw } });
    expect(emu.messages(SUPPORT, "SENT")).toHaveLength(1);
  });
});

describe("Pub/Sub push signer", () => {
  const AUDIENCE = "https://switchboard.example/webhooks/email/gmail-push";
  const PUSH_SA = "gmail-push@switchboard-test.iam.gserviceaccount.com";

  async function verify(authorization: string) {
    const jwks = createRemoteJWKSet(new URL(emu.jwksUrl));
    const { payload } = await jwtVerify(authorization.replace(/^Bearer /, ""), jwks, {
      issuer: "https://accounts.google.com",
      audience: AUDIENCE,
    });
    if (payload.email !== PUSH_SA || payload.email_verified !== true)
      throw new Error("wrong push service account");
    return payload;
  }

  it("produces the push body (data decodes to the notification, historyId a number) and a JWT the JWKS verifies", async () => {
    const notification = await emu.deliver(SUPPORT, {
      from: CUSTOMER,
      to: SUPPORT,
      subject: "hi",
      text: "hi",
    });
    const push = await emu.pushRequest({
      audience: AUDIENCE,
      serviceAccountEmail: PUSH_SA,
      data: notification,
      messageId: "136969346945",
    });
    const body = JSON.parse(push.body) as {
      message: { data: string; messageId: string; publishTime: string };
      subscription: string;
    };
    expect(JSON.parse(Buffer.from(body.message.data, "base64").toString("utf8"))).toEqual({
      emailAddress: SUPPORT,
      historyId: notification.historyId,
    });
    expect(body.message.messageId).toBe("136969346945");
    expect(Date.parse(body.message.publishTime)).not.toBeNaN();
    expect(body.subscription).toMatch(/^projects\/[^/]+\/subscriptions\//);
    const claims = await verify(push.headers.authorization);
    expect(claims).toMatchObject({
      iss: "https://accounts.google.com",
      aud: AUDIENCE,
      email: PUSH_SA,
      email_verified: true,
    });
  });

  it("a wrong audience, a wrong service account, an expired token and a forged signature all fail verification", async () => {
    const base = {
      audience: AUDIENCE,
      serviceAccountEmail: PUSH_SA,
      data: { emailAddress: SUPPORT, historyId: 1 },
    };
    const wrongAud = await emu.pushRequest({ ...base, audience: "https://other.example/push" });
    await expect(verify(wrongAud.headers.authorization)).rejects.toThrow(/aud/);
    const wrongSa = await emu.pushRequest({
      ...base,
      serviceAccountEmail: "attacker@evil.iam.gserviceaccount.com",
    });
    await expect(verify(wrongSa.headers.authorization)).rejects.toThrow(/push service account/);
    const expired = await emu.pushRequest({ ...base, expiresInSeconds: -600 });
    await expect(verify(expired.headers.authorization)).rejects.toThrow(/exp/);
    const forged = await emu.pushRequest({ ...base, forge: true });
    await expect(verify(forged.headers.authorization)).rejects.toThrow(/signature/);
    const good = await emu.pushRequest(base);
    await expect(verify(good.headers.authorization)).resolves.toMatchObject({ email: PUSH_SA });
  });
});

describe("the emulator as Pub/Sub (npm run emulators)", () => {
  it("pushes a signed notification to the endpoint after a delivery by hand to a watched mailbox only", async () => {
    const receiver = await startEmulatorServer((_raw, res) => {
      res.writeHead(204).end();
    });
    const audience = `${receiver.url}/webhooks/email/gmail-push`;
    const own = await startGmailEmulator({
      push: { endpoint: audience, audience, serviceAccountEmail: "push@p.iam.gserviceaccount.com" },
    });
    try {
      const mail = { from: CUSTOMER, to: SUPPORT, subject: "hi", text: "hello" };
      await fetch(`${own.url}/_emulator/deliver`, { method: "POST", body: JSON.stringify(mail) });
      expect(own.pushes).toHaveLength(0);
      own.mailbox(SUPPORT).watch = { topicName: "projects/p/topics/t", labelIds: ["INBOX"], expiration: 0 };
      const res = await fetch(`${own.url}/_emulator/deliver`, { method: "POST", body: JSON.stringify(mail) });
      const notification = (await res.json()) as { emailAddress: string; historyId: number };
      await expect.poll(() => receiver.requests.length).toBe(1);
      const push = receiver.requests[0];
      const data = (push?.body as { message: { data: string } }).message.data;
      expect(JSON.parse(Buffer.from(data, "base64").toString("utf8"))).toEqual(notification);
      const jwks = createRemoteJWKSet(new URL(own.jwksUrl));
      const token = String(push?.headers.authorization).replace(/^Bearer /, "");
      await expect(jwtVerify(token, jwks, { audience })).resolves.toBeTruthy();
      expect(own.messages(SUPPORT, "INBOX")).toHaveLength(2);
    } finally {
      await own.close();
      await receiver.close();
    }
  });
});
