import type { CloudTasksClientOptions } from "../adapters/cloud-tasks-queue";
import { InProcessTaskQueue } from "../adapters/in-process-queue";
import { IntercomBridge } from "../channels/intercom";
import { type Config, internalAudience, taskTargetUrl } from "../config";
import type { Sql } from "../db/client";
import type { TurnEngine } from "../engine/conversation-engine";
import { type PurgeResult, purgeExpired } from "../engine/retention";
import type { Logger } from "../logger";
import type { IntercomGateway } from "../ports/intercom";
import type { TaskQueue } from "../ports/task-queue";
import type { SecretRefresher } from "./secrets";
import { bridgeSettings, retentionPolicy } from "./settings";

export interface IntercomChannel {
  /** Set whenever a token is configured (the admin endpoints use it even when replies are off). */
  gateway?: IntercomGateway;
  /** Set when the bot's admin is known: the bridge answers. */
  bridge?: IntercomBridge;
  queue?: TaskQueue;
  adminId?: string;
}

export interface Channels {
  intercom: IntercomChannel;
  /** The retention purge, bound to the database and the configured policy. */
  retention: () => Promise<PurgeResult>;
  /** Stops the local timers and lets queued tasks finish. */
  stop(): Promise<void>;
}

interface ChannelDeps {
  sql: Sql;
  engine: TurnEngine;
  log: Logger;
  cloudTasksClientOptions?: CloudTasksClientOptions | undefined;
  refreshSecret?: SecretRefresher | undefined;
}

/** Runs `task` every `seconds` (0: never) without keeping the process alive; failures are logged. */
function every(seconds: number, task: () => Promise<unknown>, onError: (error: unknown) => void) {
  if (seconds <= 0) return undefined;
  return setInterval(() => void task().catch(onError), seconds * 1000).unref();
}

/** The Intercom bridge (when a token is configured), its task queue and, locally, the timers. */
export async function buildChannels(config: Config, deps: ChannelDeps): Promise<Channels> {
  const intercom = await buildIntercom(config, deps);
  const local = config.TASK_QUEUE === "in-process";
  const policy = retentionPolicy(config);
  const retention = () => purgeExpired(deps.sql, policy, deps.log);
  // Locally there is no Cloud Scheduler: the same poll (and stale-work sweep) and purge run on timers.
  const bridge = intercom.bridge;
  const poller =
    local && bridge
      ? every(
          config.POLLING_INTERVAL,
          () => bridge.poll(),
          (error) => deps.log.warn({ event: "intercom.poll_failed", error }, "poll failed"),
        )
      : undefined;
  const retentionTimer = local
    ? every(config.RETENTION_INTERVAL, retention, (error) =>
        deps.log.warn({ event: "retention.failed", error }, "retention purge failed"),
      )
    : undefined;
  return {
    intercom,
    retention,
    async stop() {
      clearInterval(poller);
      clearInterval(retentionTimer);
      await intercom.queue?.close();
    },
  };
}

async function buildIntercom(config: Config, deps: ChannelDeps): Promise<IntercomChannel> {
  if (!config.INTERCOM_ACCESS_TOKEN) return {};
  const gateway = await intercomGateway(config.INTERCOM_ACCESS_TOKEN, config, deps);
  let adminId = config.INTERCOM_ADMIN_ID;
  if (!adminId) {
    try {
      adminId = (await gateway.me()).id;
    } catch (error) {
      deps.log.error(
        { event: "intercom.unavailable", error },
        "could not read the bot admin from Intercom (GET /me); set INTERCOM_ADMIN_ID. Replies are off.",
      );
      return { gateway };
    }
  }
  const bridge = new IntercomBridge({
    sql: deps.sql,
    gateway,
    engine: deps.engine,
    log: deps.log,
    settings: bridgeSettings(config, adminId),
  });
  const queue = await taskQueue(config, bridge, deps);
  bridge.attachQueue(queue);
  return { gateway, bridge, queue, adminId };
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

async function taskQueue(config: Config, bridge: IntercomBridge, deps: ChannelDeps): Promise<TaskQueue> {
  if (config.TASK_QUEUE === "in-process") {
    return new InProcessTaskQueue(async (id) => void (await bridge.process(id)), deps.log);
  }
  const { CloudTasksQueue } = await import("../adapters/cloud-tasks-queue");
  return new CloudTasksQueue({
    queue: config.CLOUD_TASKS_QUEUE ?? "",
    targetUrl: taskTargetUrl(config),
    invokerServiceAccount: config.TASKS_INVOKER_SA ?? "",
    audience: internalAudience(config),
    clientOptions: deps.cloudTasksClientOptions,
  });
}
