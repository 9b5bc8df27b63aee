-- Which knowledge documents an answer came from, and whether it was a confident one (issue 16, the
-- console's knowledge page: "answered N questions", "questions the assistant could not answer").
-- Columns of messages, so erasure and retention remove them with the message they describe.
alter table messages add column sources text[] not null default '{}';
-- Null for messages other than the engine's answers (the customer's, a handoff notice, an agent's reply).
alter table messages add column confident boolean;
create index messages_unanswered_idx on messages (tenant_id, created_at) where role = 'assistant' and confident = false;
