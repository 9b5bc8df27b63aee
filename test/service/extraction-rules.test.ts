import { describe, expect, test } from "vitest";
import { handlesIn } from "../../service/src/engine/extraction/capture";
import { extractByRules } from "../../service/src/engine/extraction/rules";
import { parseExtraction } from "../../service/src/engine/extraction/schema";

const user = (text: string) => ({ role: "user" as const, text });
const agent = (text: string) => ({ role: "assistant" as const, text });

describe("the local rules (offline extraction)", () => {
  test("read the customer's handles, name, company, intent and urgency from their own lines", () => {
    const found = extractByRules([
      user("Hello, my name is Grace Hopper and I work at Remington Rand."),
      agent("Hi Grace! Our pricing starts at $10. Want to book a demo?"),
      user("I'd like a quote for 30 seats asap. Mail grace@EXAMPLE.com or call me at (415) 555-0188"),
    ]);
    expect(found).toMatchObject({
      name: "Grace Hopper",
      company: "Remington Rand",
      email: "grace@example.com",
      phone: "+14155550188",
      intent: "purchase",
      urgency: "high",
      wantsPerson: false,
    });
    expect(found.summary).toContain("quote for 30 seats");
    expect(found.followUps).toEqual(["Send the customer a quote or the pricing they asked about"]);
  });

  test("the assistant's words decide nothing: its pricing talk is not the customer's intent", () => {
    const found = extractByRules([
      agent("Would you like to buy our premium plan?"),
      user("No thanks, just browsing"),
    ]);
    expect(found).toMatchObject({ intent: "other", name: null, email: null, phone: null, urgency: "normal" });
    expect(found.followUps).toEqual([]);
  });

  test("a booking, asking for a person, and a bare order number that is not a phone", () => {
    const found = extractByRules([
      user("This is Sam. Can I schedule an appointment? Order 2345678901. I want to speak to a human"),
    ]);
    expect(found).toMatchObject({ name: "Sam", intent: "booking", wantsPerson: true, phone: null });
    expect(found.followUps[0]).toMatch(/asked for a person/);
  });

  test("a conversation without customer text still gives a summary", () => {
    expect(extractByRules([agent("Hello?")]).summary).toMatch(/no customer text/);
  });
});

describe("the model's answer, validated again", () => {
  const valid = {
    name: " Ada ",
    email: "[EMAIL]",
    phone: "not a number",
    company: null,
    intent: "booking",
    urgency: "low",
    summary: "Wants a table.",
    wantsPerson: false,
    followUps: [],
  };

  test("a placeholder or malformed handle becomes null; the rest is kept", () => {
    const parsed = parseExtraction(JSON.stringify(valid));
    expect(parsed).toEqual({
      ok: true,
      value: { ...valid, name: "Ada", email: null, phone: null },
    });
  });

  test("a missing field, a wrong enum or no JSON at all is a failure with a reason (no customer text in it)", () => {
    const { summary: _dropped, ...noSummary } = valid;
    expect(parseExtraction(JSON.stringify(noSummary))).toMatchObject({
      ok: false,
      error: expect.stringContaining("summary"),
    });
    expect(parseExtraction(JSON.stringify({ ...valid, urgency: "whenever" }))).toMatchObject({
      ok: false,
      error: expect.stringContaining("urgency"),
    });
    const notJson = parseExtraction("Sure! Here is the JSON: {");
    expect(notJson).toEqual({ ok: false, error: "the answer is not JSON" });
  });
});

describe("handles typed in a conversation", () => {
  test("an e-mail and a phone number are found; text without either costs nothing", () => {
    expect(handlesIn("write to Bo@Example.org or text +44 20 7946 0958")).toEqual({
      email: "bo@example.org",
      phone: "+442079460958",
    });
    expect(handlesIn("how do I reset my password?")).toEqual({ email: null, phone: null });
  });
});
