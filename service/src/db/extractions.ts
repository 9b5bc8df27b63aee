import type { Sql } from "./client";

export type ExtractionSubject = "call" | "session";

export interface ExtractionRow {
  id: string;
  subjectKind: ExtractionSubject;
  subjectId: string;
  throughMessageId: string | null;
  contactId: string | null;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  result: unknown;
  error: string | null;
  model: string | null;
}

/** A first try and one retry: output that fails the schema twice is left failed, for a person to read. */
export const EXTRACTION_MAX_ATTEMPTS = 2;
/** A `pending` row older than this was left by a crash: it may be claimed again (within the attempts). */
export const STALE_PENDING = "10 minutes";

const COLUMNS =
  "id, subject_kind, subject_id, through_message_id::text, contact_id, status, attempts, result, error, model";

/**
 * Claims the subject's extraction for one run, or returns undefined when it needs none: done already up to
 * this message (a call: done at all), failed as often as it may, or under way elsewhere. A session that
 * got new messages since its last extraction starts over with fresh attempts. One statement, so two sweeps
 * (or a retried call event) never run the same extraction at once.
 */
export async function claimExtraction(
  sql: Sql,
  subject: { kind: ExtractionSubject; id: string; throughMessageId?: string | null },
): Promise<ExtractionRow | undefined> {
  const through = subject.throughMessageId ?? null;
  const [row] = await sql<ExtractionRow[]>`
    insert into extractions as e (subject_kind, subject_id, through_message_id, status, attempts)
    values (${subject.kind}, ${subject.id}, ${through}::bigint, 'pending', 1)
    on conflict (tenant_id, subject_kind, subject_id) do update set
      status = 'pending',
      attempts = case when excluded.through_message_id is distinct from e.through_message_id
                      then 1 else e.attempts + 1 end,
      through_message_id = excluded.through_message_id,
      error = null,
      updated_at = now()
    where (e.status = 'pending' and e.updated_at < now() - ${STALE_PENDING}::interval
           and e.attempts < ${EXTRACTION_MAX_ATTEMPTS})
       or (e.status = 'failed' and e.attempts < ${EXTRACTION_MAX_ATTEMPTS})
       or (e.status <> 'pending' and excluded.through_message_id > e.through_message_id)
    returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** Records the run's outcome: the validated result, or the error (never the model's raw text). */
export async function finishExtraction(
  sql: Sql,
  id: string,
  outcome:
    | { status: "succeeded"; result: unknown; model: string; contactId: string | null }
    | { status: "failed"; error: string; model: string },
): Promise<void> {
  const result = outcome.status === "succeeded" ? sql.json(outcome.result as never) : null;
  const contactId = outcome.status === "succeeded" ? outcome.contactId : null;
  const error = outcome.status === "failed" ? outcome.error.slice(0, 2000) : null;
  await sql`
    update extractions set status = ${outcome.status}, result = ${result}, error = ${error},
      model = ${outcome.model}, contact_id = coalesce(${contactId}::uuid, contact_id), updated_at = now()
    where id = ${id}`;
}

export async function findExtraction(
  sql: Sql,
  kind: ExtractionSubject,
  subjectId: string,
): Promise<ExtractionRow | undefined> {
  const [row] = await sql<ExtractionRow[]>`
    select ${sql.unsafe(COLUMNS)} from extractions where subject_kind = ${kind} and subject_id = ${subjectId}`;
  return row;
}
