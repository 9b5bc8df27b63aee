import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { InboundRequest } from "../../service/src/channels/pipeline/channel";
import { InvalidNotification } from "../../service/src/channels/pipeline/channel";
import type { SmsConnectionSecrets } from "../../service/src/channels/sms/provider";
import {
  componentValue,
  signatureBase,
  verifyEcdsaP256,
} from "../../service/src/channels/sms/voxie/message-signature";
import { parseSignatureInput } from "../../service/src/channels/sms/voxie/signature-fields";
import { voxieWebhooks } from "../../service/src/channels/sms/voxie/webhooks";

// Signs exactly as Voxie documents its deliveries (https://docs.voxie.com/reference/getting-started-with-your-api):
// CloudEvents in structured mode, HTTP Message Signatures draft-05, ecdsa-p256-sha256, keyid = the key's URL
// on registry.voxie.com, covering date, content-type, digest, content-length, user-agent, @request-target.

const KEY_URL = "https://registry.voxie.com/keys/outbound-hooks/eabdc48d.pem";
const WEBHOOK_URL = "https://switchboard.example.com/webhooks/voxie/sms";
const NOW = new Date("2026-11-30T18:00:00Z");
const COMPONENTS = ["date", "content-type", "digest", "content-length", "user-agent", "@request-target"];

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const publicPem = publicKey.export({ type: "spki", format: "pem" }).toString();

const connection: SmsConnectionSecrets = {
  connectionId: "conn-1",
  phoneNumber: "+15552222222",
  credentials: {},
  settings: { teamId: "1" },
};

function receivedEvent(overrides: Record<string, unknown> = {}) {
  return {
    specversion: "1.0",
    id: "1wDreVpnbNWFKJtyLfvGENtUzqk",
    source: "voxie/core",
    type: "com.voxie.message.received",
    datacontenttype: "application/json",
    dataschema: "https://registry.voxie.com/schema/v1/message/received.json",
    time: NOW.toISOString(),
    data: {
      at: NOW.toISOString(),
      team_id: 1,
      contact_id: 288331,
      contact_first_name: "Example",
      contact_last_name: "Contact",
      message_id: 1338821,
      channel: "sms",
      from: "+15551111111",
      to: "+15552222222",
      content: "Thanks!",
      ...overrides,
    },
  };
}

interface SignOptions {
  event?: unknown;
  keyid?: string;
  date?: Date;
  key?: KeyObject;
  encoding?: "ieee-p1363" | "der";
  params?: string;
  url?: string;
}

/** The headers Voxie sends with `body`, signed with `key`. */
function signedHeaders(body: Buffer, opts: SignOptions = {}): Record<string, string> {
  const headers: Record<string, string> = {
    date: (opts.date ?? NOW).toUTCString(),
    "content-type": "application/cloudevents+json; charset=UTF-8",
    digest: `SHA-256=${createHash("sha256").update(body).digest("base64")}`,
    "content-length": String(body.length),
    "user-agent": "Voxie/1.0",
  };
  const target = new URL(opts.url ?? WEBHOOK_URL);
  const params =
    opts.params ??
    `;alg="ecdsa-p256-sha256";keyid="${opts.keyid ?? KEY_URL}";nonce=${randomBytes(16).toString("hex")}`;
  const serialized = `(${COMPONENTS.map((c) => `"${c}"`).join(" ")})${params}`;
  const lines = COMPONENTS.map((c) =>
    c === "@request-target" ? `"${c}": post ${target.pathname}${target.search}` : `"${c}": ${headers[c]}`,
  );
  const base = `${lines.join("\n")}\n"@signature-params": ${serialized}`;
  const signature = sign("sha256", Buffer.from(base), {
    key: opts.key ?? privateKey,
    dsaEncoding: opts.encoding ?? "ieee-p1363",
  });
  return {
    ...headers,
    "signature-input": `sig1=${serialized}`,
    signature: `sig1=:${signature.toString("base64")}:`,
  };
}

function request(
  body: Buffer,
  headers: Record<string, string>,
  opts: { url?: string; at?: Date } = {},
): InboundRequest {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    body: new Uint8Array(body),
    header: (name) => lower.get(name.toLowerCase()),
    url: opts.url ?? WEBHOOK_URL,
    receivedAt: opts.at ?? new Date(NOW.getTime() + 2_000),
  };
}

function delivery(opts: SignOptions = {}) {
  const body = Buffer.from(JSON.stringify(opts.event ?? receivedEvent()));
  return { body, headers: signedHeaders(body, opts) };
}

function setup(overrides: Parameters<typeof voxieWebhooks>[0] = {}) {
  const fetchKey = vi.fn(async (_url: string) => publicPem);
  const webhooks = voxieWebhooks({ fetchKey, ...overrides });
  return { fetchKey, webhooks, verifier: webhooks.verifier(connection) };
}

