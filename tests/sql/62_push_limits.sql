-- What one user may make the push channel hold, counted in the database so that it holds
-- across processes and servers: live sessions per user and per contact center, the rate of
-- handshakes per user, held connects per browser counted per user, and the look-up of every
-- session of a Bayeux request in one call.  Run by scripts/test as the superuser before any
-- httpd runs; every statement is its own transaction.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'push limits check failed: %', what;
    END IF;
END $$;

-- A client id of 32 hex digits from a number.
CREATE FUNCTION pg_temp.cid(n integer) RETURNS text LANGUAGE sql AS $$
    SELECT lpad(to_hex(n), 32, '0')
$$;

SELECT interactions.create_contact_center('sqllimits') AS cc \gset
SELECT interactions.create_contact_center('sqllimits2') AS cc2 \gset
SELECT interactions.create_user('sqllimits', 'agent1', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
SELECT interactions.create_user('sqllimits', 'agent2', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
SELECT interactions.create_user('sqllimits', 'agent3', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
SELECT interactions.create_user('sqllimits2', 'agent1', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
SELECT interactions.push_sweep() IS NOT NULL AS x \gset

SET ROLE interactions_app;

-- sessions per user: three allowed, the fourth refused with when to come back; nothing opened
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent1', pg_temp.cid(n), NULL, false, 10000, 3, 0, 0) ? 'user', 'handshake ' || n)
  FROM generate_series(1, 3) n;
SELECT interactions.push_handshake(:cc, 'agent1', pg_temp.cid(4), NULL, false, 10000, 3, 0, 0) AS r \gset
SELECT pg_temp.check(:'r'::jsonb->>'refused' = 'sessions' AND (:'r'::jsonb->>'retryMs')::int BETWEEN 1000 AND 10000,
                     'the fourth session is refused: ' || :'r');
SELECT pg_temp.check(interactions.push_session(:cc, 'agent1', pg_temp.cid(4), 10000)->'session' = 'null', 'the refused session does not exist');
-- others are not affected: another user, the same login in another contact center
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(5), NULL, false, 10000, 3, 0, 0) ? 'user', 'another user');
SELECT pg_temp.check(interactions.push_handshake(:cc2, 'agent1', pg_temp.cid(6), NULL, false, 10000, 3, 0, 0) ? 'user', 'another contact center');
-- a disconnect or an expiry makes room
SELECT pg_temp.check((interactions.push_disconnect(:cc, 'agent1', pg_temp.cid(1))->>'found')::boolean, 'disconnect');
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent1', pg_temp.cid(4), NULL, false, 10000, 3, 0, 0) ? 'user', 'room again');
RESET ROLE;
UPDATE interactions.push_sessions SET expires_at = now() - interval '1 second' WHERE cc_id = :cc AND client_id = pg_temp.cid(2);
SET ROLE interactions_app;
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent1', pg_temp.cid(7), NULL, false, 10000, 3, 0, 0) ? 'user', 'an expired one counts no more');
-- without the limit (0), as many as wanted
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent1', pg_temp.cid(8), NULL, false, 10000, 0, 0, 0) ? 'user', 'no limit');

-- the contact center's sessions: agent1 has 4 live, agent2 1
SELECT interactions.push_handshake(:cc, 'agent3', pg_temp.cid(9), NULL, false, 10000, 0, 5, 0) AS r \gset
SELECT pg_temp.check(:'r'::jsonb->>'refused' = 'contactCenter' AND (:'r'::jsonb->>'retryMs')::int = 10000, 'the contact center is full: ' || :'r');
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent3', pg_temp.cid(9), NULL, false, 10000, 0, 6, 0) ? 'user', 'one more place');

-- handshakes per minute: a bucket of two, refilled at two a minute
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(10 + n), NULL, false, 10000, 0, 0, 2) ? 'user', 'handshake ' || n)
  FROM generate_series(1, 2) n;
