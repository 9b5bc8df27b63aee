import type { Sql } from "../../db/client";
import { applySmsStatus } from "../../db/sms-messages";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import type { SmsEvent } from "../../ports/sms";
import { changeConsent, OPT_OUT_ERROR_CODES } from "./consent";

type StatusEvent = Extract<SmsEvent, { kind: "status" }>;

/**
 * A provider's delivery report for an outbound text, in the caller's tenant scope: the message's record
 * moves forward only (a late `sent` never undoes `delivered`), a failure keeps its error code, and an
 * opt-out error code (21610, 40300) records the customer's opt-out. Logged as `sms.delivery` either way.
 */
export async function applyDeliveryStatus(sql: Sql, log: Logger, connectionId: string, event: StatusEvent) {
  const row = await applySmsStatus(sql, {
    providerMessageId: event.providerMessageId,
    status: event.status,
    errorCode: event.errorCode,
  });
  const failed = event.status === "failed" || event.status === "undelivered";
  const fields = {
    event: LOG_EVENT.smsDelivery,
    provider: row?.provider,
    deliveryStatus: event.status,
    errorCode: event.errorCode,
    connectionId,
    known: row !== undefined,
  };
  if (failed) log.warn(fields, `sms delivery ${event.status}`);
  else log.info(fields, `sms delivery ${event.status}`);
  if (event.errorCode && OPT_OUT_ERROR_CODES.has(event.errorCode)) {
    await changeConsent(sql, log, {
      phone: event.to,
      status: "opted_out",
      source: "provider_error",
      provider: row?.provider,
      connectionId,
    });
  }
  return row;
}
