import { expect, test } from "vitest";
import { DEFAULT_ESCALATION_PATTERNS } from "../../service/src/config";
import { comparedItems, compileRules } from "../../service/src/engine/routing";

const route = compileRules({
  defaultModel: "gemini-2.5-flash",
  escalationModel: "gemini-2.5-pro",
  escalatePatterns: DEFAULT_ESCALATION_PATTERNS,
  turnThreshold: 10,
  maxComparedItems: 2,
});

test.each([
  ["How do I reset my password?", 0, "gemini-2.5-flash", "default"],
  ["Can you compare the Team and Business plans?", 0, "gemini-2.5-pro", "pattern"],
  ["Please analyze my invoice", 0, "gemini-2.5-pro", "pattern"],
  ["What are the pros and cons of annual billing?", 0, "gemini-2.5-pro", "pattern"],
  ["Give me a detailed explanation of roles", 0, "gemini-2.5-pro", "pattern"],
  ["Why should I upgrade?", 0, "gemini-2.5-pro", "pattern"],
  ["Which is better: Free, Team or Business?", 0, "gemini-2.5-pro", "items"],
  ["Team vs Business vs Enterprise", 0, "gemini-2.5-pro", "items"],
  ["Team vs Business", 0, "gemini-2.5-flash", "default"],
  ["And what about invoices?", 9, "gemini-2.5-flash", "default"],
  ["And what about invoices?", 10, "gemini-2.5-pro", "turns"],
])("%s (after %i turns) → %s", (message, turns, model, reason) => {
  expect(route(message, turns)).toEqual({ model, reason });
});

test("counts compared items", () => {
  expect(comparedItems("choose between iOS, Android and web")).toBe(3);
  expect(comparedItems("I forgot my password")).toBe(0);
});
