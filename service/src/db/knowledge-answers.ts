import type { Sql } from "./client";

/** How much a knowledge document answered: questions whose answer came from it, newest few first. */
export interface DocumentAnswers {
  source: string;
  answered: number;
  /** Up to three recent questions it answered (the customer's message as stored, redacted when so set). */
  examples: string[];
}

/** A customer's question the assistant had no confident answer to. */
export interface UnansweredQuestion {
  question: string;
  channel: string;
  askedAt: Date;
}

/**
 * The current tenant's documents by the answers they gave since `since` (messages.sources, migration
 * 00018), in one statement: each answer's question is the customer's message just before it.
 */
export async function documentAnswerCounts(sql: Sql, since: Date): Promise<DocumentAnswers[]> {
  return sql<DocumentAnswers[]>`
    with answered as (
      select s.source, a.created_at, q.content as question
      from messages a
      cross join lateral unnest(a.sources) as s (source)
      left join lateral (
        select content from messages u
        where u.session_id = a.session_id and u.role = 'user' and u.id < a.id
        order by u.id desc limit 1) q on true
      where a.role = 'assistant' and a.created_at >= ${since} and cardinality(a.sources) > 0)
    select source, count(*)::int as answered,
      (array_remove(array_agg(question order by created_at desc), null))[1:3] as examples
    from answered
    group by source
    order by answered desc, source`;
}

/** The newest questions since `since` whose answer was not a confident one (no document, or the fallback). */
export async function unansweredQuestions(
  sql: Sql,
  since: Date,
  limit: number,
): Promise<UnansweredQuestion[]> {
  return sql<UnansweredQuestion[]>`
    select q.content as question, s.channel, a.created_at as asked_at
    from messages a
    join sessions s on s.id = a.session_id
    join lateral (
      select content from messages u
      where u.session_id = a.session_id and u.role = 'user' and u.id < a.id
      order by u.id desc limit 1) q on true
    where a.role = 'assistant' and a.confident = false and a.created_at >= ${since}
    order by a.created_at desc, a.id desc
    limit ${limit}`;
}
