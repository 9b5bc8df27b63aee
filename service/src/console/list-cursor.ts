import type { ListPosition } from "../db/conversations";
import { AppError } from "../http/errors";

/**
 * The console list's keyset cursor in a link (`?after=` / `?before=`): a row's position, base64url, opaque
 * to the reader. A cursor that does not decode is a 400 page, never a 5xx or a silent first page.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** PostgreSQL's text of a timestamptz (`2026-12-01 05:40:12.123456+00`): anything else is refused. */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;

export function encodePosition(p: ListPosition): string {
  return Buffer.from(`${p.at}|${p.id}`).toString("base64url");
}

export function decodePosition(cursor: string | undefined): ListPosition | undefined {
  if (!cursor) return undefined;
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  if (!at || !id || !UUID.test(id) || !TIMESTAMP.test(at))
    throw new AppError(400, "validation_failed", "This page link is not one the console made; start over.");
  return { at, id };
}
