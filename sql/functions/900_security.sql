-- Ownership, row-level security and privileges.  Applied last, every time migrations run.
--
-- Roles (created by interactions-migrate):
--   interactions_owner   NOLOGIN   owns the schema, tables and the SECURITY INVOKER functions
--   interactions_app     LOGIN     the module: DML on tenant tables, through row-level security,
--                                  and EXECUTE on the API functions; owns nothing; NOBYPASSRLS
--   interactions_system  NOLOGIN   BYPASSRLS; owns the few SECURITY DEFINER functions that
--                                  must cross contact centers (provisioning, maintenance, the
--                                  push listener's wake-ups, password lookup)
--   interactions_dba     LOGIN     BYPASSRLS, read-only on every table and view, provisioning

DO $$
DECLARE
    r record;
BEGIN
    -- ownership: definer functions to interactions_system, everything else to interactions_owner
    FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
              WHERE c.relnamespace = 'interactions'::regnamespace
                AND (c.relkind IN ('r', 'p', 'v', 'm')
                     OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                                          WHERE d.classid = 'pg_class'::regclass
                                                            AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO interactions_owner', r.name);
    END LOOP;
    -- ... except the two that create and drop the history's partitions, which need the
    -- owner's rights (065_history.sql) and do nothing else
    FOR r IN SELECT p.oid::regprocedure AS name, p.prosecdef FROM pg_proc p
              WHERE p.pronamespace = 'interactions'::regnamespace
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', r.name,
                       CASE WHEN r.prosecdef AND r.name::text NOT IN ('interactions.history_partition_create(timestamp with time zone)',
                                                                       'interactions.history_partition_drop(regclass)')
                            THEN 'interactions_system' ELSE 'interactions_owner' END);
    END LOOP;
    FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
              WHERE t.typnamespace = 'interactions'::regnamespace AND t.typtype = 'c'
                AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO interactions_owner', r.name);
    END LOOP;

    -- row-level security on every tenant table, forced so that not even the owner escapes it
    FOR r IN SELECT c.oid::regclass AS name, c.relname FROM pg_class c
              WHERE c.relnamespace = 'interactions'::regnamespace AND c.relkind IN ('r', 'p')
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', r.name);
        EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', r.name);
        EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %s', r.name);
        EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (%I = (SELECT interactions.current_cc())) '
                       'WITH CHECK (%I = (SELECT interactions.current_cc()))', r.name,
                       CASE WHEN r.relname = 'contact_centers' THEN 'id' ELSE 'cc_id' END,
                       CASE WHEN r.relname = 'contact_centers' THEN 'id' ELSE 'cc_id' END);
        EXECUTE format('COMMENT ON POLICY tenant_isolation ON %s IS %L', r.name,
                       'Rows of other contact centers are invisible and cannot be written: the transaction''s contact center (interactions.cc) must match.');
    END LOOP;
END $$;

GRANT USAGE ON SCHEMA interactions TO interactions_app, interactions_system, interactions_dba;
GRANT USAGE ON SCHEMA interactions_ext TO interactions_system, interactions_dba;
-- pgcrypto serves the provisioning functions (SECURITY DEFINER, interactions_system) only
REVOKE USAGE ON SCHEMA interactions_ext FROM interactions_app;
REVOKE ALL ON ALL TABLES IN SCHEMA interactions FROM PUBLIC, interactions_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA interactions FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA interactions FROM PUBLIC;

-- the module
GRANT SELECT ON interactions.contact_centers TO interactions_app;
GRANT SELECT (cc_id, id, login, roles, created_at, disabled, credential_version) ON interactions.users TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.agent_channels TO interactions_app;
GRANT SELECT ON interactions.queues, interactions.queue_members, interactions.workbins TO interactions_app;
GRANT SELECT ON interactions.not_ready_reasons TO interactions_app;
-- routing reads skills and requirements, and keeps round-robin's turn per member
GRANT SELECT ON interactions.agent_skills, interactions.queue_requirements TO interactions_app;
GRANT SELECT, INSERT, DELETE ON interactions.ring_offers TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.agent_handled TO interactions_app;
GRANT UPDATE (last_offer_at) ON interactions.queue_members TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.interactions TO interactions_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON interactions.user_data TO interactions_app;
GRANT SELECT, INSERT ON interactions.history, interactions.agent_events TO interactions_app;
GRANT SELECT ON interactions.history_months TO interactions_app;   -- history_floor(): months to skip
GRANT SELECT, INSERT, UPDATE, DELETE ON interactions.push_sessions TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.push_handshake_budget TO interactions_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA interactions TO interactions_app;

