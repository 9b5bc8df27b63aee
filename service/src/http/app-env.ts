import type { Identity } from "../domain/identity";
import type { Logger } from "../logger";

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    identity: Identity | undefined;
    /** The client's IP address, resolved by the client-address middleware (X-Forwarded-For as far as trusted). */
    clientAddress: string;
  };
}
