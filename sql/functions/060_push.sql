-- The push channel (CometD / Bayeux): sessions and delivery from the history stream.
-- Repeatable: re-applied by interactions-migrate.
--
-- The stream.  interactions.history is written in the same transaction as every change, so
-- it is the durable event log.  Rows are read in (xid, seq) order and only below the stable
-- cut pg_snapshot_xmin(pg_current_snapshot()): every transaction older than that has ended,
-- so a row that is read past can never commit later.  A row of a still-running older
-- transaction holds the cut back; it is delivered once that transaction ends.
--
-- Each call below is one statement, one transaction, one round trip.  The session functions
-- are SECURITY INVOKER and bind the transaction to the contact center first, so row-level
-- security applies to them like to the REST API; only the listener's wake-up read and the
-- sweeper cross contact centers (SECURITY DEFINER, owned by interactions_system).
--
-- The session functions commit without waiting for the WAL flush (synchronous_commit off
-- for their own transaction; the API's changes stay durable).  Every connect writes its
-- session row, and a flush per connect would cost a disk sync per delivered message and,
-- worse, keep the transaction's xid running through the sync, which holds back the stable
-- cut below, and with it every message of the database.  What a crash of PostgreSQL can
-- lose is the last fraction of a second of session bookkeeping: a handshake (the client
-- gets 402 and handshakes again), a subscription (likewise: it subscribes again after the
-- new handshake) or a cursor move.  With the ack extension a lost cursor move costs
-- nothing: the batch id the client acknowledges names the position it reached, and
-- push_connect restores the cursor from it (below).  Without the extension the messages
-- after the older cursor are sent again.

CREATE OR REPLACE FUNCTION interactions.push_stream_head() RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text
$$;
COMMENT ON FUNCTION interactions.push_stream_head() IS
  'The stable cut of the history stream now (an xid8 as text): where a new reader starts. Rows of transactions below it can all be read; none can appear later.';

-- When the last sweep ran (V004).
CREATE OR REPLACE FUNCTION interactions.push_last_sweep() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT to_timestamp(pg_sequence_last_value('interactions.push_sweep_clock'::regclass) / 1000.0)
$$;
COMMENT ON FUNCTION interactions.push_last_sweep() IS
  'When interactions.push_sweep() last ran (the sequence interactions.push_sweep_clock).';

-- The time a session's expiry is compared with: now(), except when no sweep has run for
-- more than two seconds (the database was unreachable and has just come back, or every
-- httpd was down): then the time of the last sweep, so that a session alive then is still
-- alive until the next sweep has moved expiries on by the gap (interactions.push_sweep()).
CREATE OR REPLACE FUNCTION interactions.push_now() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN l IS NOT NULL AND now() - l > interval '2 seconds' THEN l ELSE now() END
      FROM (SELECT interactions.push_last_sweep() AS l) c
$$;
COMMENT ON FUNCTION interactions.push_now() IS
  'The clock of push-session expiry: now(), or the last sweep''s time while sweeps have stopped (the database was unreachable): that silence does not end sessions.';

-- /meta/handshake: opens session p_client for p_login, within the user's limits, which are
-- counted here so that they hold across every process and server sharing the database:
--   p_max_sessions     the user's live sessions (0: no limit)
--   p_max_cc_sessions  the contact center's live sessions (0: no limit)
--   p_per_minute       the user's handshakes per minute, as many at once (0: no limit): a
--                      token bucket in interactions.push_handshake_budget
-- Beyond a limit nothing is opened and the answer says which ("refused": "rate",
-- "sessions" or "contactCenter") and when trying again may succeed ("retryMs").  A user's
-- handshakes run one at a time (an advisory lock; one that finds it taken is refused as
-- "rate", to come back in a second), so concurrent ones cannot both take the last place;
-- the contact center's count is not serialized, and may be passed by the handshakes in
-- flight at that moment.
CREATE OR REPLACE FUNCTION interactions.push_handshake(p_cc integer, p_login text, p_client text,
                                                       p_browser text, p_ack boolean,
                                                       p_max_interval_ms integer,
                                                       p_max_sessions integer DEFAULT 0,
                                                       p_max_cc_sessions integer DEFAULT 0,
                                                       p_per_minute integer DEFAULT 0)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    c        interactions.caller;
    v_tokens double precision;
    v_n      integer;
    v_oldest timestamptz;
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true),
            set_config('synchronous_commit', 'off', true);
    SELECT u.cc_id, u.id, u.login, u.roles INTO c
      FROM interactions.users u WHERE u.cc_id = p_cc AND u.login = p_login AND NOT u.disabled;
    IF c.id IS NULL THEN
        -- a disabled user is refused like an unknown one
        RETURN interactions.err(interactions.sc_unauthenticated(), 'the user is not known in this contact center');
    END IF;
    -- A few expired sessions of this contact center go on the way; interactions.push_sweep()
    -- (the maintenance tick) removes the rest.
    DELETE FROM interactions.push_sessions d
     WHERE d.cc_id = p_cc
       AND d.client_id IN (SELECT x.client_id FROM interactions.push_sessions x
                            WHERE x.cc_id = p_cc AND x.expires_at < interactions.push_now()
                            LIMIT 8 FOR UPDATE SKIP LOCKED);

    -- One handshake of a user at a time, and none waits for another: a burst of them would
    -- otherwise queue here, each holding a pooled connection and a worker thread, and take
    -- both from everybody else.  The one that finds the lock taken is told to come back.
    IF (p_per_minute > 0 OR p_max_sessions > 0)
       AND NOT pg_try_advisory_xact_lock(p_cc, hashtext('handshake ' || c.id::text)) THEN
        RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'refused', 'rate', 'retryMs', 1000);
    END IF;
    IF p_per_minute > 0 THEN
        -- the bucket, brought up to date
        INSERT INTO interactions.push_handshake_budget AS b (cc_id, user_id, tokens, refilled_at)
        VALUES (p_cc, c.id, p_per_minute, now())
        ON CONFLICT (cc_id, user_id) DO UPDATE
           SET tokens = least(p_per_minute::double precision,
                              b.tokens + extract(epoch FROM now() - b.refilled_at) * p_per_minute / 60.0),
               refilled_at = now()
        RETURNING b.tokens INTO v_tokens;
        IF v_tokens < 1 THEN
            RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'refused', 'rate',
                                      'retryMs', ceil((1 - v_tokens) * 60000 / p_per_minute)::bigint);
        END IF;
    END IF;

    IF p_max_sessions > 0 THEN
        SELECT count(*)::integer, min(s.expires_at) INTO v_n, v_oldest
          FROM interactions.push_sessions s
         WHERE s.cc_id = p_cc AND s.user_id = c.id AND s.expires_at > interactions.push_now();
        IF v_n >= p_max_sessions THEN
            -- the earliest a place can free itself: the first of them to expire
            RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'refused', 'sessions',
                                      'retryMs', greatest(1000, least(60000,
                                          ceil(extract(epoch FROM v_oldest - now()) * 1000)))::bigint);
        END IF;
    END IF;
    IF p_max_cc_sessions > 0
       AND (SELECT count(*) FROM (SELECT 1 FROM interactions.push_sessions s
                                   WHERE s.cc_id = p_cc AND s.expires_at > interactions.push_now()
                                   LIMIT p_max_cc_sessions) x) >= p_max_cc_sessions THEN
        RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'refused', 'contactCenter',
                                  'retryMs', greatest(1000, p_max_interval_ms));
    END IF;

    IF p_per_minute > 0 THEN
        UPDATE interactions.push_handshake_budget SET tokens = tokens - 1
         WHERE cc_id = p_cc AND user_id = c.id;
    END IF;
    INSERT INTO interactions.push_sessions (cc_id, client_id, user_id, browser_id, ack,
                                            cursor_xid, cursor_seq, expires_at)
    VALUES (p_cc, p_client, c.id, p_browser, p_ack, pg_snapshot_xmin(pg_current_snapshot()), 0,
            now() + p_max_interval_ms * interval '1 millisecond');
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(),
                              'user', jsonb_build_object('id', c.id, 'roles', to_jsonb(c.roles)));