-- The module's functions: exactly what it calls, and what those call with its rights; never
-- "ALL FUNCTIONS", so that a function added later is not the module's until it is listed
-- here (tests/sql/90_app_privileges.sql holds this list).  Revoked first, so that a database
-- migrated by an older version loses what it had; the repeatable files run in one
-- transaction, so the module never sees the gap.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions FROM interactions_app;
GRANT EXECUTE ON FUNCTION
    -- What the module calls (mi_store.c, mi_push_store.c, mod_interactions_maint.c).
    -- SECURITY INVOKER: each binds the transaction to the contact center (interactions.cc),
    -- so row-level security confines it like any query of the module's role.
    interactions.api(integer, text, text, jsonb, boolean),
    interactions.api(integer, text, text, jsonb),    -- the same, read-write (isolation specs)
    interactions.push_handshake(integer, text, text, text, boolean, integer, integer, integer, integer),
    interactions.push_session(integer, text, text, integer),
    interactions.push_session_batch(integer, text, text[], integer),
    interactions.push_subscribe(integer, text, text, text[], text[]),
    interactions.push_connect(integer, text, text, boolean, bigint, bigint, integer, integer, integer, integer),
    interactions.push_snapshots(integer, text, bigint[]),
    interactions.push_disconnect(integer, text, text),
    interactions.push_stream_head(),
    -- What the module calls that crosses contact centers (SECURITY DEFINER, owned by
    -- interactions_system), each answering no more than the module needs:
    --   contact_center_id: a location's contact center name to its id;
    --   maintenance: offer timeouts, stuck routing and push-session expiry of every contact
    --     center, in batches (it calls push_sweep itself, which the module never does);
    --   push_wakeups: the listener's read of which users have news (logins and ids only);
    --   credential: "<credential_version> <bcrypt hash>" of one enabled user, for the authn
    --     provider (mod_interactions_authn.c), which verifies passwords in httpd so that the
    --     plaintext never travels to the database.  It is the one function of the module
    --     that hands out a credential: the module calls it on the authentication path only,
    --     and no login role but the module's (whose password only httpd's parent can read)
    --     and the DBAs' (who read every table anyway) may call it;
    --   credential_version: the cheap recheck of a remembered password (no hash leaves).
    --   history_floor_all: for push_wakeups and push_stream, the first month of the history
    --     that may hold rows after a stream position (a timestamp; 065_history.sql);
    --   webhook_claim, webhook_result: the webhook worker's two calls (068_webhooks.sql).
    interactions.contact_center_id(text),
    interactions.maintenance(integer, integer),
    interactions.push_wakeups(xid8, bigint, integer),
    --   push_stream, push_advance: the listener delivering to every session held in its
    --     process from one read (row data of the rows it reads; the rights of each recipient
    --     are read again when its cursor is written);
    interactions.push_stream(xid8, bigint, integer),
    interactions.push_advance(json),
    interactions.credential(integer, text),
    interactions.credential_version(integer, text),
    -- Called by the functions above, SECURITY INVOKER, so with the module's rights: they
    -- can do nothing the module's table privileges and row-level security do not allow.
    interactions.current_cc(),                 -- also in every row-level security policy
    interactions.iso(timestamptz),
    interactions.err(integer, text),
    interactions.sc_ok(), interactions.sc_state(), interactions.sc_permission(),
    interactions.sc_not_found(), interactions.sc_invalid(), interactions.sc_read_only(),
    interactions.sc_exists(), interactions.sc_unauthenticated(),
    interactions.offer_timeout(integer, uuid),
    interactions.has_role(interactions.caller, text[]),
    interactions.user_data_of(integer, uuid),
    interactions.user_data_fits(integer, uuid, integer),
    interactions.snapshot_of(interactions.interactions, boolean),
    interactions.snapshot(integer, uuid, boolean),
    interactions.record(text, interactions.interactions, uuid, jsonb, text, uuid[], boolean),
    interactions.agent_load(integer, uuid, text),
    interactions.api_me(interactions.caller),
    interactions.api_list(interactions.caller, jsonb),
    interactions.api_my_list(interactions.caller, jsonb),
    interactions.api_get(interactions.caller, jsonb),
    interactions.api_create(interactions.caller, jsonb),
    interactions.api_operation(interactions.caller, jsonb),
    interactions.api_update(interactions.caller, jsonb),
    interactions.api_channel(interactions.caller, jsonb),
    interactions.api_workbins(interactions.caller),
    interactions.api_workbin(interactions.caller, jsonb),
    interactions.op_get_workbin_content(interactions.caller, text, bigint),
    interactions.refuse(interactions.caller, interactions.interactions, text, text[]),
    interactions.find_queue(integer, text),
    interactions.find_workbin(interactions.caller, text),
    interactions.workbin_json(interactions.workbins, bigint),
    interactions.workbin_content_delivered(integer, interactions.caller, jsonb),
    interactions.as_uuid(text),
    interactions.next_reference_id(integer),
    interactions.reader_of(interactions.caller),
    interactions.may_read(interactions.reader, interactions.interactions),
    interactions.page_of(integer, uuid[], boolean, bigint, integer, bigint),
    interactions.done(interactions.caller, uuid, boolean),
    interactions.requeue(interactions.interactions, uuid, text),
    interactions.offer(interactions.interactions, uuid, jsonb),
    interactions.route_interaction(integer, uuid),
    interactions.route_agent(integer, uuid, text),
    interactions.revoke_offer(interactions.interactions),
    interactions.push_last_sweep(),
    interactions.push_now(),
    -- the agent's channel states (045_agent_states.sql)
    interactions.api_me_state(interactions.caller, jsonb),
    interactions.state_display_name(integer, text, text),
    interactions.user_state_of(interactions.agent_channels),
    interactions.channel_write(interactions.agent_channels, interactions.agent_channels, text, boolean, text),
    interactions.channel_for_update(interactions.caller, text, integer),
    interactions.dnd_return(interactions.agent_channels),
    interactions.withdraw_offers(integer, uuid, text[]),
    interactions.work_ended(integer, uuid, text, uuid),
    interactions.offer_answered(integer, uuid, text),
    -- supervisors (040_operations.sql)
    interactions.agent_json(integer, uuid, text, text, text),
    interactions.api_agents(interactions.caller, jsonb),
    interactions.api_agent_channel(interactions.caller, jsonb),
    interactions.api_supervise(interactions.caller, jsonb),
    interactions.history_floor(integer, xid8),       -- push_connect skips final months
    interactions.history_floor_seq(integer, bigint), -- GET /events finds its cursor
    interactions.api_events(interactions.caller, jsonb),
    interactions.event_json(interactions.history),
    interactions.history_final_through(),
    interactions.history_floor_all(xid8),            -- push_wakeups, push_stream (SECURITY DEFINER)
    -- The webhook worker (mi_webhook.c), across contact centers (SECURITY DEFINER): it reads
    -- the stream into deliveries and hands out bodies and their signatures (never a secret),
    -- and records each answer.
    interactions.webhook_claim(integer, integer, integer),
    interactions.webhook_result(integer, bigint, integer, integer, text, integer, integer, integer),
    -- routing policy per queue (050_routing.sql, 055_routing_policy.sql)
    interactions.requirements(integer, uuid, uuid),
    interactions.meets(integer, uuid, jsonb),
    interactions.skills_for(integer, uuid, jsonb),
    interactions.effective_priority(integer, numeric, timestamptz),
    interactions.nobody_can_serve(integer, uuid, jsonb),
    interactions.count_handled(integer, uuid, text),
    interactions.queue_has_room(integer, uuid),
    interactions.queue_admit(integer, uuid),
    interactions.overflow_note(integer, text, uuid, uuid),
    interactions.place_in_queue(interactions.interactions, uuid, text),
    interactions.ring_end(integer, uuid),
    interactions.ring_drop(interactions.interactions, uuid, text),
    -- queue statistics (075_queue_statistics.sql)
    interactions.api_queues(interactions.caller, jsonb),
    interactions.api_queue_statistics(interactions.caller, jsonb),
    interactions.queue_now(interactions.queues, timestamptz),
    interactions.queue_period(integer, text, interval, timestamptz),
    interactions.queue_statistics_of(interactions.queues, timestamptz)
  TO interactions_app;
