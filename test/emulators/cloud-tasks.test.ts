import { CloudTasksClient } from "@google-cloud/tasks";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type CloudTasksEmulator, cloudTasksClientOptions, startCloudTasksEmulator } from "./cloud-tasks";
import { restError } from "./google-rest";
import { type EmulatorServer, type RecordedRequest, startEmulatorServer } from "./http-server";

const queue = "projects/switchboard-test/locations/europe-west1/queues/intercom-answers";
let tasks: CloudTasksEmulator;
let client: CloudTasksClient;
let target: EmulatorServer;
const targetStatuses: number[] = [];
const received: RecordedRequest[] = [];

beforeAll(async () => {
  tasks = await startCloudTasksEmulator({ queues: [queue] });
  client = new CloudTasksClient(cloudTasksClientOptions(tasks));
  target = await startEmulatorServer((_req, res, recorded) => {
    received.push(recorded);
    const status = targetStatuses.shift() ?? 204;
    res.writeHead(status);
    res.end();
  });
});
afterEach(() => {
  tasks.reset();
  received.length = 0;
  targetStatuses.length = 0;
});
afterAll(async () => {
  await client.close();
  await tasks.close();
  await target.close();
});

function httpTask(name?: string) {
  return {
    ...(name ? { name: `${queue}/tasks/${name}` } : {}),
    httpRequest: {
      url: `${target.url}/internal/tasks/answer`,
      httpMethod: "POST" as const,
      headers: { "Content-Type": "application/json" },
      body: Buffer.from(JSON.stringify({ conversationId: "215" })).toString("base64"),
      oidcToken: {
        serviceAccountEmail: "tasks@switchboard-test.iam.gserviceaccount.com",
        audience: target.url,
      },
    },
  };
}

