/**
 * Helpers shared by the emulators of Google Cloud APIs that the `@google-cloud/*` clients reach through
 * google-gax's REST fallback (`fallback: true`): bearer-token checks with the real 401 bodies, a fixed-token
 * auth client so no Application Default Credentials are needed, proto3-JSON enum encoding (the generated
 * clients send `$alt=json;enum-encoding=int` and then expect numeric enums back), page tokens and
 * deterministic project numbers (real resource names in responses carry the project *number*).
 */
import { createHash } from "node:crypto";
import type { ServerResponse } from "node:http";
import { OAuth2Client } from "google-auth-library";
import { type RecordedRequest, sendGoogleError } from "./http-server";

/**
 * An auth client that always sends `Authorization: Bearer <token>` and never looks for credentials on the
 * machine (no ADC, no metadata server). google-gax's fallback stub calls its `fetch()`; an OAuth2Client
 * with an access token and no expiry never tries to refresh.
 */
export function fixedTokenAuthClient(token: string): OAuth2Client {
  const client = new OAuth2Client();
  client.setCredentials({ access_token: token });
  return client;
}

/** Checks `Authorization: Bearer <token>`; answers 401 like Google's front end and returns false otherwise. */
export function checkBearer(req: RecordedRequest, res: ServerResponse, token: string | undefined): boolean {
  const header = req.headers.authorization;
  if (header === undefined || !/^Bearer\s+\S+/i.test(header)) {
    sendGoogleError(
      res,
      "UNAUTHENTICATED",
      "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
      [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "CREDENTIALS_MISSING",
          domain: "googleapis.com",
        },
      ],
    );
    return false;
  }
  if (token !== undefined && header.replace(/^Bearer\s+/i, "") !== token) {
    sendGoogleError(
      res,
      "UNAUTHENTICATED",
      "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
      [
        {
          "@type": "type.googleapis.com/google.rpc.ErrorInfo",
          reason: "ACCESS_TOKEN_TYPE_UNSUPPORTED",
          domain: "googleapis.com",
        },
      ],
    );
    return false;
  }
  return true;
}

/** `true` when the client asked for numeric enums (`$alt=json;enum-encoding=int`, what the gapic clients send). */
export function wantsIntEnums(req: RecordedRequest): boolean {
  return (req.query.$alt ?? "").includes("enum-encoding=int");
}

/** Encodes an enum value as the request asked: its name, or its number. */
export function encodeEnum(req: RecordedRequest, values: readonly string[], value: string): string | number {
  return wantsIntEnums(req) ? Math.max(0, values.indexOf(value)) : value;
}

/** Decodes an enum that arrived as a name or a number; undefined when unknown. */
export function decodeEnum(values: readonly string[], value: unknown): string | undefined {
  if (typeof value === "number") return values[value];
  if (typeof value === "string") return values.includes(value) ? value : undefined;
  return undefined;
}

/** A deterministic 12-digit project number for a project id (a numeric id is already a number). */
export function projectNumberFor(project: string): string {
  if (/^\d+$/.test(project)) return project;
  const digest = createHash("sha256").update(project).digest();
  return (100_000_000_000 + (digest.readUInt32BE(0) % 900_000_000_000)).toString();
}

/** Offset-based page tokens. */
export function paginate<T>(
  items: T[],
  query: Record<string, string>,
  defaultPageSize: number,
): { page: T[]; nextPageToken?: string } {
  const rawSize = Number(query.pageSize ?? "0");
  const pageSize = Number.isFinite(rawSize) && rawSize > 0 ? rawSize : defaultPageSize;
  const start = query.pageToken ? Number(Buffer.from(query.pageToken, "base64url").toString("utf8")) || 0 : 0;
  const page = items.slice(start, start + pageSize);
  const next = start + pageSize;
  return next < items.length
    ? { page, nextPageToken: Buffer.from(String(next), "utf8").toString("base64url") }
    : { page };
}

/** A strong etag in the quoted form Google APIs use (`"\"<hex>\""`). */
export function newEtag(): string {
  return `"${Date.now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}"`;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
    table[i] = crc >>> 0;
  }
  return table;
})();

/** CRC32C (Castagnoli), as Secret Manager's `dataCrc32c`. */
export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A scripted failure for the next matching call. */
export interface InjectedGoogleError {
  status: Parameters<typeof sendGoogleError>[1];
  message?: string;
  /** Only requests whose path contains this string (default: any request). */
  pathIncludes?: string;
}

/** Takes the first queued fault that matches the request and answers it; returns true when one was sent. */
export function sendInjectedError(
  faults: InjectedGoogleError[],
  req: RecordedRequest,
  res: ServerResponse,
  defaultMessages: Partial<Record<string, string>>,
): boolean {
  const index = faults.findIndex((f) => f.pathIncludes === undefined || req.path.includes(f.pathIncludes));
  if (index < 0) return false;
  const [fault] = faults.splice(index, 1);
  if (!fault) return false;
  sendGoogleError(
    res,
    fault.status,
    fault.message ?? defaultMessages[fault.status] ?? `Injected ${fault.status}.`,
  );
  return true;
}

/**
 * Options that make a real google-gax client (Secret Manager, Cloud Tasks, …) talk to an emulator over
 * plain HTTP in REST fallback mode, with a fixed bearer token and no Application Default Credentials.
 * Callers cast to their client's options type: the project's google-auth-library and google-gax's own copy
 * are structurally the same client but nominally different classes.
 */
export function fallbackClientOptions(emulator: { port: number; token: string }) {
  return {
    fallback: true,
    protocol: "http",
    apiEndpoint: "127.0.0.1",
    port: emulator.port,
    authClient: fixedTokenAuthClient(emulator.token),
  } as const;
}

/**
 * In REST fallback mode (gax 5.0.8 + gaxios 7) a failed call rejects with a GaxiosError: `code` is the HTTP
 * status and `message` the JSON error body, so the gRPC status name is read from the body.
 */
export async function restError(
  promise: Promise<unknown>,
): Promise<{ code?: number; status: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const e = error as { code?: number; message: string };
    const body = JSON.parse(e.message) as { error: { status: string; message: string } };
    return { code: e.code, status: body.error.status, message: body.error.message };
  }
  throw new Error("expected the call to fail");
}
