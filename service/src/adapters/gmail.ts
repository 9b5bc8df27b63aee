import { gmail, type gmail_v1 } from "@googleapis/gmail";
import { CodeChallengeMethod, OAuth2Client } from "google-auth-library";
import {
  GMAIL_SCOPES,
  GmailApiError,
  GmailAuthRevoked,
  GmailHistoryGone,
  type GmailMailbox,
  type GmailMessage,
  type GmailMessageRef,
  type GoogleOAuth,
  GoogleOAuthError,
} from "../ports/gmail";

export interface GoogleOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** The callback Google sends the browser back to (PUBLIC_URL + /api/v1/email/oauth/callback). */
  redirectUri: string;
  /** GOOGLE_OAUTH_BASE: an emulator's origin serving /o/oauth2/v2/auth, /token, /revoke; unset: Google's. */
  oauthBase?: string | undefined;
  /** GMAIL_API_BASE: an emulator's origin serving /gmail/v1/…; unset: https://gmail.googleapis.com/. */
  gmailApiBase?: string | undefined;
}

/** The deployment's Google OAuth client and each connected mailbox's Gmail API (ports/gmail.ts). */
export function googleOAuth(opts: GoogleOAuthOptions): GoogleOAuth {
  const client = () =>
    new OAuth2Client({
      clientId: opts.clientId,
      clientSecret: opts.clientSecret,
      redirectUri: opts.redirectUri,
      ...(opts.oauthBase ? { endpoints: oauthEndpoints(opts.oauthBase) } : {}),
    });
  const shared = client();
  return {
    async pkce() {
      const { codeVerifier, codeChallenge } = await shared.generateCodeVerifierAsync();
      return { verifier: codeVerifier, challenge: codeChallenge ?? "" };
    },
    authorizationUrl: ({ state, codeChallenge, loginHint }) =>
      shared.generateAuthUrl({
        access_type: "offline",
        prompt: "consent",
        scope: [...GMAIL_SCOPES],
        include_granted_scopes: false,
        state,
        code_challenge: codeChallenge,
        code_challenge_method: CodeChallengeMethod.S256,
        ...(loginHint ? { login_hint: loginHint } : {}),
      }),
    async exchange(code, codeVerifier) {
      try {
        const { tokens } = await client().getToken({ code, codeVerifier });
        return { refreshToken: tokens.refresh_token ?? undefined, scopes: (tokens.scope ?? "").split(/\s+/) };
      } catch (error) {
        const { data } = responseOf(error);
        const code = typeof data?.error === "string" ? data.error : "exchange_failed";
        throw new GoogleOAuthError(`Google refused the authorization code (${code})`, code);
      }
    },
    async revoke(refreshToken) {
      try {
        await shared.revokeToken(refreshToken);
      } catch (error) {
        // Already revoked (or expired): the grant is gone, which is what revoking wanted.
        if (responseOf(error).status === 400) return;
        throw gmailError(error);
      }
    },
    mailbox(refreshToken) {
      const auth = client();
      auth.setCredentials({ refresh_token: refreshToken });
      return new GmailApiMailbox(
        auth,
        gmail({
          version: "v1",
          // @googleapis/gmail bundles its own google-auth-library: the same client at runtime
          // (googleapis-common only calls `request()`), a nominally different class for TypeScript.
          auth: auth as unknown as gmail_v1.Options["auth"],
          ...(opts.gmailApiBase ? { rootUrl: withSlash(opts.gmailApiBase) } : {}),
        }),
      );
    },
  };
}

function oauthEndpoints(base: string) {
  const origin = base.replace(/\/+$/, "");
  return {
    oauth2AuthBaseUrl: `${origin}/o/oauth2/v2/auth`,
    oauth2TokenUrl: `${origin}/token`,
    oauth2RevokeUrl: `${origin}/revoke`,
    tokenInfoUrl: `${origin}/tokeninfo`,
    oauth2FederatedSignonJwkCertsUrl: `${origin}/oauth2/v3/certs`,
  };
}

const withSlash = (url: string) => (url.endsWith("/") ? url : `${url}/`);

/** One mailbox's Gmail API; every Google error becomes one of the port's. */
class GmailApiMailbox implements GmailMailbox {
  constructor(
    private readonly auth: OAuth2Client,
    private readonly api: gmail_v1.Gmail,
  ) {}