END $$;
COMMENT ON FUNCTION interactions.push_handshake(integer, text, text, text, boolean, integer, integer, integer, integer) IS
  'Bayeux /meta/handshake: opens session p_client for user p_login of contact center p_cc, its cursor at the stream''s stable cut (it receives what commits from now on), unless the user holds p_max_sessions live sessions, the contact center p_max_cc_sessions, or the user used up p_per_minute handshakes a minute (0: no limit). Returns {"statusCode":0,"user":{"id","roles"}}, {"statusCode":0,"refused":"rate"|"sessions"|"contactCenter","retryMs":N}, or statusCode 20 for an unknown or disabled user.';

-- The session of p_client if it exists, is p_login's, and has not expired.
CREATE OR REPLACE FUNCTION interactions.push_session(p_cc integer, p_login text, p_client text,
                                                     p_max_interval_ms integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_roles    text[];
    v_user     uuid;
    v_channels text[];
    v_ack      boolean;
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true),
            set_config('synchronous_commit', 'off', true);
    -- any message from the client keeps its session alive, but never shortens a held connect's
    UPDATE interactions.push_sessions s
       SET expires_at = greatest(s.expires_at, now() + p_max_interval_ms * interval '1 millisecond')
      FROM interactions.users u
     WHERE s.cc_id = p_cc AND s.client_id = p_client AND s.expires_at > interactions.push_now()
       AND u.cc_id = s.cc_id AND u.id = s.user_id AND u.login = p_login AND NOT u.disabled
    RETURNING u.id, u.roles, s.channels, s.ack INTO v_user, v_roles, v_channels, v_ack;
    IF v_user IS NULL THEN
        RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'session', NULL);
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'session', jsonb_build_object(
        'user', jsonb_build_object('id', v_user, 'roles', to_jsonb(v_roles)),
        'channels', to_jsonb(v_channels), 'ack', v_ack));
END $$;
COMMENT ON FUNCTION interactions.push_session(integer, text, text, integer) IS
  'Looks up Bayeux session p_client for user p_login (unknown, expired, another user''s or a disabled user''s: "session" is null) and extends its life by p_max_interval_ms.';

