-- The benchmark's contact center: psql -v agents=N -f bench/setup.sql
-- Agent i is a member of queue qi only, Ready on email: what feeder creates in qi is
-- offered to agent i at once, so each load-generator connection is one independent agent.
SELECT interactions.create_contact_center('bench');
SELECT interactions.create_user('bench', 'feeder', 'password', ARRAY['apiuser']);
SELECT interactions.create_user('bench', 'supervisor', 'password', ARRAY['supervisor']);
-- the event feed's follower (bench/events-lag.mjs) and the queue of its probes (no members)
SELECT interactions.create_user('bench', 'follower', 'password', ARRAY['apiuser']);
SELECT interactions.create_queue('bench', 'probe');
SELECT interactions.create_user('bench', 'agent' || i, 'password', ARRAY['agent']),
       interactions.create_queue('bench', 'q' || i),
       interactions.add_queue_member('bench', 'q' || i, 'agent' || i)
  FROM generate_series(1, :agents) i;
-- capacity is no limit here: an interrupted run leaves work behind that must not block the next
UPDATE interactions.agent_channels SET state = 'Ready', capacity = 1000000
 WHERE cc_id = interactions.contact_center_id('bench');
-- The cycle's Complete ends the agent's work on an interaction, which (since V012) writes the
-- agent's channel (idle time) and, with a queue wrap-up, starts AfterCallWork.  The cycle
-- runs with wrap-up 0, the default, said here so that the figure keeps meaning the same
-- cycle: with a wrap-up the agent would rightly wait before the next offer.  Missed offers
-- are not counted (max_no_answer 0): a run at 16 connections leaves agents 17..64 offers
-- nobody answers, and three of them would put those agents NotReady before the run at 64.
SELECT interactions.set_queue_policy('bench', 'q' || i, '{"wrap_up": 0, "max_no_answer": 0}')
  FROM generate_series(1, :agents) i;
