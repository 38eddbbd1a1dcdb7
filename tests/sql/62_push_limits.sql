-- Held connects per BAYEUX_BROWSER are counted per browser and user: another user
-- presenting the same cookie value pushes nobody into polling.  Run by scripts/test as the
-- superuser before any httpd runs; every statement is its own transaction.
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

-- held connects per browser are counted per user: agent1's second session in the browser
-- is told multiple-clients, agent2 with the same cookie is held
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent1', pg_temp.cid(20 + n), 'sharedBrowserAAAAAAA', false, 10000) ? 'user', 'browser session ' || n)
  FROM generate_series(1, 2) n;
SELECT pg_temp.check(interactions.push_handshake(:cc, 'agent2', pg_temp.cid(23), 'sharedBrowserAAAAAAA', false, 10000) ? 'user', 'browser session 3');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', pg_temp.cid(21), true, 0, NULL, 25000, 10000, 1, 100)->>'held')::boolean, 'agent1 holds');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', pg_temp.cid(22), true, 0, NULL, 25000, 10000, 1, 100)->>'multipleClients')::boolean, 'agent1''s second tab polls');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent2', pg_temp.cid(23), true, 0, NULL, 25000, 10000, 1, 100)->>'held')::boolean, 'agent2 with the same cookie holds');

RESET ROLE;
DELETE FROM interactions.push_sessions WHERE cc_id IN (:cc, :cc2);
