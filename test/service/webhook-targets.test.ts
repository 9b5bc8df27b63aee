import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { HttpWebhookSender } from "../../service/src/adapters/webhook-sender";
import { isForbiddenAddress } from "../../service/src/domain/network-address";
import { checkTarget } from "../../service/src/engine/webhook-targets";
import { startWebhookReceiver, type WebhookReceiver } from "../emulators/webhook-receiver";

/** Where webhooks may not go (SSRF): the URL rules, the addresses a name resolves to, and the sender's own check. */

const production = { allowLocal: false };
const resolver = (table: Record<string, string[]>) => async (host: string) => {
  const found = table[host];
  if (!found) throw new Error("ENOTFOUND");
  return found;
};
const dns = resolver({
  "hooks.zapier.com": ["54.86.10.1"],
  "crm.example.com": ["93.184.216.34", "2606:2800:220:1::1"],
  "internal.example.com": ["10.1.2.3"],
  "sneaky.example.com": ["93.184.216.34", "169.254.169.254"],
  "mapped.example.com": ["::ffff:127.0.0.1"],
});

describe("an endpoint URL in production", () => {
  test.each([
    "https://hooks.zapier.com/hooks/catch/123/abc/",
    "https://crm.example.com/webhooks?x=1",
  ])("%s is allowed", async (url) => {
    expect(await checkTarget(url, production, dns)).toEqual({ ok: true, url });
  });

  test.each([
    ["http to a public host", "http://crm.example.com/h"],
    ["http to localhost", "http://localhost:8080/h"],
    ["https to localhost", "https://localhost/h"],
    ["a loopback address", "https://127.0.0.1/h"],
    ["the metadata server", "https://169.254.169.254/computeMetadata/v1/"],
    ["a private address", "https://10.0.0.8/h"],
    ["a private IPv6 address", "https://[fd00::1]/h"],
    ["IPv6 loopback", "https://[::1]/h"],
    ["a name resolving to a private address", "https://internal.example.com/h"],
    ["a name with one private address among public ones", "https://sneaky.example.com/h"],
    ["a name resolving to IPv4-mapped loopback", "https://mapped.example.com/h"],
    ["a name that does not resolve", "https://nowhere.example.com/h"],
    ["credentials in the URL", "https://user:pw@crm.example.com/h"],
    ["another scheme", "file:///etc/passwd"],
  ])("%s is refused", async (_why, url) => {
    const checked = await checkTarget(url, production, dns);
    expect(checked.ok).toBe(false);
  });
});

describe("an endpoint URL outside production (local targets allowed)", () => {
  test("http to localhost is allowed; http elsewhere still is not", async () => {
    const local = { allowLocal: true };
    expect((await checkTarget("http://127.0.0.1:9999/h", local, dns)).ok).toBe(true);
    expect((await checkTarget("http://localhost:9999/h", local, dns)).ok).toBe(true);
    expect((await checkTarget("http://crm.example.com/h", local, dns)).ok).toBe(false);
  });
});

describe("the addresses", () => {
  test.each([
    "127.0.0.1",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:10.0.0.1",
    "not-an-ip",
  ])("%s is forbidden", (address) => expect(isForbiddenAddress(address)).toBe(true));
  test.each(["8.8.8.8", "93.184.216.34", "2606:2800:220:1::1", "172.32.0.1"])("%s is not", (address) =>
    expect(isForbiddenAddress(address)).toBe(false));
});

describe("the sender in production", () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    receiver.expect("/h", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  });
  afterAll(() => receiver?.close());

  test("never connects to a loopback address, written or resolved (DNS may change after registration)", async () => {
    const sender = new HttpWebhookSender({ allowLocal: false, timeoutMs: 2000 });
    const port = new URL(receiver.url).port;
    for (const host of ["127.0.0.1", "localhost"]) {
      const sent = await sender.send({
        url: `http://${host}:${port}/h`,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        messageId: "msg_1",
        body: "{}",
      });
      expect(sent.statusCode).toBeNull();
      expect(sent.error).toMatch(/EFORBIDDEN/);
    }
    expect(receiver.server.requests).toEqual([]);
  });

  test("does not follow a redirect (a 3xx is a failed attempt)", async () => {
    const { startEmulatorServer } = await import("../emulators/http-server");
    const redirecting = await startEmulatorServer((_req, res) => {
      res.writeHead(307, { location: `${receiver.url}/h` }).end();
    });
    try {
      const sender = new HttpWebhookSender({ allowLocal: true, timeoutMs: 2000 });
      const sent = await sender.send({
        url: `${redirecting.url}/x`,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        messageId: "msg_2",
        body: "{}",
      });
      expect(sent).toMatchObject({ statusCode: 307, error: "HTTP 307" });
      expect(receiver.server.requests).toEqual([]);
    } finally {
      await redirecting.close();
    }
  });

  test("gives up on a receiver that does not answer within the timeout", async () => {
    const { startEmulatorServer } = await import("../emulators/http-server");
    const silent = await startEmulatorServer(async (_req, res, _r) => {
      await new Promise((r) => setTimeout(r, 3000));
      res.end();
    });
    try {
      const sender = new HttpWebhookSender({ allowLocal: true, timeoutMs: 200 });
      const sent = await sender.send({
        url: `${silent.url}/x`,
        secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        messageId: "msg_3",
        body: "{}",
      });
      expect(sent.statusCode).toBeNull();
      expect(sent.error).toMatch(/timed out/);
    } finally {
      await silent.close();
    }
  });
});
