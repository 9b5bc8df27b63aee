/**
 * Cloud Tasks v2 REST emulator (`cloudtasks.googleapis.com`) for `@google-cloud/tasks`' `CloudTasksClient` in
 * REST fallback mode, with an optional dispatcher that really delivers HTTP tasks to their target URL.
 *
 * Point the real client at it with `new CloudTasksClient(cloudTasksClientOptions(emulator))`:
 * `{ fallback: true, protocol: "http", apiEndpoint: "127.0.0.1", port, authClient }` (fixed bearer token,
 * no Application Default Credentials needed).
 *
 * Covered of the real service (paths from the service's `google.api.http` rules):
 * - `POST /v2/{queue}/tasks` (createTask): HTTP targets `{ url, httpMethod, headers, body (base64), oidcToken
 *   { serviceAccountEmail, audience } | oauthToken }`, `scheduleTime`, `dispatchDeadline`; named tasks — a
 *   name that exists, or was deleted/executed within the last hour (`nameReuseWindowMs`), → 409
 *   ALREADY_EXISTS like the real de-duplication; unnamed tasks get a numeric id. `responseView` BASIC (default)
 *   leaves out `httpRequest.body`, FULL includes it.
 * - `GET /v2/{task}`, `DELETE /v2/{task}`, `GET /v2/{queue}/tasks` (pageSize/pageToken), `POST /v2/{task}:run`,
 *   `GET /v2/{queue}`, `GET /v2/{location}/queues`.
 * - Unknown queues → 404 NOT_FOUND (seed them with `createQueue` or the `queues` option); 401 without a bearer
 *   token; any status via `failNext()`; enums numeric when the client asks (`$alt=json;enum-encoding=int`).
 *
 * Dispatch: `dispatch()` delivers every due task (and the tasks created while dispatching) to
 * `httpRequest.url` with the task's method, headers and body, plus what Cloud Tasks adds:
 * `Authorization: Bearer <tokenFor(oidcToken)>` for OIDC tasks, `User-Agent: Google-Cloud-Tasks`,
 * `X-CloudTasks-QueueName`, `X-CloudTasks-TaskName`, `X-CloudTasks-TaskRetryCount`,
 * `X-CloudTasks-TaskExecutionCount`, `X-CloudTasks-TaskETA`. A 2xx completes (deletes) the task; anything
 * else is retried right away until `maxAttempts` (then the task is dropped, as when the real retry config is
 * exhausted). Every attempt is recorded in `dispatches`. Deliveries use `emulator.fetch` (global fetch by
 * default; point it at e.g. a Hono `app.request` to deliver without a socket).
 *
 * Like the Secret Manager emulator, errors reach the caller as GaxiosErrors with the HTTP status in `code`
 * (google-gax 5.0.8 REST fallback); gax does not retry them.
 *
 * Not covered: App Engine targets, queue create/update/pause/purge, IAM, rate limiting of dispatches,
 * backoff timing.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudTasksClient } from "@google-cloud/tasks";
import {
  checkBearer,
  decodeEnum,
  encodeEnum,
  fallbackClientOptions,
  type InjectedGoogleError,
  paginate,
  sendInjectedError,
} from "./google-rest";
import {
  type EmulatorServer,
  isRecord,
  type RecordedRequest,
  sendGoogleError,
  sendJson,
  sendUnknownPath,
  startEmulatorServer,
} from "./http-server";

export type { InjectedGoogleError } from "./google-rest";
export type { RecordedRequest } from "./http-server";

const HTTP_METHODS = [
  "HTTP_METHOD_UNSPECIFIED",
  "POST",
  "GET",
  "HEAD",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
] as const;
const VIEWS = ["VIEW_UNSPECIFIED", "BASIC", "FULL"] as const;
const QUEUE_STATES = ["STATE_UNSPECIFIED", "RUNNING", "PAUSED", "DISABLED"] as const;

export interface OidcTokenJson {
  serviceAccountEmail: string;
  audience?: string;
}

export interface TaskRecord {
  /** `projects/{p}/locations/{l}/queues/{q}/tasks/{id}` */
  name: string;
  queue: string;
  httpRequest: {
    url: string;
    httpMethod: string;
    headers: Record<string, string>;
    /** Decoded body bytes. */
    body: Buffer;
    oidcToken?: OidcTokenJson;
    oauthToken?: { serviceAccountEmail: string; scope?: string };
  };
  scheduleTime: string;
  createTime: string;
  dispatchDeadline: string;
  dispatchCount: number;
  responseCount: number;
  firstAttempt?: AttemptJson;
  lastAttempt?: AttemptJson;
}

