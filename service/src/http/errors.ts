import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The one shape of every 4xx and 5xx answer (JSON responses, the SSE `error` event, Node's own). */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    requestId: string;
    details?: unknown;
  };
}

/** Builds that shape; `details` only when there are some. */
export function errorBody(code: string, message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: { code, message, requestId, ...(details !== undefined ? { details } : {}) } };
}

/**
 * An expected failure of the HTTP edge with a stable machine-readable `code` (bad input, credentials,
 * an unconfigured integration). Thrown from middleware and handlers; the app's onError turns it into the
 * uniform JSON body. The engine speaks domain errors instead (domain/errors.ts).
 */
export class AppError extends HTTPException {
  constructor(
    status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly extra: { details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(status, { message });
    this.name = "AppError";
  }
}
