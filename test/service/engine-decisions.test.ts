import { describe, expect, test } from "vitest";
import { BudgetExceeded } from "../../service/src/domain/errors";
import type { StoredMessage } from "../../service/src/domain/turn";
import { checkBudget, overBudget } from "../../service/src/engine/budgets";
import { planFold } from "../../service/src/engine/summaries";
import { fixedWindow, secondsUntil } from "../../service/src/engine/windows";

describe("budget refusals", () => {
  const now = new Date("2026-11-22T23:59:30Z");

  test("a used-up daily budget: the reset at midnight UTC, and the wait until then", () => {
    const verdict = checkBudget({ day: 10_000, month: 10_000 }, { daily: 10_000, monthly: null }, 0.8, now);
    if (verdict.status !== "exceeded") throw new Error("expected exceeded");
    const refusal = overBudget(verdict, "guest", now);
    expect(refusal).toBeInstanceOf(BudgetExceeded);
    expect(refusal.code).toBe("budget_exceeded");
    expect(refusal.message).toBe("The daily token budget of this account is used up.");
    expect(refusal.retryAfterSeconds).toBe(30);
    expect(refusal.details).toEqual({ period: "day", resetAt: "2026-11-23T00:00:00.000Z", tier: "guest" });
  });

  test("a used-up monthly budget says so", () => {
    const verdict = checkBudget({ day: 0, month: 600_000 }, { daily: 50_000, monthly: 500_000 }, 0.8, now);
    if (verdict.status !== "exceeded") throw new Error("expected exceeded");
    expect(overBudget(verdict, "free", now).message).toBe(
      "The monthly token budget of this account is used up.",
    );
    expect(overBudget(verdict, "free", now).details).toMatchObject({
      period: "month",
      resetAt: "2026-12-01T00:00:00.000Z",
    });
  });
});

describe("limit windows", () => {
  test("every instance puts the same moment in the same window", () => {
    const at = new Date("2026-11-22T10:15:42.500Z");
    expect(fixedWindow(at, 60_000)).toEqual({
      start: new Date("2026-11-22T10:15:00Z"),
      end: new Date("2026-11-22T10:16:00Z"),
    });
    expect(fixedWindow(at, 3_600_000).start).toEqual(new Date("2026-11-22T10:00:00Z"));
  });

  test("Retry-After is whole seconds, rounded up, never 0", () => {
    const now = new Date("2026-11-22T10:15:42.500Z");
    expect(secondsUntil(new Date("2026-11-22T10:16:00Z"), now)).toBe(18);
    expect(secondsUntil(now, now)).toBe(1);
  });
});

describe("history folding", () => {
  const messages = (n: number): StoredMessage[] =>
    Array.from({ length: n }, (_, i) => ({
      id: String(i + 1),
      role: i % 2 === 0 ? "user" : "assistant",
      content: `message ${i + 1}`,
      tokens: 10,
    }));
  const limits = { maxMessages: 10, maxTokens: 4000 };

  test("a history that fits is sent whole and nothing is folded", () => {
    const plan = planFold(messages(6), limits, 5);
    expect(plan.fold).toEqual([]);
    expect(plan.window.map((m) => m.id)).toEqual(["1", "2", "3", "4", "5", "6"]);
  });

  test("an overflowing history folds down to half the window, starting with the customer", () => {
    const plan = planFold(messages(12), limits, 5);
    expect(plan.window.map((m) => m.id)).toEqual(["3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]);
    // Half the window is the 5 newest, less the assistant message it would start with.
    expect(plan.foldedWindow.map((m) => m.id)).toEqual(["9", "10", "11", "12"]);
    expect(plan.foldedWindow[0]?.role).toBe("user");
    expect(plan.fold.map((m) => m.id)).toEqual(["1", "2", "3", "4", "5", "6", "7", "8"]);
  });
});
