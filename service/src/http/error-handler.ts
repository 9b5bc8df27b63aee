import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { isDatabaseUnavailable } from "../db/client";
import {
  DomainError,
  ModelCapacity,
  RetryLater,
  SessionNotFound,
  TenantSuspended,
  UnknownTenant,
} from "../domain/errors";
import type { Logger } from "../logger";
import type { AppEnv } from "./app-env";
import { AppError, errorBody } from "./errors";

/** Codes of Hono's own HTTPExceptions (body limit, malformed requests) by status. */
const CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  503: "unavailable",
};

/** The status of a domain error at the HTTP edge: the first row whose class it is. */
const DOMAIN_STATUS: [abstract new (...args: never[]) => DomainError, ContentfulStatusCode][] = [
  [SessionNotFound, 404],
  [UnknownTenant, 404],
  [TenantSuspended, 403],
  [ModelCapacity, 503],
  [RetryLater, 429],
];

/** A domain error as the HTTP edge answers it: its status, its code and details, and Retry-After. */
export function httpErrorOf(error: DomainError): AppError {
  const status = DOMAIN_STATUS.find(([type]) => error instanceof type)?.[1] ?? 500;
  const headers =
    error instanceof RetryLater ? { "Retry-After": String(error.retryAfterSeconds) } : undefined;
  return new AppError(status, error.code, error.message, {
    ...(error.details !== undefined ? { details: error.details } : {}),
    ...(headers ? { headers } : {}),
  });
}

/** Unknown routes get the uniform body too. */
export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  c.json(
    errorBody("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}`, c.get("requestId")),
    404,
  );

/**
 * Everything thrown ends here as the uniform JSON error: expected failures with their own code, domain
 * refusals mapped to their status, a database that is away as a 503 to retry, and anything else as a 500
 * without a stack (logged with it, in Error Reporting's format).
 */
export function errorHandler(fallbackLog: Logger): ErrorHandler<AppEnv> {
  return (err, c) => {
    const requestId = c.get("requestId") ?? "unknown";
    const log = c.get("log") ?? fallbackLog;
    const expected = err instanceof DomainError ? httpErrorOf(err) : err;
    if (expected instanceof AppError) return answerAppError(c, expected, requestId);
    if (expected instanceof HTTPException) return answerHttpException(c, expected, requestId);
    if (isDatabaseUnavailable(err)) {
      // A restart or failover of the database: tell the client to come back, rather than a bare 500.
      log.warn({ event: "database.unavailable", error: err }, "database unavailable");
      c.header("Retry-After", "2");
      return c.json(
        errorBody("database_unavailable", "The service is briefly unavailable; please retry.", requestId),
        503,
      );
    }
    // `context` is Error Reporting's ErrorContext: the request the error happened in (path only).
    const httpRequest = { method: c.req.method, url: new URL(c.req.url).pathname, responseStatusCode: 500 };
    log.error({ error: err, context: { httpRequest } }, "unhandled error");
    return c.json(errorBody("internal_error", "Something went wrong on our side.", requestId), 500);
  };
}

function answerAppError(c: Context<AppEnv>, err: AppError, requestId: string) {
  for (const [name, value] of Object.entries(err.extra.headers ?? {})) c.header(name, value);
  return c.json(errorBody(err.code, err.message, requestId, err.extra.details), err.status);
}

function answerHttpException(c: Context<AppEnv>, err: HTTPException, requestId: string) {
  const status = err.status as ContentfulStatusCode;
  const malformed = status === 400 && /malformed json|unexpected|json/i.test(err.message);
  return c.json(
    errorBody(
      malformed ? "invalid_json" : (CODES[status] ?? "error"),
      malformed ? "The request body is not valid JSON" : err.message || "Request failed",
      requestId,
    ),
    status,
  );
}
