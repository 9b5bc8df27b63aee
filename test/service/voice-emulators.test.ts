import { afterAll, beforeAll, expect, test } from "vitest";
import { startSmsEmulators } from "../emulators/serve-sms";
import { ADMIN_API_KEY, type AdminService, adminSuite, asKey, createTenant, json } from "./admin-helpers";
import { eventually } from "./helpers";

/**
 * `npm run emulators`' phone placing a call to a tenant's Telnyx number, as a person trying it would:
 * the call, its transcript and Telnyx's insights end up in the admin API.
 */

let emulators: Awaited<ReturnType<typeof startSmsEmulators>>;
let svc: AdminService;
let stop: () => Promise<void>;
let tenantId: string;
const previousKey = process.env.ADMIN_API_KEY;

beforeAll(async () => {
  // The phone reads the connection's assistant URLs with the admin key the service was started with.
  process.env.ADMIN_API_KEY = ADMIN_API_KEY;
  emulators = await startSmsEmulators({ phonePort: 0 });
  ({ svc, stop } = await adminSuite({ TELNYX_API_BASE: emulators.telnyx.apiBase, POLLING_INTERVAL: "0" }));
  tenantId = (await createTenant(svc, "voice-emulated", "Emulated Plumbing")).id;
  const body = {
    kind: "telnyx",
    phoneNumber: "+15550100002",
    apiKey: emulators.telnyx.apiKey,
    publicKey: emulators.telnyx.publicKey,
  };
  const res = await svc.call("POST", `/api/v1/admin/tenants/${tenantId}/channels`, body, asKey);
  if (res.status !== 201) throw new Error(`connect: ${res.status} ${await res.text()}`);
});
afterAll(async () => {
  process.env.ADMIN_API_KEY = previousKey;
  await emulators?.close();
  await stop?.();
});

test("an emulated call: variables at the start, then the call with its transcript and insights", async () => {
  const placed = await emulators.call(
    {
      from: "+15557654321",
      to: "+15550100002",
      say: ["Hi, this is Jane Doe.", "I want to book a boiler service next week."],
    },
    svc.url,
  );
  expect(placed.events).toEqual([200, 200]);
  expect(placed.variables).toMatchObject({ dynamic_variables: { business_name: "Emulated Plumbing" } });
  const calls = await eventually(
    async () =>
      (await json(await svc.call("GET", `/api/v1/admin/tenants/${tenantId}/calls`, undefined, asKey))).calls,
    (c) => Array.isArray(c) && c.length === 1 && c[0].ended,
  );
  const call = await json(
    await svc.call("GET", `/api/v1/admin/tenants/${tenantId}/calls/${calls[0].id}`, undefined, asKey),
  );
  expect(call.transcript.map((m: { text: string }) => m.text)).toContain(
    "I want to book a boiler service next week.",
  );
  await eventually(
    async () =>
      (
        await json(
          await svc.call("GET", `/api/v1/admin/tenants/${tenantId}/calls/${calls[0].id}`, undefined, asKey),
        )
      ).insights,
    (i) => Array.isArray(i) && i.length === 1,
  );
});
