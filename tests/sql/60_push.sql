-- The push channel's session functions, as the module's role: the delivery cursor, the ack
-- extension's resend, holds and supersession, the per-browser count, expiry and sweeping,
-- the listener's wake-up read, and contact-center isolation.  Run by scripts/test as the
-- cluster superuser before any httpd runs (nothing else writes meanwhile); every statement
-- is its own transaction, so what one writes is below the stable cut for the next.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'push check failed: %', what;
    END IF;
END $$;

SELECT interactions.create_contact_center('sqlpush') AS cc \gset
SELECT interactions.create_contact_center('sqlpush2') AS cc2 \gset
SELECT interactions.create_user('sqlpush', 'agent1', 'password', ARRAY['agent']) AS agent1 \gset
SELECT interactions.create_user('sqlpush', 'agent2', 'password', ARRAY['agent']) AS agent2 \gset
SELECT interactions.create_user('sqlpush', 'supervisor', 'password', ARRAY['supervisor']) IS NOT NULL AS x \gset
SELECT interactions.create_user('sqlpush', 'feeder', 'password', ARRAY['apiuser']) IS NOT NULL AS x \gset
SELECT interactions.create_user('sqlpush2', 'agent1', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
SELECT interactions.create_queue('sqlpush', 'support') IS NOT NULL AS x \gset
SELECT interactions.add_queue_member('sqlpush', 'support', 'agent1') IS NULL AS x \gset

SET ROLE interactions_app;

-- sessions: a supervisor on both channels, agent1 on its own, and agent1 with the ack extension
\set c_sup '''aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'''
\set c_a1 '''bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'''
\set c_ack '''cccccccccccccccccccccccccccccccc'''
SELECT pg_temp.check((interactions.push_handshake(:cc, 'supervisor', :c_sup, 'browserAAAAAAAAAAAA', false, 10000)->>'statusCode') = '0', 'handshake');
SELECT pg_temp.check((interactions.push_handshake(:cc, 'agent1', :c_a1, 'browserAAAAAAAAAAAA', false, 10000)->>'statusCode') = '0', 'handshake');
SELECT pg_temp.check((interactions.push_handshake(:cc, 'agent1', :c_ack, NULL, true, 10000)->>'statusCode') = '0', 'handshake');
SELECT pg_temp.check((interactions.push_handshake(:cc, 'nobody', 'dddddddddddddddddddddddddddddddd', NULL, false, 10000)->>'statusCode') = '20', 'unknown users get 20');
SELECT pg_temp.check(interactions.push_subscribe(:cc, 'supervisor', :c_sup, ARRAY['/v2/interactions','/v2/me/interactions'], '{}')->'session'->'channels' = '["/v2/interactions", "/v2/me/interactions"]', 'subscribe both');
SELECT pg_temp.check(interactions.push_subscribe(:cc, 'agent1', :c_a1, ARRAY['/v2/me/interactions'], '{}') IS NOT NULL, 'subscribe');
SELECT pg_temp.check(interactions.push_subscribe(:cc, 'agent1', :c_ack, ARRAY['/v2/me/interactions'], '{}') IS NOT NULL, 'subscribe');
SELECT pg_temp.check(interactions.push_subscribe(:cc, 'agent2', :c_a1, ARRAY['/v2/me/interactions'], '{}')->'session' = 'null', 'another user''s session is unknown');

-- the first connect of each, answered at once: nothing yet
SELECT pg_temp.check(json_array_length(interactions.push_connect(:cc, 'supervisor', :c_sup, true, 0, NULL, 0, 10000, 0, 100)->'events') = 0, 'nothing yet');
SELECT pg_temp.check(json_array_length(interactions.push_connect(:cc, 'agent1', :c_a1, true, 0, NULL, 0, 10000, 0, 100)->'events') = 0, 'nothing yet');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, 0, 0, 10000, 0, 100)->>'batch') = '0', 'a batch without events keeps the id the client holds (0 at first)');
RESET ROLE;
SELECT cursor_xid AS ack_xid0, cursor_seq AS ack_seq0 FROM interactions.push_sessions WHERE client_id = :c_ack \gset
SET ROLE interactions_app;

