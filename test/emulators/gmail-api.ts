/**
 * Gmail REST v1 routes of the emulator (`/gmail/v1/users/{userId}/…`), answering as the real API does:
 * JSON field names and shapes, int64 ids as strings, error bodies
 * `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}`, Bearer tokens checked
 * against what the OAuth emulator issued (401 unknown/expired/revoked, 403 another mailbox or a missing scope).
 */
import type { ServerResponse } from "node:http";
import { findMessage, type Mailbox, matchesQuery, type StoredMessage, storeMessage } from "./gmail-mailbox";
import { GMAIL_SCOPES, liveAccessToken, type OAuthState } from "./google-oauth";
import { isRecord, type RecordedRequest, sendJson } from "./http-server";

export interface GmailContext {
  oauth: OAuthState;
  mailbox(address: string): Mailbox;
}

type Access = "read" | "send" | "compose" | "modify";

const SCOPES_FOR: Record<Access, string[]> = {
  read: [GMAIL_SCOPES.readonly, GMAIL_SCOPES.modify, GMAIL_SCOPES.full],
  send: [GMAIL_SCOPES.send, GMAIL_SCOPES.compose, GMAIL_SCOPES.modify, GMAIL_SCOPES.full],
  compose: [GMAIL_SCOPES.compose, GMAIL_SCOPES.modify, GMAIL_SCOPES.full],
  modify: [GMAIL_SCOPES.modify, GMAIL_SCOPES.full],
};

const PATH_RE = /^\/gmail\/v1\/users\/([^/]+)\/(.+)$/;

/** Handles a Gmail path; returns false when the path is not one. */
export function handleGmail(ctx: GmailContext, req: RecordedRequest, url: URL, res: ServerResponse): boolean {
  const match = PATH_RE.exec(req.path);
  if (!match) return false;
  const [, userId = "", rest = ""] = match;
  const route = routeOf(req.method, rest);
  if (!route) {
    gmailError(res, 404, "NOT_FOUND", "notFound", "Requested entity was not found.");
    return true;
  }
  const access = liveAccessToken(ctx.oauth, req.headers.authorization);
  if (!access) {
    gmailError(
      res,
      401,
      "UNAUTHENTICATED",
      "authError",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
      "Invalid Credentials",
    );
    return true;
  }
  if (userId !== "me" && userId.toLowerCase() !== access.grant.email.toLowerCase()) {
    gmailError(res, 403, "PERMISSION_DENIED", "forbidden", `Delegation denied for ${access.grant.email}`);
    return true;
  }
  if (!SCOPES_FOR[route.access].some((s) => access.grant.scopes.includes(s))) {
    gmailError(
      res,
      403,
      "PERMISSION_DENIED",
      "insufficientPermissions",
      "Request had insufficient authentication scopes.",
      "Insufficient Permission",
    );
    return true;
  }
  route.run(ctx.mailbox(access.grant.email), { req, url, res, body: isRecord(req.body) ? req.body : {} });
  return true;
}

interface Call {
  req: RecordedRequest;
  url: URL;
  res: ServerResponse;
  body: Record<string, unknown>;
}

function routeOf(
  method: string,
  rest: string,
): { access: Access; run: (box: Mailbox, call: Call) => void } | undefined {
  const get = method === "GET";
  const post = method === "POST";
  if (get && rest === "profile") return { access: "read", run: profile };
  if (post && rest === "watch") return { access: "read", run: watch };
  if (post && rest === "stop") return { access: "read", run: stop };
  if (get && rest === "history") return { access: "read", run: historyList };
  if (get && rest === "messages") return { access: "read", run: messagesList };
  if (post && rest === "messages/send") return { access: "send", run: send };
  if (post && rest === "drafts") return { access: "compose", run: createDraft };
  if (get && rest === "labels") return { access: "read", run: labelsList };
  if (post && rest === "labels") return { access: "modify", run: labelsCreate };
  const message = /^messages\/([^/]+)(\/modify)?$/.exec(rest);
  if (get && message && !message[2])
    return { access: "read", run: (box, call) => messagesGet(box, call, message[1] ?? "") };
  if (post && message?.[2])
    return { access: "modify", run: (box, call) => modify(box, call, message[1] ?? "") };
  const thread = /^threads\/([^/]+)$/.exec(rest);
  if (get && thread) return { access: "read", run: (box, call) => threadGet(box, call, thread[1] ?? "") };
  return undefined;
}

function profile(box: Mailbox, { res }: Call) {
  sendJson(res, 200, {
    emailAddress: box.address,
    messagesTotal: box.messages.length,
    threadsTotal: new Set(box.messages.map((m) => m.threadId)).size,
    historyId: String(box.historyId),
  });
}

