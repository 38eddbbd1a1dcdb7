-- Queue statistics (GET /queues, GET /queues/{name}/statistics) and the queue events they
-- and the DBA's reports (076_reporting.sql) count.  Exact: everything comes from the
-- history, which records every change in the transaction that makes it; the statistics
-- read it folded into per-minute rollups by the maintenance tick (queue_rollup) plus the
-- rows the tick has not reached yet (V024 says why).

-- One row per event of a queue, the one definition of what the statistics count:
--   created    an interaction was created in the queue (Create);
--   answered   an offer from the queue was accepted (Accept); wait_seconds: since it entered
--              the queue (Create, PlaceInQueue, Transfer, Complete to a queue...), not since
--              its last offer: a Reject or an expired offer does not restart the wait;
--   abandoned  it left the queue for a final state without being accepted (canceled or
--              removed while Queued or Invited); wait_seconds as for answered;
--   handled    an agent stopped working on it (Complete, Transfer, PlaceInQueue,
--              PlaceInWorkbin...); handle_seconds: since that agent's Accept or Pull.
-- A row belongs to the queue the interaction left (from_queue), or, for Create, the queue
-- it entered: history_queue_stream indexes exactly that, so a filter on cc_id, queue and
-- (xid, seq) reads only the rows it returns.  The waits are looked up per row through
-- history_interaction (the interaction's earlier rows, newest first; "e.at <= h.at" lets a
-- history partitioned by time skip later partitions).
CREATE OR REPLACE VIEW interactions.queue_events WITH (security_invoker = true) AS
SELECT h.cc_id,
       coalesce(h.from_queue, h.to_queue)                                   AS queue,
       h.at,
       h.xid,
       h.seq,
       h.interaction_id,
       k.kind,
       CASE WHEN k.kind IN ('answered', 'abandoned') THEN
           extract(epoch FROM h.at - (
               SELECT e.at FROM interactions.history e
                WHERE e.cc_id = h.cc_id AND e.interaction_id = h.interaction_id
                  AND e.seq < h.seq AND e.at <= h.at
                  AND e.to_state IN ('Queued', 'Invited')
                  AND (e.from_state IS NULL OR e.from_state NOT IN ('Queued', 'Invited'))
                ORDER BY e.seq DESC LIMIT 1))::numeric(12, 3)
       END                                                                  AS wait_seconds,
       CASE WHEN k.kind = 'handled' THEN
           extract(epoch FROM h.at - (
               SELECT e.at FROM interactions.history e
                WHERE e.cc_id = h.cc_id AND e.interaction_id = h.interaction_id
                  AND e.seq < h.seq AND e.at <= h.at
                  AND e.to_state = 'Processing' AND e.from_state IS DISTINCT FROM 'Processing'
                ORDER BY e.seq DESC LIMIT 1))::numeric(12, 3)
       END                                                                  AS handle_seconds
  FROM interactions.history h
  CROSS JOIN LATERAL (
      SELECT CASE
          WHEN h.operation = 'Create' AND h.from_queue IS NULL AND h.to_queue IS NOT NULL THEN 'created'
          WHEN h.operation = 'Accept' THEN 'answered'
          WHEN h.from_state IN ('Queued', 'Invited') AND h.to_state IN ('Completed', 'Canceled', 'Sent')
              THEN 'abandoned'
          WHEN h.from_state = 'Processing' AND h.to_state IS DISTINCT FROM 'Processing' THEN 'handled'
      END AS kind) k
 WHERE h.interaction_id IS NOT NULL
   AND k.kind IS NOT NULL;
COMMENT ON VIEW interactions.queue_events IS
  'One row per counted event of a queue: created (Create in the queue), answered (Accept; wait_seconds since it entered the queue), abandoned (left the queue for a final state unaccepted; wait_seconds), handled (an agent stopped working on it; handle_seconds since their Accept or Pull). What GET /queues/{name}/statistics and interactions.queue_intervals count. Filter on cc_id and queue (and xid, seq): the index history_queue_stream serves exactly that.';
COMMENT ON COLUMN interactions.queue_events.cc_id IS 'Contact center (internal key).';
COMMENT ON COLUMN interactions.queue_events.queue IS 'The queue the interaction left (or, for created, entered).';
COMMENT ON COLUMN interactions.queue_events.at IS 'When.';
COMMENT ON COLUMN interactions.queue_events.xid IS 'The writing transaction (the stream order is (xid, seq)).';
COMMENT ON COLUMN interactions.queue_events.seq IS 'The history row.';
COMMENT ON COLUMN interactions.queue_events.interaction_id IS 'The interaction.';
COMMENT ON COLUMN interactions.queue_events.kind IS 'created, answered, abandoned or handled.';
COMMENT ON COLUMN interactions.queue_events.wait_seconds IS 'answered, abandoned: seconds since the interaction entered the queue.';
COMMENT ON COLUMN interactions.queue_events.handle_seconds IS 'handled: seconds since the agent accepted (or pulled) it.';