-- agent1 becomes Ready and an interaction is created: Create (for supervisors) and the offer
-- (for agent1) in one transaction
SELECT pg_temp.check((interactions.api(:cc, 'agent1', 'channel', '{"media":"email","operationName":"Ready"}')->>'statusCode') = '0', 'ready');
SELECT interactions.api(:cc, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}')->>'id' AS i1 \gset

SELECT interactions.push_connect(:cc, 'supervisor', :c_sup, true, 0, NULL, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 2, 'the supervisor gets the create and the offer');
SELECT pg_temp.check((:'r'::jsonb->'events'->0->>'all')::boolean AND NOT (:'r'::jsonb->'events'->0->>'me')::boolean, 'on /v2/interactions only');
-- events only for /v2/interactions come without the snapshot: push_snapshots has them
SELECT pg_temp.check(:'r'::jsonb->'events'->0->'snapshot' = 'null' AND :'r'::jsonb->'events'->1->'snapshot' = 'null', 'lean');
SELECT pg_temp.check((:'r'::jsonb->'events'->0->>'seq')::bigint < (:'r'::jsonb->'events'->1->>'seq')::bigint, 'in order');
SELECT interactions.push_snapshots(:cc, 'supervisor', ARRAY[(:'r'::jsonb->'events'->1->>'seq')::bigint,
                                                            (:'r'::jsonb->'events'->0->>'seq')::bigint]) AS s \gset
SELECT pg_temp.check(:'s'::jsonb->'events'->0->'snapshot'->>'state' = 'Queued' AND :'s'::jsonb->'events'->1->'snapshot'->>'state' = 'Invited'
                     AND :'s'::jsonb->'events'->0->'seq' = :'r'::jsonb->'events'->0->'seq', 'the snapshots, in order');
SELECT pg_temp.check(json_array_length(interactions.push_snapshots(:cc, 'agent1', ARRAY[(:'r'::jsonb->'events'->0->>'seq')::bigint])->'events') = 0,
                     'an agent gets no snapshots');
SELECT pg_temp.check(json_array_length(interactions.push_snapshots(:cc2, 'supervisor', ARRAY[(:'r'::jsonb->'events'->0->>'seq')::bigint])->'events') = 0,
                     'nor does another contact center');
SELECT pg_temp.check(:'r'::jsonb->'events'->0->>'referenceId' = :'r'::jsonb->'events'->1->>'referenceId', 'both carry the create''s referenceId');
SELECT pg_temp.check(json_array_length(interactions.push_connect(:cc, 'supervisor', :c_sup, true, 0, NULL, 0, 10000, 0, 100)->'events') = 0, 'without ack: delivered once');

SELECT interactions.push_connect(:cc, 'agent1', :c_a1, true, 0, NULL, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 1 AND (:'r'::jsonb->'events'->0->>'me')::boolean
                     AND NOT (:'r'::jsonb->'events'->0->>'revoked')::boolean, 'agent1 gets its offer only');

-- ack: the batch is kept until acknowledged; its id is the seq of its last row
SELECT interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, 0, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 1
                     AND (:'r'::jsonb->>'batch') = :'r'::jsonb->'events'->0->>'seq', 'the batch has the offer and is named by its row');
SELECT :'r'::jsonb->>'batch' AS b1 \gset
SELECT interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, 0, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check((:'r'::jsonb->>'batch') = :'b1' AND jsonb_array_length(:'r'::jsonb->'events') = 1, 'not acknowledged: sent again');
SELECT interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, :b1, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check((:'r'::jsonb->>'batch') = :'b1' AND jsonb_array_length(:'r'::jsonb->'events') = 0, 'acknowledged: not again; no events, the same id');
-- the database forgot the last moment of bookkeeping (a crash, a failover to a standby that
-- lagged): the session row is back before the batch was sent; the client's ack restores it
RESET ROLE;
UPDATE interactions.push_sessions SET cursor_xid = :'ack_xid0', cursor_seq = :ack_seq0, sent_batch = 0,
       sent_xid = NULL, sent_seq = NULL WHERE client_id = :c_ack;
