import type { AdminPrincipal, ConsoleViewer, Identity } from "../domain/identity";
import type { Tenant } from "../domain/tenant";
import type { TurnLogFields } from "../domain/turn";
import type { Logger } from "../logger";

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    identity: Identity | undefined;
    /** The tenant of a web chat request (middleware/tenant.ts); unset on other routes. */
    tenant: Tenant | undefined;
    /** The caller of /api/v1/admin/* (middleware/admin-principal.ts). */
    admin: AdminPrincipal | undefined;
    /** The person signed in to the console (console/session.ts), on /console pages and cookie-authenticated admin calls. */
    console: ConsoleViewer | undefined;
    /** The client's IP address, resolved by the client-address middleware (X-Forwarded-For as far as trusted). */
    clientAddress: string;
    /** A chat turn's conversation.processed fields, which the request line carries. */
    logFields: TurnLogFields | undefined;
    /** A streamed response: the request line is written when this settles, with the stream's fields. */
    streamDone: Promise<void> | undefined;
  };
}
