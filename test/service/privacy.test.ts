import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { createLogger } from "../../service/src/logger";
import { bearer, LogCapture, startTestService, type TestService, testDatabase } from "./helpers";

const JWT_SECRET = "user-jwt-secret-0123456789abcdef0123456789";
const ISSUER = "https://auth.example.com";
const EMAIL = "jane.doe@example.com";

/** A user JWT whose subject is an e-mail address, as many identity providers issue them. */
const userToken = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer(ISSUER)
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(JWT_SECRET));

const MESSAGE_WITH_PII = [
  `I'm ${EMAIL}, card 4111.1111.1111.1111, IBAN DE89 3704 0044 0532 0130 00,`,
  "phone +44 20 7946 0958, my ssn is 123456789 — how do refunds work?",
].join(" ");
// As written in the message: a bare "7946" or "4111" also turns up in random request ids now and then.
const PII_FRAGMENTS = [EMAIL, "4111.1111", "DE89", "3704 0044", "7946 0958", "123456789"];

let svc: TestService;
let drop: () => Promise<void>;

beforeAll(async () => {
  const t = await testDatabase();
  drop = t.drop;
  svc = await startTestService(t.db, {
    JWT_SECRET,
    JWT_ISSUER: ISSUER,
    // Every turn logs budget.warning, which names the identity.
    BUDGET_WARN_RATIO: "0",
  });
});
afterAll(async () => {
  await svc?.close();
  await drop?.();
});

describe("what the model and the database see", () => {
  test("IBANs, dotted and full-width cards, bare SSNs and international numbers are redacted before storage", async () => {
    const message = [
      "IBAN GB29 NWBK 6016 1331 9268 19, card 5500.0000.0000.0004,",
      "backup card ４１１１ １１１１ １１１１ １１１１, my ssn is 123456789,",
      "call +33 6 12 34 56 78 — order 123456789 never came",
    ].join(" ");
    const token = await userToken("u_privacy");
    const res = await svc.post("/api/v1/chat", { message }, bearer(token));
    expect(res.status).toBe(200);
    const { sessionId } = (await res.json()) as { sessionId: string };
    const history = await svc.get(`/api/v1/sessions/${sessionId}/messages`, bearer(token));
    const { messages } = (await history.json()) as { messages: { role: string; content: string }[] };
    expect(messages[0]?.content).toBe(
      [
        "IBAN [IBAN], card [CARD],",
        "backup card [CARD], my ssn is [SSN],",
        "call [PHONE] — order 123456789 never came",
      ].join(" "),
    );
  });
});

describe("log lines carry no personal data", () => {
  test("messages and tokens with PII sent through the API leave no trace in any line; identities are hashed and still correlate", async () => {
    const token = await userToken(EMAIL);
    const other = await userToken("john.roe@example.com");
    const before = svc.logs.lines.length;
    for (const t of [token, token, other]) {
      const res = await svc.post("/api/v1/chat", { message: MESSAGE_WITH_PII }, bearer(t));
      expect(res.status).toBe(200);
    }
    const all = svc.logs.raw.join("\n");
    for (const fragment of [...PII_FRAGMENTS, token, "john.roe"]) expect(all).not.toContain(fragment);

    const identities = svc.logs.lines
      .slice(before)
      .filter((l) => l.event === "budget.warning")
      .map((l) => l.identity as string);
    expect(identities).toHaveLength(3);
    for (const id of identities) expect(id).toMatch(/^user:#[0-9a-f]{16}$/);
    // The same person gets the same hash on every line; another person another one.
    expect(identities[0]).toBe(identities[1]);
    expect(identities[2]).not.toBe(identities[0]);
  });
});

describe("the logger", () => {
  const capture = () => {
    const logs = new LogCapture();
    return { logs, log: createLogger({ level: "info", destination: logs, identityHashKey: "k".repeat(40) }) };
  };

  test("structured fields that can hold credentials or personal data are removed, wherever they are", () => {
    const { logs, log } = capture();
    log.info(
      {
        headers: { authorization: "Bearer abc.def", cookie: "sid=1", "x-api-key": "key-1" },
        request: { headers: { authorization: "Bearer ghi" }, body: "hi" },
        token: "tok-1",
        sessionToken: "tok-2",
        email: EMAIL,
        contact: { email: EMAIL, phone: "+44 20 7946 0958", name: "Jane Doe" },
        text: "my card is …",
        config: { DATABASE_URL: "postgres://u:pw@db/x" },
      },
      "request",
    );
    expect(logs.lines[0]).toMatchObject({
      headers: { authorization: "[secret]", cookie: "[secret]", "x-api-key": "[secret]" },
      request: { headers: { authorization: "[secret]" }, body: "[redacted]" },
      token: "[secret]",
      sessionToken: "[secret]",
      email: "[redacted]",
      contact: { email: "[redacted]", phone: "[redacted]", name: "[redacted]" },
      text: "[redacted]",
      config: { DATABASE_URL: "[secret]" },
    });
    for (const fragment of ["abc.def", "ghi", "tok-", EMAIL, "7946", "Jane", "pw@"]) {
      expect(logs.raw[0]).not.toContain(fragment);
    }
  });

  test("identity ids are hashed in fields and in child-logger bindings; ids without personal data stay", () => {
    const { logs, log } = capture();
    log.child({ identity: `user:${EMAIL}` }).info({ userId: `intercom:${EMAIL}` }, "one");
    log.info({ identity: "anon:7f1c7e0e-2d4b-4d1f-9d8e-3c1b2a4f5e6d" }, "two");
    const [one, two] = logs.lines;
    expect(one?.identity).toMatch(/^user:#[0-9a-f]{16}$/);
    expect(one?.userId).toMatch(/^intercom:#[0-9a-f]{16}$/);
    expect(two?.identity).toBe("anon:7f1c7e0e-2d4b-4d1f-9d8e-3c1b2a4f5e6d");
  });
});
