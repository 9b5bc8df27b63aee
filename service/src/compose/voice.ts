import type { ConnectedChannels, QueuedChannel, QueuedChannelName } from "../channels/pipeline/channel";
import type { InboundPipeline } from "../channels/pipeline/pipeline";
import type { SmsConnections } from "../channels/sms/connections";
import { smsBusinessHours } from "../channels/sms/settings";
import { voiceChannel } from "../channels/voice/channel";
import { VoiceGreeter } from "../channels/voice/greeter";
import { VoiceInbound } from "../channels/voice/inbound";
import type { VoiceConnectionSecrets } from "../channels/voice/numbers";
import type { VoiceFollowUp } from "../channels/voice/sender";
import { tenantVoiceBlock } from "../channels/voice/variables";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { TenantDirectory } from "../engine/tenant-directory";
import type { Logger } from "../logger";
import type { VoiceProviderClient } from "../ports/voice";
import { redactPii } from "../redaction";

/**
 * Voice (tenants' Telnyx AI assistants): the channel that stores calls and its two doors. A tenant's
 * `telnyx` connection (its number, API key, public key and dynamic-variables URL token, found by the SMS
 * channel's directory) serves calls as well as texts.
 */

export interface VoiceDoors {
  greeter: VoiceGreeter;
  inbound: VoiceInbound;
}

/** The voice channel of each tenant with a Telnyx connection, as the pipeline finds it for a task. */
export function voiceConnections(
  config: Config,
  deps: { sql: Sql; log: Logger; numbers: SmsConnections; followUp?: VoiceFollowUp | undefined },
): ConnectedChannels {
  const clients = new Map<string, { apiKey: string; client: VoiceProviderClient }>();
  const clientOf = async (secrets: VoiceConnectionSecrets) => {
    const apiKey = secrets.credentials.apiKey ?? "";
    const cached = clients.get(secrets.connectionId);
    if (cached?.apiKey === apiKey) return cached.client;
    // Loaded with the first call: a deployment without voice never loads it.
    const { telnyxVoiceClient } = await import("../adapters/telnyx-voice");
    const client = telnyxVoiceClient({ apiKey, apiBase: config.TELNYX_API_BASE });
    clients.set(secrets.connectionId, { apiKey, client });
    return client;
  };
  const redact = config.PII_REDACTION ? (text: string) => redactPii(text).text : (text: string) => text;
  const channel = (tenantId: string): QueuedChannel<unknown> =>
    voiceChannel({
      sql: deps.sql,
      log: deps.log,
      redact,
      followUp: deps.followUp ?? {},
      client: async (connectionId) => {
        const secrets = await deps.numbers.secretsOf(tenantId, connectionId);
        return secrets ? clientOf(secrets) : undefined;
      },
    }) as QueuedChannel<unknown>;
  return {
    names: ["voice"],
    byConnection: async () => undefined,
    ofTenant: async (name: QueuedChannelName, tenantId: string) =>
      name === "voice" ? channel(tenantId) : undefined,
  };
}

/** The assistant's two webhooks, routed by number through the same directory as texts. */
export function voiceDoors(
  config: Config,
  deps: {
    sql: Sql;
    log: Logger;
    numbers: SmsConnections;
    tenants: TenantDirectory;
    pipeline: InboundPipeline;
  },
): VoiceDoors {
  const hours = { ...config.BUSINESS_HOURS, timeZone: config.BUSINESS_TIMEZONE };
  const greeter = new VoiceGreeter({
    sql: deps.sql,
    log: deps.log,
    numbers: deps.numbers,
    tenantBlock: async (tenantId) => {
      const tenant = await deps.tenants.get(tenantId);
      return tenant ? tenantVoiceBlock(tenant, smsBusinessHours(tenant.settings, hours)) : undefined;
    },
  });
  const inbound = new VoiceInbound({ numbers: deps.numbers, pipeline: deps.pipeline, log: deps.log });
  return { greeter, inbound };
}
