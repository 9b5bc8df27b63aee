import type { Sql } from "../../db/client";
import { consentOf, quotaNoticeSent, recordConsent, textsSent } from "../../db/sms";
import type { Logger } from "../../logger";
import { LOG_EVENT } from "../../observability/log-events";
import type { Intercepted, PendingMessage } from "../pipeline/channel";
import { classifyKeyword } from "./keywords";
import { helpReply, quotaNotice } from "./notices";
import { transmit } from "./transmit";
import type { SmsView } from "./view";

interface Deps {
  sql: Sql;
  log: Logger;
}

/**
 * What the SMS channel does itself before any model call. Consent keywords (whole message, any case) are
 * recorded in order: an opt-out stops every further text, the provider already sent its confirmation, so
 * none is sent here. HELP gets the tenant's help text. A tenant over its daily or monthly quota sends the
 * customer one notice per period, then nothing.
 */
export async function intercept(
  deps: Deps,
  view: SmsView,
  messages: PendingMessage[],
): Promise<Intercepted | undefined> {
  const { sql } = deps;
  let consent = await consentOf(sql, view.customer);
  let commands = 0;
  let help = false;
  for (const m of messages) {
    const keyword = classifyKeyword(m.text ?? "");
    // YES is an opt-in only for a number that opted out; otherwise it is an answer ("yes, please").
    if (!keyword || (keyword.keyword === "YES" && consent !== "opted_out")) continue;
    commands++;
    if (keyword.kind === "help") help = true;
    else {
      consent = keyword.kind === "opt_out" ? "opted_out" : "opted_in";
      await recordKeyword(deps, view, consent, keyword.keyword);
    }
  }
  if (consent === "opted_out") return { status: "skipped", outcome: "opted_out" };
  if (!view.connection) return undefined;
  if (commands === messages.length) {
    if (!help) return { status: "done", outcome: "opted_in" };
    const sent = await transmit(deps, view, helpReply(view.settings), { kind: "help", outboxIds: [] });
    return sent ? { status: "skipped", outcome: sent.undelivered } : { status: "done", outcome: "help" };
  }
  return overQuota(deps, view);
}

async function recordKeyword(deps: Deps, view: SmsView, status: "opted_out" | "opted_in", keyword: string) {
  const provider = view.connection?.provider ?? "unknown";
  await recordConsent(deps.sql, {
    phone: view.customer,
    status,
    source: "keyword",
    keyword,
    provider,
    connectionId: view.connection?.id,
  });
  deps.log.info(
    { event: LOG_EVENT.smsConsent, provider, outcome: status, keyword },
    status === "opted_out" ? "a customer opted out of texts" : "a customer opted back in to texts",
  );
}

/** The tenant's quota reached: one notice per number and period, and the turn ends there. */
async function overQuota(deps: Deps, view: SmsView): Promise<Intercepted | undefined> {
  const { dailyLimit, monthlyLimit } = view.settings;
  if (dailyLimit === null && monthlyLimit === null) return undefined;
  const sent = await textsSent(deps.sql);
  const period =
    dailyLimit !== null && sent.day >= dailyLimit
      ? "day"
      : monthlyLimit !== null && sent.month >= monthlyLimit
        ? "month"
        : undefined;
  if (!period) return undefined;
  const now = new Date();
  const since = new Date(
    Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), period === "day" ? now.getUTCDate() : 1),
  );
  deps.log.warn(
    {
      event: "sms.quota_reached",
      provider: view.connection?.provider,
      period,
      limit: period === "day" ? dailyLimit : monthlyLimit,
    },
    `the tenant's ${period === "day" ? "daily" : "monthly"} SMS quota is reached`,
  );
  if (!(await quotaNoticeSent(deps.sql, view.customer, since)))
    await transmit(deps, view, quotaNotice(view.settings, period), { kind: "quota", outboxIds: [] });
  return { status: "skipped", outcome: "sms_quota_reached" };
}