describe("cloud tasks emulator with the real CloudTasksClient (REST fallback)", () => {
  it("creates, gets, lists and deletes an HTTP task with an OIDC token", async () => {
    const [created] = await client.createTask({ parent: queue, task: httpTask() });
    expect(created.name).toMatch(new RegExp(`^${queue}/tasks/\\d+$`));
    expect(created.httpRequest?.httpMethod).toBe("POST");
    expect(created.httpRequest?.oidcToken?.serviceAccountEmail).toBe(
      "tasks@switchboard-test.iam.gserviceaccount.com",
    );
    expect(created.httpRequest?.body?.length ?? 0).toBe(0); // BASIC view leaves the body out

    const request = tasks.requests.at(-1);
    expect(request?.path).toBe(`/v2/${queue}/tasks`);
    expect(request?.headers.authorization).toBe(`Bearer ${tasks.token}`);
    expect(request?.body).toMatchObject({
      task: { httpRequest: { httpMethod: 1, url: `${target.url}/internal/tasks/answer` } },
    });

    const [full] = await client.getTask({ name: created.name, responseView: "FULL" });
    expect(Buffer.from(full.httpRequest?.body ?? "").toString()).toBe('{"conversationId":"215"}');

    const [list] = await client.listTasks({ parent: queue });
    expect(list.map((t) => t.name)).toEqual([created.name]);

    await client.deleteTask({ name: created.name });
    expect(tasks.tasks.size).toBe(0);
    const gone = await restError(client.getTask({ name: created.name ?? "" }));
    expect(gone.code).toBe(404);
    expect(gone.status).toBe("NOT_FOUND");
  });

  it("a named task cannot be created twice, even after it was deleted (ALREADY_EXISTS)", async () => {
    await client.createTask({ parent: queue, task: httpTask("conv-215-part-9") });
    const dup = await restError(client.createTask({ parent: queue, task: httpTask("conv-215-part-9") }));
    expect(dup.code).toBe(409);
    expect(dup.status).toBe("ALREADY_EXISTS");

    await client.deleteTask({ name: `${queue}/tasks/conv-215-part-9` });
    const again = await restError(client.createTask({ parent: queue, task: httpTask("conv-215-part-9") }));
    expect(again.status).toBe("ALREADY_EXISTS");
  });

  it("getQueue answers for a known queue and NOT_FOUND for an unknown one", async () => {
    const [q] = await client.getQueue({ name: queue });
    expect(q.name).toBe(queue);
    expect(q.state).toBe("RUNNING");
    const missing = await restError(client.getQueue({ name: `${queue}-nope` }));
    expect(missing.code).toBe(404);
    const noQueue = await restError(client.createTask({ parent: `${queue}-nope`, task: httpTask() }));
    expect(noQueue.status).toBe("NOT_FOUND");
  });

  it("dispatch() delivers to the target with the OIDC bearer and Cloud Tasks headers, retrying non-2xx", async () => {
    tasks.tokenFor = (oidc) => `test-token-for-${oidc.audience}`;
    const [created] = await client.createTask({ parent: queue, task: httpTask("conv-1") });
    targetStatuses.push(503, 200);

    const results = await tasks.dispatch();
    expect(results.map((r) => [r.attempt, r.status])).toEqual([
      [1, 503],
      [2, 200],
    ]);
    expect(tasks.tasks.size).toBe(0);
    expect(received).toHaveLength(2);
    const [first, second] = received;
    expect(first?.method).toBe("POST");
    expect(first?.path).toBe("/internal/tasks/answer");
    expect(first?.body).toEqual({ conversationId: "215" });
    expect(first?.headers.authorization).toBe(`Bearer test-token-for-${target.url}`);
    expect(first?.headers["content-type"]).toBe("application/json");
    expect(first?.headers["user-agent"]).toBe("Google-Cloud-Tasks");
    expect(first?.headers["x-cloudtasks-queuename"]).toBe("intercom-answers");
    expect(first?.headers["x-cloudtasks-taskname"]).toBe("conv-1");
    expect(first?.headers["x-cloudtasks-taskretrycount"]).toBe("0");
    expect(second?.headers["x-cloudtasks-taskretrycount"]).toBe("1");
    expect(created.name).toBe(`${queue}/tasks/conv-1`);

    // executed names stay reserved too
    const dup = await restError(client.createTask({ parent: queue, task: httpTask("conv-1") }));
    expect(dup.status).toBe("ALREADY_EXISTS");
  });

  it("dispatch() gives up after maxAttempts; future tasks wait unless all is set", async () => {
    targetStatuses.push(500, 500, 500);
    await client.createTask({ parent: queue, task: httpTask("failing") });
    const results = await tasks.dispatch({ maxAttempts: 2 });
    expect(results.map((r) => r.status)).toEqual([500, 500]);
    expect(tasks.tasks.size).toBe(0);

    const later = { ...httpTask("later"), scheduleTime: { seconds: Math.floor(Date.now() / 1000) + 3600 } };
    await client.createTask({ parent: queue, task: later });
    expect(await tasks.dispatch()).toEqual([]);
    expect(tasks.tasks.size).toBe(1);
    const forced = await tasks.dispatch({ all: true });
    expect(forced.map((r) => r.status)).toEqual([500, 204]); // one 500 left, then the default 204
  });

  it("deliveries can go through a custom fetch (e.g. a Hono app's app.request) instead of a socket", async () => {
    const seen: { url: string; auth: string | null }[] = [];
    tasks.fetch = async (url, init) => {
      seen.push({ url, auth: new Headers(init.headers).get("authorization") });
      return new Response(null, { status: 204 });
    };
    await client.createTask({ parent: queue, task: httpTask("in-process") });
    const results = await tasks.dispatch();
    expect(results.map((r) => r.status)).toEqual([204]);
    expect(seen).toEqual([
      { url: `${target.url}/internal/tasks/answer`, auth: expect.stringMatching(/^Bearer /) },
    ]);
    expect(received).toHaveLength(0);
  });

  it("runTask delivers one task at once; failNext injects an error", async () => {
    const [created] = await client.createTask({ parent: queue, task: httpTask("run-me") });
    await client.runTask({ name: created.name });
    expect(received).toHaveLength(1);
    expect(tasks.tasks.size).toBe(0);

    tasks.failNext({ status: "UNAVAILABLE" });
    const error = await restError(client.createTask({ parent: queue, task: httpTask() }));
    expect(error.code).toBe(503);
    expect(error.status).toBe("UNAVAILABLE");
  });
});
