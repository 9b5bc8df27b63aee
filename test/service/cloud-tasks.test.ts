import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CloudTasksQueue } from "../../service/src/adapters/cloud-tasks-queue";
import type { Sql } from "../../service/src/db/client";
import { DEFAULT_TENANT_ID } from "../../service/src/db/tenant-scope";
import {
  type CloudTasksEmulator,
  cloudTasksClientOptions,
  startCloudTasksEmulator,
} from "../emulators/cloud-tasks";
import { type IntercomEmulator, postNewConversation, startIntercomEmulator } from "../emulators/intercom";
import { startTestService, type TestService, testDatabase } from "./helpers";

/**
 * Production wiring: outbox rows become named Cloud Tasks pushing to /internal/tasks/outbox/<id> with an
 * OIDC token of the invoker identity, which the service verifies against Google's keys (a local JWKS here).
 */
const QUEUE = "projects/acme-prod/locations/europe-west1/queues/switchboard-outbox";
const INVOKER = "switchboard-invoker@acme-prod.iam.gserviceaccount.com";
const PUBLIC_URL = "https://switchboard-123456789.europe-west1.run.app";
const SECRET = "intercom-client-secret";

let tasks: CloudTasksEmulator;
let intercom: IntercomEmulator;
let jwks: Server;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
let svc: TestService;
let inspect: Sql;
let drop: () => Promise<void>;

async function googleToken(claims: { aud: string; email: string; iss?: string }) {
  return new SignJWT({ email: claims.email, email_verified: true })
    .setProtectedHeader({ alg: "RS256", kid: "test-key" })
    .setIssuer(claims.iss ?? "https://accounts.google.com")
    .setAudience(claims.aud)
    .setSubject("1234567890")
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(privateKey);
}

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  privateKey = pair.privateKey;
  const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "test-key", alg: "RS256", use: "sig" };
  jwks = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));

  tasks = await startCloudTasksEmulator({ queues: [QUEUE] });
  intercom = await startIntercomEmulator();
  const t = await testDatabase();
  drop = t.drop;
  inspect = t.inspect;
  svc = await startTestService(
    t.db,
    {
      INTERCOM_ACCESS_TOKEN: intercom.token,
      INTERCOM_API_BASE: intercom.url,
      INTERCOM_WEBHOOK_SECRET: SECRET,
      TASK_QUEUE: "cloud-tasks",
      CLOUD_TASKS_QUEUE: QUEUE,
      TASKS_INVOKER_SA: INVOKER,
      PUBLIC_URL,
      GOOGLE_OIDC_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/certs`,
    },
    { cloudTasksClientOptions: cloudTasksClientOptions(tasks) },
  );
  tasks.tokenFor = (oidc) => googleToken({ aud: oidc.audience ?? "", email: oidc.serviceAccountEmail ?? "" });
  // Cloud Tasks would reach the service at its public URL; here that is the test's port.
  tasks.fetch = (url, init) => fetch(url.replace(PUBLIC_URL, svc.url), init);
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
  await tasks?.close();
  await intercom?.close();
  await new Promise((resolve) => jwks?.close(resolve));
});

describe("Cloud Tasks", () => {
  test("a webhook creates a named task with an OIDC token; its delivery answers the customer", async () => {
    const conv = intercom.createConversation({ body: "How do I reset my password?" });
    const res = await postNewConversation(svc.url, SECRET, intercom, conv.id);
    expect(await res.json()).toEqual({ status: "accepted", queued: 1 });

    const [task] = [...tasks.tasks.values()];
    const [row] = await inspect`select id from outbox where conversation_id = ${conv.id}`;
    expect(task?.name).toBe(`${QUEUE}/tasks/outbox-${row?.id}-1`);
    expect(task?.httpRequest).toMatchObject({
      url: `${PUBLIC_URL}/internal/tasks/outbox/${row?.id}`,
      oidcToken: { serviceAccountEmail: INVOKER, audience: PUBLIC_URL },
    });
    // The task names the row's tenant (Intercom configured by environment variables: the default's).
    expect(JSON.parse(task?.httpRequest.body.toString("utf8") ?? "{}")).toEqual({
      outboxId: row?.id,
      tenantId: DEFAULT_TENANT_ID,
    });

    const deliveries = await tasks.dispatch();
    expect(deliveries.map((d) => d.status)).toEqual([200]);
    expect(intercom.replies(conv.id).filter((p) => p.author.id === intercom.botAdmin.id)).toHaveLength(1);
    expect(tasks.tasks.size).toBe(0);
  });

  test("an enqueue repeated for the same dispatch is dropped by the queue, not sent twice", async () => {
    const queue = new CloudTasksQueue({
      queue: QUEUE,
      targetUrl: PUBLIC_URL,
      invokerServiceAccount: INVOKER,
      audience: PUBLIC_URL,
      clientOptions: cloudTasksClientOptions(tasks),
    });
    const id = crypto.randomUUID();
    await queue.enqueue(id, { attempt: 1, tenantId: DEFAULT_TENANT_ID });
    await expect(queue.enqueue(id, { attempt: 1, tenantId: DEFAULT_TENANT_ID })).resolves.toBeUndefined();
    expect([...tasks.tasks.keys()].filter((name) => name.includes(id))).toHaveLength(1);
    await queue.close();
    tasks.tasks.clear();
  });
});

describe("/internal/* accepts only the invoker's Google-signed token", () => {
  const path = () => `${svc.url}/internal/tasks/outbox/${crypto.randomUUID()}`;
  const call = (token?: string) =>
    fetch(path(), { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} });

  test("no token → 401", async () => {
    expect((await call()).status).toBe(401);
  });
  test("a token for another audience → 401", async () => {
    expect((await call(await googleToken({ aud: "https://elsewhere.example", email: INVOKER }))).status).toBe(
      401,
    );
  });
  test("a token not issued by Google → 401", async () => {
    expect(
      (await call(await googleToken({ aud: PUBLIC_URL, email: INVOKER, iss: "https://evil.example" })))
        .status,
    ).toBe(401);
  });
  test("a valid token of another service account → 403", async () => {
    const res = await call(
      await googleToken({ aud: PUBLIC_URL, email: "someone@acme-prod.iam.gserviceaccount.com" }),
    );
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });
  test("the invoker's token → 200 (an unknown row is a no-op)", async () => {
    const res = await call(await googleToken({ aud: PUBLIC_URL, email: INVOKER }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ outcome: "noop" });
  });
  test("POST /internal/retention: Cloud Scheduler's invoker token → 200 with counts, another identity → 403", async () => {
    const retention = (token: string) =>
      fetch(`${svc.url}/internal/retention`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
    const other = await retention(
      await googleToken({ aud: PUBLIC_URL, email: "someone@acme-prod.iam.gserviceaccount.com" }),
    );
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe("forbidden");
    const res = await retention(await googleToken({ aud: PUBLIC_URL, email: INVOKER }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ done: true, purged: { sessions: 0, webhookDeliveries: 0 } });
  });
  test("the shared local secret is not accepted in cloud mode", async () => {
    const res = await fetch(`${svc.url}/internal/poll`, {
      method: "POST",
      headers: { "x-internal-token": "anything-at-all-123" },
    });
    expect(res.status).toBe(401);
  });
});
