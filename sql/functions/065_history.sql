-- The history's monthly partitions and their retention (V013), and what a DBA reading a
-- replica needs to know about its lag.  Repeatable: re-applied by interactions-migrate.
--
-- Partitions are named history_YYYYMM and hold the rows whose "at" falls in that calendar
-- month (UTC).  The maintenance tick (interactions.maintenance) calls
-- interactions.history_retention() once a minute, which
--   1. creates the partitions of this month and the next two when missing, so that an insert
--      never finds no partition for its row (every write would fail);
--   2. drops, at most one per run, a past month's partition when every contact center with
--      rows in it keeps its history for a shorter time than has passed since the month
--      ended, and none of those rows is still needed: by a live push session (rows after its
--      cursor) or an enabled webhook (rows after its cursor) — the event feed keeps no cursor
--      of its clients: a client whose cursor was dropped is told so (067_events.sql);
--   3. otherwise deletes, in batches, the rows of the contact centers that are past their
--      retention, under the same conditions.
-- Dropping a partition takes an exclusive lock on the history for a moment: it is tried with
-- a short lock timeout and, when readers are in the way, again on the next run.
--
-- Creating and dropping a partition needs the history's owner: those two functions are
-- SECURITY DEFINER owned by interactions_owner (900_security.sql), execute only for
-- interactions_system, and do nothing but that DDL; the decisions, which read across
-- contact centers, are taken by interactions_system's history_retention().

-- The partitions with their bounds, oldest first.
CREATE OR REPLACE FUNCTION interactions.history_partitions()
RETURNS TABLE (partition regclass, month_from timestamptz, month_to timestamptz)
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    SELECT c.oid::regclass, b[1]::timestamptz, b[2]::timestamptz
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                     '^FOR VALUES FROM \(''([^'']+)''\) TO \(''([^'']+)''\)$') AS b
     WHERE i.inhparent = 'interactions.history'::regclass
     ORDER BY 2
$$;
COMMENT ON FUNCTION interactions.history_partitions() IS
  'The monthly partitions of interactions.history with the range of "at" each holds, oldest first.';

-- What makes a partition like the rest: the truncate guard (statement triggers are not
-- inherited), forced row-level security with the policy of every tenant table (the same as
-- 900_security.sql gives every table at migration), the privileges of the roles that may
-- read a partition directly.  The row triggers and indexes come from the parent.
CREATE OR REPLACE FUNCTION interactions.history_partition_secure(p_part regclass)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = p_part AND t.tgname = 'history_no_truncate') THEN
        EXECUTE format('CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION interactions.history_append_only()', p_part);
    END IF;
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', p_part);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', p_part);
    IF NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = p_part AND p.polname = 'tenant_isolation') THEN
        EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (cc_id = (SELECT interactions.current_cc())) '
                       'WITH CHECK (cc_id = (SELECT interactions.current_cc()))', p_part);
    END IF;
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', p_part);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO interactions_system', p_part);
    EXECUTE format('GRANT SELECT ON %s TO interactions_dba', p_part);
    EXECUTE format('COMMENT ON TABLE %s IS %L', p_part,
                   'The rows of interactions.history of one month (see the parent); dropped whole by retention.');
END $$;
COMMENT ON FUNCTION interactions.history_partition_secure(regclass) IS
  'Gives a history partition the truncate guard, forced row-level security with the tenant policy, the privileges and a comment (its row triggers and indexes come from the parent).';

