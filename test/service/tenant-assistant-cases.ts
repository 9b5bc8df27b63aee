import { expect } from "vitest";
import { documentAnswerCounts, unansweredQuestions } from "../../service/src/db/knowledge-answers";
import { countRequest } from "../../service/src/db/rate-limits";
import type { CaseContext, IsolationCase } from "./tenant-repository-cases";

/**
 * The "try it" limit (routes/admin/settings-try.ts): rate_limit_windows has no tenant, so the key it
 * counts in must name tenant A; the same person's tries in B count in another window.
 */
export const ASSISTANT_CASES: Record<string, IsolationCase> = {
  // The console's knowledge page (messages.sources, messages.confident): A's answers only.
  "knowledge-answers.documentAnswerCounts": {
    run: ({ sql }: CaseContext) => documentAnswerCounts(sql, new Date(0)),
  },
  "knowledge-answers.unansweredQuestions": {
    run: ({ sql }: CaseContext) => unansweredQuestions(sql, new Date(0), 100),
  },
  "rate-limits.countRequest": {
    run: async ({ sql }: CaseContext) => ({
      allowed: await countRequest(sql, "try:isolation", new Date(Date.UTC(2000, 0, 1)), 1),
      keys: (
        await sql<{ key: string }[]>`select key from rate_limit_windows where key like '%try:isolation'`
      ).map((r) => r.key),
    }),
    check: (r, { a }) => expect(r).toEqual({ allowed: true, keys: [`${a.id}:try:isolation`] }),
  },
};
