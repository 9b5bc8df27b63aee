import { createHash } from "node:crypto";
import type { Sql } from "../../db/client";
import { recordConsent, recordRefused, recordSending, recordSent, type SmsKind } from "../../db/sms";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import { SmsProviderError } from "../../ports/sms";
import type { SmsView } from "./view";

export const digest = (text: string) => createHash("sha256").update(text).digest("hex");

/** What became of a text that could not go out, for good. */
export type Undelivered = { undelivered: string };

/**
 * Sends one text to the customer through the number they texted, with its record written first (so a
 * crash after the send is recognised, not repeated). A provider's refusal is recorded on it; a recipient
 * who unsubscribed at the provider (Twilio 21610, Telnyx 40300) is recorded as an opt-out, never retried;
 * other permanent refusals end with their kind. A retryable failure is thrown: the pipeline retries.
 */
export async function transmit(
  deps: { sql: Sql; log: Logger },
  view: SmsView,
  text: string,
  opts: { kind: SmsKind; outboxIds: string[] },
): Promise<Undelivered | undefined> {
  const connection = view.connection;
  if (!connection) return { undelivered: "channel_not_connected" };
  const { sql, log } = deps;
  const id = await recordSending(sql, {
    connectionId: connection.id,
    provider: connection.provider,
    customerPhone: view.customer,
    businessPhone: connection.phoneNumber,
    kind: opts.kind,
    outboxIds: opts.outboxIds,
    bodySha256: digest(text),
  });
  try {
    const sent = await connection.client.send({
      from: connection.phoneNumber,
      to: view.customer,
      text,
      statusCallbackUrl: connection.statusCallbackUrl,
    });
    await recordSent(sql, id, sent);
    return undefined;
  } catch (error) {
    if (!(error instanceof SmsProviderError)) throw error;
    // Status 0: no answer, so the text may have gone out; the record stays "sending" for reconciliation.
    if (error.status > 0) await recordRefused(sql, id, error.providerCode ?? error.kind);
    if (error.retryable) throw error;
    if (error.kind === "opted_out") {
      await recordConsent(sql, {
        phone: view.customer,
        status: "opted_out",
        source: "provider_error",
        keyword: error.providerCode,
        provider: connection.provider,
        connectionId: connection.id,
      });
      log.info(
        {
          event: LOG_EVENT.smsConsent,
          provider: connection.provider,
          outcome: "opted_out",
          source: "provider_error",
        },
        "the provider refused a text to an unsubscribed number: recorded as an opt-out",
      );
      return { undelivered: "opted_out" };
    }
    return { undelivered: error.kind };
  }
}
