-- The module's role may execute exactly the functions the module calls and those they call
-- with its rights (sql/functions/900_security.sql lists them and says why): a function added
-- later is not callable by the module until it is listed there, and provisioning, purging
-- and pgcrypto stay out of reach of whoever obtains the module's credentials.
-- Run by scripts/test as the cluster superuser; any failed check raises.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

DO $$
DECLARE
    expected text[] := ARRAY[
        -- called by the module
        'interactions.api(integer,text,text,jsonb,boolean)',
        'interactions.api(integer,text,text,jsonb)',
        'interactions.contact_center_id(text)',
        'interactions.maintenance(integer,integer)',
        'interactions.credential(integer,text)',
        'interactions.credential_version(integer,text)',
        'interactions.push_connect(integer,text,text,boolean,bigint,bigint,integer,integer,integer,integer)',
        'interactions.push_disconnect(integer,text,text)',
        'interactions.push_handshake(integer,text,text,text,boolean,integer,integer,integer,integer)',
        'interactions.push_session(integer,text,text,integer)',
        'interactions.push_session_batch(integer,text,text[],integer)',
        'interactions.push_snapshots(integer,text,bigint[])',
        'interactions.push_stream_head()',
        'interactions.push_subscribe(integer,text,text,text[],text[])',
        'interactions.push_wakeups(xid8,bigint,integer)',
        'interactions.webhook_claim(integer,integer,integer)',
        'interactions.webhook_result(integer,bigint,integer,integer,text,integer,integer,integer)',
        'interactions.push_stream(xid8,bigint,integer)',
        'interactions.push_advance(json)',
        -- called by those, with the module's rights
        'interactions.agent_load(integer,uuid,text)',
        'interactions.api_channel(interactions.caller,jsonb)',
        'interactions.api_create(interactions.caller,jsonb)',
        'interactions.api_get(interactions.caller,jsonb)',
        'interactions.api_list(interactions.caller,jsonb)',
        'interactions.api_me(interactions.caller)',
        'interactions.api_my_list(interactions.caller,jsonb)',
        'interactions.api_operation(interactions.caller,jsonb)',
        'interactions.api_update(interactions.caller,jsonb)',
        'interactions.api_workbin(interactions.caller,jsonb)',
        'interactions.api_workbins(interactions.caller)',
        'interactions.current_cc()',
        'interactions.done(interactions.caller,uuid,boolean)',
        'interactions.err(integer,text)',
        'interactions.sc_ok()',
        'interactions.sc_state()',
        'interactions.sc_permission()',
        'interactions.sc_not_found()',
        'interactions.sc_invalid()',
        'interactions.sc_read_only()',
        'interactions.sc_exists()',
        'interactions.sc_unauthenticated()',
        'interactions.offer_timeout(integer,uuid)',
        'interactions.find_queue(integer,text)',
        'interactions.find_workbin(interactions.caller,text)',
        'interactions.has_role(interactions.caller,text[])',
        'interactions.iso(timestamp with time zone)',
        'interactions.offer(interactions.interactions,uuid,jsonb)',
        'interactions.op_get_workbin_content(interactions.caller,text,bigint)',
        'interactions.push_last_sweep()',
        'interactions.push_now()',
        'interactions.history_floor(integer,xid8)',
        'interactions.history_floor_seq(integer,bigint)',
        'interactions.api_events(interactions.caller,jsonb)',
        'interactions.event_json(interactions.history)',
        'interactions.history_final_through()',
        'interactions.history_floor_all(xid8)',
        'interactions.record(text,interactions.interactions,uuid,jsonb,text,uuid[],boolean)',
        'interactions.refuse(interactions.caller,interactions.interactions,text,text[])',
        'interactions.requeue(interactions.interactions,uuid,text)',
        'interactions.revoke_offer(interactions.interactions)',
        'interactions.route_agent(integer,uuid,text)',
        'interactions.route_interaction(integer,uuid)',
        'interactions.snapshot(integer,uuid,boolean)',
        'interactions.snapshot_of(interactions.interactions,boolean)',
        'interactions.user_data_fits(integer,uuid,integer)',
        'interactions.user_data_of(integer,uuid)',
        'interactions.workbin_json(interactions.workbins,bigint)',
        'interactions.workbin_content_delivered(integer,interactions.caller,jsonb)',
        'interactions.as_uuid(text)',
        'interactions.next_reference_id(integer)',
        'interactions.reader_of(interactions.caller)',
        'interactions.may_read(interactions.reader,interactions.interactions)',
        'interactions.page_of(integer,uuid[],boolean,bigint,integer,bigint)',
        -- the agent's channel states
        'interactions.api_me_state(interactions.caller,jsonb)',
        'interactions.state_display_name(integer,text,text)',
        'interactions.user_state_of(interactions.agent_channels)',
        'interactions.channel_write(interactions.agent_channels,interactions.agent_channels,text,boolean,text)',
        'interactions.channel_for_update(interactions.caller,text,integer)',
        'interactions.dnd_return(interactions.agent_channels)',
        'interactions.withdraw_offers(integer,uuid,text[])',
        'interactions.work_ended(integer,uuid,text,uuid)',
        'interactions.offer_answered(integer,uuid,text)',
        -- supervisors
        'interactions.agent_json(integer,uuid,text,text,text)',
        'interactions.api_agents(interactions.caller,jsonb)',
        'interactions.api_agent_channel(interactions.caller,jsonb)',
        'interactions.api_supervise(interactions.caller,jsonb)',
        'interactions.requirements(integer,uuid,uuid)',
        'interactions.meets(integer,uuid,jsonb)',
        'interactions.skills_for(integer,uuid,jsonb)',
        'interactions.effective_priority(integer,numeric,timestamp with time zone)',
        'interactions.nobody_can_serve(integer,uuid,jsonb)',
        'interactions.count_handled(integer,uuid,text)',
        'interactions.queue_has_room(integer,uuid)',
        'interactions.queue_admit(integer,uuid)',
        'interactions.overflow_note(integer,text,uuid,uuid)',
        'interactions.place_in_queue(interactions.interactions,uuid,text)',
        'interactions.ring_end(integer,uuid)',
        'interactions.ring_drop(interactions.interactions,uuid,text)',
        -- queue statistics
        'interactions.api_queues(interactions.caller,jsonb)',
        'interactions.api_queue_statistics(interactions.caller,jsonb)',
        'interactions.queue_now(interactions.queues,timestamp with time zone)',
        'interactions.queue_period(integer,text,interval,timestamp with time zone)',
        'interactions.queue_statistics_of(interactions.queues,timestamp with time zone)'
    ];
    definers text[] := ARRAY[
        'interactions.contact_center_id(text)',
        'interactions.credential(integer,text)',
        'interactions.credential_version(integer,text)',
        'interactions.history_floor_all(xid8)',
        'interactions.maintenance(integer,integer)',
        'interactions.push_advance(json)',
        'interactions.push_stream(xid8,bigint,integer)',
        'interactions.push_wakeups(xid8,bigint,integer)',
        'interactions.webhook_claim(integer,integer,integer)',
        'interactions.webhook_result(integer,bigint,integer,integer,text,integer,integer,integer)'
    ];
    actual text[];
    extra text[];
    missing text[];