SET ROLE interactions_app;
SELECT interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, :b1, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 0 AND (:'r'::jsonb->>'batch') = :'b1', 'the ack restored the cursor: nothing again');
-- an older ack (the last reply was lost) never moves the cursor back, and an ack naming no
-- row of this contact center is ignored
SELECT pg_temp.check(json_array_length(interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, 0, 0, 10000, 0, 100)->'events') = 0, 'an older ack moves nothing back');
RESET ROLE;
UPDATE interactions.push_sessions SET cursor_xid = :'ack_xid0', cursor_seq = :ack_seq0, sent_batch = 0,
       sent_xid = NULL, sent_seq = NULL WHERE client_id = :c_ack;
SELECT max(seq) + 1000 AS nowhere FROM interactions.history \gset
SET ROLE interactions_app;
SELECT interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, :nowhere, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 1, 'an ack of no row is ignored: the offer comes again');
SELECT interactions.push_connect(:cc, 'agent1', :c_ack, true, 0, (:'r'::jsonb->>'batch')::bigint, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 0, 'and is acknowledged');

-- the offer is withdrawn from agent1 (as the maintenance tick does): agent1 is told Revoked
RESET ROLE;
UPDATE interactions.interactions SET offer_expires_at = now() - interval '1 second' WHERE id = :'i1';
SELECT interactions.api(:cc, 'agent1', 'channel', '{"media":"email","operationName":"NotReady"}') IS NOT NULL AS x \gset
SELECT interactions.maintenance() AS n \gset
SET ROLE interactions_app;
SELECT interactions.push_connect(:cc, 'agent1', :c_a1, true, 0, NULL, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 1 AND (:'r'::jsonb->'events'->0->>'revoked')::boolean
                     AND :'r'::jsonb->'events'->0->'referenceId' = 'null', 'Revoked, no referenceId');

-- holding: nothing to deliver marks the session held; a re-check of an older hold is superseded
SELECT interactions.push_connect(:cc, 'agent1', :c_a1, true, 0, NULL, 25000, 10000, 1, 100) AS r \gset
SELECT pg_temp.check((:'r'::jsonb->>'held')::boolean, 'held');
SELECT :'r'::jsonb->>'gen' AS gen \gset
RESET ROLE;
SELECT pg_temp.check(held_until > now() + interval '20 seconds' AND expires_at > now() + interval '30 seconds', 'a held session lives for the hold plus maxInterval')
  FROM interactions.push_sessions WHERE client_id = :c_a1;
SET ROLE interactions_app;
-- the supervisor shares agent1's browser cookie: held connects are counted per browser and
-- user, so agent1's hold takes nothing of the supervisor's (62_push_limits.sql: a second
-- session of the same user in that browser is told multiple-clients)
SELECT pg_temp.check(json_array_length(interactions.push_connect(:cc, 'supervisor', :c_sup, true, 0, NULL, 0, 10000, 0, 100)->'events') = 1, 'the supervisor saw the offer withdrawn');
SELECT interactions.push_connect(:cc, 'supervisor', :c_sup, true, 0, NULL, 25000, 10000, 1, 100) AS r \gset
SELECT pg_temp.check((:'r'::jsonb->>'held')::boolean, 'another user''s hold in the same browser counts nothing');
SELECT pg_temp.check((interactions.push_connect(:cc, 'supervisor', :c_sup, true, 0, NULL, 25000, 10000, 2, 100)->>'held')::boolean, 'two per browser allowed: held');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', :c_a1, false, :gen, NULL, 1000, 10000, 0, 100)->>'held')::boolean, 're-check of the current hold');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', :c_a1, true, 0, NULL, 0, 10000, 0, 100)->>'outcome') = 'ok', 'a newer connect');
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', :c_a1, false, :gen, NULL, 1000, 10000, 0, 100)->>'outcome') = 'superseded', 'the older hold is superseded');