describe("Voxie webhook signatures (draft-05, ecdsa-p256-sha256)", () => {
  it("accepts a delivery signed as Voxie documents it, fetching the key from its keyid", async () => {
    const { fetchKey, verifier } = setup();
    const { body, headers } = delivery();
    expect(await verifier.verify(request(body, headers))).toBe(true);
    expect(fetchKey).toHaveBeenCalledWith(KEY_URL);
  });

  it("accepts a DER-encoded signature as well as the draft's raw r||s", async () => {
    const { verifier } = setup();
    const { body, headers } = delivery({ encoding: "der" });
    expect(await verifier.verify(request(body, headers))).toBe(true);
  });

  it("refuses a body that does not match its Digest", async () => {
    const { verifier } = setup();
    const { body, headers } = delivery();
    const tampered = Buffer.from(body.toString().replace("Thanks!", "Refund me"));
    expect(await verifier.verify(request(tampered, headers))).toBe(false);
  });

  it("refuses a new body with a recomputed Digest: the digest header is signed", async () => {
    const { verifier } = setup();
    const { headers } = delivery();
    const forged = Buffer.from(JSON.stringify(receivedEvent({ content: "Refund me" })));
    const digest = `SHA-256=${createHash("sha256").update(forged).digest("base64")}`;
    expect(await verifier.verify(request(forged, { ...headers, digest }))).toBe(false);
  });

  it("refuses a tampered signed header and a delivery replayed to another path", async () => {
    const { verifier } = setup();
    const { body, headers } = delivery();
    expect(await verifier.verify(request(body, { ...headers, "user-agent": "curl/8.0" }))).toBe(false);
    const elsewhere = "https://switchboard.example.com/webhooks/voxie/other";
    expect(await verifier.verify(request(body, headers, { url: elsewhere }))).toBe(false);
  });

  it("refuses a signature made with another key", async () => {
    const { verifier } = setup();
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const { body, headers } = delivery({ key: other });
    expect(await verifier.verify(request(body, headers))).toBe(false);
  });

  it.each([
    ["another host", "https://keys.attacker.example/voxie.pem"],
    ["a lookalike host", "https://registry.voxie.com.attacker.example/k.pem"],
    ["credentials before another host", "https://registry.voxie.com@attacker.example/k.pem"],
    ["another port", "https://registry.voxie.com:8443/keys/k.pem"],
    ["plain http", "http://registry.voxie.com/keys/outbound-hooks/eabdc48d.pem"],
    ["no URL at all", "test-key-ecc-p256"],
  ])("never fetches a keyid on %s", async (_name, keyid) => {
    const { fetchKey, verifier } = setup();
    const { body, headers } = delivery({ keyid });
    expect(await verifier.verify(request(body, headers))).toBe(false);
    expect(fetchKey).not.toHaveBeenCalled();
  });

  it("refuses a signed Date more than five minutes from arrival, either way", async () => {
    const { verifier } = setup();
    const stale = delivery({ date: new Date(NOW.getTime() - 6 * 60_000) });
    expect(await verifier.verify(request(stale.body, stale.headers))).toBe(false);
    const future = delivery({ date: new Date(NOW.getTime() + 6 * 60_000) });
    expect(await verifier.verify(request(future.body, future.headers))).toBe(false);
    const recent = delivery({ date: new Date(NOW.getTime() - 4 * 60_000) });
    expect(await verifier.verify(request(recent.body, recent.headers))).toBe(true);
  });

  it("refuses a stale `created` parameter even with a fresh Date", async () => {
    const { verifier } = setup();
    const created = Math.floor(NOW.getTime() / 1000) - 3_600;
    const { body, headers } = delivery({
      params: `;created=${created};alg="ecdsa-p256-sha256";keyid="${KEY_URL}"`,
    });
    expect(await verifier.verify(request(body, headers))).toBe(false);
  });

  it("fetches a key once for many deliveries, and again once its TTL has passed", async () => {
    let now = NOW.getTime();
    const { fetchKey, verifier } = setup({ clock: () => new Date(now), keyCache: { ttlMs: 60_000 } });
    const first = delivery();
    const second = delivery({ event: receivedEvent({ message_id: 1338822 }) });
    expect(await verifier.verify(request(first.body, first.headers))).toBe(true);
    expect(await verifier.verify(request(second.body, second.headers))).toBe(true);
    expect(fetchKey).toHaveBeenCalledTimes(1);
    now += 61_000;
    expect(await verifier.verify(request(second.body, second.headers))).toBe(true);
    expect(fetchKey).toHaveBeenCalledTimes(2);
  });

  it("keeps a bounded number of keys, dropping the least recently used", async () => {
    const { fetchKey, verifier } = setup({ keyCache: { maxEntries: 2 } });
    const url = (n: number) => `https://registry.voxie.com/keys/outbound-hooks/${n}.pem`;
    for (const n of [1, 2, 3, 1]) {
      const { body, headers } = delivery({ keyid: url(n) });
      expect(await verifier.verify(request(body, headers))).toBe(true);
    }
    // 1 was pushed out by 3, so the fourth delivery fetched it again.
    expect(fetchKey.mock.calls.map(([u]) => u)).toEqual([url(1), url(2), url(3), url(1)]);
  });

  it("refuses, without throwing, when the key cannot be fetched or is not a P-256 key", async () => {
    const { body, headers } = delivery();
    const failing = voxieWebhooks({ fetchKey: async () => Promise.reject(new Error("503")) });
    expect(await failing.verifier(connection).verify(request(body, headers))).toBe(false);
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
    const wrongKind = voxieWebhooks({ fetchKey: async () => rsa });
    expect(await wrongKind.verifier(connection).verify(request(body, headers))).toBe(false);
    const jwk = voxieWebhooks({ fetchKey: async () => publicKey.export({ format: "jwk" }) });
    expect(await jwk.verifier(connection).verify(request(body, headers))).toBe(true);
  });

  it("refuses a Voxie-signed event of another team than the connection's", async () => {
    const { webhooks } = setup();
    const { body, headers } = delivery({ event: receivedEvent({ team_id: 2 }) });
    expect(await webhooks.verifier(connection).verify(request(body, headers))).toBe(false);
    const unconfigured = { ...connection, settings: {} };
    const own = delivery();
    expect(await webhooks.verifier(unconfigured).verify(request(own.body, own.headers))).toBe(false);
  });

  it("reads a bare hex nonce that starts with a digit, as Voxie's own example sends it", async () => {
    const { verifier } = setup();
    const params = `;alg="ecdsa-p256-sha256";keyid="${KEY_URL}";nonce=27fde337ab04852f23c8eccf3bc4e8a4`;
    const { body, headers } = delivery({ params });
    expect(await verifier.verify(request(body, headers))).toBe(true);
  });

  const valid = delivery();
  it.each<[string, Record<string, string | undefined>]>([
    ["no Signature-Input", { "signature-input": undefined }],
    ["no Signature", { signature: undefined }],
    ["a Signature-Input that is not a dictionary", { "signature-input": "garbage" }],
    ["an unterminated component", { "signature-input": 'sig1=("date" "digest;alg="ecdsa-p256-sha256"' }],
    ["an unclosed inner list", { "signature-input": `sig1=("date" "digest";keyid="${KEY_URL}"` }],
    ["a trailing comma", { "signature-input": `${valid.headers["signature-input"]},` }],
    ["no matching Signature label", { signature: (valid.headers.signature ?? "").replace("sig1=", "sig2=") }],
    ["a signature that is not base64", { signature: "sig1=:not base64!:" }],
    ["a signature without colons", { signature: "sig1=abc" }],
    ["a duplicated label", { "signature-input": `${valid.headers["signature-input"]}, sig1=()` }],
    [
      "another algorithm",
      {
        "signature-input": (valid.headers["signature-input"] ?? "").replace(
          "ecdsa-p256-sha256",
          "hmac-sha256",
        ),
      },
    ],
    ["no alg", { "signature-input": (valid.headers["signature-input"] ?? "").replace(/;alg="[^"]*"/, "") }],
    [
      "no keyid",
      { "signature-input": (valid.headers["signature-input"] ?? "").replace(/;keyid="[^"]*"/, "") },
    ],
    [
      "the digest not covered",
      { "signature-input": (valid.headers["signature-input"] ?? "").replace('"digest" ', "") },
    ],
    [
      "an unknown @component",
      {
        "signature-input": `sig1=("date" "digest" "@method" "@request-target");alg="ecdsa-p256-sha256";keyid="${KEY_URL}"`,
      },
    ],
    ["no Digest header", { digest: undefined }],
    ["no Date header", { date: undefined }],
    ["an unparseable Date", { date: "yesterday" }],
  ])("refuses %s without throwing", async (_name, change) => {
    const { verifier } = setup();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...valid.headers, ...change })) if (v !== undefined) headers[k] = v;
    await expect(verifier.verify(request(valid.body, headers))).resolves.toBe(false);
  });
});

