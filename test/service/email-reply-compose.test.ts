import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildEmail } from "../../service/src/compose/email";
import { emailConnections } from "../../service/src/compose/email-channel";
import type { Tasks } from "../../service/src/compose/tasks";
import { type Config, parseConfig } from "../../service/src/config";
import { inTenant } from "../../service/src/db/tenant-scope";
import { saveTenantSettings } from "../../service/src/db/tenants";
import { TenantDirectory } from "../../service/src/engine/tenant-directory";
import { createLogger } from "../../service/src/logger";
import {
  connectedMailbox,
  emailTestbed,
  headerOf,
  labelIdOf,
  partOf,
  replyWorld,
  type Testbed,
} from "./email-reply-world";
import { baseEnv, LogCapture } from "./helpers";

/**
 * The e-mail channel as the service composes it from configuration (compose/email-channel.ts): the
 * deployment's Google OAuth client, each tenant's refresh token from the secret store, and each tenant's
 * own `email` settings, read for every task.
 */

let bed: Testbed;

beforeAll(async () => {
  bed = await emailTestbed();
}, 30_000);
afterAll(async () => {
  await bed?.close();
});

/** What compose/service.ts hands the channel: the mailboxes compose/email.ts built from `config`. */
function parts(config: Config) {
  const log = createLogger({ level: "info", destination: new LogCapture() });
  const tasks = { sweeps: [] } as unknown as Tasks;
  const { access } = buildEmail(config, { sql: bed.db.sql, log, secretStore: bed.secrets, tasks });
  return { sql: bed.db.sql, log, mailboxes: access, tenants: new TenantDirectory(bed.db.sql, 0) };
}

const google = () => ({
  GOOGLE_OAUTH_CLIENT_ID: bed.emu.client.clientId,
  GOOGLE_OAUTH_CLIENT_SECRET: bed.emu.client.clientSecret,
  GOOGLE_OAUTH_BASE: bed.emu.url,
  GMAIL_API_BASE: bed.emu.url,
});

describe("the composed e-mail channel", () => {
  test("is absent while the deployment has no Google OAuth client", async () => {
    const config = parseConfig({ ...baseEnv });
    expect(await emailConnections(config, parts(config))).toBeUndefined();
  });

  test("answers with the tenant's own settings: draft mode, label, business name and signature", async () => {
    const box = await connectedMailbox(bed, "composed-1", "inbox@composed.example");
    await inTenant(box.tenantId, () =>
      saveTenantSettings(bed.db.sql, {
        promptVariables: { businessName: "Composed Co" },
        email: { mode: "draft", label: "Bot", signature: "The Composed team" },
      }),
    );
    const config = parseConfig({ ...baseEnv, ...google() });
    const connected = await emailConnections(config, parts(config));
    expect(connected?.names).toEqual(["email"]);
    const w = replyWorld(bed, box, { connected });
    const inbound = await w.receive({
      from: "kim@customer.example",
      to: box.address,
      subject: "Q",
      text: "A question",
    });
    expect(await w.work()).toEqual(["answered"]);
    expect(bed.emu.messages(box.address, "SENT")).toEqual([]);
    const [draft] = bed.emu.mailbox(box.address).drafts;
    expect(headerOf(bed, draft?.message, "From")).toBe(`Composed Co <${box.address}>`);
    expect(partOf(draft?.message, "text/plain")).toMatch(/-- \r?\nThe Composed team\s*$/);
    const label = labelIdOf(bed, box.address, "Bot/Draft");
    expect(bed.emu.messages(box.address).find((m) => m.id === inbound.id)?.labelIds).toContain(label);
  });
});