-- The partition of the month holding p_at, created when missing (owner's rights).
CREATE OR REPLACE FUNCTION interactions.history_partition_create(p_at timestamptz)
RETURNS regclass LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
SET lock_timeout = '200ms' AS $$
DECLARE
    v_from timestamptz := date_trunc('month', p_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    v_name text := 'history_' || to_char(v_from AT TIME ZONE 'UTC', 'YYYYMM');
    v_part regclass;
BEGIN
    v_part := to_regclass(format('interactions.%I', v_name));
    IF v_part IS NULL THEN
        EXECUTE format('CREATE TABLE interactions.%I PARTITION OF interactions.history FOR VALUES FROM (%L) TO (%L)',
                       v_name, v_from, v_from + interval '1 month');
        v_part := format('interactions.%I', v_name)::regclass;
        PERFORM interactions.history_partition_secure(v_part);
        -- A month before those already final (a DBA loading old rows) is not final, nor
        -- are the ones after it until history_finalize has seen them again: readers must
        -- not skip it.
        IF v_from < interactions.history_final_through() THEN
            PERFORM setval('interactions.history_final_through', (extract(epoch FROM v_from) * 1000)::bigint),
                    setval('interactions.history_final_horizon', 0);
        END IF;
    END IF;
    RETURN v_part;
END $$;
COMMENT ON FUNCTION interactions.history_partition_create(timestamptz) IS
  'Creates the history partition of the month of p_at when missing (history_YYYYMM, secured like the others); returns it. Runs with the owner''s rights; only interactions_system may call it.';

-- Drops one history partition (owner's rights); whether it may go is the caller's decision.
CREATE OR REPLACE FUNCTION interactions.history_partition_drop(p_part regclass)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog
SET lock_timeout = '200ms' AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = p_part
                                                 AND i.inhparent = 'interactions.history'::regclass) THEN
        RAISE EXCEPTION '% is not a partition of interactions.history', p_part;
    END IF;
    EXECUTE format('DROP TABLE %s', p_part);
END $$;
COMMENT ON FUNCTION interactions.history_partition_drop(regclass) IS
  'Drops a partition of interactions.history. Runs with the owner''s rights; only interactions_system may call it, from interactions.history_retention(), which decides that nothing in it is still kept or needed.';

-- The partitions of this month and the next two.
CREATE OR REPLACE FUNCTION interactions.history_partitions_ahead() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    FOR i IN 0..2 LOOP
        PERFORM interactions.history_partition_create(now() + i * interval '1 month');
    END LOOP;
END $$;
COMMENT ON FUNCTION interactions.history_partitions_ahead() IS
  'Creates the history partitions of this month and the next two when missing.';

-- Readers of the stream skip the final months (V013, interactions.history_months): every
-- month before history_final_through() is final, and a contact center's rows after a
-- position can be only in the final months whose largest xid (or seq) reaches it, or later.
-- A reader adds "h.at >= <floor>", and PostgreSQL leaves out the months before it when the
-- statement starts.  Until the first month is final the floor is the epoch: nothing skipped.
CREATE OR REPLACE FUNCTION interactions.history_final_through() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT to_timestamp(coalesce(pg_sequence_last_value('interactions.history_final_through'::regclass), 0) / 1000.0)
$$;
COMMENT ON FUNCTION interactions.history_final_through() IS
  'Every month of the history before this is final: no row will ever be added to it, and interactions.history_months describes it.';

CREATE OR REPLACE FUNCTION interactions.history_floor(p_cc integer, p_xid xid8) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_first timestamptz;
BEGIN
    SELECT min(m.month_from) INTO v_first FROM interactions.history_months m
     WHERE m.cc_id = p_cc AND m.max_xid >= p_xid;
    RETURN least(interactions.history_final_through(), v_first);
END $$;
COMMENT ON FUNCTION interactions.history_floor(integer, xid8) IS
  'The earliest "at" a row of contact center p_cc after stream position (p_xid, any seq) can have: readers add "at >= history_floor(...)" so that the months before it are skipped. Reads interactions.history_months under row-level security: call it for the contact center the transaction is bound to.';

CREATE OR REPLACE FUNCTION interactions.history_floor_seq(p_cc integer, p_seq bigint) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_first timestamptz;
BEGIN
    SELECT min(m.month_from) INTO v_first FROM interactions.history_months m
     WHERE m.cc_id = p_cc AND m.max_seq >= p_seq;
    RETURN least(interactions.history_final_through(), v_first);
END $$;
COMMENT ON FUNCTION interactions.history_floor_seq(integer, bigint) IS
  'The earliest "at" the row of contact center p_cc with seq p_seq (or a later seq) can have: a look-up by seq skips the months before it. Under row-level security, like history_floor.';

-- The same across contact centers, for the push listener's wake-up read (SECURITY DEFINER:
-- under the module's row-level security it would see no month and skip nothing it should
-- read... nor anything at all; it answers only a month).
CREATE OR REPLACE FUNCTION interactions.history_floor_all(p_xid xid8) RETURNS timestamptz
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_first timestamptz;
BEGIN
    SELECT min(m.month_from) INTO v_first FROM interactions.history_months m WHERE m.max_xid >= p_xid;
    RETURN least(interactions.history_final_through(), v_first);
END $$;
COMMENT ON FUNCTION interactions.history_floor_all(xid8) IS
  'history_floor across contact centers: the earliest "at" of any row after stream position (p_xid, any seq).';

-- One step of making months final, in order: when the month at history_final_through is
-- over, note the next xid to be given out; on a later run, once every transaction below it
-- has ended (nothing can add to the month any more), describe the month in
-- history_months and move on.  One month a run after the first.
CREATE OR REPLACE FUNCTION interactions.history_finalize() RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    p       record;
    v_h     bigint := coalesce(pg_sequence_last_value('interactions.history_final_horizon'::regclass), 0);
BEGIN
    SELECT * INTO p FROM interactions.history_partitions() hp
     WHERE hp.month_from >= interactions.history_final_through() ORDER BY hp.month_from LIMIT 1;
    -- rows may still arrive until a minute after the month (history_stamp)
    IF NOT FOUND OR p.month_to >= now() - interval '1 minute' THEN
        RETURN;
    END IF;
    IF v_h = 0 THEN
        PERFORM setval('interactions.history_final_horizon',
                       pg_snapshot_xmax(pg_current_snapshot())::text::bigint);
        RETURN;
    END IF;
    IF pg_snapshot_xmin(pg_current_snapshot())::text::bigint < v_h THEN
        RETURN;   -- a transaction that may have written into the month still runs
    END IF;
    EXECUTE format('INSERT INTO interactions.history_months (cc_id, month_from, max_xid, max_seq)
                    SELECT t.cc, $1, (SELECT max(h.xid) FROM %1$s h WHERE h.cc_id = t.cc),
                                     (SELECT max(h.seq) FROM %1$s h WHERE h.cc_id = t.cc)
                      FROM (WITH RECURSIVE r(cc) AS (SELECT min(cc_id) FROM %1$s
                              UNION ALL SELECT (SELECT min(h.cc_id) FROM %1$s h WHERE h.cc_id > r.cc) FROM r WHERE r.cc IS NOT NULL)
                            SELECT cc FROM r WHERE cc IS NOT NULL) t
                    ON CONFLICT (cc_id, month_from) DO UPDATE SET max_xid = EXCLUDED.max_xid, max_seq = EXCLUDED.max_seq',
                   p.partition) USING p.month_from;
    PERFORM setval('interactions.history_final_through', (extract(epoch FROM p.month_to) * 1000)::bigint),
            setval('interactions.history_final_horizon', 0);
END $$;
COMMENT ON FUNCTION interactions.history_finalize() IS
  'Makes the oldest month not yet final final when it can (see interactions.history_months); called by interactions.history_retention() every run.';

-- Up to where contact center p_cc's history is still needed by the push channel and the
-- webhooks: the lowest cursor of its live push sessions and enabled webhooks, or the stable
-- cut when there is none (every row below it has been read by whoever needs it).
CREATE OR REPLACE FUNCTION interactions.history_pinned(p_cc integer, OUT pin_xid xid8, OUT pin_seq bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog AS $$
DECLARE
    v_xid xid8;
    v_seq bigint;
BEGIN
    pin_xid := pg_snapshot_xmin(pg_current_snapshot());
    pin_seq := 0;
    SELECT s.cursor_xid, s.cursor_seq INTO v_xid, v_seq FROM interactions.push_sessions s
     WHERE s.cc_id = p_cc AND s.expires_at > now()
     ORDER BY s.cursor_xid, s.cursor_seq LIMIT 1;
    IF FOUND AND (v_xid, v_seq) < (pin_xid, pin_seq) THEN
        pin_xid := v_xid;
        pin_seq := v_seq;
    END IF;
    v_xid := NULL;
    SELECT w.cursor_xid, w.cursor_seq INTO v_xid, v_seq FROM interactions.webhooks w
     WHERE w.cc_id = p_cc AND w.enabled ORDER BY w.cursor_xid, w.cursor_seq LIMIT 1;
    IF v_xid IS NOT NULL AND (v_xid, v_seq) < (pin_xid, pin_seq) THEN
        pin_xid := v_xid;
        pin_seq := v_seq;
    END IF;
END $$;
COMMENT ON FUNCTION interactions.history_pinned(integer) IS
  'The stream position (xid, seq) up to which contact center p_cc''s history may be removed: the lowest cursor of its live push sessions and enabled webhooks, or the stable cut.';

-- Whether retention may drop partition p_part now: every contact center with rows in it
-- keeps its history for less than has passed since the month ended, and every one of its
-- rows there is at or before what the contact center's readers still need.  Returns the
-- contact centers in it (NULL when it must stay).
CREATE OR REPLACE FUNCTION interactions.history_partition_droppable(p_part regclass, p_to timestamptz)
RETURNS integer[] LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    v_ccs  integer[];
    v_cc   integer;
    v_ret  interval;
    v_xid  xid8;
    v_seq  bigint;
    v_pin  record;
BEGIN
    -- the contact centers in it, one index probe each (a loose scan of its primary key)
    EXECUTE format('WITH RECURSIVE t(cc) AS (SELECT min(cc_id) FROM %1$s
                        UNION ALL SELECT (SELECT min(h.cc_id) FROM %1$s h WHERE h.cc_id > t.cc) FROM t WHERE t.cc IS NOT NULL)
                    SELECT coalesce(array_agg(cc), ''{}'') FROM t WHERE cc IS NOT NULL', p_part) INTO v_ccs;
    FOREACH v_cc IN ARRAY v_ccs LOOP
        SELECT history_retention INTO v_ret FROM interactions.contact_centers WHERE id = v_cc;
        IF v_ret IS NULL OR p_to > now() - v_ret THEN
            RETURN NULL;
        END IF;
        EXECUTE format('SELECT xid, seq FROM %s WHERE cc_id = $1 ORDER BY xid DESC, seq DESC LIMIT 1', p_part)
           INTO v_xid, v_seq USING v_cc;
        v_pin := interactions.history_pinned(v_cc);
        IF (v_xid, v_seq) > (v_pin.pin_xid, v_pin.pin_seq) THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN v_ccs;
END $$;
COMMENT ON FUNCTION interactions.history_partition_droppable(regclass, timestamptz) IS
  'Retention''s test for dropping history partition p_part (ending at p_to): the contact centers in it when every one of them is past its retention and no live push session or enabled webhook of theirs still needs a row of it; NULL otherwise.';

-- The maintenance tick's retention run (see the top of this file).  Returns what it did:
-- {"dropped":[partition names],"deleted":rows}.
CREATE OR REPLACE FUNCTION interactions.history_retention(p_max_rows integer DEFAULT 10000)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    p         record;
    r         record;
    v_ccs     integer[];
    v_dropped text[] := '{}';
    v_deleted bigint := 0;
    v_n       bigint;
    v_pin     record;
    v_horizon timestamptz;
    v_lock    text;
    v_name    text;
BEGIN
    BEGIN
        PERFORM interactions.history_partitions_ahead();
    EXCEPTION WHEN lock_not_available THEN
        -- readers were in the way: next run (two months ahead leaves time)
        NULL;
    END;
    PERFORM interactions.history_finalize();
    -- a month ended more than a minute ago can receive no row any more (history_stamp)
    FOR p IN SELECT * FROM interactions.history_partitions() hp
              WHERE hp.month_to < now() - interval '1 minute' ORDER BY hp.month_from LOOP
        IF interactions.history_partition_droppable(p.partition, p.month_to) IS NOT NULL THEN
            -- one a run, so that the history is locked once; the next goes a minute later
            -- (its rows need no deleting meanwhile)
            CONTINUE WHEN cardinality(v_dropped) > 0;
            v_lock := current_setting('lock_timeout');
            v_ccs := '{}';
            BEGIN
                -- Nobody may write or read it while it goes, and the decision is taken again
                -- under the lock: a row committed since the test above is seen now.
                PERFORM set_config('lock_timeout', '200ms', true);
                LOCK TABLE interactions.history IN ACCESS EXCLUSIVE MODE;
                v_ccs := interactions.history_partition_droppable(p.partition, p.month_to);
                IF v_ccs IS NOT NULL THEN
                    v_name := p.partition::text;
                    PERFORM interactions.history_partition_drop(p.partition);
                    DELETE FROM interactions.history_months WHERE month_from = p.month_from;
                    UPDATE interactions.contact_centers SET history_kept_from = greatest(history_kept_from, p.month_to)
                     WHERE id = ANY (v_ccs);
                    v_dropped := v_dropped || v_name;
                END IF;
                PERFORM set_config('lock_timeout', v_lock, true);
            EXCEPTION WHEN lock_not_available THEN
                -- readers held the history: try again on the next run
                NULL;
            END;
            -- dropped, or to be dropped next time; unless it turned out to be needed
            CONTINUE WHEN v_ccs IS NOT NULL;
        END IF;
        -- The rows of the contact centers past their retention, as many as the run allows.
        FOR r IN SELECT c.id, c.history_retention FROM interactions.contact_centers c
                  WHERE c.history_retention IS NOT NULL AND p.month_from < now() - c.history_retention
                  ORDER BY c.id LOOP
            EXIT WHEN v_deleted >= p_max_rows;
            v_horizon := now() - r.history_retention;
            v_pin := interactions.history_pinned(r.id);
            PERFORM set_config('interactions.purging', 'on', true);
            EXECUTE format('DELETE FROM %1$s WHERE ctid = ANY (ARRAY(SELECT ctid FROM %1$s
                              WHERE cc_id = $1 AND at < $2 AND (xid, seq) <= ($3, $4) LIMIT $5))', p.partition)
              USING r.id, v_horizon, v_pin.pin_xid, v_pin.pin_seq, p_max_rows - v_deleted;
            GET DIAGNOSTICS v_n = ROW_COUNT;
            PERFORM set_config('interactions.purging', 'off', true);
            IF v_n > 0 THEN
                v_deleted := v_deleted + v_n;
                UPDATE interactions.contact_centers
                   SET history_kept_from = greatest(history_kept_from, least(v_horizon, p.month_to))
                 WHERE id = r.id;
            END IF;
        END LOOP;
    END LOOP;
    -- webhook deliveries delivered long ago (068_webhooks.sql)
    PERFORM interactions.webhook_prune();
    PERFORM setval('interactions.history_retention_clock', (extract(epoch FROM now()) * 1000)::bigint);
    RETURN jsonb_build_object('dropped', to_jsonb(v_dropped), 'deleted', v_deleted);
END $$;
COMMENT ON FUNCTION interactions.history_retention(integer) IS
  'Retention of the history, run by the maintenance tick once a minute: creates the partitions of this month and the next two, drops a past month''s partition when every contact center in it is past its retention and nothing of it is still needed by a live push session or an enabled webhook, else deletes up to p_max_rows rows of contact centers past their retention (as far as those readers allow). Returns {"dropped":[..],"deleted":n}.';

-- For DBAs: how long a contact center's history is kept (NULL: for ever, the default).
CREATE OR REPLACE FUNCTION interactions.set_history_retention(p_cc text, p_keep interval)
RETURNS interval LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF p_keep IS NOT NULL AND p_keep < interval '1 day' THEN
        RAISE EXCEPTION 'a retention shorter than a day is refused (%)', p_keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE interactions.contact_centers SET history_retention = p_keep WHERE id = interactions.cc_by_name(p_cc);
    RETURN p_keep;
END $$;
COMMENT ON FUNCTION interactions.set_history_retention(text, interval) IS
  'Sets how long contact center p_cc keeps its history (NULL: for ever; at least a day). The maintenance tick enforces it within a minute: whole months are dropped where every contact center in them allows it, other rows deleted in batches.';

-- Every partition that exists now gets the same treatment (a database migrated by V013 had
-- its partitions created without it).
DO $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT * FROM interactions.history_partitions() LOOP
        PERFORM interactions.history_partition_secure(p.partition);
    END LOOP;
END $$;

-- Where a DBA reads reports: on a streaming replica (docs/deployment.md), which must say how
-- far behind the primary it is.  On a standby, its own lag; on the primary, one row per
-- standby it streams to.  The maintenance tick moves interactions.push_sweep_clock every
-- tick, so "heartbeat_age" on a standby is its lag plus at most one tick even when nothing
-- else is written (pg_last_xact_replay_timestamp() stands still then).
CREATE OR REPLACE VIEW interactions.replication_status WITH (security_invoker = true) AS
SELECT 'standby'::text                                   AS role,
       NULL::text                                        AS standby,
       pg_last_wal_receive_lsn()                         AS received_lsn,
       pg_last_wal_replay_lsn()                          AS replayed_lsn,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS replay_backlog_bytes,
       pg_last_xact_replay_timestamp()                   AS last_replayed_commit,
       now() - interactions.push_last_sweep()            AS heartbeat_age,
       NULL::interval                                    AS replay_lag,
       NULL::text                                        AS sync_state
 WHERE pg_is_in_recovery()
UNION ALL
SELECT 'primary', r.application_name, r.flush_lsn, r.replay_lsn,
       pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint,
       NULL, NULL, r.replay_lag, r.sync_state
  FROM pg_stat_replication r
 WHERE NOT pg_is_in_recovery();
COMMENT ON VIEW interactions.replication_status IS
  'Replication as this server sees it. On a standby (role standby): how much WAL it has received but not replayed, its last replayed commit, and heartbeat_age: now minus the maintenance tick''s last heartbeat written on the primary, i.e. the lag plus at most one tick. On the primary (role primary): one row per standby with its replay lag and WAL backlog (needs pg_monitor, which interactions_dba has).';
COMMENT ON COLUMN interactions.replication_status.role IS 'standby: this server replays a primary''s WAL; primary: the server writing, one row per standby.';
COMMENT ON COLUMN interactions.replication_status.standby IS 'On the primary: the standby''s application_name (its Patroni member name).';
COMMENT ON COLUMN interactions.replication_status.received_lsn IS 'WAL received (standby) or flushed by the standby (primary).';
COMMENT ON COLUMN interactions.replication_status.replayed_lsn IS 'WAL replayed, i.e. visible to queries on the standby.';
COMMENT ON COLUMN interactions.replication_status.replay_backlog_bytes IS 'Bytes of WAL not yet replayed on the standby.';
COMMENT ON COLUMN interactions.replication_status.last_replayed_commit IS 'On a standby: when the last replayed transaction committed on the primary.';
COMMENT ON COLUMN interactions.replication_status.heartbeat_age IS 'On a standby: how old the newest maintenance heartbeat it has replayed is (lag plus at most one InteractionsMaintenanceInterval).';
COMMENT ON COLUMN interactions.replication_status.replay_lag IS 'On the primary: how long the standby took to replay recent WAL (pg_stat_replication.replay_lag).';
COMMENT ON COLUMN interactions.replication_status.sync_state IS 'On the primary: sync or async (Patroni''s synchronous_mode makes one standby sync).';

-- The DBA role reads replication statistics (pg_stat_replication beyond its own sessions).
GRANT pg_monitor TO interactions_dba;