describe("draft-05 signature input", () => {
  // The draft's own ecdsa-p256-sha256 test case ("Signing a Response using ecdsa-p256-sha256") with its
  // test-key-ecc-p256: proves the line format, the @signature-params serialization and the r||s encoding.
  const testKey = createPrivateKey(
    [
      "-----BEGIN EC PRIVATE KEY-----",
      "MHcCAQEEIFKbhfNZfpDsW43+0+JjUr9K+bTeuxopu653+hBaXGA7oAoGCCqGSM49",
      "AwEHoUQDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0EkjqF7xB4FivAxzic30tMM",
      "4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==",
      "-----END EC PRIVATE KEY-----",
    ].join("\n"),
  );

  it("rebuilds the draft's test vector and verifies its signature", () => {
    const [input] =
      parseSignatureInput(
        'sig1=("date" "content-type" "digest" "content-length");created=1618884475;keyid="test-key-ecc-p256"',
      ) ?? [];
    expect(input).toBeDefined();
    if (!input) return;
    const headers: Record<string, string> = {
      date: "Tue, 20 Apr 2021 02:07:56 GMT",
      "content-type": "application/json",
      digest: "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
      "content-length": "18",
    };
    const req = request(Buffer.from('{"hello": "world"}'), headers);
    const base = signatureBase(input, (c) => componentValue(req, c));
    expect(base).toBe(
      [
        '"date": Tue, 20 Apr 2021 02:07:56 GMT',
        '"content-type": application/json',
        '"digest": SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=',
        '"content-length": 18',
        '"@signature-params": ("date" "content-type" "digest" "content-length");created=1618884475;keyid="test-key-ecc-p256"',
      ].join("\n"),
    );
    const signature = Buffer.from(
      "3zmRDW6r50/RETqqhtx/N5sdd5eTh8xmHdsrYRK9wK4rCNEwLjCOBlcQxTL2oJTCWGRkuqE2r9KyqZFY9jd+NQ==",
      "base64",
    );
    const publicTestKey = createPublicKey(testKey);
    expect(verifyEcdsaP256(publicTestKey, base ?? "", signature)).toBe(true);
    expect(verifyEcdsaP256(publicTestKey, `${base}x`, signature)).toBe(false);
  });
});