function watch(box: Mailbox, { res, body }: Call) {
  const topicName = typeof body.topicName === "string" ? body.topicName : "";
  if (!/^projects\/[^/]+\/topics\/[^/]+$/.test(topicName)) {
    return gmailError(
      res,
      400,
      "INVALID_ARGUMENT",
      "invalidArgument",
      "Invalid topicName does not match projects/SOME-PROJECT/topics/*",
    );
  }
  const expiration = Date.now() + 7 * 24 * 3600 * 1000;
  box.watch = {
    topicName,
    labelIds: Array.isArray(body.labelIds) ? body.labelIds.map(String) : [],
    labelFilterBehavior: typeof body.labelFilterBehavior === "string" ? body.labelFilterBehavior : undefined,
    expiration,
  };
  sendJson(res, 200, { historyId: String(box.historyId), expiration: String(expiration) });
}

function stop(box: Mailbox, { res }: Call) {
  box.watch = undefined;
  res.writeHead(204);
  res.end();
}

function historyList(box: Mailbox, { url, res }: Call) {
  const start = url.searchParams.get("startHistoryId");
  if (start === null || !/^\d+$/.test(start)) {
    return gmailError(res, 400, "INVALID_ARGUMENT", "invalidArgument", "Invalid startHistoryId");
  }
  if (Number(start) < box.oldestHistoryId) {
    return gmailError(res, 404, "NOT_FOUND", "notFound", "Requested entity was not found.");
  }
  const types = url.searchParams.getAll("historyTypes");
  const labelId = url.searchParams.get("labelId");
  const records = box.history.filter(
    (h) =>
      h.id > Number(start) &&
      (types.length === 0 || types.includes("messageAdded")) &&
      (labelId === null || h.labelIds.includes(labelId)),
  );
  const { page, nextPageToken } = pageOf(records, url, 100);
  sendJson(res, 200, {
    ...(page.length > 0
      ? {
          history: page.map((h) => ({
            id: String(h.id),
            messages: [h.message],
            messagesAdded: [{ message: { ...h.message, labelIds: h.labelIds } }],
          })),
        }
      : {}),
    ...(nextPageToken ? { nextPageToken } : {}),
    historyId: String(box.historyId),
  });
}

function messagesList(box: Mailbox, { url, res }: Call) {
  const labelIds = url.searchParams.getAll("labelIds");
  const q = url.searchParams.get("q") ?? "";
  const found = box.messages
    .filter((m) => !m.labelIds.includes("DRAFT") || labelIds.includes("DRAFT"))
    .filter((m) => labelIds.every((l) => m.labelIds.includes(l)) && matchesQuery(box, m, q))
    .reverse();
  const { page, nextPageToken } = pageOf(found, url, 100);
  sendJson(res, 200, {
    ...(page.length > 0 ? { messages: page.map((m) => ({ id: m.id, threadId: m.threadId })) } : {}),
    ...(nextPageToken ? { nextPageToken } : {}),
    resultSizeEstimate: found.length,
  });
}

function messagesGet(box: Mailbox, { url, res }: Call, id: string) {
  const message = findMessage(box, id);
  if (!message) return gmailError(res, 404, "NOT_FOUND", "notFound", "Requested entity was not found.");
  const format = url.searchParams.get("format") ?? "full";
  if (!["full", "raw", "minimal", "metadata"].includes(format)) {
    return gmailError(
      res,
      400,
      "INVALID_ARGUMENT",
      "invalidArgument",
      `Invalid value at 'format' (type.googleapis.com/gmail.v1.Format), "${format}"`,
    );
  }
  sendJson(res, 200, messageJson(message, format, url.searchParams.getAll("metadataHeaders")));
}

function threadGet(box: Mailbox, { url, res }: Call, id: string) {
  const messages = box.messages.filter((m) => m.threadId === id);
  if (messages.length === 0)
    return gmailError(res, 404, "NOT_FOUND", "notFound", "Requested entity was not found.");
  const format = url.searchParams.get("format") ?? "full";
  sendJson(res, 200, {
    id,
    historyId: String(Math.max(...messages.map((m) => m.historyId))),
    messages: messages.map((m) => messageJson(m, format, url.searchParams.getAll("metadataHeaders"))),
  });
}

export function messageJson(
  m: StoredMessage,
  format: string,
  metadataHeaders: string[] = [],
): Record<string, unknown> {
  const base = {
    id: m.id,
    threadId: m.threadId,
    labelIds: m.labelIds,
    snippet: m.snippet,
    sizeEstimate: Buffer.byteLength(m.raw),
    historyId: String(m.historyId),
    internalDate: String(m.internalDate),
  };
  if (format === "raw") return { ...base, raw: Buffer.from(m.raw, "utf8").toString("base64url") };
  if (format === "minimal") return base;
  if (format === "metadata") {
    const wanted = metadataHeaders.map((h) => h.toLowerCase());
    const headers = m.payload.headers.filter(
      (h) => wanted.length === 0 || wanted.includes(h.name.toLowerCase()),
    );
    return { ...base, payload: { mimeType: m.payload.mimeType, headers } };
  }
  return { ...base, payload: m.payload };
}

