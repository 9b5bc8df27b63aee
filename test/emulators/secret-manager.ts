/**
 * Secret Manager v1 REST emulator (`secretmanager.googleapis.com`) for `@google-cloud/secret-manager`'s
 * `SecretManagerServiceClient` in REST fallback mode.
 *
 * Point the real client at it with `new SecretManagerServiceClient(secretManagerClientOptions(emulator))`:
 * `{ fallback: true, protocol: "http", apiEndpoint: "127.0.0.1", port, authClient }` where `authClient` is
 * an OAuth2Client holding a fixed access token — google-gax's fallback stub then calls `authClient.fetch()`
 * and never looks for Application Default Credentials or a metadata server.
 *
 * Covered of the real service (paths from the service's `google.api.http` rules, `projects/{p}` and
 * `projects/{p}/locations/{l}` parents):
 * - `GET …/secrets/{s}/versions/{v}:access` (`latest` = the most recently created version, whatever its
 *   state) → `{ name, payload: { data: <base64>, dataCrc32c: "<int64 as string>" } }`
 * - `POST {parent}/secrets?secretId=` (replication required), `GET|PATCH|DELETE …/secrets/{s}`,
 *   `GET {parent}/secrets` (pageSize/pageToken, `totalSize`), `POST …/secrets/{s}:addVersion` (checks a
 *   client `dataCrc32c`, 64 KiB limit), `GET …/secrets/{s}/versions` (newest first), `GET …/versions/{v}`,
 *   `POST …/versions/{v}:disable|:enable|:destroy`.
 * - Resource names in responses carry the project *number* (as the real API does); requests may use the
 *   project id or number. `projectNumber(projectId)` gives the number the emulator uses.
 * - Enums: numeric when the request carries `$alt=json;enum-encoding=int` (what the gapic client sends),
 *   names otherwise.
 * - Errors with the real bodies: 404 NOT_FOUND ("Secret [projects/…] not found or has no versions."),
 *   400 FAILED_PRECONDITION ("Secret Version […] is in DISABLED state."), 409 ALREADY_EXISTS, 403
 *   PERMISSION_DENIED with `ErrorInfo { reason: "IAM_PERMISSION_DENIED" }` (`deny(resource)`), 401
 *   UNAUTHENTICATED without a bearer token, and any status via `failNext()`.
 *
 * What the real client makes of an error in REST fallback mode (google-gax 5.0.8 + gaxios 7): the call
 * rejects with a `GaxiosError` whose `code` and `status` are the HTTP status (404, 400, 503 …), not the gRPC
 * code, and whose `message` is the JSON error body. gax's retry settings compare gRPC codes, so fallback
 * calls are never retried (googleapis/gax-nodejs#1803). Code that handles errors should accept both forms.
 *
 * Not covered: IAM policy methods, rotation, topics, TTL/expiry of secrets, etags on update/delete,
 * `filter` on list calls (ignored), regional replication semantics.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import {
  checkBearer,
  crc32c,
  encodeEnum,
  fallbackClientOptions,
  type InjectedGoogleError,
  newEtag,
  paginate,
  projectNumberFor,
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

export type SecretVersionState = "ENABLED" | "DISABLED" | "DESTROYED";
const VERSION_STATES = ["STATE_UNSPECIFIED", "ENABLED", "DISABLED", "DESTROYED"] as const;
const MAX_PAYLOAD_BYTES = 64 * 1024;

export interface SecretVersionRecord {
  /** `projects/{number}/secrets/{id}/versions/{n}` */
  name: string;
  version: number;
  state: SecretVersionState;
  data: Buffer;
  /** `data` as UTF-8 */
  value: string;
  createTime: string;
  destroyTime?: string;
  etag: string;
  clientSpecifiedPayloadChecksum: boolean;
}

export interface SecretRecord {
  /** `projects/{number}/secrets/{id}` (or `…/locations/{l}/secrets/{id}`) */
  name: string;
  secretId: string;
  createTime: string;
  etag: string;
  replication: unknown;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  versions: SecretVersionRecord[];
}

export interface SecretManagerEmulator {
  url: string;
  port: number;
  /** The bearer token the emulator accepts (any bearer token when `acceptAnyToken`). */
  token: string;
  requests: RecordedRequest[];
  /** Keyed by full secret name (`projects/{number}/secrets/{id}`). */
  secrets: Map<string, SecretRecord>;
  /** Creates the secret if needed (automatic replication) and adds an ENABLED version holding `value`. */
  setSecret(project: string, secretId: string, value: string | Uint8Array): SecretVersionRecord;
  /** Versions oldest first; `[]` when the secret does not exist. */
  versions(project: string, secretId: string): SecretVersionRecord[];
  setVersionState(project: string, secretId: string, version: number, state: SecretVersionState): void;
  /** The project number used in resource names for a project id. */
  projectNumber(project: string): string;
  /** Answers 403 PERMISSION_DENIED for every request on a resource whose name (with project id or number) starts with `resource`. */
  deny(resource: string): void;
  /** The next matching requests fail with these errors, FIFO. */
  failNext(...errors: InjectedGoogleError[]): void;
  /** Added before every answer. */
  latencyMs: number;
  reset(): void;
  close(): Promise<void>;
}

