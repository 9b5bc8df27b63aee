import type { QueuedChannel } from "../channels/pipeline/channel";
import type { InboundPipeline } from "../channels/pipeline/pipeline";
import { smsChannel } from "../channels/sms/channel";
import { SmsConnections } from "../channels/sms/connections";
import { SmsInbound } from "../channels/sms/inbound";
import type { SmsConnectionSecrets } from "../channels/sms/provider";
import { smsBusinessHours, smsSettingsOf } from "../channels/sms/settings";
import { telnyxWebhooks } from "../channels/sms/telnyx/webhooks";
import { twilioWebhooks } from "../channels/sms/twilio/webhooks";
import { voxieWebhooks } from "../channels/sms/voxie/webhooks";
import type { Config } from "../config";
import type { Sql } from "../db/client";
import type { TenantDirectory } from "../engine/tenant-directory";
import type { Logger } from "../logger";
import type { SecretStore } from "../ports/secret-store";
import type { SmsProvider, SmsProviderClient } from "../ports/sms";

export interface SmsDeps {
  sql: Sql;
  log: Logger;
  secretStore: SecretStore;
  tenants: TenantDirectory;
}

/** Where each provider reports the delivery of a message sent through it (none without PUBLIC_URL). */
const STATUS_PATHS: Record<SmsProvider, string | undefined> = {
  twilio: "/webhooks/twilio/status",
  telnyx: "/webhooks/telnyx/sms",
  voxie: undefined,
};

/**
 * Tenants' phone numbers: their connections (credentials from the secret store), the SMS channel each
 * tenant's conversations are answered by, and the providers' webhooks routed by number.
 */
export function smsConnections(config: Config, deps: SmsDeps): SmsConnections {
  const { sql, log, secretStore, tenants } = deps;
  const base = config.PUBLIC_URL?.replace(/\/+$/, "");
  const hours = { ...config.BUSINESS_HOURS, timeZone: config.BUSINESS_TIMEZONE };
  return new SmsConnections({
    sql,
    log,
    secrets: secretStore,
    client: (provider, connection) => providerClient(config, provider, connection),
    channel: async (tenantId, connection) => {
      // Read once per task: a settings change applies from the next text on.
      const tenant = await tenants.get(tenantId);
      const settings = tenant?.settings ?? {};
      const sms = smsSettingsOf(settings, tenant?.name);
      const businessHours = smsBusinessHours(settings, hours);
      return smsChannel({
        sql,
        log,
        settings: () => sms,
        businessHours: () => businessHours,
        connection,
      }) as QueuedChannel<unknown>;
    },
    statusCallbackUrl: (provider) => {
      const path = STATUS_PATHS[provider];
      return base && path ? `${base}${path}` : undefined;
    },
  });
}

export function smsInbound(deps: {
  sql: Sql;
  log: Logger;
  connections: SmsConnections;
  pipeline: InboundPipeline;
}) {
  return new SmsInbound({
    ...deps,
    webhooks: { twilio: twilioWebhooks, telnyx: telnyxWebhooks, voxie: voxieWebhooks({}) },
  });
}

/** The provider's official client for one connection; each SDK is loaded with its first connection. */
async function providerClient(
  config: Config,
  provider: SmsProvider,
  c: SmsConnectionSecrets,
): Promise<SmsProviderClient> {
  const setting = (name: string) =>
    typeof c.settings[name] === "string" ? (c.settings[name] as string) : undefined;
  const credential = (name: string) => c.credentials[name] ?? "";
  switch (provider) {
    case "twilio": {
      const { twilioSmsClient } = await import("../adapters/twilio");
      return twilioSmsClient({
        accountSid: setting("accountSid") ?? "",
        authToken: credential("authToken"),
        apiBase: config.TWILIO_API_BASE,
      });
    }
    case "telnyx": {
      const { telnyxSmsClient } = await import("../adapters/telnyx");
      return telnyxSmsClient({
        apiKey: credential("apiKey"),
        messagingProfileId: setting("messagingProfileId"),
        apiBase: config.TELNYX_API_BASE,
      });
    }
    case "voxie": {
      const { voxieSmsClient } = await import("../adapters/voxie");
      return voxieSmsClient({
        teamId: setting("teamId") ?? "",
        apiKey: credential("apiKey"),
        apiBase: config.VOXIE_API_BASE,
      });
    }
  }
}
