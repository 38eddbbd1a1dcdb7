-- A routing benchmark contact center: psql -v name=NAME -v full=0|1 -f bench/routing-setup.sql
--
-- 1,000 agents (capacity 5 on email, all Ready, through the API as the module would make
-- them), 100 queues q0..q99, every agent a member of three (i, i+33, i+67 modulo 100:
-- 30 members a queue).  full=0: every queue longest-idle, no skills (routing as it was).
-- full=1: the whole policy — strategies in turn (longest-idle, round-robin, least-handled,
-- random, ring-all), ten skills s0..s9 with every agent holding three at levels 1..10, every
-- third queue requiring one skill at level 3 or more, priority ageing everywhere, and every
-- tenth queue overflowing after 10 minutes into the next.  Users get no password.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT interactions.create_contact_center(:'name');
SELECT interactions.create_user(:'name', 'feeder', NULL, ARRAY['apiuser']);
-- offers stay open for the length of the run: the tick measured is the one that looks for
-- work to offer, not one withdrawing a batch of expired offers
SELECT interactions.create_queue(:'name', 'q' || q, '1 hour') FROM generate_series(0, 99) q;
SELECT interactions.create_user(:'name', 'agent' || i, NULL, ARRAY['agent']),
       interactions.add_queue_member(:'name', 'q' || (i % 100), 'agent' || i),
       interactions.add_queue_member(:'name', 'q' || ((i + 33) % 100), 'agent' || i),
       interactions.add_queue_member(:'name', 'q' || ((i + 67) % 100), 'agent' || i),
       interactions.set_agent_capacity(:'name', 'agent' || i, 'email', 5)
  FROM generate_series(1, 1000) i;
SELECT interactions.set_queue_policy(:'name', 'q' || q, jsonb_build_object(
           'strategy', (ARRAY['longest-idle', 'round-robin', 'least-handled', 'random', 'ring-all'])[q % 5 + 1],
           'priority_per_minute', 1)
       || CASE WHEN q % 10 = 0 THEN jsonb_build_object('max_wait', '10 minutes', 'overflow_queue', 'q' || (q + 1))
               ELSE '{}'::jsonb END)
  FROM generate_series(0, 99) q WHERE :full = 1;
SELECT interactions.set_agent_skill(:'name', 'agent' || i, 's' || ((i + k) % 10), 1 + (i * 7 + k) % 10)
  FROM generate_series(1, 1000) i, unnest(ARRAY[0, 3, 7]) k WHERE :full = 1;
SELECT interactions.set_queue_requirement(:'name', 'q' || q, 's' || (q % 10), 3)
  FROM generate_series(0, 99) q WHERE :full = 1 AND q % 3 = 0;
SELECT interactions.contact_center_id(:'name') AS cc \gset
SELECT count(*) AS ready FROM generate_series(1, 1000) i,
       LATERAL interactions.api(:cc, 'agent' || i, 'channel', '{"media":"email","operationName":"Ready"}') r
 WHERE (r->>'statusCode')::int = 0;
