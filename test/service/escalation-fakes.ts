import type { Sql } from "../../service/src/db/client";
import { currentTenantId } from "../../service/src/db/tenant-scope";
import type { OutboundEvent, OutboundEvents } from "../../service/src/engine/follow-up";

/**
 * A fake of the outbound events (the webhooks-out part implements the real one): an event is kept only
 * when the transaction it was recorded in commits (it writes a row of its own there, read back after), and
 * dispatches are counted.
 */
export class FakeOutboundEvents implements OutboundEvents {
  readonly recorded: (OutboundEvent & { tenantId: string | undefined })[] = [];
  dispatched = 0;
  /** Make `record` throw: the change it was recorded with must not commit either. */
  failRecord = false;

  async record(sql: Sql, event: OutboundEvent) {
    if (this.failRecord) throw new Error("outbox unavailable");
    // A statement in the caller's transaction: rolled back with it (the real outbox row would be too).
    await sql`select 1`;
    const entry = { ...event, tenantId: currentTenantId() };
    this.recorded.push(entry);
    return async () => {
      this.dispatched++;
    };
  }

  types() {
    return this.recorded.map((e) => e.type);
  }
}