-- push_session for every clientId a Bayeux request of several messages names, in one call:
-- {"statusCode":0,"sessions":{"<clientId>":{"user","channels","ack"}, ...}}; the unknown,
-- expired or someone else's are left out.
CREATE OR REPLACE FUNCTION interactions.push_session_batch(p_cc integer, p_login text, p_clients text[],
                                                           p_max_interval_ms integer)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_sessions jsonb;
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true),
            set_config('synchronous_commit', 'off', true);
    WITH found AS (
        UPDATE interactions.push_sessions s
           SET expires_at = greatest(s.expires_at, now() + p_max_interval_ms * interval '1 millisecond')
          FROM interactions.users u
         WHERE s.cc_id = p_cc AND s.client_id = ANY (p_clients) AND s.expires_at > interactions.push_now()
           AND u.cc_id = s.cc_id AND u.id = s.user_id AND u.login = p_login AND NOT u.disabled
        RETURNING s.client_id, u.id, u.roles, s.channels, s.ack)
    SELECT coalesce(jsonb_object_agg(f.client_id, jsonb_build_object(
               'user', jsonb_build_object('id', f.id, 'roles', to_jsonb(f.roles)),
               'channels', to_jsonb(f.channels), 'ack', f.ack)), '{}'::jsonb)
      INTO v_sessions FROM found f;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'sessions', v_sessions);
END $$;
COMMENT ON FUNCTION interactions.push_session_batch(integer, text, text[], integer) IS
  'push_session for several clientIds at once (a Bayeux request of several messages): {"statusCode":0,"sessions":{clientId:{"user","channels","ack"}}} with the sessions of p_login (unless disabled) that exist, each kept alive for p_max_interval_ms more.';

CREATE OR REPLACE FUNCTION interactions.push_subscribe(p_cc integer, p_login text, p_client text,
                                                       p_add text[], p_remove text[])
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_channels text[];
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true),
            set_config('synchronous_commit', 'off', true);
    UPDATE interactions.push_sessions s
       SET channels = ARRAY(SELECT DISTINCT ch FROM unnest(s.channels || p_add) ch
                             WHERE ch <> ALL (p_remove) ORDER BY ch)
      FROM interactions.users u
     WHERE s.cc_id = p_cc AND s.client_id = p_client AND s.expires_at > interactions.push_now()
       AND u.cc_id = s.cc_id AND u.id = s.user_id AND u.login = p_login AND NOT u.disabled
    RETURNING s.channels INTO v_channels;
    IF v_channels IS NULL THEN
        RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'session', NULL);
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'session', jsonb_build_object('channels', to_jsonb(v_channels)));
END $$;
COMMENT ON FUNCTION interactions.push_subscribe(integer, text, text, text[], text[]) IS
  'Bayeux /meta/subscribe and /meta/unsubscribe: adds p_add to and removes p_remove from the channels of session p_client (the module has authorized them).';

CREATE OR REPLACE FUNCTION interactions.push_disconnect(p_cc integer, p_login text, p_client text)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_found boolean;
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true),
            set_config('synchronous_commit', 'off', true);
    DELETE FROM interactions.push_sessions s
     USING interactions.users u
     WHERE s.cc_id = p_cc AND s.client_id = p_client
       AND u.cc_id = s.cc_id AND u.id = s.user_id AND u.login = p_login;
    v_found := FOUND;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'found', v_found);
END $$;
COMMENT ON FUNCTION interactions.push_disconnect(integer, text, text) IS
  'Bayeux /meta/disconnect: removes session p_client of user p_login.';

