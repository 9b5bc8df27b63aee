-- One inbound pipeline for every asynchronous channel (service/src/channels/pipeline/): the tables it keeps
-- are keyed by channel. Every row written so far is Intercom's, and the column default says so: a constant
-- default is kept in the catalog (PostgreSQL 11 and later), so no table is rewritten and the old rows are
-- migrated without being touched.
--
-- Expand only. During a rollout, and after a rollback, the previous release runs on this schema
-- (docs/runbook.md): it writes without a channel (the default fills it in) and names the old keys in its
-- `on conflict` clauses, so those keys stay. While Intercom is the only channel they are exactly as strict
-- as keys with the channel. The release that brings a second channel replaces them, once no running
-- revision uses them: outbox (conversation_id, part_id) by (channel, conversation_id, part_id), and the
-- primary key of intercom_conversations by (channel, conversation_id).

-- Provider delivery ids are unique per provider only.
alter table webhook_deliveries add column channel text not null default 'intercom';
alter table webhook_deliveries drop constraint webhook_deliveries_pkey;
alter table webhook_deliveries add primary key (channel, notification_id);

-- `part_id` holds the channel's message id (an Intercom conversation part, an SMS message id, ...).
-- `body`: the customer's text when the notification carries it (SMS), for the time the message waits; a
-- channel that reads its conversations from the provider (Intercom) leaves it empty.
-- `send_started_at`: written before a reply is sent, so a process that dies between the send and its record
-- is not followed by a second send (the channel reconciles, or the send is not repeated).
alter table outbox add column channel text not null default 'intercom';
alter table outbox add column body text;
alter table outbox add column send_started_at timestamptz;

-- The pipeline's state per conversation: the lease, who has the conversation (the bot or a person), the
-- count of answers the model was not sure of, and the customer's contact. The table keeps its name. Its
-- upserts name this key as their conflict target, so it is needed now.
alter table intercom_conversations add column channel text not null default 'intercom';
create unique index intercom_conversations_channel_key on intercom_conversations (channel, conversation_id);

-- `started_step`: a step that is not safe to repeat (a message to the customer) is written here before it
-- runs, so a handoff resumed after a crash does not send it twice.
alter table handoffs add column channel text not null default 'intercom';
alter table handoffs add column started_step text;
