import { z } from "@hono/zod-openapi";
import { AppError } from "../../http/errors";

/**
 * Keyset cursors of the newest-first listings (contacts, leads): the last row's creation time and id,
 * base64url, opaque to the caller. A cursor that does not decode is a 400, never a 5xx.
 */
export const Cursor = z
  .string()
  .max(200)
  .optional()
  .openapi({ description: "`nextCursor` of the previous page" });

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${new Date(row.createdAt).toISOString()}|${row.id}`).toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function decodeCursor(cursor: string | undefined): { createdAt: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime()))
    throw new AppError(400, "validation_failed", "cursor is not one this API handed out");
  return { createdAt, id };
}

/** A page of `limit` rows from `limit + 1` read, and the cursor of the next one. */
export function pageOf<T extends { createdAt: Date; id: string }>(rows: T[], limit: number) {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { page, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
}