-- isolation: another user or another contact center does not find the session
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent2', :c_a1, true, 0, NULL, 0, 10000, 0, 100)->>'outcome') = 'unknown', 'another user');
SELECT pg_temp.check((interactions.push_connect(:cc2, 'agent1', :c_a1, true, 0, NULL, 0, 10000, 0, 100)->>'outcome') = 'unknown', 'another contact center');
SELECT pg_temp.check(interactions.push_session(:cc2, 'agent1', :c_a1, 10000)->'session' = 'null', 'another contact center');
SELECT pg_temp.check((SELECT count(*) FROM interactions.push_sessions) = 0, 'no contact center bound: no rows');
SELECT set_config('interactions.cc', :'cc2', false) IS NOT NULL AS x \gset
SELECT pg_temp.check((SELECT count(*) FROM interactions.push_sessions) = 0, 'another contact center sees none');
SELECT set_config('interactions.cc', :'cc', false) IS NOT NULL AS x \gset
SELECT pg_temp.check((SELECT count(*) FROM interactions.push_sessions) = 3, 'its own contact center sees its three');
SELECT set_config('interactions.cc', '', false) IS NOT NULL AS x \gset

-- the listener's read names who to wake, per contact center
RESET ROLE;
SELECT interactions.push_stream_head() AS head \gset
SET ROLE interactions_app;
SELECT interactions.api(:cc, 'agent1', 'channel', '{"media":"email","operationName":"Ready"}') IS NOT NULL AS x \gset
SELECT interactions.api(:cc, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}') IS NOT NULL AS x \gset
SELECT interactions.push_wakeups(:'head'::xid8, 0, 1000) AS w \gset
SELECT pg_temp.check(:'w'::jsonb->'wake' @> jsonb_build_array(jsonb_build_object('cc', :cc, 'all', true, 'logins', '["agent1"]'::jsonb)), 'wake agent1 and the /v2/interactions subscribers: ' || :'w');
SELECT pg_temp.check(NOT (:'w'::jsonb->>'more')::boolean AND NOT (:'w'::jsonb->>'unstable')::boolean, 'all read, all stable');
SELECT pg_temp.check(jsonb_array_length(interactions.push_wakeups((:'w'::jsonb->>'xid')::xid8, (:'w'::jsonb->>'seq')::bigint, 1000)->'wake') = 0, 'read once');

-- expiry: unknown once expired, removed by the sweeper (which returns how many); a sweep
-- first, so that the sweeper's clock says the database was reachable all along.  The
-- sweeper runs inside interactions.maintenance(), not as the module's role.
RESET ROLE;
SELECT interactions.push_sweep() IS NOT NULL AS x \gset
UPDATE interactions.push_sessions SET expires_at = now() - interval '1 second' WHERE client_id IN (:c_a1, :c_ack);
SET ROLE interactions_app;
SELECT pg_temp.check((interactions.push_connect(:cc, 'agent1', :c_a1, true, 0, NULL, 0, 10000, 0, 100)->>'outcome') = 'unknown', 'expired');
RESET ROLE;
SELECT pg_temp.check(interactions.push_sweep() = 2, 'two swept');
SET ROLE interactions_app;
SELECT pg_temp.check((interactions.push_disconnect(:cc, 'supervisor', :c_sup)->>'found')::boolean, 'disconnect');
SELECT pg_temp.check(NOT (interactions.push_disconnect(:cc, 'supervisor', :c_sup)->>'found')::boolean, 'gone');
RESET ROLE;
SELECT pg_temp.check((SELECT count(*) FROM interactions.push_sessions WHERE cc_id = :cc) = 0, 'no sessions left');

