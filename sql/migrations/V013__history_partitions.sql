-- V013: the history partitioned by month, and a retention per contact center.
--
-- Reports ask for a time range ("yesterday", "last week"), and retention removes the oldest
-- months; on one table both meant scanning or deleting row by row a history that only
-- grows.  interactions.history is now a table partitioned by range of "at", one partition
-- per calendar month (UTC), named history_YYYYMM: a report on a day reads one partition, and
-- retention drops a whole month at once where it can (sql/functions/065_history.sql).
--
-- What stays as it was: the columns and their order, every index the push channel and the
-- views use (now one per partition), the append-only trigger, row-level security (forced on
-- the parent and on every partition), the privileges.  What changes:
--   * The primary key is (cc_id, seq, at): a key of a partitioned table must hold the
--     partition key.  seq stays unique because nothing but a trigger sets it:
--     interactions.history_stamp() gives every inserted row the next value of
--     interactions.history_seq and the inserting transaction's xid, whatever the INSERT
--     said, and refuses an "at" that is not now (a row cannot be back-dated into a month
--     that retention has judged, nor forge its place in the stream).
--   * A contact center has a retention (contact_centers.history_retention; NULL, the
--     default, keeps everything), and history_kept_from says from when on its history is
--     whole.
--
-- The rows move in this transaction: the old table is renamed, its rows are copied into
-- the monthly partitions (seq, xid and at unchanged, the trigger off for the copy), and it is
-- dropped.  The views over the history depend on the old table and go with it; the
-- repeatable files (sql/functions/) create them again right after the migrations.  The whole
-- migration took 13 s for a million rows (540 MB) on a 2-core machine, during which the
-- history is locked: plan it like any upgrade that stops writes.

LOCK TABLE interactions.history IN ACCESS EXCLUSIVE MODE;

ALTER TABLE interactions.history RENAME TO history_v012;
ALTER INDEX interactions.history_pkey RENAME TO history_v012_pkey;
ALTER INDEX interactions.history_interaction RENAME TO history_v012_interaction;
ALTER INDEX interactions.history_stream RENAME TO history_v012_stream;
ALTER INDEX interactions.history_cc_stream RENAME TO history_v012_cc_stream;
ALTER INDEX interactions.history_actor RENAME TO history_v012_actor;

CREATE TABLE interactions.history (
    cc_id             integer NOT NULL,
    seq               bigint NOT NULL,
    xid               xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    interaction_id    uuid,
    operation         text NOT NULL,
    actor_id          uuid,
    actor_login       text,
    reference_id      bigint,
    from_state        text,
    to_state          text,
    from_queue        text,
    to_queue          text,
    from_workbin      text,
    to_workbin        text,
    from_owner        uuid,
    to_owner          uuid,
    from_invitee      uuid,
    to_invitee        uuid,
    user_data_change  jsonb,
    notification      text CHECK (notification IN ('StatusChange','PropertiesUpdated','WorkbinContent')),
    audience          uuid[] NOT NULL DEFAULT '{}',
    revoked           uuid[] NOT NULL DEFAULT '{}',
    snapshot          jsonb,
    PRIMARY KEY (cc_id, seq, at)
) PARTITION BY RANGE (at);

CREATE SEQUENCE interactions.history_seq AS bigint OWNED BY interactions.history.seq;
-- the numbers go on from the old table's: acknowledged batches of the push channel name them
DO $$
BEGIN
    PERFORM setval('interactions.history_seq',
                   greatest(coalesce((SELECT max(seq) FROM interactions.history_v012), 0),
                            coalesce(pg_sequence_last_value(pg_get_serial_sequence('interactions.history_v012', 'seq')::regclass), 0),
                            1));
END $$;

