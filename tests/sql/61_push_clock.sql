-- Push sessions and database outages: time during which no sweep could run (the database
-- was unreachable, so no client could reach its session) does not count against a
-- session's maxInterval; ordinary silence does.  Run by scripts/test as the superuser before
-- any httpd runs.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'push clock check failed: %', what;
    END IF;
END $$;

SELECT interactions.create_contact_center('sqlclock') AS cc \gset
SELECT interactions.create_user('sqlclock', 'agent1', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
\set c1 '''cccccccccccccccccccccccccccccccc'''
\set c2 '''dddddddddddddddddddddddddddddddd'''

-- the sweeper runs inside interactions.maintenance(), not as the module's role
SELECT interactions.push_sweep(500) IS NOT NULL AS x \gset
SET ROLE interactions_app;
SELECT pg_temp.check((interactions.push_handshake(:cc, 'agent1', :c1, NULL, true, 1000)->>'statusCode')::int = 0, 'handshake 1');
SELECT pg_temp.check((interactions.push_handshake(:cc, 'agent1', :c2, NULL, true, 1000)->>'statusCode')::int = 0, 'handshake 2');

-- an outage: the last sweep a minute ago, session 1 went silent 30 s ago (its client could
-- not reach it), session 2 had already expired before the outage began
RESET ROLE;
SELECT setval('interactions.push_sweep_clock', (extract(epoch FROM now() - interval '60 seconds') * 1000)::bigint) IS NOT NULL AS x \gset
UPDATE interactions.push_sessions SET expires_at = now() - interval '30 seconds' WHERE cc_id = :cc AND client_id = :c1;
UPDATE interactions.push_sessions SET expires_at = now() - interval '90 seconds' WHERE cc_id = :cc AND client_id = :c2;
SET ROLE interactions_app;

-- the database is back; before the first sweep, the client's connect still finds session 1
SELECT pg_temp.check(interactions.push_session(:cc, 'agent1', :c1, 1000)->'session' IS NOT NULL, 'alive before the first sweep');
SELECT pg_temp.check(interactions.push_session(:cc, 'agent1', :c2, 1000)->'session' = 'null'::jsonb, 'expired before the outage: gone');
-- the first sweep moves expiries on by the gap: session 1 lives, session 2 is removed
RESET ROLE;
SELECT pg_temp.check(interactions.push_sweep(500) = 1, 'one swept (the one that had expired before)');
SELECT pg_temp.check((SELECT expires_at > now() FROM interactions.push_sessions WHERE cc_id = :cc AND client_id = :c1), 'session 1 extended');
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM interactions.push_sessions WHERE cc_id = :cc AND client_id = :c2), 'session 2 removed');

-- no outage: plain silence ends a session
UPDATE interactions.push_sessions SET expires_at = now() - interval '1 second' WHERE cc_id = :cc AND client_id = :c1;
SET ROLE interactions_app;
SELECT pg_temp.check(interactions.push_session(:cc, 'agent1', :c1, 1000)->'session' = 'null'::jsonb, 'expired: unknown');
RESET ROLE;
SELECT pg_temp.check(interactions.push_sweep(500) = 1, 'swept');
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM interactions.push_sessions WHERE cc_id = :cc), 'none left');
