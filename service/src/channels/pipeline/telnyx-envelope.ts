/** Telnyx's webhook envelope `{ data: { event_type, payload, … }, meta }`, shared by its SMS and voice events. */

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The body as JSON, or undefined when it is not JSON. */
export function parseJson(body: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(body).toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}

/** `data` of a Telnyx event envelope, or undefined when the value is not one. */
export function eventData(value: unknown): (Json & { event_type: string }) | undefined {
  if (!isObject(value) || !isObject(value.data)) return undefined;
  const data = value.data;
  return typeof data.event_type === "string" ? (data as Json & { event_type: string }) : undefined;
}