-- One partition per month holding rows, and the current and the next two months (the
-- maintenance tick keeps creating them ahead: interactions.history_partitions_ahead()).
DO $$
DECLARE
    m      timestamptz;
    v_last timestamptz := date_trunc('month', greatest(now(), (SELECT max(at) FROM interactions.history_v012))
                                               AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' + interval '2 months';
BEGIN
    m := coalesce(date_trunc('month', (SELECT min(at) FROM interactions.history_v012) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                  date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC');
    WHILE m <= v_last LOOP
        EXECUTE format('CREATE TABLE interactions.%I PARTITION OF interactions.history FOR VALUES FROM (%L) TO (%L)',
                       'history_' || to_char(m AT TIME ZONE 'UTC', 'YYYYMM'), m, m + interval '1 month');
        m := m + interval '1 month';
    END LOOP;
END $$;

-- Every inserted row gets its place in the stream from here, whatever the INSERT said.
CREATE FUNCTION interactions.history_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.seq := nextval('interactions.history_seq');
    NEW.xid := pg_current_xact_id();
    IF NEW.at < clock_timestamp() - interval '1 minute' OR NEW.at > clock_timestamp() + interval '1 minute' THEN
        RAISE EXCEPTION 'interactions.history.at is the time of the insert (% refused)', NEW.at
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION interactions.history_stamp() IS
  'Before every insert into interactions.history: seq from interactions.history_seq and xid of the inserting transaction, whatever the INSERT said; "at" must be now. So seq is unique across partitions and the stream order cannot be forged.';

-- The copy keeps seq, xid and at: the trigger does not fire under the replica role.
SET LOCAL session_replication_role = replica;
INSERT INTO interactions.history SELECT * FROM interactions.history_v012;
SET LOCAL session_replication_role = origin;
DROP TABLE interactions.history_v012 CASCADE;

CREATE INDEX history_interaction ON interactions.history (cc_id, interaction_id, seq);
CREATE INDEX history_stream ON interactions.history (xid, seq);
CREATE INDEX history_cc_stream ON interactions.history (cc_id, xid, seq);
CREATE INDEX history_actor ON interactions.history (cc_id, actor_id, at);
CREATE INDEX history_cc_at ON interactions.history (cc_id, at);

CREATE TRIGGER history_stamp BEFORE INSERT ON interactions.history
    FOR EACH ROW EXECUTE FUNCTION interactions.history_stamp();
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON interactions.history
    FOR EACH ROW EXECUTE FUNCTION interactions.history_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON interactions.history
    FOR EACH STATEMENT EXECUTE FUNCTION interactions.history_append_only();

COMMENT ON TABLE interactions.history IS
  'Append-only log of every change to every interaction, written in the same transaction as the change. It is both the DBA''s audit trail and the durable event log that feeds the push channel, the event feed and webhooks. Partitioned by month of "at" (partitions history_YYYYMM, UTC); retention drops whole months (interactions.history_retention).';
COMMENT ON COLUMN interactions.history.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.history.seq IS 'Insertion order (not commit order: see xid), unique: set by the trigger history_stamp from interactions.history_seq. The event feed''s cursor.';
COMMENT ON COLUMN interactions.history.xid IS 'The writing transaction (set by the trigger history_stamp). Readers of the stream take rows in (xid, seq) order below the oldest running transaction, so none is ever skipped.';
COMMENT ON COLUMN interactions.history.at IS 'When the change happened (the time of the insert); the partition key.';
COMMENT ON COLUMN interactions.history.interaction_id IS
  'The interaction; NULL for rows that concern none (GetWorkbinContent: a read of a workbin, recorded for the push message and the audit trail).';
COMMENT ON COLUMN interactions.history.operation IS 'What happened: Create, Accept, Reject, Complete, ..., Route (offered), Revoke (offer withdrawn), Update (PUT), Erase (personal data erased).';
COMMENT ON COLUMN interactions.history.actor_id IS 'The user who made the change; NULL for routing, timeouts and erasure.';
COMMENT ON COLUMN interactions.history.actor_login IS 'The actor''s login at the time (kept if the user is removed).';
COMMENT ON COLUMN interactions.history.reference_id IS 'The referenceId returned to the API caller (also in the push message).';
COMMENT ON COLUMN interactions.history.from_state IS 'State before the change.';
COMMENT ON COLUMN interactions.history.to_state IS 'State after the change.';
COMMENT ON COLUMN interactions.history.from_queue IS 'Queue name before.';
COMMENT ON COLUMN interactions.history.to_queue IS 'Queue name after.';
COMMENT ON COLUMN interactions.history.from_workbin IS 'Workbin name before.';
COMMENT ON COLUMN interactions.history.to_workbin IS 'Workbin name after.';
COMMENT ON COLUMN interactions.history.from_owner IS 'Owning agent before.';
COMMENT ON COLUMN interactions.history.to_owner IS 'Owning agent after.';
COMMENT ON COLUMN interactions.history.from_invitee IS 'Agent it was offered to before.';
COMMENT ON COLUMN interactions.history.to_invitee IS 'Agent it is offered to after.';
COMMENT ON COLUMN interactions.history.user_data_change IS 'User-data change: {"set":{key:value,...},"deleted":[key,...]} (Create and PUT record the whole set as "set" after "cleared":true); {"erased":true} once the customer''s personal data was erased.';
COMMENT ON COLUMN interactions.history.notification IS 'The push notificationType this row is delivered as; NULL when no agent is told.';
COMMENT ON COLUMN interactions.history.audience IS 'Agents told of this change on /v2/me/interactions.';
COMMENT ON COLUMN interactions.history.revoked IS 'Agents for whom the interaction stopped being theirs (told with state Revoked).';
COMMENT ON COLUMN interactions.history.snapshot IS
  'The interaction after the change. For WorkbinContent rows: which workbin was read ({"workbin": id, "name", "type", "count": interactions it held, "maxBytes": the page bound of the call}); the push channel renders the content when it delivers the message (rows written before V007 carry the content itself).';
COMMENT ON INDEX interactions.history_pkey IS 'A row by contact center and seq (the ack extension''s and the event feed''s cursor look-ups).';
COMMENT ON INDEX interactions.history_interaction IS 'One interaction''s life in order.';
COMMENT ON INDEX interactions.history_stream IS 'The push stream across contact centers (listener wake-ups).';
COMMENT ON INDEX interactions.history_cc_stream IS 'The stream of one contact center (push session delivery, the event feed, webhooks).';
COMMENT ON INDEX interactions.history_actor IS 'Agent activity.';
COMMENT ON INDEX interactions.history_cc_at IS 'A contact center''s history over a time range (reports), within the partitions of that range.';
COMMENT ON SEQUENCE interactions.history_seq IS 'History seq values, given by the trigger history_stamp.';
COMMENT ON TRIGGER history_stamp ON interactions.history IS 'seq and xid are the server''s; at is now.';
COMMENT ON TRIGGER history_append_only ON interactions.history IS
  'The history is append-only (retention via interactions.history_retention and interactions.purge_history; erasure via interactions.erase_customer).';
COMMENT ON TRIGGER history_no_truncate ON interactions.history IS 'TRUNCATE would erase the audit trail.';

ALTER TABLE interactions.contact_centers
    ADD COLUMN history_retention interval CHECK (history_retention >= interval '1 day'),
    ADD COLUMN history_kept_from timestamptz;
COMMENT ON COLUMN interactions.contact_centers.history_retention IS
  'How long this contact center''s history is kept (interactions.set_history_retention); NULL keeps it for ever. Enforced by the maintenance tick: whole monthly partitions are dropped when every contact center in them is past its retention, else the rows are deleted.';
COMMENT ON COLUMN interactions.contact_centers.history_kept_from IS
  'Retention has removed this contact center''s history before this time (NULL: nothing removed): an interaction received earlier may have lost the start of its history.';

-- When the maintenance tick last enforced retention (epoch milliseconds), like
-- push_sweep_clock: a sequence, written without a row lock or an MVCC version.
CREATE SEQUENCE interactions.history_retention_clock MINVALUE 0;
COMMENT ON SEQUENCE interactions.history_retention_clock IS
  'Epoch milliseconds of the last retention run of the maintenance tick (interactions.history_retention()); it runs again a minute later.';

-- What readers of the stream may skip.  A reader after position (xid, seq) asks every
-- partition for rows after it unless told where to start: with a year of months, each read
-- of the push channel probed a dozen indexes holding nothing for it (0.56 ms instead of
-- 0.22 ms a read, measured with 16 partitions).  Once a month is over and every transaction
-- that could have written into it has ended, its rows are final: per contact center, the
-- largest xid and seq in it go here, and interactions.history_floor() tells a reader the
-- first month that may hold rows after its position, which it adds as "at >= floor" and
-- PostgreSQL skips the months before it at execution.
CREATE TABLE interactions.history_months (
    cc_id       integer NOT NULL REFERENCES interactions.contact_centers(id),
    month_from  timestamptz NOT NULL,
    max_xid     xid8 NOT NULL,
    max_seq     bigint NOT NULL,
    PRIMARY KEY (cc_id, month_from)
);
CREATE INDEX history_months_xid ON interactions.history_months (max_xid);
COMMENT ON TABLE interactions.history_months IS
  'Per contact center and final month of the history (a month over, every transaction that wrote into it ended): the largest xid and seq of its rows there. interactions.history_floor() uses it to let readers of the stream skip months; a contact center without a row had no rows in that month.';
COMMENT ON COLUMN interactions.history_months.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.history_months.month_from IS 'The month (its first instant, UTC), i.e. the partition history_YYYYMM.';
COMMENT ON COLUMN interactions.history_months.max_xid IS 'The largest xid of the contact center''s rows in that month.';
COMMENT ON COLUMN interactions.history_months.max_seq IS 'The largest seq of the contact center''s rows in that month.';
COMMENT ON INDEX interactions.history_months_xid IS 'The months holding rows after a position, across contact centers (the push listener).';

CREATE SEQUENCE interactions.history_final_through MINVALUE 0;
COMMENT ON SEQUENCE interactions.history_final_through IS
  'Epoch milliseconds: every history month before this is final and described in interactions.history_months (0: none yet).';
CREATE SEQUENCE interactions.history_final_horizon MINVALUE 0;
COMMENT ON SEQUENCE interactions.history_final_horizon IS
  'The next xid to be given out when the month at history_final_through was over (0: not taken yet): once every transaction below it has ended, that month is final.';