-- /meta/connect, and each re-check of a held connect.
--
--   p_first      a new connect request (false: a held one re-checking after a wake-up)
--   p_gen        for a re-check: the hold generation the first call returned
--   p_ack        ack extension: the last batch id the client received (first call only)
--   p_hold_ms    0: answer now; otherwise the connect may be held that long
--   p_per_browser held connects allowed per BAYEUX_BROWSER and user (0: no limit; first call only)
--   p_limit      most events in one reply
--
-- Outcome "unknown" (no such session for this user, or the user is disabled: 402),
-- "superseded" (a newer connect of the same session exists: answer without delivering) or
-- "ok" with either held = true (nothing to deliver; the session is marked as holding) or the
-- events to send now.  Without the ack extension the cursor moves past what is returned;
-- with it, the returned batch's end is kept as the sent cursor and becomes the cursor when
-- the client acknowledges the batch, so an unacknowledged batch is read and sent again.
--
-- Rights are those of the user now, read on every call: a disabled user's session ends (it
-- is removed; the client is told 402, handshakes again and is refused), and /v2/interactions
-- is delivered only while the user is a supervisor or an admin ("channels" in the answer
-- are the ones in effect).  A subscription outlives a change of roles; its deliveries do
-- not.
--
-- The batch id (ack extension) names the stream position it reached: it is the seq of the
-- last history row in the batch, and a batch without events keeps the id the client holds.
-- So a client's ack says by itself how far the client has received, whatever the session
-- row remembers.  The row is written with synchronous_commit off, and a crash of
-- PostgreSQL (or a failover to a standby that had not yet received the last commits) can
-- set it back by the last moment of bookkeeping: the last batch sent and its ack are gone.
-- The client then acknowledges a batch the row does not know; its row is looked up (one
-- probe of the history's key) and the cursor moves to it, so nothing the client has is
-- sent again, and nothing it lacks is skipped.  An ack naming a row that does not exist or
-- is not yet stable is ignored; one naming a later row than was sent can only make the
-- client skip its own messages.
-- Returns json, not jsonb, which cost a conversion of every snapshot on every connect (V011
-- drops the jsonb version of before).
CREATE OR REPLACE FUNCTION interactions.push_connect(p_cc integer, p_login text, p_client text,
                                                     p_first boolean, p_gen bigint, p_ack bigint,
                                                     p_hold_ms integer, p_max_interval_ms integer,
                                                     p_per_browser integer, p_limit integer)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
    c          interactions.caller;
    s          interactions.push_sessions;
    v_cut      xid8;
    v_me       boolean;
    v_all      boolean;
    v_mych     boolean;
    v_agents   boolean;
    v_n        integer;
    v_events   json;
    v_last_xid xid8;
    v_last_seq bigint;
    v_new_xid  xid8;
    v_new_seq  bigint;
    v_batch    bigint;
    v_ack_xid  xid8;
    v_disabled boolean;
    v_channels text[];
    v_multi    boolean := false;
    v_max      interval := p_max_interval_ms * interval '1 millisecond';
    v_hold     interval := greatest(p_hold_ms, 0) * interval '1 millisecond';
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true),
            set_config('synchronous_commit', 'off', true);
    SELECT u.cc_id, u.id, u.login, u.roles, u.disabled INTO c.cc_id, c.id, c.login, c.roles, v_disabled
      FROM interactions.users u WHERE u.cc_id = p_cc AND u.login = p_login;
    SELECT * INTO s FROM interactions.push_sessions ps
     WHERE ps.cc_id = p_cc AND ps.client_id = p_client AND ps.user_id = c.id
       AND ps.expires_at > interactions.push_now()
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN json_build_object('statusCode', interactions.sc_ok(), 'outcome', 'unknown');
    END IF;
    IF v_disabled THEN
        -- the user was disabled: the session ends here, whatever it was doing
        DELETE FROM interactions.push_sessions WHERE cc_id = p_cc AND client_id = p_client;
        RETURN json_build_object('statusCode', interactions.sc_ok(), 'outcome', 'unknown');
    END IF;
    v_cut := pg_snapshot_xmin(pg_current_snapshot());
    IF p_first THEN
        s.hold_gen := s.hold_gen + 1;
        IF s.ack AND p_ack IS NOT NULL THEN
            IF p_ack = s.sent_batch AND s.sent_xid IS NOT NULL THEN
                -- the client has the last batch sent: its end becomes the cursor
                IF (s.sent_xid, s.sent_seq) > (s.cursor_xid, s.cursor_seq) THEN
                    s.cursor_xid := s.sent_xid;
                    s.cursor_seq := s.sent_seq;
                END IF;
            ELSIF p_ack > 0 THEN
                -- a batch this row does not remember as the last one sent: an older one (the
                -- last reply was lost on its way; it is sent again below) or one whose
                -- bookkeeping the database lost (see above): the client has everything up to
                -- that batch's last row
                SELECT h.xid INTO v_ack_xid FROM interactions.history h
                 WHERE h.cc_id = p_cc AND h.seq = p_ack AND h.xid < v_cut;
                IF v_ack_xid IS NOT NULL AND (v_ack_xid, p_ack) > (s.cursor_xid, s.cursor_seq) THEN
                    s.cursor_xid := v_ack_xid;
                    s.cursor_seq := p_ack;
                END IF;
            END IF;
            -- the client holds p_ack now, and it stands for the cursor
            s.sent_batch := p_ack;
            s.sent_xid := s.cursor_xid;
            s.sent_seq := s.cursor_seq;
        END IF;
    ELSIF s.hold_gen <> p_gen THEN
        RETURN json_build_object('statusCode', interactions.sc_ok(), 'outcome', 'superseded');
    END IF;

    v_me := '/v2/me/interactions' = ANY (s.channels);
    -- who may follow /v2/interactions (as push_snapshots and the module's subscribe check)
    v_all := '/v2/interactions' = ANY (s.channels) AND c.roles && ARRAY['supervisor', 'admin'];
    -- channel states: the user's own on /v2/me/channels; every agent's on /v2/agents, for
    -- supervisors and admins only (the same rights as /v2/interactions)
    v_mych := '/v2/me/channels' = ANY (s.channels);
    v_agents := '/v2/agents' = ANY (s.channels) AND c.roles && ARRAY['supervisor', 'admin'];
    v_channels := s.channels;
    IF NOT v_all THEN v_channels := array_remove(v_channels, '/v2/interactions'); END IF;
    IF NOT v_agents THEN v_channels := array_remove(v_channels, '/v2/agents'); END IF;
    WITH ev AS (
        SELECT h.xid, h.seq, h.notification, h.reference_id, h.snapshot,
               (v_me AND h.notification <> 'ChannelState'
                AND (c.id = ANY (h.audience) OR c.id = ANY (h.revoked))) AS me,
               (c.id = ANY (h.revoked)) AS revoked,
               (v_all AND h.notification IN ('StatusChange', 'PropertiesUpdated')) AS all_,
               (v_mych AND h.notification = 'ChannelState' AND c.id = ANY (h.audience)) AS mych,
               (v_agents AND h.notification = 'ChannelState') AS agents
          FROM interactions.history h
         WHERE h.cc_id = p_cc
           AND (h.xid, h.seq) > (s.cursor_xid, s.cursor_seq)
           AND h.xid < v_cut
           -- the months that cannot hold rows after the cursor are skipped (065_history.sql)
           AND h.at >= interactions.history_floor(p_cc, s.cursor_xid)
           AND h.notification IS NOT NULL
           AND ((v_me AND h.notification <> 'ChannelState'
                 AND (c.id = ANY (h.audience) OR c.id = ANY (h.revoked)))
                OR (v_all AND h.notification IN ('StatusChange', 'PropertiesUpdated'))
                OR (v_mych AND h.notification = 'ChannelState' AND c.id = ANY (h.audience))
                OR (v_agents AND h.notification = 'ChannelState'))
         ORDER BY h.xid, h.seq
         LIMIT greatest(p_limit, 1))
    SELECT count(*)::integer,
           -- an event the session gets only through /v2/interactions goes without its
           -- snapshot: the module renders those once per process (push_snapshots)
           coalesce(json_agg(json_build_object('seq', ev.seq, 'notification', ev.notification,
                                               'referenceId', ev.reference_id,
                                               'snapshot', CASE WHEN ev.me AND ev.notification = 'WorkbinContent'
                                                                THEN interactions.workbin_content_delivered(p_cc, c, ev.snapshot)
                                                                WHEN ev.me OR ev.mych OR ev.agents THEN ev.snapshot END,
                                               'me', ev.me, 'revoked', ev.revoked, 'all', ev.all_,
                                               'mych', ev.mych, 'agents', ev.agents)
                             ORDER BY ev.xid, ev.seq), '[]'::json),
           (array_agg(ev.xid ORDER BY ev.xid DESC, ev.seq DESC))[1],
           (array_agg(ev.seq ORDER BY ev.xid DESC, ev.seq DESC))[1]
      INTO v_n, v_events, v_last_xid, v_last_seq
      FROM ev;
    -- A full page ends at its last row; otherwise everything below the cut has been seen.
    IF v_n >= greatest(p_limit, 1) THEN
        v_new_xid := v_last_xid;
        v_new_seq := v_last_seq;
    ELSE
        v_new_xid := v_cut;
        v_new_seq := 0;
    END IF;
    IF (v_new_xid, v_new_seq) < (s.cursor_xid, s.cursor_seq) THEN
        v_new_xid := s.cursor_xid;
        v_new_seq := s.cursor_seq;
    END IF;

    IF v_n = 0 AND p_hold_ms > 0 THEN
        -- Nothing to deliver: hold, unless this browser already holds its share of connects
        -- for this user (the lock orders concurrent decisions of one browser and user; others
        -- never wait).  Per user: the cookie is the client's to choose, and another user
        -- presenting the same value must not push this one into polling.
        IF p_first AND p_per_browser > 0 AND s.browser_id IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(p_cc, hashtext(c.id::text || ' ' || s.browser_id));
            SELECT count(*) >= p_per_browser INTO v_multi
              FROM interactions.push_sessions o
             WHERE o.cc_id = p_cc AND o.browser_id = s.browser_id AND o.user_id = c.id
               AND o.client_id <> s.client_id AND o.held_until > now();
        END IF;
    END IF;

    IF v_n = 0 THEN
        -- every row passed was for someone else: nothing can be lost by moving past them
        s.cursor_xid := v_new_xid;
        s.cursor_seq := v_new_seq;
    END IF;
    IF v_n = 0 AND p_hold_ms > 0 AND NOT v_multi THEN
        UPDATE interactions.push_sessions
           SET cursor_xid = s.cursor_xid, cursor_seq = s.cursor_seq, hold_gen = s.hold_gen,
               sent_batch = s.sent_batch, sent_xid = s.sent_xid, sent_seq = s.sent_seq,
               held_until = now() + v_hold, expires_at = now() + v_hold + v_max
         WHERE cc_id = p_cc AND client_id = p_client;
        RETURN json_build_object('statusCode', interactions.sc_ok(), 'outcome', 'ok', 'held', true,
                                 'gen', s.hold_gen, 'channels', to_json(v_channels),
                                 -- where the held connect stands in the stream: the listener
                                 -- hands it what follows from memory (push_stream)
                                 'xid', s.cursor_xid::text, 'seq', s.cursor_seq, 'ack', s.ack,
                                 'user', json_build_object('id', c.id, 'roles', to_json(c.roles)));
    END IF;

    -- Answer now.
    IF s.ack THEN
        -- the batch's id names its last row (see above); without events, the id the client holds
        v_batch := CASE WHEN v_n > 0 THEN v_last_seq ELSE s.sent_batch END;
        UPDATE interactions.push_sessions
           SET cursor_xid = s.cursor_xid, cursor_seq = s.cursor_seq,
               sent_batch = v_batch, sent_xid = v_new_xid, sent_seq = v_new_seq,
               hold_gen = s.hold_gen, held_until = NULL, expires_at = now() + v_max
         WHERE cc_id = p_cc AND client_id = p_client;
    ELSE
        UPDATE interactions.push_sessions
           SET cursor_xid = v_new_xid, cursor_seq = v_new_seq,
               hold_gen = s.hold_gen, held_until = NULL, expires_at = now() + v_max
         WHERE cc_id = p_cc AND client_id = p_client;
    END IF;
    -- json, not jsonb: the snapshots go out as stored, without a conversion for every
    -- event on every connect
    RETURN json_build_object('statusCode', interactions.sc_ok(), 'outcome', 'ok', 'held', false,
                             'gen', s.hold_gen, 'multipleClients', v_multi,
                             'channels', to_json(v_channels),
                             'user', json_build_object('id', c.id, 'roles', to_json(c.roles)),
                             'batch', v_batch, 'events', v_events);
END $$;
COMMENT ON FUNCTION interactions.push_connect(integer, text, text, boolean, bigint, bigint, integer, integer, integer, integer) IS
  'Bayeux /meta/connect (and each re-check of a held one): validates session p_client of user p_login (a disabled user''s session ends: "unknown"), applies the ack extension, and returns the events after the session''s cursor that are stable and meant for it under the user''s rights now (/v2/me/interactions: rows whose audience or revoked names the user; /v2/interactions, while a supervisor or admin: every StatusChange/PropertiesUpdated row, without the snapshot unless the user is also named: see push_snapshots; /v2/me/channels: ChannelState rows of the user; /v2/agents, while a supervisor or admin: every ChannelState row), or marks the connect as held when there are none ("batch": the ack extension''s batch id, the seq of the batch''s last row, which restores the cursor when acknowledged; null without the extension). See the comment in sql/functions/060_push.sql.';

-- The snapshots of the rows push_connect sent without them (events a session gets only
-- through /v2/interactions), for a user who may follow /v2/interactions.
CREATE OR REPLACE FUNCTION interactions.push_snapshots(p_cc integer, p_login text, p_seqs bigint[])
RETURNS json LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_events json;
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true);
    IF NOT EXISTS (SELECT 1 FROM interactions.users u
                    WHERE u.cc_id = p_cc AND u.login = p_login AND NOT u.disabled
                      AND u.roles && ARRAY['supervisor', 'admin']) THEN
        -- no longer a supervisor, or disabled (a subscription outlives a change of roles):
        -- nothing to see
        RETURN json_build_object('statusCode', interactions.sc_ok(), 'events', '[]'::json);
    END IF;
    SELECT coalesce(json_agg(json_build_object('seq', h.seq, 'snapshot', h.snapshot) ORDER BY h.seq),
                    '[]'::json)
      INTO v_events
      FROM interactions.history h
     WHERE h.cc_id = p_cc AND h.seq = ANY (p_seqs)
       AND h.notification IN ('StatusChange', 'PropertiesUpdated');
    RETURN json_build_object('statusCode', interactions.sc_ok(), 'events', v_events);
