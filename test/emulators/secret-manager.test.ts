import { SecretManagerServiceClient } from "@google-cloud/secret-manager";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { crc32c, restError } from "./google-rest";
import {
  type SecretManagerEmulator,
  secretManagerClientOptions,
  startSecretManagerEmulator,
} from "./secret-manager";

let sm: SecretManagerEmulator;
let client: SecretManagerServiceClient;
const project = "switchboard-test";

beforeAll(async () => {
  sm = await startSecretManagerEmulator();
  client = new SecretManagerServiceClient(secretManagerClientOptions(sm));
});
afterEach(() => sm.reset());
afterAll(async () => {
  await client.close();
  await sm.close();
});

describe("secret manager emulator with the real SecretManagerServiceClient (REST fallback)", () => {
  it("accesses a seeded secret by latest and by number, with payload and checksum", async () => {
    sm.setSecret(project, "intercom-token", "v1-token");
    sm.setSecret(project, "intercom-token", "v2-token");

    const [latest] = await client.accessSecretVersion({
      name: `projects/${project}/secrets/intercom-token/versions/latest`,
    });
    const number = sm.projectNumber(project);
    expect(latest.name).toBe(`projects/${number}/secrets/intercom-token/versions/2`);
    expect(Buffer.from(latest.payload?.data ?? "").toString("utf8")).toBe("v2-token");
    expect(String(latest.payload?.dataCrc32c)).toBe(String(crc32c(Buffer.from("v2-token"))));

    const [first] = await client.accessSecretVersion({
      name: client.secretVersionPath(project, "intercom-token", "1"),
    });
    expect(Buffer.from(first.payload?.data ?? "").toString("utf8")).toBe("v1-token");

    const request = sm.requests.at(-1);
    expect(request?.method).toBe("GET");
    expect(request?.path).toBe(`/v1/projects/${project}/secrets/intercom-token/versions/1:access`);
    expect(request?.headers.authorization).toBe(`Bearer ${sm.token}`);
    expect(request?.query.$alt).toBe("json;enum-encoding=int");
  });

  it("creates a secret, adds versions, gets and lists them", async () => {
    const [secret] = await client.createSecret({
      parent: `projects/${project}`,
      secretId: "gemini-api-key",
      secret: { replication: { automatic: {} }, labels: { app: "switchboard" } },
    });
    expect(secret.name).toBe(`projects/${sm.projectNumber(project)}/secrets/gemini-api-key`);
    expect(secret.labels).toEqual({ app: "switchboard" });
    expect(sm.requests.at(-1)?.query.secretId).toBe("gemini-api-key");

    const data = Buffer.from("AIza-secret");
    const [version] = await client.addSecretVersion({
      parent: secret.name,
      payload: { data, dataCrc32c: crc32c(data) },
    });
    expect(version.name).toMatch(/\/versions\/1$/);
    expect(version.state).toBe("ENABLED");
    expect(version.clientSpecifiedPayloadChecksum).toBe(true);
    await client.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from("second") } });

    const [got] = await client.getSecret({ name: `projects/${project}/secrets/gemini-api-key` });
    expect(got.replication?.automatic).toBeDefined();

    const [secrets] = await client.listSecrets({ parent: `projects/${project}` });
    expect(secrets.map((s) => s.name)).toEqual([secret.name]);

    const [versions] = await client.listSecretVersions({
      parent: `projects/${project}/secrets/gemini-api-key`,
    });
    expect(versions.map((v) => v.name?.split("/").pop())).toEqual(["2", "1"]);

    const [one] = await client.getSecretVersion({
      name: `projects/${project}/secrets/gemini-api-key/versions/1`,
    });
    expect(one.state).toBe("ENABLED");
    expect(sm.versions(project, "gemini-api-key").map((v) => v.value)).toEqual(["AIza-secret", "second"]);
  });

  it("disable / enable / destroy versions, and access answers FAILED_PRECONDITION for unusable ones", async () => {
    sm.setSecret(project, "db-password", "pw1");
    const name = `projects/${project}/secrets/db-password/versions/1`;

    const [disabled] = await client.disableSecretVersion({ name });
    expect(disabled.state).toBe("DISABLED");
    const failed = await restError(client.accessSecretVersion({ name }));
    expect(failed.code).toBe(400);
    expect(failed.status).toBe("FAILED_PRECONDITION");
    expect(failed.message).toContain("is in DISABLED state");
    const latest = await restError(
      client.accessSecretVersion({ name: `projects/${project}/secrets/db-password/versions/latest` }),
    );
    expect(latest.status).toBe("FAILED_PRECONDITION");

    const [enabled] = await client.enableSecretVersion({ name });
    expect(enabled.state).toBe("ENABLED");
    const [ok] = await client.accessSecretVersion({ name });
    expect(Buffer.from(ok.payload?.data ?? "").toString()).toBe("pw1");

    const [destroyed] = await client.destroySecretVersion({ name });
    expect(destroyed.state).toBe("DESTROYED");
    expect(destroyed.destroyTime).toBeTruthy();
    const gone = await restError(client.accessSecretVersion({ name }));
    expect(gone.status).toBe("FAILED_PRECONDITION");
    expect(gone.message).toContain("DESTROYED");
    expect(sm.versions(project, "db-password")[0]?.state).toBe("DESTROYED");
  });

  it("answers NOT_FOUND, ALREADY_EXISTS and PERMISSION_DENIED with the real error bodies", async () => {
    const missing = await restError(
      client.accessSecretVersion({ name: `projects/${project}/secrets/nope/versions/latest` }),
    );
    expect(missing.code).toBe(404);
    expect(missing.status).toBe("NOT_FOUND");
    expect(missing.message).toContain("not found or has no versions");

    sm.setSecret(project, "exists", "x");
    const noVersion = await restError(
      client.getSecretVersion({ name: `projects/${project}/secrets/exists/versions/9` }),
    );
    expect(noVersion.status).toBe("NOT_FOUND");
    expect(noVersion.message).toContain("versions/9] not found");

    const dup = await restError(
      client.createSecret({
        parent: `projects/${project}`,
        secretId: "exists",
        secret: { replication: { automatic: {} } },
      }),
    );
    expect(dup.code).toBe(409);
    expect(dup.status).toBe("ALREADY_EXISTS");

    sm.deny(`projects/${project}/secrets/locked`);
    sm.setSecret(project, "locked", "x");
    const denied = await restError(
      client.accessSecretVersion({ name: `projects/${project}/secrets/locked/versions/latest` }),
    );
    expect(denied.code).toBe(403);
    expect(denied.status).toBe("PERMISSION_DENIED");
    expect(denied.message).toContain("secretmanager.versions.access");
  });

  it("failNext injects an error (non-retryable methods fail at once)", async () => {
    sm.setSecret(project, "s", "v");
    sm.failNext({ status: "INTERNAL" });
    const error = await restError(client.getSecret({ name: `projects/${project}/secrets/s` }));
    expect(error.code).toBe(500);
    expect(error.status).toBe("INTERNAL");
    const [ok] = await client.getSecret({ name: `projects/${project}/secrets/s` });
    expect(ok.name).toContain("/secrets/s");
  });

  it("a 503 on accessSecretVersion is not retried in fallback mode (the GaxiosError carries the HTTP code)", async () => {
    // The gapic config retries AccessSecretVersion on UNAVAILABLE (gRPC 14), but in REST fallback the error
    // code is 503, so gax gives up at once (googleapis/gax-nodejs#1803). Callers must retry themselves.
    sm.setSecret(project, "s", "v");
    sm.failNext({ status: "UNAVAILABLE" });
    const error = await restError(
      client.accessSecretVersion({ name: `projects/${project}/secrets/s/versions/latest` }),
    );
    expect(error.code).toBe(503);
    expect(error.status).toBe("UNAVAILABLE");
    expect(sm.requests.filter((r) => r.path.endsWith(":access"))).toHaveLength(1);
    const [ok] = await client.accessSecretVersion({ name: `projects/${project}/secrets/s/versions/latest` });
    expect(Buffer.from(ok.payload?.data ?? "").toString()).toBe("v");
  });

  it("rejects a request without a bearer token with 401", async () => {
    const res = await fetch(`${sm.url}/v1/projects/${project}/secrets`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { status: string } };
    expect(body.error.status).toBe("UNAUTHENTICATED");
  });
});