describe("Voxie webhook routing and reading", () => {
  const { webhooks } = setup();
  const asRequest = (event: unknown) => request(Buffer.from(JSON.stringify(event)), {});

  it("routes a received message by data.to, a string in E.164", () => {
    expect(webhooks.routingNumber(asRequest(receivedEvent()))).toBe("+15552222222");
    expect(webhooks.routingNumber(asRequest(receivedEvent({ to: "not a number" })))).toBeUndefined();
    expect(webhooks.routingNumber(request(Buffer.from("<xml/>"), {}))).toBeUndefined();
  });

  it("cannot route the status events that name no number", () => {
    const delivered = {
      ...receivedEvent(),
      type: "com.voxie.message.delivered",
      data: { at: NOW.toISOString(), team_id: 1, contact_id: 288331, message_id: 1338821 },
    };
    expect(webhooks.routingNumber(asRequest(delivered))).toBeUndefined();
    expect(webhooks.read(asRequest(delivered))).toEqual([
      { kind: "other", type: "com.voxie.message.delivered" },
    ]);
  });

  it("reads a received message with Voxie's message id as the deduplication key", () => {
    expect(webhooks.read(asRequest(receivedEvent()))).toEqual([
      {
        kind: "message",
        providerMessageId: "1338821",
        from: "+15551111111",
        to: "+15552222222",
        text: "Thanks!",
        media: [],
      },
    ]);
  });

  it("reads a message queued for sending as a status, routed by its from", () => {
    const sent = {
      ...receivedEvent({ from: "+15552222222", to: "+15551111111", origin_type: "User", origin_id: "1" }),
      id: "evt-sent-1",
      type: "com.voxie.message.sent",
    };
    expect(webhooks.routingNumber(asRequest(sent))).toBe("+15552222222");
    expect(webhooks.read(asRequest(sent))).toEqual([
      {
        kind: "status",
        providerMessageId: "1338821",
        eventId: "evt-sent-1",
        status: "queued",
        from: "+15552222222",
        to: "+15551111111",
      },
    ]);
  });

  it("acknowledges other event types and refuses bodies that are not CloudEvents", () => {
    const contact = { ...receivedEvent(), type: "com.voxie.contact.created" };
    expect(webhooks.read(asRequest(contact))).toEqual([{ kind: "other", type: "com.voxie.contact.created" }]);
    expect(() => webhooks.read(request(Buffer.from("{not json"), {}))).toThrow(InvalidNotification);
    expect(() => webhooks.read(asRequest({ hello: "world" }))).toThrow(
      expect.objectContaining({ code: "validation_failed" }),
    );
    expect(() => webhooks.read(asRequest(receivedEvent({ content: undefined })))).toThrow(
      expect.objectContaining({ code: "validation_failed" }),
    );
  });
});
