-- The reporting views (interaction_facts, queue_intervals, agent_intervals) and the queue
-- statistics over known history: a day of three interactions and one agent's channel, with
-- exact times, and the exact figures each view and the statistics give for them; the
-- statistics read through the maintenance tick's rollups give the same; and row-level
-- security: bound to another contact center, the views show nothing of this one.
-- Run by scripts/test as the cluster superuser; any failed check raises.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

SELECT interactions.create_contact_center('rep1'), interactions.create_contact_center('rep2');
SELECT interactions.create_user('rep1', u, 'password', ARRAY['agent']) FROM unnest(ARRAY['a1', 'a2']) u;
SELECT interactions.create_user('rep1', 'boss', 'password', ARRAY['supervisor']);
SELECT interactions.create_queue('rep1', 'sales');
SELECT interactions.create_queue('rep2', 'sales');

-- The day (2026-01-05, UTC), as interactions.record() and the agent-state functions write it.
--   X: created 09:00:00, offered to a1 09:00:10, rejected 09:00:20, offered to a2 09:00:30,
--      accepted 09:00:40 (wait 40 s), transferred by a2 to a1 09:05:40 (handled 300 s),
--      accepted by a1 09:05:50 (wait 10 s since the transfer), completed 09:10:50 (300 s).
--   Y: created 09:02:00, offered to a1 09:03:30, accepted 09:04:00 (wait 120 s), completed
--      09:08:00 (240 s).
--   Z: created 09:20:00, canceled while queued 09:21:00 (abandoned after 60 s).
--   a1's email channel: Ready 08:55, AfterCallWork 09:12, NotReady (Lunch) 09:14,
--      LoggedOut 09:40.
DO $$
DECLARE
    cc  integer := interactions.contact_center_id('rep1');
    a1  uuid := (SELECT id FROM interactions.users WHERE cc_id = interactions.contact_center_id('rep1') AND login = 'a1');
    a2  uuid := (SELECT id FROM interactions.users WHERE cc_id = interactions.contact_center_id('rep1') AND login = 'a2');
    x   uuid := gen_random_uuid();
    y   uuid := gen_random_uuid();
    z   uuid := gen_random_uuid();
    m   jsonb := '{"mediaType":"email"}';
BEGIN
    -- the history is partitioned by month: that month's, as a DBA loading old rows makes it;
    -- and its rows keep the times given (the insert trigger stamps seq, xid and now otherwise)
    PERFORM interactions.history_partition_create('2026-01-05 00:00:00+00');
    PERFORM set_config('session_replication_role', 'replica', true);
    INSERT INTO interactions.history (seq, xid, cc_id, at, interaction_id, operation, actor_id, from_state, to_state,
                                      from_queue, to_queue, from_owner, to_owner, from_invitee, to_invitee, snapshot)
    VALUES
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:00:00+00', x, 'Create', NULL, NULL, 'Queued', NULL, 'sales', NULL, NULL, NULL, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:00:10+00', x, 'Route', NULL, 'Queued', 'Invited', 'sales', 'sales', NULL, NULL, NULL, a1, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:00:20+00', x, 'Reject', a1, 'Invited', 'Queued', 'sales', 'sales', NULL, NULL, a1, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:00:30+00', x, 'Route', NULL, 'Queued', 'Invited', 'sales', 'sales', NULL, NULL, NULL, a2, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:00:40+00', x, 'Accept', a2, 'Invited', 'Processing', 'sales', 'sales', NULL, a2, a2, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:02:00+00', y, 'Create', NULL, NULL, 'Queued', NULL, 'sales', NULL, NULL, NULL, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:03:30+00', y, 'Route', NULL, 'Queued', 'Invited', 'sales', 'sales', NULL, NULL, NULL, a1, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:04:00+00', y, 'Accept', a1, 'Invited', 'Processing', 'sales', 'sales', NULL, a1, a1, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:05:40+00', x, 'Transfer', a2, 'Processing', 'Invited', 'sales', 'sales', a2, NULL, NULL, a1, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:05:50+00', x, 'Accept', a1, 'Invited', 'Processing', 'sales', 'sales', NULL, a1, a1, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:08:00+00', y, 'Complete', a1, 'Processing', 'Completed', 'sales', 'sales', a1, NULL, NULL, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:10:50+00', x, 'Complete', a1, 'Processing', 'Completed', 'sales', 'sales', a1, NULL, NULL, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:20:00+00', z, 'Create', NULL, NULL, 'Queued', NULL, 'sales', NULL, NULL, NULL, NULL, m),
      (nextval('interactions.history_seq'), pg_current_xact_id(), cc, '2026-01-05 09:21:00+00', z, 'Cancel', NULL, 'Queued', 'Canceled', 'sales', 'sales', NULL, NULL, NULL, NULL, m);
    INSERT INTO interactions.history (seq, xid, cc_id, at, operation, actor_id, from_state, to_state, audience, snapshot)
    SELECT nextval('interactions.history_seq'), pg_current_xact_id(), cc, v.at, 'ChannelState', a1, v.f, v.t, ARRAY[a1],
           jsonb_build_object('channels', jsonb_build_array(jsonb_build_object('channel', 'email',
               'userState', jsonb_build_object('state', v.t))))
      FROM (VALUES (timestamptz '2026-01-05 08:55:00+00', 'NotReady', 'Ready'),
                   ('2026-01-05 09:12:00+00', 'Ready', 'AfterCallWork'),
                   ('2026-01-05 09:14:00+00', 'AfterCallWork', 'NotReady'),
                   ('2026-01-05 09:40:00+00', 'NotReady', 'LoggedOut')) v(at, f, t);
    -- the same day in rep2, which rep1's views must never show
    INSERT INTO interactions.history (seq, xid, cc_id, at, interaction_id, operation, from_state, to_state, to_queue, snapshot)
    VALUES (nextval('interactions.history_seq'), pg_current_xact_id(), interactions.contact_center_id('rep2'), '2026-01-05 09:01:00+00', gen_random_uuid(), 'Create',
            NULL, 'Queued', 'sales', m);
