import type { TaskHandlers } from "../adapters/task-handlers";
import type { MailboxAccess } from "../channels/email/mailbox-access";
import { intercomChannel } from "../channels/intercom/channel";
import { type GatewayOptions, IntercomConnections } from "../channels/intercom/connections";
import { combineConnected } from "../channels/pipeline/connected";
import { InboundPipeline } from "../channels/pipeline/pipeline";
import type { TurnDeps } from "../channels/pipeline/turn";
import type { SmsConnections } from "../channels/sms/connections";
import type { SmsInbound } from "../channels/sms/inbound";
import type { VoiceFollowUp } from "../channels/voice/sender";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import { DEFAULT_TENANT_ID } from "../db/tenant-scope";
import type { TurnEngine } from "../engine/conversation-engine";
import { type PurgeResult, purgeExpired } from "../engine/retention";
import { runSweeps, type Sweep } from "../engine/sweeps";
import type { TenantDirectory } from "../engine/tenant-directory";
import type { Logger } from "../logger";
import type { IntercomGateway } from "../ports/intercom";
import type { SecretStore } from "../ports/secret-store";
import type { TaskQueue } from "../ports/task-queue";
import { emailConnections } from "./email-channel";
import type { SecretRefresher } from "./secrets";
import { intercomSettings, pipelineSettings, retentionPolicy } from "./settings";
import { smsConnections, smsInbound } from "./sms";
import { type VoiceDoors, voiceConnections, voiceDoors } from "./voice";

export interface IntercomParts {
  /** Set whenever a token is configured (the admin endpoints use it even when replies are off). */
  gateway?: IntercomGateway;
  /** The bot's admin, when known: then the channel runs in the pipeline and answers. */
  adminId?: string;
}

export interface Channels {
  intercom: IntercomParts;
  /**
   * The inbound pipeline of the asynchronous channels: the configured ones and, with a secret store, the
   * ones tenants connect through the admin API; undefined when there can be none.
   */
  pipeline?: InboundPipeline;
  /** Tenants' phone numbers' webhooks (Twilio, Telnyx, Voxie); undefined without a secret store. */
  sms?: SmsInbound;
  /** Tenants' Telnyx AI assistants' webhooks (dynamic variables, events); undefined without a secret store. */
  voice?: VoiceDoors;
  /** The retention purge, bound to the database and the configured policy. */
  retention: () => Promise<PurgeResult>;
  /** Stops the local timers and lets queued tasks finish. */
  stop(): Promise<void>;
}

type PipelineEscalations = NonNullable<TurnDeps["escalations"]>;

interface ChannelDeps {
  sql: Sql;
  engine: TurnEngine;
  log: Logger;
  /** The one task queue of every task kind, and the handlers the pipeline registers its outbox rows with. */
  queue: TaskQueue;
  tasks: TaskHandlers;
  /** The other parts' periodic work, run locally on the poll timer (in production by Cloud Scheduler). */
  sweeps: readonly Sweep[];
  refreshSecret?: SecretRefresher | undefined;
  /** Tenants' channel credentials: with it, tenants' own Intercom apps and phone numbers are answered too. */
  secretStore?: SecretStore | undefined;
  /** Tenants' settings (an SMS reply's length, help text and quotas). */
  tenants?: TenantDirectory | undefined;
  /** A handoff opens an escalation for the tenant's team (compose/escalations.ts). */
  escalations?: PipelineEscalations | undefined;
  /** Voice: what follows a call up (other areas' parts). */
  voice?: { followUp?: VoiceFollowUp | undefined } | undefined;
  /** E-mail: the service's MailboxAccess (compose/email.ts), shared with the mailbox sync. */
  mailboxes?: MailboxAccess | undefined;
}

/** Runs `task` every `seconds` (0: never) without keeping the process alive; failures are logged. */
function every(seconds: number, task: () => Promise<unknown>, onError: (error: unknown) => void) {
  if (seconds <= 0) return undefined;
  return setInterval(() => void task().catch(onError), seconds * 1000).unref();
}

/** The configured channels in one inbound pipeline with its task queue, and locally the timers. */
export async function buildChannels(config: Config, deps: ChannelDeps): Promise<Channels> {
  const intercom = await buildIntercom(config, deps);
  const numbers = smsNumbers(config, deps);
  const pipeline = await buildPipeline(config, deps, intercom, numbers);
  const sms = pipeline && numbers ? smsInbound({ ...deps, connections: numbers, pipeline }) : undefined;
  const voice = pipeline && numbers ? voiceParts(config, deps, numbers, pipeline) : undefined;
  if (pipeline) {
    deps.tasks.register("outbox", (id, tenantId) => pipeline.process(id, tenantId));
    pipeline.attachQueue(deps.queue);
  }
  const local = config.TASK_QUEUE === "in-process";
  const policy = retentionPolicy(config);
  const retention = () => purgeExpired(deps.sql, policy, deps.log);
  // Locally there is no Cloud Scheduler: the same poll (catch-up and stale-work sweep) and purge run on timers.
  const poller = local
    ? every(
        config.POLLING_INTERVAL,
        async () => {
          await pipeline?.poll();
          await runSweeps(deps.sweeps, deps.log);
        },
        (error) => deps.log.warn({ event: "pipeline.poll_failed", error }, "poll failed"),
      )
    : undefined;
  const retentionTimer = local
    ? every(config.RETENTION_INTERVAL, retention, (error) =>
        deps.log.warn({ event: "retention.failed", error }, "retention purge failed"),
      )
    : undefined;
  return {
    intercom,
    ...(pipeline ? { pipeline } : {}),
    ...(sms ? { sms } : {}),
    ...(voice ? { voice } : {}),
    retention,
    async stop() {
      clearInterval(poller);
      clearInterval(retentionTimer);
      await deps.queue.close();
    },
  };
}