  /**
   * Runs a call; a 401 (the access token was revoked or expired early, which the client's own expiry
   * date cannot know) drops the token and tries once more, so the refresh token decides: a new access
   * token, or `GmailAuthRevoked`.
   */
  private async call<T>(work: () => Promise<T>, special?: (error: unknown) => Error | undefined): Promise<T> {
    try {
      return await call(work, special);
    } catch (error) {
      if (!(error instanceof GmailApiError) || error.status !== 401) throw error;
      this.auth.setCredentials({ refresh_token: this.auth.credentials.refresh_token ?? null });
      return call(work, special);
    }
  }

  profile() {
    return this.call(async () => {
      const { data } = await this.api.users.getProfile({ userId: "me" });
      return {
        emailAddress: (data.emailAddress ?? "").toLowerCase(),
        historyId: String(data.historyId ?? ""),
      };
    });
  }

  watch(topicName: string) {
    return this.call(async () => {
      const { data } = await this.api.users.watch({
        userId: "me",
        requestBody: { topicName, labelIds: ["INBOX"], labelFilterBehavior: "INCLUDE" },
      });
      return { historyId: String(data.historyId ?? ""), expiration: new Date(Number(data.expiration)) };
    });
  }

  stop() {
    return this.call(async () => {
      await this.api.users.stop({ userId: "me" });
    });
  }

  history(startHistoryId: string) {
    return this.call(async () => {
      const added = new Map<string, GmailMessageRef>();
      let pageToken: string | undefined;
      let historyId = startHistoryId;
      do {
        const { data } = await this.api.users.history.list({
          userId: "me",
          startHistoryId,
          historyTypes: ["messageAdded"],
          labelId: "INBOX",
          maxResults: 500,
          ...(pageToken ? { pageToken } : {}),
        });
        for (const h of data.history ?? [])
          for (const { message } of h.messagesAdded ?? [])
            if (message?.id && message.threadId)
              added.set(message.id, { id: message.id, threadId: message.threadId });
        historyId = String(data.historyId ?? historyId);
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken);
      return { added: [...added.values()], historyId };
    }, historyGone);
  }

  recentInbox(since: Date, limit: number) {
    return this.call(async () => {
      const found: GmailMessageRef[] = [];
      let pageToken: string | undefined;
      do {
        const { data } = await this.api.users.messages.list({
          userId: "me",
          labelIds: ["INBOX"],
          q: `after:${Math.floor(since.getTime() / 1000)}`,
          maxResults: Math.min(limit, 500),
          ...(pageToken ? { pageToken } : {}),
        });
        for (const m of data.messages ?? [])
          if (m.id && m.threadId) found.push({ id: m.id, threadId: m.threadId });
        pageToken = data.nextPageToken ?? undefined;
      } while (pageToken && found.length < limit);
      // Gmail lists newest first; the channel answers in the order customers wrote.
      return found.slice(0, limit).reverse();
    });
  }

  message(id: string) {
    return this.call(async (): Promise<GmailMessage | undefined> => {
      try {
        const { data } = await this.api.users.messages.get({ userId: "me", id, format: "raw" });
        return {
          id: data.id ?? id,
          threadId: data.threadId ?? "",
          labelIds: data.labelIds ?? [],
          sizeEstimate: data.sizeEstimate ?? 0,
          internalDate: new Date(Number(data.internalDate ?? Date.now())),
          raw: Buffer.from(data.raw ?? "", "base64url"),
        };
      } catch (error) {
        if (responseOf(error).status === 404) return undefined;
        throw error;
      }
    });
  }

  findByMessageId(rfc822MessageId: string) {
    return this.call(async () => {
      const q = `rfc822msgid:${rfc822MessageId.replace(/^<|>$/g, "")}`;
      // Drafts are listed only when asked for by label.
      const [mail, drafts] = await Promise.all([
        this.api.users.messages.list({ userId: "me", q, includeSpamTrash: true }),
        this.api.users.messages.list({ userId: "me", q, labelIds: ["DRAFT"] }),
      ]);
      const refs = [...(mail.data.messages ?? []), ...(drafts.data.messages ?? [])];
      const unique = [...new Map(refs.filter((m) => m.id).map((m) => [m.id as string, m])).values()];
      return Promise.all(
        unique.map(async (m) => {
          const { data } = await this.api.users.messages.get({
            userId: "me",
            id: m.id as string,
            format: "minimal",
          });
          return { id: data.id ?? "", threadId: data.threadId ?? "", labelIds: data.labelIds ?? [] };
        }),
      );
    });
  }