export interface SecretManagerEmulatorOptions {
  /** Bearer token to require; default `"emulator-access-token"`. */
  token?: string;
  /** Accept any bearer token (still 401 when the header is missing). Default false. */
  acceptAnyToken?: boolean;
}

const PERMISSION_BY_OPERATION: Record<string, string> = {
  access: "secretmanager.versions.access",
  getVersion: "secretmanager.versions.get",
  listVersions: "secretmanager.versions.list",
  addVersion: "secretmanager.versions.add",
  disable: "secretmanager.versions.disable",
  enable: "secretmanager.versions.enable",
  destroy: "secretmanager.versions.destroy",
  getSecret: "secretmanager.secrets.get",
  updateSecret: "secretmanager.secrets.update",
  deleteSecret: "secretmanager.secrets.delete",
  createSecret: "secretmanager.secrets.create",
  listSecrets: "secretmanager.secrets.list",
};

const DEFAULT_ERROR_MESSAGES: Partial<Record<string, string>> = {
  UNAVAILABLE: "The service is currently unavailable.",
  INTERNAL: "Internal error encountered.",
  RESOURCE_EXHAUSTED:
    "Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute'.",
  DEADLINE_EXCEEDED: "Deadline expired before operation could complete.",
};

/** Options that make the real `SecretManagerServiceClient` talk to the emulator over plain HTTP without ADC. */
export function secretManagerClientOptions(emulator: {
  port: number;
  token: string;
}): NonNullable<ConstructorParameters<typeof SecretManagerServiceClient>[0]> {
  return fallbackClientOptions(emulator) as unknown as NonNullable<
    ConstructorParameters<typeof SecretManagerServiceClient>[0]
  >;
}

const PATH_RE =
  /^\/v1\/projects\/([^/]+)(?:\/locations\/([^/]+))?\/secrets(?:\/([^/:]+)(?::(addVersion)|\/versions(?:\/([^/:]+)(?::(access|disable|enable|destroy))?)?)?)?$/;

