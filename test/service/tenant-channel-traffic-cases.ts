import { expect } from "vitest";
import * as traffic from "../../service/src/db/channel-traffic";
import type { IsolationCase } from "./tenant-repository-cases";

/**
 * The console's channels page (db/channel-traffic.ts): run in tenant A's scope, it names A's connections
 * only, never B's, whatever traffic B's connections had.
 */
export const CHANNEL_TRAFFIC_CASES: Record<string, IsolationCase> = {
  "channel-traffic.lastInboundByChannel": {
    run: ({ sql }) => traffic.lastInboundByChannel(sql),
    check: (r, { b }) => expect([...(r as Map<string, Date>).keys()]).not.toContain(b.channelConnectionId),
  },
};