END $$;
COMMENT ON FUNCTION interactions.push_snapshots(integer, text, bigint[]) IS
  'The snapshots of history rows p_seqs of contact center p_cc that a /v2/interactions subscriber sees ({"statusCode":0,"events":[{"seq","snapshot"}]}), for p_login if a supervisor or admin (else no events). push_connect sends such events without their snapshot; the module fetches each once per process.';

-- The listener's read: which users of which contact centers have news.  Crosses contact
-- centers, so SECURITY DEFINER; it returns logins and contact center ids, never row data.
CREATE OR REPLACE FUNCTION interactions.push_wakeups(p_xid xid8, p_seq bigint, p_limit integer)
RETURNS jsonb LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_cut      xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_n        integer;
    v_last_xid xid8;
    v_last_seq bigint;
    v_wake     jsonb;
    v_unstable boolean;
BEGIN
    WITH r AS (
        SELECT h.cc_id, h.xid, h.seq, h.notification, h.audience || h.revoked AS who
          FROM interactions.history h
         WHERE (h.xid, h.seq) > (p_xid, p_seq) AND h.xid < v_cut
           AND h.at >= interactions.history_floor_all(p_xid)   -- months to skip (065_history.sql)
         ORDER BY h.xid, h.seq
         LIMIT greatest(p_limit, 1)),
    logins AS (
        SELECT r.cc_id, u.login
          FROM r CROSS JOIN LATERAL unnest(r.who) AS w(id)
          JOIN interactions.users u ON u.cc_id = r.cc_id AND u.id = w.id
         WHERE r.notification IS NOT NULL),
    per_cc AS (
        SELECT r.cc_id,
               -- the contact center's followers: /v2/interactions and /v2/agents
               bool_or(r.notification IN ('StatusChange', 'PropertiesUpdated', 'ChannelState')) AS all_,
               (SELECT coalesce(jsonb_agg(DISTINCT l.login), '[]'::jsonb)
                  FROM logins l WHERE l.cc_id = r.cc_id) AS logins
          FROM r WHERE r.notification IS NOT NULL
         GROUP BY r.cc_id)
    SELECT (SELECT count(*)::integer FROM r),
           (SELECT r.xid FROM r ORDER BY r.xid DESC, r.seq DESC LIMIT 1),
           (SELECT r.seq FROM r ORDER BY r.xid DESC, r.seq DESC LIMIT 1),
           (SELECT coalesce(jsonb_agg(jsonb_build_object('cc', p.cc_id, 'all', p.all_,
                                                         'logins', p.logins)), '[]'::jsonb)
              FROM per_cc p)
      INTO v_n, v_last_xid, v_last_seq, v_wake;
    IF v_n >= greatest(p_limit, 1) THEN
        RETURN jsonb_build_object('xid', v_last_xid::text, 'seq', v_last_seq, 'more', true,
                                  'unstable', false, 'wake', v_wake);
    END IF;
    -- rows already visible but not yet below the cut: an older transaction is still running.
    -- (max() reads one index entry whatever the plan; "EXISTS (... WHERE xid >= v_cut)" got a
    -- generic plan after a few calls that scanned the whole table, 100 ms at 130,000 rows.)
    -- (Only months not yet final can hold such rows: 065_history.sql.)
    v_unstable := coalesce((SELECT max(h.xid) FROM interactions.history h
                             WHERE h.at >= interactions.history_final_through()) >= v_cut, false);
    IF v_cut < p_xid OR (v_cut = p_xid AND p_seq > 0) THEN
        RETURN jsonb_build_object('xid', p_xid::text, 'seq', p_seq, 'more', false,
                                  'unstable', v_unstable, 'wake', v_wake);
    END IF;
    RETURN jsonb_build_object('xid', v_cut::text, 'seq', 0, 'more', false,
                              'unstable', v_unstable, 'wake', v_wake);