export async function startSecretManagerEmulator(
  opts: SecretManagerEmulatorOptions = {},
): Promise<SecretManagerEmulator> {
  const token = opts.token ?? "emulator-access-token";
  const secrets = new Map<string, SecretRecord>();
  const denied: string[] = [];
  const faults: InjectedGoogleError[] = [];
  let server: EmulatorServer | undefined;

  const parentName = (project: string, location?: string) =>
    `projects/${projectNumberFor(project)}${location ? `/locations/${location}` : ""}`;

  function getOrCreateSecret(parent: string, secretId: string): SecretRecord {
    const name = `${parent}/secrets/${secretId}`;
    let secret = secrets.get(name);
    if (!secret) {
      secret = {
        name,
        secretId,
        createTime: new Date().toISOString(),
        etag: newEtag(),
        replication: { automatic: {} },
        labels: {},
        annotations: {},
        versions: [],
      };
      secrets.set(name, secret);
    }
    return secret;
  }

  function addVersion(secret: SecretRecord, data: Buffer, clientChecksum: boolean): SecretVersionRecord {
    const version = (secret.versions.at(-1)?.version ?? 0) + 1;
    const record: SecretVersionRecord = {
      name: `${secret.name}/versions/${version}`,
      version,
      state: "ENABLED",
      data,
      value: data.toString("utf8"),
      createTime: new Date().toISOString(),
      etag: newEtag(),
      clientSpecifiedPayloadChecksum: clientChecksum,
    };
    secret.versions.push(record);
    return record;
  }

  function versionJson(req: RecordedRequest, v: SecretVersionRecord): Record<string, unknown> {
    return {
      name: v.name,
      createTime: v.createTime,
      ...(v.destroyTime ? { destroyTime: v.destroyTime } : {}),
      state: encodeEnum(req, VERSION_STATES, v.state),
      replicationStatus: { automatic: {} },
      etag: v.etag,
      clientSpecifiedPayloadChecksum: v.clientSpecifiedPayloadChecksum,
    };
  }

  function secretJson(s: SecretRecord): Record<string, unknown> {
    return {
      name: s.name,
      replication: s.replication,
      createTime: s.createTime,
      ...(Object.keys(s.labels).length > 0 ? { labels: s.labels } : {}),
      ...(Object.keys(s.annotations).length > 0 ? { annotations: s.annotations } : {}),
      etag: s.etag,
    };
  }

  function isDenied(resource: string, project: string): boolean {
    const withId = resource.replace(/^projects\/[^/]+/, `projects/${project}`);
    return denied.some((prefix) => resource.startsWith(prefix) || withId.startsWith(prefix));
  }

  function resolveVersion(secret: SecretRecord, id: string): SecretVersionRecord | undefined {
    if (id === "latest") return secret.versions.at(-1);
    if (!/^\d+$/.test(id)) return undefined;
    return secret.versions.find((v) => v.version === Number(id));
  }

  async function handle(_req: IncomingMessage, res: ServerResponse, req: RecordedRequest): Promise<void> {
    await server?.sleep(emulator.latencyMs);
    if (!checkBearer(req, res, opts.acceptAnyToken ? undefined : token)) return;
    const match = PATH_RE.exec(req.path);
    if (!match) {
      sendUnknownPath(res, req.method, req.path);
      return;
    }
    const [, project = "", location, secretId, addVersionVerb, versionId, verb] = match;
    const parent = parentName(project, location);
    const method = req.method;
    const hasVersions = req.path.includes("/versions");

    let operation: string;
    if (secretId === undefined) operation = method === "POST" ? "createSecret" : "listSecrets";
    else if (addVersionVerb) operation = "addVersion";
    else if (hasVersions && versionId === undefined) operation = "listVersions";
    else if (versionId !== undefined) operation = verb ?? "getVersion";
    else operation = method === "DELETE" ? "deleteSecret" : method === "PATCH" ? "updateSecret" : "getSecret";

    const requestedResource =
      secretId === undefined
        ? parent
        : `${parent}/secrets/${secretId}${versionId !== undefined ? `/versions/${versionId}` : ""}`;
    if (isDenied(requestedResource, project)) {
      const permission = PERMISSION_BY_OPERATION[operation] ?? "secretmanager.secrets.get";
      const shown = requestedResource.replace(/^projects\/[^/]+/, `projects/${project}`);
      sendGoogleError(
        res,
        "PERMISSION_DENIED",
        `Permission '${permission}' denied for resource '${shown}' (or it may not exist).`,
        [
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "IAM_PERMISSION_DENIED",
            domain: "iam.googleapis.com",
            metadata: { permission, resource: shown },
          },
        ],
      );
      return;
    }
    if (sendInjectedError(faults, req, res, DEFAULT_ERROR_MESSAGES)) return;

    const body = isRecord(req.body) ? req.body : {};

    if (operation === "listSecrets" && method === "GET") {
      const all = [...secrets.values()].filter((s) => s.name.startsWith(`${parent}/secrets/`));
      const { page, nextPageToken } = paginate(all, req.query, 25_000);
      sendJson(res, 200, {
        ...(page.length > 0 ? { secrets: page.map(secretJson) } : {}),
        ...(nextPageToken ? { nextPageToken } : {}),
        totalSize: all.length,
      });
      return;
    }
    if (operation === "createSecret") {
      const id = req.query.secretId ?? "";
      if (!/^[A-Za-z0-9_-]{1,255}$/.test(id)) {
        sendGoogleError(
          res,
          "INVALID_ARGUMENT",
          id === ""
            ? "Secret ID must be specified."
            : `Secret ID [${id}] must only contain letters, numbers, underscores and hyphens, and be at most 255 characters.`,
        );
        return;
      }
      if (!isRecord(body.replication)) {
        sendGoogleError(res, "INVALID_ARGUMENT", "Secret.replication must be specified.");
        return;
      }
      if (secrets.has(`${parent}/secrets/${id}`)) {
        sendGoogleError(res, "ALREADY_EXISTS", `Secret [${parent}/secrets/${id}] already exists.`);
        return;
      }
      const secret = getOrCreateSecret(parent, id);
      secret.replication = body.replication;
      if (isRecord(body.labels)) secret.labels = stringRecord(body.labels);
      if (isRecord(body.annotations)) secret.annotations = stringRecord(body.annotations);
      sendJson(res, 200, secretJson(secret));
      return;
    }

    const secretName = `${parent}/secrets/${secretId ?? ""}`;
    const secret = secrets.get(secretName);
    if (!secret) {
      const suffix = operation === "access" ? " not found or has no versions." : " not found.";
      sendGoogleError(res, "NOT_FOUND", `Secret [${secretName}]${suffix}`);
      return;
    }

    switch (operation) {
      case "getSecret":
        sendJson(res, 200, secretJson(secret));
        return;
      case "updateSecret": {
        const mask = (req.query.updateMask ?? "").split(",").filter(Boolean);
        if (mask.length === 0) {
          sendGoogleError(res, "INVALID_ARGUMENT", "update_mask must be specified.");
          return;
        }
        if (mask.includes("labels")) secret.labels = isRecord(body.labels) ? stringRecord(body.labels) : {};
        if (mask.includes("annotations"))
          secret.annotations = isRecord(body.annotations) ? stringRecord(body.annotations) : {};
        secret.etag = newEtag();
        sendJson(res, 200, secretJson(secret));
        return;
      }
      case "deleteSecret":
        secrets.delete(secretName);
        sendJson(res, 200, {});
        return;
      case "addVersion": {
        const payload = isRecord(body.payload) ? body.payload : {};
        const data = Buffer.from(typeof payload.data === "string" ? payload.data : "", "base64");
        if (data.length > MAX_PAYLOAD_BYTES) {
          sendGoogleError(res, "INVALID_ARGUMENT", "Secret Payload cannot exceed 65536 bytes.");
          return;
        }
        const sent = payload.dataCrc32c;
        const hasChecksum = sent !== undefined && sent !== null;
        if (hasChecksum && String(sent) !== String(crc32c(data))) {
          sendGoogleError(
            res,
            "INVALID_ARGUMENT",
            "Checksum mismatch: the data_crc32c does not match the payload data.",
          );
          return;
        }
        sendJson(res, 200, versionJson(req, addVersion(secret, data, hasChecksum)));
        return;
      }
      case "listVersions": {
        const newestFirst = [...secret.versions].reverse();
        const { page, nextPageToken } = paginate(newestFirst, req.query, 25_000);
        sendJson(res, 200, {
          ...(page.length > 0 ? { versions: page.map((v) => versionJson(req, v)) } : {}),
          ...(nextPageToken ? { nextPageToken } : {}),
          totalSize: newestFirst.length,
        });
        return;
      }
    }

    const version = resolveVersion(secret, versionId ?? "");
    if (!version) {
      if (versionId === "latest") {
        sendGoogleError(res, "NOT_FOUND", `Secret [${secretName}] not found or has no versions.`);
      } else {
        sendGoogleError(
          res,
          "NOT_FOUND",
          `Secret Version [${secretName}/versions/${versionId ?? ""}] not found.`,
        );
      }
      return;
    }
    const notUsable = () =>
      sendGoogleError(
        res,
        "FAILED_PRECONDITION",
        `Secret Version [${version.name}] is in ${version.state} state.`,
      );

    switch (operation) {
      case "getVersion":
        sendJson(res, 200, versionJson(req, version));
        return;
      case "access":
        if (version.state !== "ENABLED") {
          notUsable();
          return;
        }
        sendJson(res, 200, {
          name: version.name,
          payload: { data: version.data.toString("base64"), dataCrc32c: String(crc32c(version.data)) },
        });
        return;
      case "disable":
      case "enable":
        if (version.state === "DESTROYED") {
          notUsable();
          return;
        }
        version.state = operation === "disable" ? "DISABLED" : "ENABLED";
        version.etag = newEtag();
        sendJson(res, 200, versionJson(req, version));
        return;
      case "destroy":
        if (version.state === "DESTROYED") {
          notUsable();
          return;
        }
        version.state = "DESTROYED";
        version.destroyTime = new Date().toISOString();
        version.data = Buffer.alloc(0);
        version.value = "";
        version.etag = newEtag();
        sendJson(res, 200, versionJson(req, version));
        return;
    }
    sendUnknownPath(res, req.method, req.path);
  }

  const emulator: SecretManagerEmulator = {
    url: "",
    port: 0,
    token,
    requests: [],
    secrets,
    latencyMs: 0,
    setSecret(project, secretId, value) {
      const secret = getOrCreateSecret(parentName(project), secretId);
      return addVersion(secret, Buffer.from(value), false);
    },
    versions(project, secretId) {
      return [...(secrets.get(`${parentName(project)}/secrets/${secretId}`)?.versions ?? [])];
    },
    setVersionState(project, secretId, version, state) {
      const record = emulator.versions(project, secretId).find((v) => v.version === version);
      if (!record) throw new Error(`no version ${version} of ${project}/${secretId}`);
      record.state = state;
    },
    projectNumber: projectNumberFor,
    deny(resource) {
      denied.push(resource);
    },
    failNext(...errors) {
      faults.push(...errors);
    },
    reset() {
      secrets.clear();
      denied.length = 0;
      faults.length = 0;
      emulator.latencyMs = 0;
      emulator.requests.length = 0;
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

function stringRecord(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}
