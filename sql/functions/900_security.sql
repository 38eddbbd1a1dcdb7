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
                AND (c.relkind IN ('r', 'v', 'm')
                     OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d
                                                          WHERE d.classid = 'pg_class'::regclass
                                                            AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO interactions_owner', r.name);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name, p.prosecdef FROM pg_proc p
              WHERE p.pronamespace = 'interactions'::regnamespace
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', r.name,
                       CASE WHEN r.prosecdef THEN 'interactions_system' ELSE 'interactions_owner' END);
    END LOOP;
    FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
              WHERE t.typnamespace = 'interactions'::regnamespace AND t.typtype = 'c'
                AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')
    LOOP
        EXECUTE format('ALTER TYPE %s OWNER TO interactions_owner', r.name);
    END LOOP;

    -- row-level security on every tenant table, forced so that not even the owner escapes it
    FOR r IN SELECT c.oid::regclass AS name, c.relname FROM pg_class c
              WHERE c.relnamespace = 'interactions'::regnamespace AND c.relkind = 'r'
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
GRANT USAGE ON SCHEMA interactions_ext TO interactions_app, interactions_system, interactions_dba;
REVOKE ALL ON ALL TABLES IN SCHEMA interactions FROM PUBLIC, interactions_app;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA interactions FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA interactions FROM PUBLIC;

-- the module
GRANT SELECT ON interactions.contact_centers TO interactions_app;
GRANT SELECT (cc_id, id, login, roles, created_at, disabled, credential_version) ON interactions.users TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.agent_channels TO interactions_app;
GRANT SELECT ON interactions.queues, interactions.queue_members, interactions.workbins TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.interactions TO interactions_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON interactions.user_data TO interactions_app;
GRANT SELECT, INSERT ON interactions.history, interactions.agent_events TO interactions_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON interactions.push_sessions TO interactions_app;
GRANT SELECT, INSERT, UPDATE ON interactions.push_handshake_budget TO interactions_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA interactions TO interactions_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions TO interactions_app;

-- the definer functions' owner needs the tables it works on
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA interactions TO interactions_system;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA interactions TO interactions_system;
GRANT UPDATE ON SEQUENCE interactions.push_sweep_clock TO interactions_system;   -- push_sweep()'s setval
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions TO interactions_system;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions_ext TO interactions_system;

-- DBAs: read everything, provision through the functions
GRANT SELECT ON ALL TABLES IN SCHEMA interactions TO interactions_dba;
GRANT SELECT ON interactions.interaction_history, interactions.agent_activity,
                interactions.queue_statistics TO interactions_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA interactions TO interactions_dba;

-- provisioning is not the module's business
REVOKE EXECUTE ON FUNCTION
    interactions.create_contact_center(text),
    interactions.create_user(text, text, text, text[]),
    interactions.create_queue(text, text, interval),
    interactions.add_queue_member(text, text, text),
    interactions.create_workbin(text, text, text),
    interactions.set_agent_capacity(text, text, text, integer),
    interactions.cc_by_name(text),
    interactions.purge_history(timestamptz)
  FROM interactions_app;