END $$;
COMMENT ON FUNCTION interactions.push_wakeups(xid8, bigint, integer) IS
  'The push listener''s read of the history stream after (p_xid, p_seq), below the stable cut, at most p_limit rows: {"xid","seq" (the new position),"more","unstable" (visible rows wait above the cut),"wake":[{"cc","all","logins":[..]}]}. Returns who to wake, never row data.';

-- The listener's read when it delivers from memory: the rows after (p_xid, p_seq) below the
-- stable cut, at most p_limit, with what each recipient needs (push_connect's choice of rows,
-- done in the module for every session held in the process at once).  Crosses contact
-- centers (SECURITY DEFINER): it returns row data of every tenant to the module's listener,
-- which hands each row only to the sessions push_connect would give it to, and checks the
-- recipients' rights of the moment when their cursors are written (push_advance).
-- Rows without a notification are passed over (the position still moves past them).
-- Audience and revoked are given as logins: held connects are found by login.
CREATE OR REPLACE FUNCTION interactions.push_stream(p_xid xid8, p_seq bigint, p_limit integer)
RETURNS json LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_cut      xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_n        integer;
    v_last_xid xid8;
    v_last_seq bigint;
    v_rows     json;
    v_unstable boolean;
BEGIN
    WITH r AS (
        SELECT h.cc_id, h.xid, h.seq, h.notification, h.reference_id, h.audience, h.revoked,
               h.snapshot
          FROM interactions.history h
         WHERE (h.xid, h.seq) > (p_xid, p_seq) AND h.xid < v_cut
           AND h.at >= interactions.history_floor_all(p_xid)   -- months to skip (065_history.sql)
         ORDER BY h.xid, h.seq
         LIMIT greatest(p_limit, 1))
    SELECT count(*)::integer,
           (array_agg(r.xid ORDER BY r.xid DESC, r.seq DESC))[1],
           (array_agg(r.seq ORDER BY r.xid DESC, r.seq DESC))[1],
           coalesce(json_agg(json_build_object(
               'cc', r.cc_id, 'xid', r.xid::text, 'seq', r.seq,
               'notification', r.notification, 'referenceId', r.reference_id,
               'audience', (SELECT coalesce(json_agg(u.login), '[]'::json)
                              FROM interactions.users u
                             WHERE u.cc_id = r.cc_id AND u.id = ANY (r.audience)),
               'revoked', (SELECT coalesce(json_agg(u.login), '[]'::json)
                             FROM interactions.users u
                            WHERE u.cc_id = r.cc_id AND u.id = ANY (r.revoked)),
               'snapshot', r.snapshot::text) ORDER BY r.xid, r.seq)
               FILTER (WHERE r.notification IS NOT NULL), '[]'::json)
      INTO v_n, v_last_xid, v_last_seq, v_rows
      FROM r;
    IF v_n >= greatest(p_limit, 1) THEN
        RETURN json_build_object('xid', v_last_xid::text, 'seq', v_last_seq, 'more', true,
                                 'unstable', false, 'rows', v_rows);
    END IF;
    -- as push_wakeups: rows visible above the cut mean an older transaction still runs
    -- (Only months not yet final can hold such rows: 065_history.sql.)
    v_unstable := coalesce((SELECT max(h.xid) FROM interactions.history h
                             WHERE h.at >= interactions.history_final_through()) >= v_cut, false);
    IF v_cut < p_xid OR (v_cut = p_xid AND p_seq > 0) THEN
        RETURN json_build_object('xid', p_xid::text, 'seq', p_seq, 'more', false,
                                 'unstable', v_unstable, 'rows', v_rows);
    END IF;
    RETURN json_build_object('xid', v_cut::text, 'seq', 0, 'more', false,
                             'unstable', v_unstable, 'rows', v_rows);
