import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { bearer, startTestService, type TestService, testDatabase } from "./helpers";

const JWT_SECRET = "user-jwt-secret-0123456789abcdef0123456789";

/** A user JWT (HS256 with the deployment's secret). */
const userToken = (sub: string) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
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