function rawOf(value: unknown): string | undefined {
  return typeof value === "string" && value !== ""
    ? Buffer.from(value, "base64url").toString("utf8")
    : undefined;
}

function send(box: Mailbox, { res, body }: Call) {
  const raw = rawOf(body.raw);
  if (!raw) {
    return gmailError(
      res,
      400,
      "INVALID_ARGUMENT",
      "invalidArgument",
      "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
    );
  }
  const threadId = typeof body.threadId === "string" ? body.threadId : undefined;
  const sent = box.rewriteSentMessageIds ? raw.replace(/^Message-ID:[^\r\n]*\r?\n/im, "") : raw;
  const message = storeMessage(box, sent, ["SENT"], threadId);
  sendJson(res, 200, { id: message.id, threadId: message.threadId, labelIds: message.labelIds });
}

function createDraft(box: Mailbox, { res, body }: Call) {
  const input = isRecord(body.message) ? body.message : {};
  const raw = rawOf(input.raw);
  if (!raw) return gmailError(res, 400, "INVALID_ARGUMENT", "invalidArgument", "Missing draft message");
  const threadId = typeof input.threadId === "string" ? input.threadId : undefined;
  const message = storeMessage(box, raw, ["DRAFT"], threadId);
  const draft = { id: `r${message.id.replace(/^0+/, "")}`, message };
  box.drafts.push(draft);
  sendJson(res, 200, {
    id: draft.id,
    message: { id: message.id, threadId: message.threadId, labelIds: message.labelIds },
  });
}

function labelsList(box: Mailbox, { res }: Call) {
  sendJson(res, 200, { labels: box.labels });
}

function labelsCreate(box: Mailbox, { res, body }: Call) {
  const name = typeof body.name === "string" ? body.name.trim() : "";
  if (!name) return gmailError(res, 400, "INVALID_ARGUMENT", "invalidArgument", "Invalid label name");
  if (box.labels.some((l) => l.name.toLowerCase() === name.toLowerCase())) {
    return gmailError(res, 409, "ABORTED", "aborted", "Label name exists or conflicts");
  }
  const label = {
    id: `Label_${box.labels.filter((l) => l.type === "user").length + 1}`,
    name,
    type: "user" as const,
    messageListVisibility:
      typeof body.messageListVisibility === "string" ? body.messageListVisibility : "show",
    labelListVisibility:
      typeof body.labelListVisibility === "string" ? body.labelListVisibility : "labelShow",
  };
  box.labels.push(label);
  sendJson(res, 200, label);
}

function modify(box: Mailbox, { res, body }: Call, id: string) {
  const message = findMessage(box, id);
  if (!message) return gmailError(res, 404, "NOT_FOUND", "notFound", "Requested entity was not found.");
  const add = Array.isArray(body.addLabelIds) ? body.addLabelIds.map(String) : [];
  const remove = Array.isArray(body.removeLabelIds) ? body.removeLabelIds.map(String) : [];
  const unknown = [...add, ...remove].find((l) => !box.labels.some((label) => label.id === l));
  if (unknown)
    return gmailError(res, 400, "INVALID_ARGUMENT", "invalidArgument", `Invalid label: ${unknown}`);
  message.labelIds = [...new Set([...message.labelIds.filter((l) => !remove.includes(l)), ...add])];
  sendJson(res, 200, { id: message.id, threadId: message.threadId, labelIds: message.labelIds });
}

/** Offset page tokens with `maxResults` (Gmail's default 100, max 500). */
function pageOf<T>(items: T[], url: URL, fallback: number): { page: T[]; nextPageToken?: string } {
  const max = Math.min(500, Number(url.searchParams.get("maxResults")) || fallback);
  const token = url.searchParams.get("pageToken");
  const start = token ? Number(Buffer.from(token, "base64url").toString("utf8")) || 0 : 0;
  const page = items.slice(start, start + max);
  const next = start + max;
  return next < items.length
    ? { page, nextPageToken: Buffer.from(String(next)).toString("base64url") }
    : { page };
}

export function gmailError(
  res: ServerResponse,
  code: number,
  status: string,
  reason: string,
  message: string,
  shortMessage = message,
): void {
  sendJson(res, code, {
    error: { code, message, errors: [{ message: shortMessage, domain: "global", reason }], status },
  });
}
