import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { telnyxVoiceClient } from "../../service/src/adapters/telnyx-voice";
import { VoiceProviderError } from "../../service/src/ports/voice";
import { startTelnyxEmulator, type TelnyxEmulator } from "./telnyx";

/** The voice adapter (the official SDK's paginated conversations messages) against the emulator. */

let telnyx: TelnyxEmulator;
beforeAll(async () => {
  telnyx = await startTelnyxEmulator({ apiKey: "KEY_voice_adapter" });
});
afterAll(async () => {
  await telnyx?.close();
});

const client = (apiKey = "KEY_voice_adapter") => telnyxVoiceClient({ apiKey, apiBase: telnyx.apiBase });

describe("GET /v2/ai/conversations/{id}/messages through telnyx-node", () => {
  test("every page, oldest first, with roles and times", async () => {
    const lines = Array.from({ length: 205 }, (_, i) => ({
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      text: `said ${i}`,
    }));
    telnyx.conversations.add("conv-long", lines, new Date("2026-11-30T10:00:00Z"));
    const messages = await client().conversationMessages("conv-long");
    expect(messages.map((m) => m.text)).toEqual(lines.map((l) => l.text));
    expect(messages[1]).toEqual({ role: "assistant", text: "said 1", createdAt: "2026-11-30T10:00:01.000Z" });
    const asked = telnyx.requests.filter((r) => r.path === "/v2/ai/conversations/conv-long/messages");
    expect(asked.map((r) => r.query["page[number]"] ?? "1")).toEqual(["1", "2", "3"]);
  });

  test("an unknown conversation and a wrong key are errors with Telnyx's status, never the key", async () => {
    const unknown = await client()
      .conversationMessages("nope")
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(VoiceProviderError);
    expect((unknown as VoiceProviderError).status).toBe(404);
    const refused = await client("KEY_wrong")
      .conversationMessages("conv-long")
      .catch((e: unknown) => e);
    expect((refused as VoiceProviderError).status).toBe(401);
    expect(String((refused as Error).message)).not.toContain("KEY_wrong");
  });
});
