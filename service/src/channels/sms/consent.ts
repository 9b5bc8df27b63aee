import type { Sql } from "../../db/client";
import { type ConsentEvent, recordConsent } from "../../db/sms-consent";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";

/** Provider error codes that mean the recipient unsubscribed (Twilio 21610, Telnyx 40300): an opt-out. */
export const OPT_OUT_ERROR_CODES: ReadonlySet<string> = new Set(["21610", "40300"]);

/** Appends a consent event in the caller's tenant scope and logs it (never the number). */
export async function changeConsent(sql: Sql, log: Logger, event: ConsentEvent) {
  await recordConsent(sql, event);
  log.info(
    {
      event: LOG_EVENT.smsConsent,
      outcome: event.status,
      source: event.source,
      keyword: event.keyword,
      provider: event.provider,
      connectionId: event.connectionId,
    },
    `sms ${event.status.replace("_", " ")} (${event.source})`,
  );
}