-- The maintenance tick: fold the events of every contact center's new history rows (below
-- the stable cut, in stream order, at most p_batch rows per contact center) into
-- queue_rollups, and move each contact center's cursor past them, in one transaction.
-- Only the events of the last day are folded in: the statistics read today and the last 15
-- minutes, and older rows (a DBA loading old history, the history before V024) would only
-- make the tick long.  Once a day per contact center, the rollups older than two days go.
-- Returns the number of rollup rows written.
CREATE OR REPLACE FUNCTION interactions.queue_rollup(p_batch integer, p_since timestamptz DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_cut  xid8 := pg_snapshot_xmin(pg_current_snapshot());
    c      record;
    v_xid  xid8;
    v_seq  bigint;
    v_rows integer;
    v_n    integer;
    v_all  integer := 0;
BEGIN
    FOR c IN SELECT cc.id, coalesce(k.cursor_xid, '0'::xid8) AS xid, coalesce(k.cursor_seq, 0) AS seq,
                    k.rolled_at
               FROM interactions.contact_centers cc
               LEFT JOIN interactions.queue_rollup_cursors k ON k.cc_id = cc.id
    LOOP
        -- bound to it: history_floor reads the months of this contact center
        PERFORM set_config('interactions.cc', c.id::text, true);
        -- the batch: the next p_batch rows; a short batch ends at the cut
        SELECT count(*), (array_agg(r.xid ORDER BY r.xid DESC, r.seq DESC))[1],
               (array_agg(r.seq ORDER BY r.xid DESC, r.seq DESC))[1]
          INTO v_rows, v_xid, v_seq
          FROM (SELECT h.xid, h.seq FROM interactions.history h
                 WHERE h.cc_id = c.id AND (h.xid, h.seq) > (c.xid, c.seq) AND h.xid < v_cut
                   AND h.at >= interactions.history_floor(c.id, c.xid)
                 ORDER BY h.xid, h.seq LIMIT p_batch) r;
        -- nothing new: the cursor stays (the next scan starts from it, as cheap)
        CONTINUE WHEN v_rows = 0;
        IF v_rows < p_batch THEN
            v_xid := v_cut;
            v_seq := 0;
        END IF;
        INSERT INTO interactions.queue_rollups AS q
               (cc_id, queue, minute, created, answered, abandoned, waits, handled, handle_seconds)
        SELECT e.cc_id, e.queue, date_trunc('minute', e.at),
               count(*) FILTER (WHERE e.kind = 'created'),
               count(*) FILTER (WHERE e.kind = 'answered'),
               count(*) FILTER (WHERE e.kind = 'abandoned'),
               coalesce(array_agg(e.wait_seconds::float8) FILTER (WHERE e.kind = 'answered'), '{}'),
               count(*) FILTER (WHERE e.kind = 'handled'),
               coalesce(sum(e.handle_seconds) FILTER (WHERE e.kind = 'handled'), 0)
          FROM interactions.queue_events e
         WHERE e.cc_id = c.id AND (e.xid, e.seq) > (c.xid, c.seq) AND (e.xid, e.seq) <= (v_xid, v_seq)
           AND e.xid < v_cut AND e.queue IS NOT NULL AND e.at >= interactions.history_floor(c.id, c.xid)
           AND e.at >= coalesce(p_since, now() - interval '1 day')
         GROUP BY e.cc_id, e.queue, date_trunc('minute', e.at)
        ON CONFLICT (cc_id, queue, minute) DO UPDATE
           SET created = q.created + excluded.created,
               answered = q.answered + excluded.answered,
               abandoned = q.abandoned + excluded.abandoned,
               waits = q.waits || excluded.waits,
               handled = q.handled + excluded.handled,
               handle_seconds = q.handle_seconds + excluded.handle_seconds;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_all := v_all + v_n;
        IF c.rolled_at IS NULL OR date_trunc('day', c.rolled_at) < date_trunc('day', now()) THEN
            DELETE FROM interactions.queue_rollups
             WHERE cc_id = c.id AND minute < coalesce(p_since, now() - interval '1 day') - interval '1 day';
        END IF;
        INSERT INTO interactions.queue_rollup_cursors AS k (cc_id, cursor_xid, cursor_seq)
        VALUES (c.id, v_xid, v_seq)
        ON CONFLICT (cc_id) DO UPDATE
           SET cursor_xid = excluded.cursor_xid, cursor_seq = excluded.cursor_seq, rolled_at = now();
    END LOOP;
    RETURN v_all;
END $$;
COMMENT ON FUNCTION interactions.queue_rollup(integer, timestamptz) IS
  'Maintenance: folds the queue events since p_since (NULL: of the last day) among each contact center''s history rows after its cursor (below the stable cut, at most p_batch rows) into interactions.queue_rollups and moves the cursor; once a day per contact center, removes the rollups older than a day before that. Returns the number of rollup rows written.';

-- The figures of one queue over [p_from, now]: the rollups of those minutes (p_from is the
-- start of a minute) and the queue's events after the contact center's rollup cursor,
-- through history_queue_stream.  STABLE: every statement sees the calling statement's
-- snapshot, so the cursor and the rollups read agree.  Service level: answered within the
-- threshold, of answered and abandoned (an interaction given up on counts against it);
-- null when neither.  p90: the smallest wait that at least 90% of the answered did not
-- exceed (an observed wait, percentile_disc).
CREATE OR REPLACE FUNCTION interactions.queue_period(p_cc integer, p_queue text, p_threshold interval,
                                                     p_from timestamptz)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_xid  xid8 := '0'::xid8;
    v_seq  bigint := 0;
    v_t    float8 := extract(epoch FROM p_threshold);
    v_res  jsonb;
BEGIN
    SELECT k.cursor_xid, k.cursor_seq INTO v_xid, v_seq
      FROM interactions.queue_rollup_cursors k WHERE k.cc_id = p_cc;
    WITH live AS MATERIALIZED (
        SELECT e.kind, e.wait_seconds, e.handle_seconds
          FROM interactions.queue_events e
         WHERE e.cc_id = p_cc AND e.queue = p_queue
           AND (e.xid, e.seq) > (coalesce(v_xid, '0'::xid8), coalesce(v_seq, 0))
           AND e.at >= p_from
           -- the months of the history that cannot hold a row after the cursor are skipped
           AND e.at >= interactions.history_floor(p_cc, coalesce(v_xid, '0'::xid8))),
    rolled AS MATERIALIZED (
        SELECT r.created, r.answered, r.abandoned, r.waits, r.handled, r.handle_seconds
          FROM interactions.queue_rollups r
         WHERE r.cc_id = p_cc AND r.queue = p_queue AND r.minute >= p_from),
    waits AS (
        SELECT unnest(r.waits) AS w FROM rolled r
        UNION ALL
        SELECT l.wait_seconds::float8 FROM live l WHERE l.kind = 'answered'),
    n AS (
        SELECT (SELECT coalesce(sum(r.created), 0) FROM rolled r)
                 + (SELECT count(*) FROM live l WHERE l.kind = 'created') AS created,
               (SELECT coalesce(sum(r.answered), 0) FROM rolled r)
                 + (SELECT count(*) FROM live l WHERE l.kind = 'answered') AS answered,
               (SELECT coalesce(sum(r.abandoned), 0) FROM rolled r)
                 + (SELECT count(*) FROM live l WHERE l.kind = 'abandoned') AS abandoned,
               (SELECT coalesce(sum(r.handled), 0) FROM rolled r)
                 + (SELECT count(*) FROM live l WHERE l.kind = 'handled') AS handled,
               (SELECT coalesce(sum(r.handle_seconds), 0) FROM rolled r)
                 + (SELECT coalesce(sum(l.handle_seconds), 0) FROM live l WHERE l.kind = 'handled') AS handle_seconds),
    w AS (
        SELECT count(*) FILTER (WHERE waits.w <= v_t) AS within,
               avg(waits.w) AS avg_wait,
               percentile_disc(0.9) WITHIN GROUP (ORDER BY waits.w) AS p90
          FROM waits)
    SELECT jsonb_build_object(
               'from', interactions.iso(p_from),
               'created', n.created,
               'answered', n.answered,
               'abandoned', n.abandoned,
               'answeredWithinThreshold', w.within,
               'averageWaitSeconds', round(w.avg_wait::numeric, 3),
               'p90WaitSeconds', w.p90,
               'handled', n.handled,
               'averageHandleSeconds', round(n.handle_seconds / nullif(n.handled, 0), 3),
               'serviceLevel', round(w.within::numeric / nullif(n.answered + n.abandoned, 0), 4))
      INTO v_res
      FROM n, w;
    RETURN v_res;
END $$;
COMMENT ON FUNCTION interactions.queue_period(integer, text, interval, timestamptz) IS
  'A queue''s figures from p_from (the start of a minute) to now, from interactions.queue_rollups and the events after the rollup cursor: created, answered, abandoned, answered within p_threshold, average and 90th-percentile wait to accept, handled and average handle time, service level (answered within the threshold / (answered + abandoned)).';

-- What a queue is now: waiting (Queued) and since when, offered (Invited), and its members
-- by the state of their channels (an agent with channels in two states counts in both).
CREATE OR REPLACE FUNCTION interactions.queue_now(q interactions.queues, p_now timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
               'name', q.name,
               'serviceLevelThresholdSeconds', extract(epoch FROM q.service_level_threshold)::numeric,
               'waiting', w.waiting,
               'oldestWaitingSince', interactions.iso(w.oldest),
               'oldestWaitSeconds', round(extract(epoch FROM p_now - w.oldest)::numeric, 3),
               'offered', w.offered,
               'agents', (SELECT jsonb_build_object(
                                     'Ready', count(DISTINCT m.user_id) FILTER (WHERE ch.state = 'Ready'),
                                     'NotReady', count(DISTINCT m.user_id) FILTER (WHERE ch.state = 'NotReady'),
                                     'AfterCallWork', count(DISTINCT m.user_id) FILTER (WHERE ch.state = 'AfterCallWork'),
                                     'DoNotDisturb', count(DISTINCT m.user_id) FILTER (WHERE ch.state = 'DoNotDisturb'),
                                     'LoggedOut', count(DISTINCT m.user_id) FILTER (WHERE ch.state = 'LoggedOut'))
                            FROM interactions.queue_members m
                            JOIN interactions.agent_channels ch ON ch.cc_id = m.cc_id AND ch.user_id = m.user_id
                           WHERE m.cc_id = q.cc_id AND m.queue_id = q.id))
      FROM (SELECT count(*) FILTER (WHERE i.state = 'Queued') AS waiting,
                   min(i.queued_at) FILTER (WHERE i.state = 'Queued') AS oldest,
                   count(*) FILTER (WHERE i.state = 'Invited') AS offered
              FROM interactions.interactions i
             WHERE i.cc_id = q.cc_id AND i.queue_id = q.id AND i.state IN ('Queued', 'Invited')) w
$$;
COMMENT ON FUNCTION interactions.queue_now(interactions.queues, timestamptz) IS
  'A queue now: name, service-level threshold, waiting (Queued), oldestWaitingSince/oldestWaitSeconds, offered (Invited), and member agents by channel state.';

-- GET /queues: every queue of the contact center as it is now, by name.
CREATE OR REPLACE FUNCTION interactions.api_queues(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT interactions.has_role(c, 'admin', 'supervisor') THEN
        RETURN interactions.err(interactions.sc_permission(), 'queue statistics need the supervisor or admin role');
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'queues', coalesce((
        SELECT jsonb_agg(interactions.queue_now(q, now()) ORDER BY q.name)
          FROM interactions.queues q WHERE q.cc_id = c.cc_id), '[]'::jsonb));
END $$;
COMMENT ON FUNCTION interactions.api_queues(interactions.caller, jsonb) IS
  'GET /queues (supervisor, admin): {"queues":[..]}, each queue now (interactions.queue_now), by name.';

-- GET /queues/{name}/statistics: the queue now, today (since midnight UTC) and the last 15
-- minutes (the current minute and the 14 before it: the rollups are per minute).  One
-- statement of the module.
CREATE OR REPLACE FUNCTION interactions.api_queue_statistics(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    q     interactions.queues;
    v_now timestamptz := now();
BEGIN
    IF NOT interactions.has_role(c, 'admin', 'supervisor') THEN
        RETURN interactions.err(interactions.sc_permission(), 'queue statistics need the supervisor or admin role');
    END IF;
    SELECT * INTO q FROM interactions.queues
     WHERE cc_id = c.cc_id AND id = interactions.find_queue(c.cc_id, a->>'name');
    IF NOT FOUND THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such queue');
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(),
                              'statistics', interactions.queue_statistics_of(q, v_now));
END $$;
COMMENT ON FUNCTION interactions.api_queue_statistics(interactions.caller, jsonb) IS
  'GET /queues/{name}/statistics (supervisor, admin): {"statistics":{..}} (interactions.queue_statistics_of).';

CREATE OR REPLACE FUNCTION interactions.queue_statistics_of(q interactions.queues, p_now timestamptz)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT interactions.queue_now(q, p_now)
           || jsonb_build_object(
                  'at', interactions.iso(p_now),
                  'today', interactions.queue_period(q.cc_id, q.name, q.service_level_threshold,
                                                     date_trunc('day', p_now AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'),
                  'last15Minutes', interactions.queue_period(q.cc_id, q.name, q.service_level_threshold,
                                                             date_trunc('minute', p_now) - interval '14 minutes'))
$$;
COMMENT ON FUNCTION interactions.queue_statistics_of(interactions.queues, timestamptz) IS
  'A queue''s statistics at p_now: interactions.queue_now, "at", and the periods "today" (since midnight UTC) and "last15Minutes" (the current minute and the 14 before it) (interactions.queue_period).';