export interface AttemptJson {
  scheduleTime: string;
  dispatchTime: string;
  responseTime?: string;
  responseStatus?: { code: number; message: string };
}

export interface DispatchRecord {
  taskName: string;
  url: string;
  method: string;
  /** 1-based attempt number. */
  attempt: number;
  /** HTTP status, or 0 when the target could not be reached. */
  status: number;
  headers: Record<string, string>;
  body: string;
  error?: string;
}

export interface CloudTasksEmulator {
  url: string;
  port: number;
  token: string;
  requests: RecordedRequest[];
  /** Keyed by full queue name. */
  queues: Map<string, { name: string; state: (typeof QUEUE_STATES)[number] }>;
  /** Pending tasks keyed by full task name. */
  tasks: Map<string, TaskRecord>;
  /** Every delivery attempt made by `dispatch()` / `:run`. */
  dispatches: DispatchRecord[];
  /** Bearer token put on OIDC tasks' deliveries. Default: `emulated-oidc:<serviceAccountEmail>:<audience>`. */
  tokenFor: (oidc: OidcTokenJson) => string | Promise<string>;
  /**
   * The fetch used to deliver tasks (default: the global fetch). Set it to route deliveries into an app without
   * a socket, e.g. `(url, init) => app.request(url, init)` for a Hono app.
   */
  fetch: (url: string, init: RequestInit) => Promise<Response>;
  /** How long a task name stays reserved after the task was deleted or executed (default 1 hour). */
  nameReuseWindowMs: number;
  createQueue(project: string, location: string, queueId: string): string;
  /** Delivers due tasks (all of them with `{ all: true }`), retrying non-2xx up to `maxAttempts` (default 3). */
  dispatch(opts?: { maxAttempts?: number; all?: boolean }): Promise<DispatchRecord[]>;
  failNext(...errors: InjectedGoogleError[]): void;
  latencyMs: number;
  reset(): void;
  close(): Promise<void>;
}

export interface CloudTasksEmulatorOptions {
  token?: string;
  acceptAnyToken?: boolean;
  /** Full queue names to create up front (`projects/{p}/locations/{l}/queues/{q}`). */
  queues?: string[];
}

/** Options that make the real `CloudTasksClient` talk to the emulator over plain HTTP without ADC. */
export function cloudTasksClientOptions(emulator: {
  port: number;
  token: string;
}): NonNullable<ConstructorParameters<typeof CloudTasksClient>[0]> {
  return fallbackClientOptions(emulator) as unknown as NonNullable<
    ConstructorParameters<typeof CloudTasksClient>[0]
  >;
}

const LOCATION_RE = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/queues$/;
const QUEUE_RE =
  /^\/v2\/(projects\/[^/]+\/locations\/[^/]+\/queues\/[^/:]+)(\/tasks(?:\/([^/:]+)(:run)?)?)?$/;

const GRPC_FROM_HTTP: Record<number, number> = {
  400: 3,
  401: 16,
  403: 7,
  404: 5,
  409: 10,
  429: 8,
  499: 1,
  501: 12,
  503: 14,
  504: 4,
};

