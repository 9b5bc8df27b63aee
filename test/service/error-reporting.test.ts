import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../service/src/logger";
import { bearer, LogCapture, raw, startTestService, type TestService, testDatabase } from "./helpers";

const JWT_SECRET = "user-jwt-secret-0123456789abcdef0123456789";
const ISSUER = "https://auth.example.com";
const EMAIL = "jane.doe@example.com";
const REPORTED_ERROR_EVENT =
  "type.googleapis.com/google.devtools.clouderrorreporting.v1beta1.ReportedErrorEvent";

const userToken = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(JWT_SECRET));

let svc: TestService;
let drop: () => Promise<void>;

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(t.db, {
    JWT_SECRET,
    JWT_ISSUER: ISSUER,
    K_SERVICE: "switchboard-public",
    K_REVISION: "switchboard-public-00042-xyz",
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

describe("errors in Error Reporting's format", () => {
  test("an unhandled error logs one ReportedErrorEvent with the redacted stack; the client gets the uniform 500", async () => {
    // A database error whose message quotes the identity (an e-mail address): the turn cannot be saved.
    await raw(svc.db).unsafe(`
      create function refuse_session() returns trigger language plpgsql as $$
      begin raise exception 'cannot store a session for %', new.identity_id; end $$`);
    await raw(svc.db).unsafe(
      "create trigger refuse_session before insert on sessions for each row execute function refuse_session()",
    );
    try {
      const res = await svc.post(
        "/api/v1/chat",
        { message: "How do I reset my password?" },
        { ...bearer(await userToken(EMAIL)), "x-request-id": "req-error-report-1" },
      );
      expect(res.status).toBe(500);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body).toEqual({
        error: {
          code: "internal_error",
          message: "Something went wrong on our side.",
          requestId: "req-error-report-1",
        },
      });
      expect(JSON.stringify(body)).not.toMatch(/\bat |stack|refuse_session/);

      const reported = svc.logs.lines.filter((l) => l["@type"] === REPORTED_ERROR_EVENT);
      expect(reported).toHaveLength(1);
      const [line] = reported;
      expect(line).toMatchObject({
        severity: "ERROR",
        requestId: "req-error-report-1",
        serviceContext: { service: "switchboard-public", version: "switchboard-public-00042-xyz" },
        context: { httpRequest: { method: "POST", url: "/api/v1/chat", responseStatusCode: 500 } },
        error: { message: expect.stringMatching(/^cannot store a session for user:\S*\[EMAIL\]$/) },
      });
      // The stack as V8 writes it (header, then frames), with the e-mail address redacted from the header.
      const stack = line?.stack_trace as string;
      expect(stack).toMatch(/^\w*Error: cannot store a session for user:\S*\[EMAIL\]\n\s+at /);
      expect(JSON.stringify(line)).not.toContain(EMAIL);
    } finally {
      await raw(svc.db).unsafe("drop trigger refuse_session on sessions");
      await raw(svc.db).unsafe("drop function refuse_session()");
    }
  });
});

describe("the logger", () => {
  test("without Cloud Run's variables the service context is switchboard and the package version", async () => {
    const local = await startTestService(svc.db);
    try {
      local.log.error({ error: new Error("boom") }, "failed");
      const [line] = local.logs.lines.filter((l) => l["@type"] === REPORTED_ERROR_EVENT);
      expect(line?.serviceContext).toEqual({
        service: "switchboard",
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      });
    } finally {
      await local.close();
    }
  });

  test("an error logged on its own keeps its message redacted; warnings carry no stack", () => {
    const logs = new LogCapture();
    const log = createLogger({ level: "info", destination: logs });
    log.error(new Error(`failed for ${EMAIL}`));
    log.warn({ error: new Error(`retrying for ${EMAIL}`) }, "retrying");
    const [error, warning] = logs.lines;
    expect(error).toMatchObject({
      message: "failed for [EMAIL]",
      "@type": REPORTED_ERROR_EVENT,
      serviceContext: { service: "switchboard", version: "unknown" },
    });
    expect(error?.stack_trace).toMatch(/^Error: failed for \[EMAIL\]\n\s+at /);
    expect(warning?.["@type"]).toBeUndefined();
    expect(warning?.stack_trace).toBeUndefined();
    expect(logs.raw.join("\n")).not.toContain(EMAIL);
  });
});
