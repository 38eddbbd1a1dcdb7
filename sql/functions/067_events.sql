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
-- refused with statusCode 2, the message naming the oldest retained seq: the client
-- restarts with after=0.

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
-- from the oldest retained), at most a->_maxBytes of them (the location's page bound).
-- {"events":[..],"next":<the cursor to store: the last seq returned, or after>,"more":<the
-- page is full: call again at once>}.
CREATE OR REPLACE FUNCTION interactions.api_events(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_after  bigint := coalesce((a->>'after')::bigint, 0);
    v_limit  integer := coalesce((a->>'limit')::integer, 100);
    v_cut    xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_xid    xid8 := '0';
    v_oldest bigint;
    v_max    bigint := (a->>'_maxBytes')::bigint;
    r        interactions.history;
    v_event  jsonb;
    v_items  jsonb[] := '{}';
    v_size   bigint;
    v_bytes  bigint := 2;
    v_n      integer := 0;
    v_full   boolean := false;
    v_last   bigint;
BEGIN
    IF NOT interactions.has_role(c, 'admin', 'apiuser') THEN
        RETURN interactions.err(interactions.sc_permission(), 'the event feed is for the apiuser and admin roles');
    END IF;
    IF v_after < 0 OR v_limit < 1 THEN
        RETURN interactions.err(interactions.sc_invalid(), 'after must be 0 or more, limit 1 or more');
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
            RETURN interactions.err(interactions.sc_state(), format(
                'cursor %s is not a retained event of this contact center (older than its retention, or never one of its events): restart with after=0%s',
                v_after, CASE WHEN v_oldest IS NOT NULL THEN format(', the oldest retained event is seq %s', v_oldest) ELSE '' END));
        END IF;
        IF v_xid >= v_cut THEN
            RETURN interactions.err(interactions.sc_invalid(), format('cursor %s is not an event the feed has given out yet', v_after));
        END IF;
    END IF;
    -- the page, in stream order, until the next event would take it past _maxBytes (the
    -- location's page bound; always at least one event)
    FOR r IN SELECT x.* FROM interactions.history x
              WHERE x.cc_id = c.cc_id
                AND (x.xid, x.seq) > (v_xid, v_after)
                AND x.xid < v_cut
                AND x.at >= interactions.history_floor(c.cc_id, v_xid)
                -- changes of agents' channel states share the stream but are not events of
                -- the feed (their shape is the push channel's ChannelStateChangeMessage)
                AND x.operation <> 'ChannelState'
              ORDER BY x.xid, x.seq
              LIMIT v_limit
    LOOP
        v_event := interactions.event_json(r);
        v_size := octet_length(v_event::text) + 1;
        IF v_n > 0 AND v_max IS NOT NULL AND v_bytes + v_size > v_max THEN
            v_full := true;
            EXIT;
        END IF;
        v_items := array_append(v_items, v_event);
        v_bytes := v_bytes + v_size;
        v_n := v_n + 1;
        v_last := r.seq;
    END LOOP;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'events', to_jsonb(v_items),
                              'next', coalesce(v_last, v_after), 'more', v_full OR v_n >= v_limit);
END $$;
COMMENT ON FUNCTION interactions.api_events(interactions.caller, jsonb) IS
  'GET /events (apiuser, admin): the contact center''s history after cursor a->after (a seq; 0: from the oldest retained) in stream order below the stable cut, at most a->limit: {"events":[..],"next","more"}. A cursor that is no retained event: statusCode 2, the message naming the oldest retained seq.';