export async function startCloudTasksEmulator(
  opts: CloudTasksEmulatorOptions = {},
): Promise<CloudTasksEmulator> {
  const token = opts.token ?? "emulator-access-token";
  const queues = new Map<string, { name: string; state: (typeof QUEUE_STATES)[number] }>();
  const tasks = new Map<string, TaskRecord>();
  const tombstones = new Map<string, number>();
  const faults: InjectedGoogleError[] = [];
  let server: EmulatorServer | undefined;
  let taskCounter = 0;

  const defaultTokenFor = (oidc: OidcTokenJson) =>
    `emulated-oidc:${oidc.serviceAccountEmail}:${oidc.audience ?? ""}`;

  function addQueue(name: string): string {
    if (!queues.has(name)) queues.set(name, { name, state: "RUNNING" });
    return name;
  }
  for (const q of opts.queues ?? []) addQueue(q);

  function nameReserved(name: string): boolean {
    if (tasks.has(name)) return true;
    const gone = tombstones.get(name);
    return gone !== undefined && Date.now() - gone < emulator.nameReuseWindowMs;
  }

  function retire(task: TaskRecord): void {
    tasks.delete(task.name);
    tombstones.set(task.name, Date.now());
  }

  function queueJson(req: RecordedRequest, q: { name: string; state: (typeof QUEUE_STATES)[number] }) {
    return {
      name: q.name,
      rateLimits: { maxDispatchesPerSecond: 500, maxBurstSize: 100, maxConcurrentDispatches: 1000 },
      retryConfig: { maxAttempts: 100, minBackoff: "0.100s", maxBackoff: "3600s", maxDoublings: 16 },
      state: encodeEnum(req, QUEUE_STATES, q.state),
    };
  }

  function taskJson(req: RecordedRequest, t: TaskRecord, view: string): Record<string, unknown> {
    const http = t.httpRequest;
    return {
      name: t.name,
      httpRequest: {
        url: http.url,
        httpMethod: encodeEnum(req, HTTP_METHODS, http.httpMethod),
        ...(Object.keys(http.headers).length > 0 ? { headers: http.headers } : {}),
        ...(view === "FULL" && http.body.length > 0 ? { body: http.body.toString("base64") } : {}),
        ...(http.oidcToken ? { oidcToken: http.oidcToken } : {}),
        ...(http.oauthToken ? { oauthToken: http.oauthToken } : {}),
      },
      scheduleTime: t.scheduleTime,
      createTime: t.createTime,
      dispatchDeadline: t.dispatchDeadline,
      ...(t.dispatchCount > 0 ? { dispatchCount: t.dispatchCount } : {}),
      ...(t.responseCount > 0 ? { responseCount: t.responseCount } : {}),
      ...(t.firstAttempt ? { firstAttempt: t.firstAttempt } : {}),
      ...(t.lastAttempt ? { lastAttempt: t.lastAttempt } : {}),
      view: encodeEnum(req, VIEWS, view),
    };
  }

  function requestedView(value: unknown): string {
    return decodeEnum(VIEWS, typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value) ===
      "FULL"
      ? "FULL"
      : "BASIC";
  }

  function handleCreate(res: ServerResponse, req: RecordedRequest, queue: string): void {
    const body = isRecord(req.body) ? req.body : {};
    const task = isRecord(body.task) ? body.task : undefined;
    const view = requestedView(body.responseView);
    const http = task && isRecord(task.httpRequest) ? task.httpRequest : undefined;
    if (!task || !http) {
      sendGoogleError(res, "INVALID_ARGUMENT", "Task must have an HTTP request target (http_request).");
      return;
    }
    const url = typeof http.url === "string" ? http.url : "";
    if (!/^https?:\/\/[^/]+/.test(url)) {
      sendGoogleError(
        res,
        "INVALID_ARGUMENT",
        `HttpRequest.url must be a valid http:// or https:// URL: "${url}"`,
      );
      return;
    }
    const method = decodeEnum(HTTP_METHODS, http.httpMethod ?? "POST") ?? "POST";
    const httpMethod = method === "HTTP_METHOD_UNSPECIFIED" ? "POST" : method;
    const oidc = isRecord(http.oidcToken) ? http.oidcToken : undefined;
    if (oidc && typeof oidc.serviceAccountEmail !== "string") {
      sendGoogleError(res, "INVALID_ARGUMENT", "OidcToken.service_account_email must be set.");
      return;
    }
    let name: string;
    if (typeof task.name === "string" && task.name !== "") {
      if (
        !task.name.startsWith(`${queue}/tasks/`) ||
        !/^[A-Za-z0-9_-]{1,500}$/.test(task.name.slice(queue.length + 7))
      ) {
        sendGoogleError(
          res,
          "INVALID_ARGUMENT",
          `Task name "${task.name}" is not a valid task name for queue ${queue}.`,
        );
        return;
      }
      if (nameReserved(task.name)) {
        sendGoogleError(res, "ALREADY_EXISTS", "Requested entity already exists");
        return;
      }
      name = task.name;
    } else {
      taskCounter += 1;
      name = `${queue}/tasks/${(7_241_870_148_436_744_000n + BigInt(taskCounter)).toString()}`;
    }
    const now = new Date().toISOString();
    const record: TaskRecord = {
      name,
      queue,
      httpRequest: {
        url,
        httpMethod,
        headers: isRecord(http.headers)
          ? Object.fromEntries(Object.entries(http.headers).map(([k, v]) => [k, String(v)]))
          : {},
        body: Buffer.from(typeof http.body === "string" ? http.body : "", "base64"),
        ...(oidc
          ? {
              oidcToken: {
                serviceAccountEmail: String(oidc.serviceAccountEmail),
                ...(typeof oidc.audience === "string" && oidc.audience !== ""
                  ? { audience: oidc.audience }
                  : {}),
              },
            }
          : {}),
        ...(isRecord(http.oauthToken)
          ? {
              oauthToken: {
                serviceAccountEmail: String(http.oauthToken.serviceAccountEmail ?? ""),
                ...(typeof http.oauthToken.scope === "string" ? { scope: http.oauthToken.scope } : {}),
              },
            }
          : {}),
      },
      scheduleTime: typeof task.scheduleTime === "string" ? task.scheduleTime : now,
      createTime: now,
      dispatchDeadline: typeof task.dispatchDeadline === "string" ? task.dispatchDeadline : "600s",
      dispatchCount: 0,
      responseCount: 0,
    };
    tasks.set(name, record);
    sendJson(res, 200, taskJson(req, record, view));
  }

  async function attempt(task: TaskRecord): Promise<DispatchRecord> {
    const http = task.httpRequest;
    const headers: Record<string, string> = { "User-Agent": "Google-Cloud-Tasks", ...http.headers };
    if (http.body.length > 0 && !Object.keys(headers).some((k) => k.toLowerCase() === "content-type")) {
      headers["Content-Type"] = "application/octet-stream";
    }
    const queueId = task.queue.split("/").pop() ?? "";
    const taskId = task.name.split("/").pop() ?? "";
    headers["X-CloudTasks-QueueName"] = queueId;
    headers["X-CloudTasks-TaskName"] = taskId;
    headers["X-CloudTasks-TaskRetryCount"] = String(task.dispatchCount);
    headers["X-CloudTasks-TaskExecutionCount"] = String(task.responseCount);
    headers["X-CloudTasks-TaskETA"] = (Date.parse(task.scheduleTime) / 1000).toFixed(6);
    if (http.oidcToken) headers.Authorization = `Bearer ${await emulator.tokenFor(http.oidcToken)}`;
    else if (http.oauthToken)
      headers.Authorization = `Bearer emulated-oauth:${http.oauthToken.serviceAccountEmail}`;

    const dispatchTime = new Date().toISOString();
    task.dispatchCount += 1;
    const record: DispatchRecord = {
      taskName: task.name,
      url: http.url,
      method: http.httpMethod,
      attempt: task.dispatchCount,
      status: 0,
      headers,
      body: http.body.toString("utf8"),
    };
    try {
      const response = await emulator.fetch(http.url, {
        method: http.httpMethod,
        headers,
        ...(http.body.length > 0 && http.httpMethod !== "GET" && http.httpMethod !== "HEAD"
          ? { body: http.body }
          : {}),
        signal: AbortSignal.timeout(Math.max(1, parseFloat(task.dispatchDeadline) || 600) * 1000),
      });
      await response.arrayBuffer().catch(() => undefined);
      record.status = response.status;
      task.responseCount += 1;
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    const ok = record.status >= 200 && record.status < 300;
    const attemptJson: AttemptJson = {
      scheduleTime: task.scheduleTime,
      dispatchTime,
      ...(record.status > 0 ? { responseTime: new Date().toISOString() } : {}),
      responseStatus: ok
        ? { code: 0, message: "OK" }
        : {
            code:
              record.status === 0 ? 14 : (GRPC_FROM_HTTP[record.status] ?? (record.status >= 500 ? 13 : 9)),
            message: record.error ?? `HTTP status code ${record.status}`,
          },
    };
    task.firstAttempt ??= attemptJson;
    task.lastAttempt = attemptJson;
    emulator.dispatches.push(record);
    return record;
  }

  async function handle(_req: IncomingMessage, res: ServerResponse, req: RecordedRequest): Promise<void> {
    await server?.sleep(emulator.latencyMs);
    if (!checkBearer(req, res, opts.acceptAnyToken ? undefined : token)) return;
    if (sendInjectedError(faults, req, res, { UNAVAILABLE: "The service is currently unavailable." })) return;

    const locationMatch = LOCATION_RE.exec(req.path);
    if (locationMatch && req.method === "GET") {
      const prefix = `projects/${locationMatch[1]}/locations/${locationMatch[2]}/queues/`;
      const list = [...queues.values()].filter((q) => q.name.startsWith(prefix));
      const { page, nextPageToken } = paginate(list, req.query, 100);
      sendJson(res, 200, {
        ...(page.length > 0 ? { queues: page.map((q) => queueJson(req, q)) } : {}),
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      return;
    }
    const match = QUEUE_RE.exec(req.path);
    if (!match) {
      sendUnknownPath(res, req.method, req.path);
      return;
    }
    const [, queueName = "", tasksSuffix, taskId, run] = match;
    const queue = queues.get(queueName);
    if (!queue) {
      sendGoogleError(res, "NOT_FOUND", "Requested entity was not found.");
      return;
    }
    if (tasksSuffix === undefined) {
      if (req.method === "GET") {
        sendJson(res, 200, queueJson(req, queue));
        return;
      }
      sendUnknownPath(res, req.method, req.path);
      return;
    }
    if (taskId === undefined) {
      if (req.method === "POST") {
        handleCreate(res, req, queueName);
        return;
      }
      if (req.method === "GET") {
        const view = requestedView(req.query.responseView);
        const list = [...tasks.values()].filter((t) => t.queue === queueName);
        const { page, nextPageToken } = paginate(list, req.query, 1000);
        sendJson(res, 200, {
          ...(page.length > 0 ? { tasks: page.map((t) => taskJson(req, t, view)) } : {}),
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        return;
      }
    }
    const task = tasks.get(`${queueName}/tasks/${taskId ?? ""}`);
    if (!task) {
      sendGoogleError(res, "NOT_FOUND", "Requested entity was not found.");
      return;
    }
    if (run && req.method === "POST") {
      const body = isRecord(req.body) ? req.body : {};
      const result = await attempt(task);
      if (result.status >= 200 && result.status < 300) retire(task);
      sendJson(res, 200, taskJson(req, task, requestedView(body.responseView)));
      return;
    }
    if (req.method === "GET") {
      sendJson(res, 200, taskJson(req, task, requestedView(req.query.responseView)));
      return;
    }
    if (req.method === "DELETE") {
      retire(task);
      sendJson(res, 200, {});
      return;
    }
    sendUnknownPath(res, req.method, req.path);
  }

  const emulator: CloudTasksEmulator = {
    url: "",
    port: 0,
    token,
    requests: [],
    queues,
    tasks,
    dispatches: [],
    tokenFor: defaultTokenFor,
    fetch: (url, init) => fetch(url, init),
    nameReuseWindowMs: 60 * 60 * 1000,
    latencyMs: 0,
    createQueue: (project, location, queueId) =>
      addQueue(`projects/${project}/locations/${location}/queues/${queueId}`),
    async dispatch(o = {}) {
      const maxAttempts = o.maxAttempts ?? 3;
      const results: DispatchRecord[] = [];
      const attempted = new Set<string>();
      for (let round = 0; round < 10_000; round++) {
        const due = [...tasks.values()].find(
          (t) => !attempted.has(t.name) && (o.all || Date.parse(t.scheduleTime) <= Date.now()),
        );
        if (!due) break;
        attempted.add(due.name);
        for (let i = 0; i < maxAttempts; i++) {
          if (!tasks.has(due.name)) break;
          const result = await attempt(due);
          results.push(result);
          if (result.status >= 200 && result.status < 300) break;
        }
        retire(due);
      }
      return results;
    },
    failNext(...errors) {
      faults.push(...errors);
    },
    reset() {
      tasks.clear();
      tombstones.clear();
      faults.length = 0;
      emulator.dispatches.length = 0;
      emulator.requests.length = 0;
      emulator.tokenFor = defaultTokenFor;
      emulator.fetch = (url, init) => fetch(url, init);
      emulator.nameReuseWindowMs = 60 * 60 * 1000;
      emulator.latencyMs = 0;
      queues.clear();
      for (const q of opts.queues ?? []) addQueue(q);
    },
    close: async () => {
      await server?.close();
    },
  };

  server = await startEmulatorServer(handle);
  emulator.url = server.url;
  emulator.port = server.port;
  emulator.requests = server.requests;
  return emulator;
}
