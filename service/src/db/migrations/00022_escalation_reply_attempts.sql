-- An agent's e-mail reply can be resumed after a crash (issue 16): its outbound e-mail record, written with a
-- Message-ID before Gmail is called, lets a retry search the mailbox instead of sending twice. A `pending`
-- reply is taken over by one retry only once its last attempt is old enough (it may still be in flight):
-- `attempted_at` is when the current attempt began, moved forward by the one retry that takes it over.
alter table escalation_replies add column attempted_at timestamptz not null default now();
