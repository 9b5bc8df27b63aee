import { describe, expect, test } from "vitest";
import { DEFAULT_BUDGETS, DEFAULT_MODEL_PRICES } from "../../service/src/config";
import { checkBudget, periodStarts } from "../../service/src/engine/budgets";
import { costUsd, priceFor } from "../../service/src/engine/cost";
import { selectWindow } from "../../service/src/engine/history";

describe("cost", () => {
  const flash = DEFAULT_MODEL_PRICES["gemini-2.5-flash"];
  if (!flash) throw new Error("no flash price");

  test("uncached input at the input rate, cached at the cached rate, thinking as output", () => {
    // (10,000 − 4,000)·0.30 + 4,000·0.03 + (500 + 200)·2.50 per 1M = 0.0018 + 0.00012 + 0.00175
    const cost = costUsd(
      { inputTokens: 10_000, cachedTokens: 4_000, outputTokens: 500, thoughtsTokens: 200 },
      flash,
    );
    expect(cost).toBeCloseTo(0.00367, 8);
  });

  test("a versioned model name finds its family's price; an unknown one has none", () => {
    expect(priceFor("gemini-2.5-flash-001", DEFAULT_MODEL_PRICES)).toBe(flash);
    expect(priceFor("gemini-2.5-flash-lite", DEFAULT_MODEL_PRICES)).toBe(
      DEFAULT_MODEL_PRICES["gemini-2.5-flash-lite"],
    );
    expect(priceFor("mystery-model", DEFAULT_MODEL_PRICES)).toBeUndefined();
  });
});

describe("budgets", () => {
  const now = new Date("2026-11-22T15:00:00Z");

  test("periods are UTC day and month", () => {
    expect(periodStarts(now)).toMatchObject({
      day: "2026-11-22",
      month: "2026-11-01",
      nextDay: new Date("2026-11-23T00:00:00Z"),
      nextMonth: new Date("2026-12-01T00:00:00Z"),
    });
  });

  test("free tier: ok, warn at 80 %, exceeded at the daily then the monthly limit", () => {
    const free = DEFAULT_BUDGETS.free;
    expect(checkBudget({ day: 1_000, month: 1_000 }, free, 0.8, now)).toEqual({
      status: "ok",
      remaining: 49_000,
    });
    expect(checkBudget({ day: 40_000, month: 40_000 }, free, 0.8, now).status).toBe("warn");
    expect(checkBudget({ day: 50_000, month: 50_000 }, free, 0.8, now)).toMatchObject({
      status: "exceeded",
      period: "day",
    });
    expect(checkBudget({ day: 0, month: 500_000 }, free, 0.8, now)).toEqual({
      status: "exceeded",
      period: "month",
      resetAt: new Date("2026-12-01T00:00:00Z"),
    });
  });

  test("enterprise is unlimited", () => {
    expect(checkBudget({ day: 1e12, month: 1e12 }, DEFAULT_BUDGETS.enterprise, 0.8, now)).toEqual({
      status: "ok",
      remaining: null,
    });
  });
});

describe("history window", () => {
  const msg = (i: number, tokens = 10) => ({
    id: String(i),
    role: (i % 2 === 0 ? "user" : "assistant") as "user" | "assistant",
    content: `m${i}`,
    tokens,
  });

  test("keeps the last 10 messages, older ones overflow", () => {
    const messages = Array.from({ length: 14 }, (_, i) => msg(i));
    const { window, overflow } = selectWindow(messages, { maxMessages: 10, maxTokens: 4000 });
    expect(window.map((m) => m.id)).toEqual(["4", "5", "6", "7", "8", "9", "10", "11", "12", "13"]);
    expect(overflow).toHaveLength(4);
  });

  test("the token budget cuts earlier than the message count, and the window opens with the user", () => {
    const messages = Array.from({ length: 6 }, (_, i) => msg(i, 1000));
    const { window } = selectWindow(messages, { maxMessages: 10, maxTokens: 4000 }, 500);
    // 3 messages fit (3,500 with the reserved 500); the oldest of them is a model turn, so it is dropped.
    expect(window.map((m) => m.id)).toEqual(["4", "5"]);
  });
});
