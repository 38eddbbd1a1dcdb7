-- The maintenance tick at scale: psql -v agents=1000 -v backlog=500 -f bench/tick.sql
--
-- A contact center "tick" of :agents agents in 10 queues, every one Ready (through the API,
-- as the module would make them) and busy with one accepted interaction (capacity 1), and
-- :backlog more interactions waiting: the state in which the tick looks hardest for work to
-- offer and finds none.  Then interactions.maintenance() runs 20 times; the average is
-- printed in milliseconds.  Users get no password (no bcrypt), so setting up 1,000 agents
-- takes seconds.  Run it on a database of its own: it leaves the contact center behind.
-- It runs on the code before V012 as well, so the two can be compared on one machine.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT interactions.create_contact_center('tick');
SELECT interactions.create_user('tick', 'feeder', NULL, ARRAY['apiuser']);
SELECT interactions.create_queue('tick', 'q' || i) FROM generate_series(0, 9) i;
SELECT interactions.create_user('tick', 'agent' || i, NULL, ARRAY['agent']),
       interactions.add_queue_member('tick', 'q' || (i % 10), 'agent' || i)
  FROM generate_series(1, :agents) i;
SELECT interactions.contact_center_id('tick') AS cc \gset
SELECT count(*) AS ready FROM generate_series(1, :agents) i,
       LATERAL interactions.api(:cc, 'agent' || i, 'channel', '{"media":"email","operationName":"Ready"}') r
 WHERE (r->>'statusCode')::int = 0;
-- one interaction per agent, offered at once, then accepted by whoever it was offered to
SELECT count(*) AS created FROM generate_series(1, :agents) i,
       LATERAL interactions.api(:cc, 'feeder', 'create', jsonb_build_object('mediaType', 'email', 'queueName', 'q' || (i % 10))) r
 WHERE (r->>'statusCode')::int = 0;
SELECT count(*) AS accepted FROM interactions.interactions i
  JOIN interactions.users u ON u.cc_id = i.cc_id AND u.id = i.invitee_id,
       LATERAL interactions.api(:cc, u.login, 'operation', jsonb_build_object('operationName', 'Accept', 'id', i.id)) r
 WHERE i.cc_id = :cc AND i.state = 'Invited' AND (r->>'statusCode')::int = 0;
SELECT count(*) AS waiting FROM generate_series(1, :backlog) i,
       LATERAL interactions.api(:cc, 'feeder', 'create', jsonb_build_object('mediaType', 'email', 'queueName', 'q' || (i % 10))) r
 WHERE (r->>'statusCode')::int = 0;
-- Statistics as autovacuum would keep them: without them the planner takes the freshly
-- filled tables for empty, and the tick's look for waiting work scans every queued
-- interaction of the contact center per agent (measured: 567 ms a tick instead of 87).
ANALYZE;
SELECT interactions.maintenance();   -- warm
DO $$
DECLARE
    t0 timestamptz;
    n  integer := 20;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1 .. n LOOP
        PERFORM interactions.maintenance();
    END LOOP;
    RAISE WARNING 'tick: % ms on average over % runs', round(extract(epoch FROM clock_timestamp() - t0) * 1000 / n, 2), n;
END $$;
