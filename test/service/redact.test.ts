import { describe, expect, test } from "vitest";
import { luhnValid, redactPii } from "../../service/src/engine/redact";

describe("PII redaction", () => {
  test.each([
    ["write to jane.doe+support@example.co.uk please", "write to [EMAIL] please"],
    ["card 4111 1111 1111 1111 expired", "card [CARD] expired"],
    ["card 4111-1111-1111-1111", "card [CARD]"],
    ["amex 378282246310005", "amex [CARD]"],
    ["my ssn is 123-45-6789", "my ssn is [SSN]"],
    ["call me at +1 (415) 555-0132", "call me at [PHONE]"],
    ["call me at 415-555-0132 tomorrow", "call me at [PHONE] tomorrow"],
    ["ring +44 20 7946 0958", "ring [PHONE]"],
  ])("%s", (input, expected) => {
    expect(redactPii(input).text).toBe(expected);
  });

  test.each([
    "order 4111 1111 1111 1112 is late", // fails Luhn: an order number, not a card
    "invoice 2026-11-22 for $1,234.56",
    "ssn-like 000-12-3456 is never issued",
    "version 1.2.3 and room 42",
  ])("keeps %s", (input) => {
    expect(redactPii(input).text).toBe(input);
  });

  test("counts what it removed", () => {
    const { counts } = redactPii("a@b.io, c@d.io, 4111111111111111");
    expect(counts).toEqual({ email: 2, card: 1, ssn: 0, phone: 0 });
  });

  test("Luhn", () => {
    expect(luhnValid("4111111111111111")).toBe(true);
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(luhnValid("0000")).toBe(false);
  });
});
