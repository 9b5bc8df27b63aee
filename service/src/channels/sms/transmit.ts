import type { Sql } from "../../db/client";
import {
  deleteSmsMessage,
  insertSmsMessage,
  recordSmsFailed,
  recordSmsSent,
  type SmsPurpose,
} from "../../db/sms-messages";
import { SmsProviderError } from "../../ports/sms";
import type { Undelivered } from "../pipeline/channel";
import { countSegments } from "./segments";
import type { SmsView } from "./view";

/**
 * Sends one text with its delivery record written first (the idempotency record a crash is reconciled
 * against), then the provider's id and segments. A refusal with a status sent nothing: the record goes and
 * the error is rethrown to be retried (rate limit, outage) or, when permanent, the record keeps the error
 * code and the send ends `Undelivered` with the failure's kind. No answer at all (a timeout): the record
 * stays without a provider id and the error is rethrown; the retry asks the provider what arrived.
 */
export async function transmit(
  sql: Sql,
  view: SmsView,
  text: string,
  send: { purpose: SmsPurpose; replyTo: string | undefined },
): Promise<Undelivered | SmsProviderError | undefined> {
  const connection = view.connection;
  if (!connection) return { undelivered: "channel_not_connected" };
  const segments = countSegments(text).segments;
  const id = await insertSmsMessage(sql, {
    connectionId: connection.id,
    direction: "outbound",
    provider: connection.provider,
    customerPhone: view.phone,
    businessPhone: connection.phoneNumber,
    purpose: send.purpose,
    replyTo: send.replyTo,
    status: "pending",
    segments,
  });
  if (!id) throw new Error("sms_messages insert returned no row");
  try {
    const sent = await connection.client.send({
      from: connection.phoneNumber,
      to: view.phone,
      text,
      statusCallbackUrl: connection.statusCallbackUrl,
    });
    await recordSmsSent(sql, id, {
      providerMessageId: sent.providerMessageId,
      status: sent.status,
      segments: sent.segments ?? segments,
    });
    return undefined;
  } catch (error) {
    if (!(error instanceof SmsProviderError)) throw error;
    if (error.retryable) {
      if (error.status > 0) await deleteSmsMessage(sql, id);
      throw error;
    }
    await recordSmsFailed(sql, id, error.providerCode ?? error.kind);
    return error;
  }
}