END $$;
COMMENT ON FUNCTION interactions.push_stream(xid8, bigint, integer) IS
  'The push listener''s read when it delivers from memory: the history rows after (p_xid, p_seq) below the stable cut, at most p_limit: {"xid","seq" (the new position),"more","unstable","rows":[{"cc","xid","seq","notification","referenceId","audience":[logins],"revoked":[logins],"snapshot"}]} (rows without a notification left out). The module hands each row to the sessions held in its process that push_connect would give it to.';

-- The cursors of the sessions a listener delivered to from memory, written in one call for
-- all of them (p_sessions: [{"cc","client","gen","xid","seq","batch","maxMs"}]), as
-- push_connect's "answer now" writes one: without the ack extension the cursor moves to
-- (xid, seq); with it the batch (the seq of its last row) and the position it leads to are
-- remembered, and the client's acknowledgement moves the cursor.  Only a session still held
-- by that connect (hold_gen = gen) moves; the answer says for each whether it did, and the
-- user's rights now ({"cc","c","ok","roles"}, "ok":false: superseded, gone, or the user disabled,
-- whose session ends here): the module delivers only what those rights allow.
-- Crosses contact centers (SECURITY DEFINER); commits without waiting for the WAL flush,
-- like every session function (060's header says what a crash can cost).
CREATE OR REPLACE FUNCTION interactions.push_advance(p_sessions json)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_out json;
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    WITH want AS (
        SELECT (e->>'cc')::integer AS cc_id, e->>'client' AS client_id, (e->>'gen')::bigint AS gen,
               (e->>'xid')::xid8 AS xid, (e->>'seq')::bigint AS seq, (e->>'batch')::bigint AS batch,
               (e->>'maxMs')::integer AS max_ms
          FROM json_array_elements(p_sessions) e),
    gone AS (
        -- a disabled user's sessions end at their next delivery, as at push_connect
        DELETE FROM interactions.push_sessions s
         USING want w, interactions.users u
         WHERE s.cc_id = w.cc_id AND s.client_id = w.client_id
           AND u.cc_id = s.cc_id AND u.id = s.user_id AND u.disabled
        RETURNING s.client_id),
    moved AS (
        UPDATE interactions.push_sessions s
           SET cursor_xid = CASE WHEN s.ack THEN s.cursor_xid ELSE w.xid END,
               cursor_seq = CASE WHEN s.ack THEN s.cursor_seq ELSE w.seq END,
               sent_batch = CASE WHEN s.ack THEN w.batch ELSE s.sent_batch END,
               sent_xid = CASE WHEN s.ack THEN w.xid ELSE s.sent_xid END,
               sent_seq = CASE WHEN s.ack THEN w.seq ELSE s.sent_seq END,
               held_until = NULL,
               expires_at = now() + w.max_ms * interval '1 millisecond'
          FROM want w, interactions.users u
         WHERE s.cc_id = w.cc_id AND s.client_id = w.client_id AND s.hold_gen = w.gen
           AND s.expires_at > interactions.push_now()
           AND (w.xid, w.seq) >= (s.cursor_xid, s.cursor_seq)
           AND u.cc_id = s.cc_id AND u.id = s.user_id AND NOT u.disabled
        RETURNING s.cc_id, s.client_id, u.roles)
    SELECT coalesce(json_agg(json_build_object('cc', w.cc_id, 'c', w.client_id, 'ok', m.client_id IS NOT NULL,
                                               'roles', to_json(m.roles))), '[]'::json)
      INTO v_out
      FROM want w LEFT JOIN moved m ON m.cc_id = w.cc_id AND m.client_id = w.client_id;
    RETURN json_build_object('statusCode', interactions.sc_ok(), 'sessions', v_out);
END $$;
COMMENT ON FUNCTION interactions.push_advance(json) IS
  'The push listener delivered to held sessions from memory: writes their cursors in one call (p_sessions [{"cc","client","gen","xid","seq","batch","maxMs"}], as push_connect does for a reply it answers: the cursor without the ack extension, the batch and its position with it) where the same connect still holds the session, and returns {"statusCode":0,"sessions":[{"cc","c","ok","roles"}]}: the user''s roles now, "ok":false when the session was superseded, expired or its user disabled (the session is then removed).';
-- Every maintenance tick (p_tick_ms apart): removes the sessions whose clients stopped
-- polling.  When the previous sweep is longer ago than four ticks (at least two seconds),
-- nobody could sweep — the database was unreachable, and so could no client reach its
-- session: every session alive at the previous sweep gets that gap added to its expiry.
CREATE OR REPLACE FUNCTION interactions.push_sweep(p_tick_ms integer DEFAULT 500) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_n    integer;
    v_last timestamptz := interactions.push_last_sweep();
    v_gap  interval := now() - v_last;
BEGIN
    IF v_gap > greatest(interval '2 seconds', 4 * p_tick_ms * interval '1 millisecond') THEN
        UPDATE interactions.push_sessions SET expires_at = expires_at + v_gap
         WHERE expires_at > v_last;
    END IF;
    PERFORM setval('interactions.push_sweep_clock', (extract(epoch FROM now()) * 1000)::bigint);
    DELETE FROM interactions.push_sessions WHERE expires_at < now();
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.push_sweep(integer) IS
  'Removes the push sessions of every contact center whose client stopped polling (expires_at passed); returns how many. Called by the maintenance tick (p_tick_ms apart); handshakes also remove a few. Time during which no sweep could run (the database was unreachable) is added to the sessions'' expiry first.';