  findInThread(threadId: string, id: string) {
    return this.call(async () => {
      try {
        const { data } = await this.api.users.threads.get({
          userId: "me",
          id: threadId,
          format: "metadata",
          metadataHeaders: ["X-Switchboard-Id"],
        });
        const carries = (m: gmail_v1.Schema$Message) =>
          m.payload?.headers?.some(
            (h) => h.name?.toLowerCase() === "x-switchboard-id" && h.value?.trim() === id,
          );
        return (data.messages ?? [])
          .filter(carries)
          .map((m) => ({ id: m.id ?? "", threadId: m.threadId ?? threadId, labelIds: m.labelIds ?? [] }));
      } catch (error) {
        if (responseOf(error).status === 404) return [];
        throw error;
      }
    });
  }

  send(raw: Uint8Array, threadId?: string) {
    return this.call(async () => {
      const { data } = await this.api.users.messages.send({
        userId: "me",
        requestBody: { raw: Buffer.from(raw).toString("base64url"), ...(threadId ? { threadId } : {}) },
      });
      return { id: data.id ?? "", threadId: data.threadId ?? threadId ?? "" };
    });
  }

  createDraft(raw: Uint8Array, threadId: string) {
    return this.call(async () => {
      const { data } = await this.api.users.drafts.create({
        userId: "me",
        requestBody: { message: { raw: Buffer.from(raw).toString("base64url"), threadId } },
      });
      return {
        draftId: data.id ?? "",
        message: { id: data.message?.id ?? "", threadId: data.message?.threadId ?? threadId },
      };
    });
  }

  private readonly labels = new Map<string, string>();

  labelId(name: string) {
    return this.call(async () => {
      const known = this.labels.get(name);
      if (known) return known;
      const id = (await this.findLabel(name)) ?? (await this.createLabel(name));
      this.labels.set(name, id);
      return id;
    });
  }

  private async findLabel(name: string): Promise<string | undefined> {
    const { data } = await this.api.users.labels.list({ userId: "me" });
    return data.labels?.find((l) => l.name === name)?.id ?? undefined;
  }

  private async createLabel(name: string): Promise<string> {
    try {
      const { data } = await this.api.users.labels.create({
        userId: "me",
        requestBody: { name, labelListVisibility: "labelShow", messageListVisibility: "show" },
      });
      return data.id ?? "";
    } catch (error) {
      // Created meanwhile by another task (Gmail answers 409 for a duplicate name).
      if (responseOf(error).status === 409) {
        const id = await this.findLabel(name);
        if (id) return id;
      }
      throw error;
    }
  }

  addLabels(messageId: string, labelIds: string[]) {
    return this.call(async () => {
      await this.api.users.messages.modify({
        userId: "me",
        id: messageId,
        requestBody: { addLabelIds: labelIds },
      });
    });
  }
}

interface GoogleResponse {
  status: number;
  data: Record<string, unknown> | undefined;
  headers: { get?(name: string): string | null } | Record<string, string> | undefined;
}

/** The HTTP answer inside a gaxios error, whichever gaxios version threw it. */
function responseOf(error: unknown): Partial<GoogleResponse> {
  const e = error as { response?: GoogleResponse; status?: number };
  return { status: e.response?.status ?? e.status, data: e.response?.data, headers: e.response?.headers };
}

const historyGone = (error: unknown) =>
  responseOf(error).status === 404 ? new GmailHistoryGone() : undefined;

/** Runs a Gmail call; its failure as the port's error. */
async function call<T>(work: () => Promise<T>, special?: (error: unknown) => Error | undefined): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw special?.(error) ?? gmailError(error);
  }
}

function gmailError(error: unknown): Error {
  if (error instanceof GmailApiError || error instanceof GmailAuthRevoked) return error;
  const { status, data, headers } = responseOf(error);
  // A refresh that Google refused: the grant is gone (revoked, password change, 7-day "testing" expiry).
  if (data?.error === "invalid_grant") return new GmailAuthRevoked();
  const detail = (data?.error ?? {}) as { message?: string; status?: string; errors?: { reason?: string }[] };
  const reason = detail.errors?.[0]?.reason ?? detail.status;
  const message = `Gmail answered ${status ?? "nothing"}${reason ? ` (${reason})` : ""}`;
  return new GmailApiError(message, status ?? 0, reason, retryAfter(headers));
}

function retryAfter(headers: GoogleResponse["headers"]): Date | undefined {
  const value =
    typeof headers?.get === "function"
      ? headers.get("retry-after")
      : (headers as Record<string, string> | undefined)?.["retry-after"];
  const seconds = Number(value);
  return value && Number.isFinite(seconds) ? new Date(Date.now() + seconds * 1000) : undefined;
}