BEGIN
    -- every schema of the project; extension schemas too (pgcrypto grants to PUBLIC)
    SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) INTO actual
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname LIKE 'interactions%'
       AND has_function_privilege('interactions_app', p.oid, 'EXECUTE')
       AND (n.nspname = 'interactions'
            OR has_schema_privilege('interactions_app', n.oid, 'USAGE'));
    SELECT array_agg(x ORDER BY x) INTO extra FROM unnest(actual) x WHERE x <> ALL (expected);
    SELECT array_agg(x ORDER BY x) INTO missing FROM unnest(expected) x WHERE x <> ALL (actual);
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'interactions_app may execute functions it should not: %', extra;
    END IF;
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'interactions_app may not execute functions the module needs: %', missing;
    END IF;
    -- the definer functions it may call are exactly those whose reasons 900_security.sql gives
    IF (SELECT array_agg(x ORDER BY x) FROM unnest(actual) x
         WHERE (SELECT prosecdef FROM pg_proc WHERE oid = x::regprocedure)) IS DISTINCT FROM definers THEN
        RAISE EXCEPTION 'interactions_app may execute other SECURITY DEFINER functions than %', definers;
    END IF;
    IF has_schema_privilege('interactions_app', 'interactions_ext', 'USAGE') THEN
        RAISE EXCEPTION 'interactions_app may use the pgcrypto schema';
    END IF;
END $$;

-- And as the role itself: what is not listed is refused.
SET ROLE interactions_app;
DO $$
DECLARE
    calls text[] := ARRAY[
        $q$SELECT interactions.create_user('demo', 'intruder', 'x', ARRAY['admin'])$q$,
        $q$SELECT interactions.create_contact_center('intruder')$q$,
        $q$SELECT interactions.cc_by_name('demo')$q$,
        $q$SELECT interactions.user_by_name(1, 'admin')$q$,
        $q$SELECT interactions.purge_history(now())$q$,
        $q$SELECT interactions.set_user_password('demo', 'agent1', 'x')$q$,
        $q$SELECT interactions.set_user_roles('demo', 'agent1', ARRAY['admin'])$q$,
        $q$SELECT interactions.disable_user('demo', 'admin')$q$,
        $q$SELECT interactions.push_sweep(500)$q$,
        $q$SELECT interactions.create_not_ready_reason('demo', 'x', 'x')$q$,
        $q$SELECT interactions.set_queue_policy('demo', 'support', '{"wrap_up": 0}')$q$,
        $q$SELECT interactions.end_wrap_ups(10)$q$,
        $q$SELECT interactions.history_retention(10)$q$,
        $q$SELECT interactions.history_partition_drop('interactions.history'::regclass)$q$,
        $q$SELECT interactions.set_history_retention('demo', '1 day')$q$,
        $q$SELECT interactions.erase_customer('demo', 'customer@example.com')$q$,
        $q$SELECT interactions.create_webhook('demo', 'http://127.0.0.1/', ARRAY['*'])$q$,
        $q$SELECT interactions.set_agent_skill('demo', 'agent1', 'x', 10)$q$,
        $q$SELECT interactions.set_queue_requirement('demo', 'support', 'x', 1)$q$,
        $q$SELECT interactions.recheck_unservable(1, NULL)$q$,
        $q$SELECT interactions.remove_queue_member('demo', 'support', 'agent1')$q$,
        $q$SELECT interactions.config_changed(1, 'x', 'x', '{}')$q$,
        $q$SELECT interactions.invariant_violations(1, false)$q$,
        $q$SELECT interactions_ext.crypt('x', interactions_ext.gen_salt('bf'))$q$
    ];
    q text;
BEGIN
    FOREACH q IN ARRAY calls LOOP
        BEGIN
            EXECUTE q;
            RAISE EXCEPTION 'interactions_app could run: %', q;
        EXCEPTION WHEN insufficient_privilege THEN
            NULL;
        END;
    END LOOP;
END $$;
RESET ROLE;