END $$;

CREATE FUNCTION pg_temp.expect(what text, got anyelement, want anyelement) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF got IS DISTINCT FROM want THEN
        RAISE EXCEPTION '%: got %, expected %', what, got, want;
    END IF;
END $$;

-- interaction_facts: one row per finished interaction
SELECT pg_temp.expect('interaction_facts rows', (SELECT count(*) FROM interactions.interaction_facts WHERE contact_center = 'rep1'), 3::bigint);
SELECT pg_temp.expect('facts ' || f.outcome || ' ' || f.first_wait_seconds::text,
       row(f.media_type, f.created_at, f.ended_at, f.first_queue, f.last_queue, f.answered, f.first_wait_seconds,
           f.wait_seconds, f.handle_seconds, f.workbin_seconds, f.lifetime_seconds, f.offers, f.transfers, f.agents)::text,
       e.want)
  FROM interactions.interaction_facts f
  JOIN (VALUES
    ('2026-01-05 09:10:50+00'::timestamptz,
     row('email', '2026-01-05 09:00:00+00'::timestamptz, '2026-01-05 09:10:50+00'::timestamptz, 'sales', 'sales', true,
         40.000::numeric(12,3), 50.000::numeric(12,3), 600.000::numeric(12,3), 0.000::numeric(12,3), 650.000::numeric(12,3),
         3::bigint, 1::bigint, ARRAY['a1', 'a2'])::text),
    ('2026-01-05 09:08:00+00',
     row('email', '2026-01-05 09:02:00+00'::timestamptz, '2026-01-05 09:08:00+00'::timestamptz, 'sales', 'sales', true,
         120.000::numeric(12,3), 120.000::numeric(12,3), 240.000::numeric(12,3), 0.000::numeric(12,3), 360.000::numeric(12,3),
         1::bigint, 0::bigint, ARRAY['a1'])::text),
    ('2026-01-05 09:21:00+00',
     row('email', '2026-01-05 09:20:00+00'::timestamptz, '2026-01-05 09:21:00+00'::timestamptz, 'sales', 'sales', false,
         NULL::numeric(12,3), 60.000::numeric(12,3), 0.000::numeric(12,3), 0.000::numeric(12,3), 60.000::numeric(12,3),
         0::bigint, 0::bigint, '{}'::text[])::text)) e(ended, want) ON e.ended = f.ended_at
 WHERE f.contact_center = 'rep1';
SELECT pg_temp.expect('outcomes', (SELECT string_agg(outcome, ',' ORDER BY ended_at) FROM interactions.interaction_facts
                                    WHERE contact_center = 'rep1'), 'Completed,Completed,Canceled');

-- queue_intervals: 09:00 (X, Y) and 09:15 (Z)
SELECT pg_temp.expect('queue_intervals ' || q.interval_start::text,
       row(q.created, q.answered, q.abandoned, q.answered_within_threshold, q.service_level, q.avg_wait_seconds,
           q.p90_wait_seconds, q.max_wait_seconds, q.handled, q.avg_handle_seconds)::text, e.want)
  FROM interactions.queue_intervals q
  JOIN (VALUES ('2026-01-05 09:00:00+00'::timestamptz, '(2,3,0,2,0.6667,56.667,120.000,120.000,3,280.000)'),
               ('2026-01-05 09:15:00+00', '(1,0,1,0,0.0000,,,,0,)')) e(at, want) ON e.at = q.interval_start
 WHERE q.contact_center = 'rep1' AND q.queue = 'sales';
SELECT pg_temp.expect('queue_intervals rows', (SELECT count(*) FROM interactions.queue_intervals
                                                WHERE contact_center = 'rep1'), 2::bigint);
-- the threshold is the queue's
SELECT interactions.set_queue_policy('rep1', 'sales', '{"service_level_threshold": "2 minutes"}');
SELECT pg_temp.expect('service level at 120 s', (SELECT service_level FROM interactions.queue_intervals
                       WHERE contact_center = 'rep1' AND interval_start = '2026-01-05 09:00:00+00'), 1.0000::numeric);
SELECT interactions.set_queue_policy('rep1', 'sales', '{"service_level_threshold": 60}');

