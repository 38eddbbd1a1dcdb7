-- The event feed for integrations (GET /events, CONTRACT 8.5) and how a history row looks to
-- them (also in webhook deliveries, 068_webhooks.sql).  Repeatable: re-applied by
-- interactions-migrate.
--
-- The feed is the history stream of one contact center, read the way the push channel reads
-- it: rows in (xid, seq) order, only below the stable cut, so a row that commits late is
-- never read past.  The cursor a client keeps is the seq of the last event it processed;
-- the feed finds that row and continues after its stream position.  So every event comes
-- exactly once to a client that stores its cursor, and any retained point can be replayed.
-- A cursor whose row retention has removed (or that is no event of this contact center) is
-- refused with statusCode 2 and the oldest retained seq: the client restarts with after=0.

-- A history row as integrations see it.  The interaction is the snapshot after the change,
-- as GET /interactions/{id} shows it but without uri, capabilities, cc and body.
CREATE OR REPLACE FUNCTION interactions.event_json(h interactions.history) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object(
        'seq', h.seq,
        'at', interactions.iso(h.at),
        'operation', h.operation,
        'interactionId', h.interaction_id,
        'actor', h.actor_login,
        'referenceId', h.reference_id,
        'fromState', h.from_state,
        'toState', h.to_state,
        'fromQueue', h.from_queue,
        'toQueue', h.to_queue,
        'fromWorkbin', h.from_workbin,
        'toWorkbin', h.to_workbin,
        'fromOwner', (SELECT u.login FROM interactions.users u WHERE u.cc_id = h.cc_id AND u.id = h.from_owner),
        'toOwner', (SELECT u.login FROM interactions.users u WHERE u.cc_id = h.cc_id AND u.id = h.to_owner),
        'offeredTo', (SELECT u.login FROM interactions.users u WHERE u.cc_id = h.cc_id AND u.id = h.to_invitee),
        'userDataChange', h.user_data_change,
        'interaction', CASE WHEN h.interaction_id IS NOT NULL
                            THEN h.snapshot - '_owner' - '_invitee' - '_workbinOwner' END,
        'workbin', CASE WHEN h.interaction_id IS NULL AND h.snapshot ? 'name'
                        THEN jsonb_build_object('name', h.snapshot->'name', 'type', h.snapshot->'type',
                                                'count', h.snapshot->'count') END);
END $$;
COMMENT ON FUNCTION interactions.event_json(interactions.history) IS
  'A history row as the event feed and webhooks show it: {"seq","at","operation","interactionId","actor","referenceId","fromState","toState","fromQueue","toQueue","fromWorkbin","toWorkbin","fromOwner","toOwner","offeredTo","userDataChange","interaction","workbin"} (logins, not ids).';

-- GET /events: up to a->limit events after cursor a->after (a seq of this contact center; 0:
-- from the oldest retained).  {"events":[..],"next":<the cursor to store: the last seq
-- returned, or after>,"more":<a full page: call again at once>}.
CREATE OR REPLACE FUNCTION interactions.api_events(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after  bigint := coalesce((a->>'after')::bigint, 0);
    v_limit  integer := coalesce((a->>'limit')::integer, 100);
    v_cut    xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_xid    xid8 := '0';
    v_oldest bigint;
    v_events jsonb;
    v_n      integer;
    v_last   bigint;
BEGIN
    IF NOT interactions.has_role(c, 'admin', 'apiuser') THEN
        RETURN interactions.err(5, 'the event feed is for the apiuser and admin roles');
    END IF;
    IF v_after < 0 OR v_limit < 1 THEN
        RETURN interactions.err(10, 'after must be 0 or more, limit 1 or more');
    END IF;
    IF v_after > 0 THEN
        -- the stream position of the cursor's row (one look-up of the key, in the months
        -- that can hold it)
        SELECT h.xid INTO v_xid FROM interactions.history h
         WHERE h.cc_id = c.cc_id AND h.seq = v_after
           AND h.at >= interactions.history_floor_seq(c.cc_id, v_after);
        IF NOT FOUND THEN
            SELECT h.seq INTO v_oldest FROM interactions.history h
             WHERE h.cc_id = c.cc_id AND h.xid < v_cut ORDER BY h.xid, h.seq LIMIT 1;
            RETURN interactions.err(2, format(
                'cursor %s is not a retained event of this contact center (older than its retention, or never one of its events): restart with after=0%s',
                v_after, CASE WHEN v_oldest IS NOT NULL THEN format(', the oldest retained event is seq %s', v_oldest) ELSE '' END))
                || jsonb_build_object('oldestSeq', v_oldest);
        END IF;
        IF v_xid >= v_cut THEN
            RETURN interactions.err(10, format('cursor %s is not an event the feed has given out yet', v_after));
        END IF;
    END IF;
    WITH ev AS (
        SELECT h FROM interactions.history h
         WHERE h.cc_id = c.cc_id
           AND (h.xid, h.seq) > (v_xid, v_after)
           AND h.xid < v_cut
           AND h.at >= interactions.history_floor(c.cc_id, v_xid)
         ORDER BY h.xid, h.seq
         LIMIT v_limit)
    SELECT count(*)::integer,
           coalesce(jsonb_agg(interactions.event_json(ev.h) ORDER BY (ev.h).xid, (ev.h).seq), '[]'::jsonb),
           (array_agg((ev.h).seq ORDER BY (ev.h).xid DESC, (ev.h).seq DESC))[1]
      INTO v_n, v_events, v_last
      FROM ev;
    RETURN jsonb_build_object('statusCode', 0, 'events', v_events, 'next', coalesce(v_last, v_after),
                              'more', v_n >= v_limit);
END $$;
COMMENT ON FUNCTION interactions.api_events(interactions.caller, jsonb) IS
  'GET /events (apiuser, admin): the contact center''s history after cursor a->after (a seq; 0: from the oldest retained) in stream order below the stable cut, at most a->limit: {"events":[..],"next","more"}. A cursor that is no retained event: statusCode 2 with oldestSeq.';
