import type { Context } from "hono";
import type { InboundRequest } from "../channels/pipeline/channel";
import type { AppEnv } from "./app-env";

/**
 * A webhook as the channels verify it: the exact bytes received (read once, never re-serialised), its
 * headers, and the URL the provider called. With `publicUrl`, that URL is the service's public URL plus the
 * path and query (Twilio signs the URL it called), never one built from a `Host` header the caller chose.
 */
export async function inboundRequest(c: Context<AppEnv>, publicUrl?: string): Promise<InboundRequest> {
  const called = new URL(c.req.url);
  const url = publicUrl ? `${publicUrl.replace(/\/+$/, "")}${called.pathname}${called.search}` : c.req.url;
  return {
    body: new Uint8Array(await c.req.arrayBuffer()),
    header: (name: string) => c.req.header(name),
    url,
    receivedAt: new Date(),
  };
}