-- Not the module's: provisioning and account changes (025_user_admin.sql) and the
-- contact-center and user lookups by name that raise (DBAs), history
-- purging, push_sweep (maintenance runs it), invariant_violations (tests and DBAs), and the
-- append-only trigger's function (a trigger needs no EXECUTE of the role that fires it).

-- the definer functions' owner needs the tables it works on
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA interactions TO interactions_system;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA interactions TO interactions_system;
GRANT UPDATE ON SEQUENCE interactions.push_sweep_clock TO interactions_system;   -- push_sweep()'s setval
GRANT UPDATE ON SEQUENCE interactions.history_retention_clock, interactions.history_final_through,
                         interactions.history_final_horizon TO interactions_system;   -- history_retention()'s
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions TO interactions_system;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions_ext TO interactions_system;

-- DBAs: read everything, provision through the functions
GRANT SELECT ON ALL TABLES IN SCHEMA interactions TO interactions_dba;
-- interactions.replication_status's heartbeat (push_last_sweep) reads the maintenance
-- tick's clock, a sequence: without this a DBA on a standby could not see its lag
GRANT SELECT ON SEQUENCE interactions.push_sweep_clock TO interactions_dba;
GRANT SELECT ON interactions.interaction_history, interactions.agent_activity,
                interactions.queue_statistics TO interactions_app;
-- the queue statistics read the queue events (security_invoker: row-level security holds)
GRANT SELECT ON interactions.queue_events TO interactions_app;
GRANT SELECT ON interactions.queue_rollups, interactions.queue_rollup_cursors TO interactions_app;
-- the reporting views (076_reporting.sql), like the views above
GRANT SELECT ON interactions.interaction_facts, interactions.queue_intervals, interactions.agent_intervals
   TO interactions_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions TO interactions_dba;
-- creating and dropping history partitions runs with the owner's rights: only the
-- maintenance tick's retention (interactions_system) decides when
REVOKE EXECUTE ON FUNCTION interactions.history_partition_create(timestamptz),
                           interactions.history_partition_drop(regclass) FROM interactions_dba;

-- interactions.create_contact_center() creates the contact center's referenceId sequence
GRANT CREATE ON SCHEMA interactions TO interactions_system;