SELECT interactions.push_handshake(:cc, 'agent2', pg_temp.cid(13), NULL, false, 10000, 0, 0, 2) AS r \gset
SELECT pg_temp.check(:'r'::jsonb->>'refused' = 'rate' AND (:'r'::jsonb->>'retryMs')::int BETWEEN 29000 AND 30000,
                     'the third within the minute is refused: ' || :'r');
SELECT pg_temp.check(interactions.push_session(:cc, 'agent2', pg_temp.cid(13), 10000)->'session' = 'null', 'and opened nothing');
-- a disconnect does not give a handshake back
SELECT pg_temp.check((interactions.push_disconnect(:cc, 'agent2', pg_temp.cid(11))->>'found')::boolean, 'disconnect');
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(13), NULL, false, 10000, 0, 0, 2) ? 'refused', 'still refused');
-- half a minute later one handshake has accrued
RESET ROLE;
UPDATE interactions.push_handshake_budget b SET refilled_at = refilled_at - interval '31 seconds'
  FROM interactions.users u WHERE u.cc_id = b.cc_id AND u.id = b.user_id AND u.login = 'agent2' AND b.cc_id = :cc;
SET ROLE interactions_app;
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(13), NULL, false, 10000, 0, 0, 2) ? 'user', 'refilled');
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(14), NULL, false, 10000, 0, 0, 2) ? 'refused', 'and used');
-- a session refused for the user's count takes no token
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent3', pg_temp.cid(15), NULL, false, 10000, 1, 0, 1) ->>'refused' = 'sessions', 'over the count');
RESET ROLE;
SELECT pg_temp.check((SELECT b.tokens >= 1 FROM interactions.push_handshake_budget b JOIN interactions.users u
                       ON u.cc_id = b.cc_id AND u.id = b.user_id WHERE u.login = 'agent3' AND b.cc_id = :cc), 'the token is still there');
-- the buckets are a tenant table like any other
SET ROLE interactions_app;
SELECT pg_temp.check((SELECT count(*) FROM interactions.push_handshake_budget) = 0, 'no contact center bound: no rows');

-- held connects per browser are counted per user: agent1's second session in the browser
-- is told multiple-clients, agent2 with the same cookie is held
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent1', pg_temp.cid(20 + n), 'sharedBrowserAAAAAAA', false, 10000) ? 'user', 'browser session ' || n)
  FROM generate_series(1, 2) n;
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(23), 'sharedBrowserAAAAAAA', false, 10000) ? 'user', 'browser session 3');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', pg_temp.cid(21), true, 0, NULL, 25000, 10000, 1, 100)->>'held')::boolean, 'agent1 holds');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', pg_temp.cid(22), true, 0, NULL, 25000, 10000, 1, 100)->>'multipleClients')::boolean, 'agent1''s second tab polls');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent2', pg_temp.cid(23), true, 0, NULL, 25000, 10000, 1, 100)->>'held')::boolean, 'agent2 with the same cookie holds');

-- every session of a request in one call: only the caller's live ones
SELECT interactions.push_session_batch(:cc, 'agent1', ARRAY[pg_temp.cid(3), pg_temp.cid(23), pg_temp.cid(2), 'not"hex{}', pg_temp.cid(21)], 10000) AS r \gset
SELECT pg_temp.check((SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(:'r'::jsonb->'sessions') k) = ARRAY[pg_temp.cid(3), pg_temp.cid(21)],
                     'agent1''s live sessions only: ' || :'r');
SELECT pg_temp.check(:'r'::jsonb->'sessions'->pg_temp.cid(3)->'user'->'roles' = '["agent"]' AND
                     :'r'::jsonb->'sessions'->pg_temp.cid(3)->'channels' = '[]' AND
                     :'r'::jsonb->'sessions'->pg_temp.cid(3)->'ack' = 'false', 'as push_session describes it');
SELECT pg_temp.check(interactions.push_session_batch(:cc2, 'agent1', ARRAY[pg_temp.cid(3)], 10000)->'sessions' = '{}', 'not from another contact center');

RESET ROLE;
DELETE FROM interactions.push_sessions WHERE cc_id IN (:cc, :cc2);