/**
 * The pipeline of the asynchronous channels: the tenants' own connections (with a secret store), and
 * Intercom configured by environment variables once its bot admin is known.
 */
async function buildPipeline(
  config: Config,
  deps: ChannelDeps,
  intercom: IntercomParts,
  numbers: SmsConnections | undefined,
) {
  const { gateway, adminId } = intercom;
  const calls = numbers
    ? voiceConnections(config, { ...deps, numbers, followUp: deps.voice?.followUp })
    : undefined;
  const mail = await emailConnections(config, deps);
  const connected = combineConnected(tenantConnections(config, deps), numbers, calls, mail);
  if (!connected && (!gateway || !adminId)) return undefined;
  const { sql, engine, log } = deps;
  const settings = pipelineSettings(config);
  const escalations = deps.escalations;
  const pipeline = new InboundPipeline({ sql, engine, log, settings, connected, escalations });
  if (!gateway || !adminId) return pipeline;
  return pipeline.register(
    intercomChannel({
      sql,
      gateway,
      settings: intercomSettings(config, adminId),
      webhookSecret: config.INTERCOM_WEBHOOK_SECRET,
    }),
    // Intercom configured by environment variables is the default tenant's channel.
    { tenantId: DEFAULT_TENANT_ID },
  );
}

/**
 * Tenants' own Intercom apps, their credentials read from the secret store; their gateways use the SDK
 * adapter with INTERCOM_API_BASE when set (an emulator), else the connection's region.
 */
function tenantConnections(config: Config, deps: ChannelDeps) {
  const { sql, log, secretStore } = deps;
  if (!secretStore) return undefined;
  return new IntercomConnections({
    sql,
    log,
    secrets: secretStore,
    settings: (adminId) => intercomSettings(config, adminId),
    // Loaded with the first connection's gateway: a deployment without one never loads the SDK.
    gateway: async (options: GatewayOptions) => {
      const { IntercomSdkGateway } = await import("../adapters/intercom");
      return new IntercomSdkGateway({ ...options, baseUrl: config.INTERCOM_API_BASE });
    },
  });
}

/** The voice doors, when the service composed voice and can route calls (numbers, tenants). */
function voiceParts(config: Config, deps: ChannelDeps, numbers: SmsConnections, pipeline: InboundPipeline) {
  const { sql, log, tenants, voice } = deps;
  if (!voice || !tenants) return undefined;
  return voiceDoors(config, { sql, log, numbers, tenants, pipeline });
}

/** Tenants' phone numbers (SMS), with a secret store for their credentials and the tenants' settings. */
function smsNumbers(config: Config, deps: ChannelDeps) {
  const { sql, log, secretStore, tenants } = deps;
  if (!secretStore || !tenants) return undefined;
  return smsConnections(config, { sql, log, secretStore, tenants });
}

/** The Intercom gateway when a token is configured, and the bot's admin id when it can be known. */
async function buildIntercom(config: Config, deps: ChannelDeps): Promise<IntercomParts> {
  if (!config.INTERCOM_ACCESS_TOKEN) return {};
  const gateway = await intercomGateway(config.INTERCOM_ACCESS_TOKEN, config, deps);
  if (config.INTERCOM_ADMIN_ID) return { gateway, adminId: config.INTERCOM_ADMIN_ID };
  try {
    return { gateway, adminId: (await gateway.me()).id };
  } catch (error) {
    deps.log.error(
      { event: "intercom.unavailable", error },
      "could not read the bot admin from Intercom (GET /me); set INTERCOM_ADMIN_ID. Replies are off.",
    );
    return { gateway };
  }
}

/** The SDK adapter, re-reading a rotated token (a Secret Manager reference) after a 401. */
async function intercomGateway(initialToken: string, config: Config, deps: ChannelDeps) {
  let token = initialToken;
  const refresh = deps.refreshSecret;
  const { IntercomSdkGateway } = await import("../adapters/intercom");
  return new IntercomSdkGateway({
    token: () => token,
    region: config.INTERCOM_REGION,
    baseUrl: config.INTERCOM_API_BASE,
    onUnauthorized: refresh
      ? async () => {
          const fresh = await refresh("INTERCOM_ACCESS_TOKEN");
          if (!fresh || fresh === token) return false;
          token = fresh;
          deps.log.info(
            { event: "secret.refreshed", variable: "INTERCOM_ACCESS_TOKEN" },
            "re-read a rotated secret",
          );
          return true;
        }
      : undefined,
  });
}