-- agent_intervals: a1's email channel and work, a2's work
SELECT pg_temp.expect('agent_intervals ' || a.agent || ' ' || a.interval_start::text,
       row(a.ready_seconds, a.not_ready_seconds, a.after_call_work_seconds, a.do_not_disturb_seconds,
           a.logged_out_seconds, a.handling_seconds, a.offers, a.accepted)::text, e.want)
  FROM interactions.agent_intervals a
  JOIN (VALUES ('a1', '2026-01-05 08:45:00+00'::timestamptz, '(300.000,0.000,0.000,0.000,0.000,0.000,0,0)'),
               ('a1', '2026-01-05 09:00:00+00', '(720.000,60.000,120.000,0.000,0.000,540.000,3,2)'),
               ('a1', '2026-01-05 09:15:00+00', '(0.000,900.000,0.000,0.000,0.000,0.000,0,0)'),
               ('a1', '2026-01-05 09:30:00+00', '(0.000,600.000,0.000,0.000,300.000,0.000,0,0)'),
               ('a1', '2026-01-05 09:45:00+00', '(0.000,0.000,0.000,0.000,900.000,0.000,0,0)'),
               ('a2', '2026-01-05 09:00:00+00', '(0.000,0.000,0.000,0.000,0.000,300.000,1,1)'))
       e(agent, at, want) ON e.agent = a.agent AND e.at = a.interval_start
 WHERE a.contact_center = 'rep1' AND a.channel = 'email';
SELECT pg_temp.expect('agent_intervals rows checked',
       (SELECT count(*) FROM interactions.agent_intervals
         WHERE contact_center = 'rep1' AND interval_start < '2026-01-05 10:00:00+00'), 6::bigint);

-- The statistics of that day: from the history, then from the rollups the maintenance
-- tick folds it into (queue_rollup), the same figures.
CREATE TEMP TABLE day_stats AS
SELECT interactions.queue_period(interactions.contact_center_id('rep1'), 'sales', '60 seconds',
                                 '2026-01-05 00:00:00+00') AS s;
SELECT pg_temp.expect('statistics of the day', (SELECT s - 'from' FROM day_stats),
       '{"created":3,"answered":3,"abandoned":1,"answeredWithinThreshold":2,"averageWaitSeconds":56.667,
         "p90WaitSeconds":120,"handled":3,"averageHandleSeconds":280.000,"serviceLevel":0.5000}'::jsonb);
-- (the tick folds only the last day in; this day is older)
SELECT interactions.queue_rollup(100000, '2026-01-01 00:00:00+00');
SELECT pg_temp.expect('rollups of the day', (SELECT row(sum(created), sum(answered), sum(abandoned), sum(handled))::text
                                              FROM interactions.queue_rollups
                                             WHERE cc_id = interactions.contact_center_id('rep1')), '(3,3,1,3)');
SELECT pg_temp.expect('statistics from the rollups',
       interactions.queue_period(interactions.contact_center_id('rep1'), 'sales', '60 seconds', '2026-01-05 00:00:00+00'),
       (SELECT s FROM day_stats));
-- a later period, and a minute boundary inside the rollups
SELECT pg_temp.expect('statistics from 09:15', interactions.queue_period(interactions.contact_center_id('rep1'), 'sales',
       '60 seconds', '2026-01-05 09:15:00+00') - 'from',
       '{"created":1,"answered":0,"abandoned":1,"answeredWithinThreshold":0,"averageWaitSeconds":null,
         "p90WaitSeconds":null,"handled":0,"averageHandleSeconds":null,"serviceLevel":0.0000}'::jsonb);

-- Row-level security: the module's role bound to rep2 sees none of rep1's rows in the views.
GRANT EXECUTE ON FUNCTION pg_temp.expect(text, anyelement, anyelement) TO interactions_app;
SET ROLE interactions_app;
SELECT set_config('interactions.cc', interactions.contact_center_id('rep2')::text, false);
SELECT pg_temp.expect('facts seen from rep2', (SELECT count(*) FROM interactions.interaction_facts), 0::bigint);
SELECT pg_temp.expect('queue intervals seen from rep2', (SELECT string_agg(contact_center || ' ' || created, ',')
                                                          FROM interactions.queue_intervals), 'rep2 1');
SELECT pg_temp.expect('agent intervals seen from rep2', (SELECT count(*) FROM interactions.agent_intervals), 0::bigint);
SELECT pg_temp.expect('queue events seen from rep2', (SELECT count(*) FROM interactions.queue_events
                                                       WHERE cc_id = interactions.contact_center_id('rep1')), 0::bigint);
SELECT pg_temp.expect('rollups seen from rep2', (SELECT count(*) FROM interactions.queue_rollups
                                                  WHERE cc_id = interactions.contact_center_id('rep1')), 0::bigint);
SELECT set_config('interactions.cc', interactions.contact_center_id('rep1')::text, false);
SELECT pg_temp.expect('facts seen from rep1', (SELECT count(*) FROM interactions.interaction_facts), 3::bigint);
SELECT set_config('interactions.cc', '', false);
RESET ROLE;