-- rights now, on every delivery: a supervisor demoted to agent gets no more /v2/interactions
-- (the subscription stays; its deliveries stop, and come back with the role); a disabled
-- user's session ends and a new handshake is refused
SELECT interactions.create_user('sqlpush', 'sup2', 'password', ARRAY['supervisor']) IS NOT NULL AS x \gset
\set c_sup2 '''eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'''
SET ROLE interactions_app;
SELECT pg_temp.check((interactions.push_handshake(:cc, 'sup2', :c_sup2, NULL, false, 10000)->>'statusCode') = '0', 'handshake');
SELECT pg_temp.check(interactions.push_subscribe(:cc, 'sup2', :c_sup2, ARRAY['/v2/interactions'], '{}') IS NOT NULL, 'subscribe');
SELECT pg_temp.check(json_array_length(interactions.push_connect(:cc, 'sup2', :c_sup2, true, 0, NULL, 0, 10000, 0, 100)->'events') = 0, 'nothing yet');
RESET ROLE;
UPDATE interactions.users SET roles = ARRAY['agent'], credential_version = credential_version + 1
 WHERE cc_id = :cc AND login = 'sup2';
SET ROLE interactions_app;
SELECT interactions.api(:cc, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}') IS NOT NULL AS x \gset
SELECT interactions.push_connect(:cc, 'sup2', :c_sup2, true, 0, NULL, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') = 0 AND :'r'::jsonb->'channels' = '[]', 'demoted: no /v2/interactions, not in effect: ' || :'r');
SELECT pg_temp.check(json_array_length(interactions.push_snapshots(:cc, 'sup2', ARRAY[1::bigint])->'events') = 0, 'nor snapshots');
RESET ROLE;
SELECT pg_temp.check(channels = ARRAY['/v2/interactions'], 'the subscription stays') FROM interactions.push_sessions WHERE client_id = :c_sup2;
UPDATE interactions.users SET roles = ARRAY['supervisor'], credential_version = credential_version + 1
 WHERE cc_id = :cc AND login = 'sup2';
SELECT max(seq) AS promoted_at FROM interactions.history \gset
SET ROLE interactions_app;
SELECT interactions.api(:cc, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}') IS NOT NULL AS x \gset
SELECT interactions.push_connect(:cc, 'sup2', :c_sup2, true, 0, NULL, 0, 10000, 0, 100) AS r \gset
SELECT pg_temp.check(jsonb_array_length(:'r'::jsonb->'events') >= 1 AND :'r'::jsonb->'channels' = '["/v2/interactions"]'
                     AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(:'r'::jsonb->'events') e WHERE (e->>'seq')::bigint <= :promoted_at),
                     'a supervisor again: what happens from now on');
RESET ROLE;
UPDATE interactions.users SET disabled = true, credential_version = credential_version + 1
 WHERE cc_id = :cc AND login = 'sup2';
SET ROLE interactions_app;
SELECT pg_temp.check(interactions.push_session(:cc, 'sup2', :c_sup2, 10000)->'session' = 'null', 'disabled: no session for its messages');
SELECT pg_temp.check(interactions.push_subscribe(:cc, 'sup2', :c_sup2, ARRAY['/v2/interactions'], '{}')->'session' = 'null', 'nor subscriptions');
SELECT pg_temp.check((interactions.push_connect(:cc, 'sup2', :c_sup2, true, 0, NULL, 0, 10000, 0, 100)->>'outcome') = 'unknown', 'disabled: the connect is told unknown');
RESET ROLE;
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM interactions.push_sessions WHERE client_id = :c_sup2), 'and the session has ended');
SET ROLE interactions_app;
SELECT pg_temp.check((interactions.push_handshake(:cc, 'sup2', :c_sup2, NULL, false, 10000)->>'statusCode') = '20', 'a disabled user cannot handshake');
RESET ROLE;

-- every push function is documented
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'interactions'::regnamespace
                                    AND p.proname LIKE 'push%' AND obj_description(p.oid, 'pg_proc') IS NULL), 'COMMENT ON every push function');
