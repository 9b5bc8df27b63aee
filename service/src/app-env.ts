import type { Identity } from "./engine/conversation-engine";
import type { Logger } from "./logger";

export interface AppEnv {
  Variables: {
    requestId: string;
    log: Logger;
    identity: Identity | undefined;
  };
}
