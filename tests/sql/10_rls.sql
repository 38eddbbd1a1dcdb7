-- Row-level security at the SQL level: as the module's role with contact center A bound,
-- contact center B's rows are invisible and cannot be written, whatever the query.
-- Run by scripts/test as the cluster superuser; any failed check raises.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

-- The module's role owns nothing and cannot bypass row-level security.
DO $$
DECLARE n integer;
BEGIN
    IF (SELECT rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'interactions_app') THEN
        RAISE EXCEPTION 'interactions_app has superuser, bypassrls, createrole or createdb';
    END IF;
    SELECT count(*) INTO n FROM pg_class WHERE relowner = 'interactions_app'::regrole;
    n := n + (SELECT count(*) FROM pg_proc WHERE proowner = 'interactions_app'::regrole)
           + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'interactions_app'::regrole)
           + (SELECT count(*) FROM pg_type WHERE typowner = 'interactions_app'::regrole);
    IF n > 0 THEN
        RAISE EXCEPTION 'interactions_app owns % objects', n;
    END IF;
    SELECT count(*) INTO n FROM pg_class c
     WHERE c.relnamespace = 'interactions'::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT (c.relrowsecurity AND c.relforcerowsecurity);
    IF n > 0 THEN
        RAISE EXCEPTION '% tables in schema interactions lack forced row-level security', n;
    END IF;
    SELECT count(*) INTO n FROM pg_class c
     WHERE c.relnamespace = 'interactions'::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid);
    IF n > 0 THEN
        RAISE EXCEPTION '% tables have no policy', n;
    END IF;
    SELECT count(*) INTO n FROM pg_class c
     WHERE c.relnamespace = 'interactions'::regnamespace AND c.relkind = 'v'
       AND NOT coalesce((SELECT option_value::boolean FROM pg_options_to_table(c.reloptions)
                          WHERE option_name = 'security_invoker'), false);
    IF n > 0 THEN
        RAISE EXCEPTION '% views are not security_invoker', n;
    END IF;
END $$;

-- Data in both demo and acme, made through the API as the module's role.
SET ROLE interactions_app;
SELECT interactions.api((SELECT interactions.contact_center_id('demo')), 'feeder', 'create',
       '{"mediaType":"email","queueName":"support","userData":{"secret":"demo"}}') IS NOT NULL AS created_demo \gset
SELECT interactions.api((SELECT interactions.contact_center_id('acme')), 'feeder', 'create',
       '{"mediaType":"email","queueName":"support","userData":{"secret":"acme"}}') IS NOT NULL AS created_acme \gset
RESET ROLE;

CREATE TEMP TABLE acme_ids AS SELECT id FROM interactions.interactions
 WHERE cc_id = interactions.contact_center_id('acme');
GRANT SELECT ON acme_ids TO interactions_app;
SELECT interactions.contact_center_id('acme') AS acme, interactions.contact_center_id('demo') AS demo \gset

SET ROLE interactions_app;
DO $$
DECLARE
    demo integer := interactions.contact_center_id('demo');
    acme integer := interactions.contact_center_id('acme');
    t    text;
    n    bigint;
    foreign_id uuid := (SELECT id FROM acme_ids LIMIT 1);
BEGIN
    -- nothing at all without a bound contact center (fail closed)
    FOREACH t IN ARRAY ARRAY['contact_centers', 'users', 'agent_channels', 'queues', 'queue_members',
                             'workbins', 'interactions', 'user_data', 'history', 'agent_events'] LOOP
        EXECUTE format('SELECT count(*) FROM interactions.%I', t) INTO n;
        IF n <> 0 THEN RAISE EXCEPTION 'unbound session sees % rows of %', n, t; END IF;
    END LOOP;
    PERFORM set_config('interactions.cc', demo::text, true);
    -- bound to demo: no acme row is visible, even when asked for by id or by cc_id
    FOREACH t IN ARRAY ARRAY['users', 'agent_channels', 'queues', 'queue_members', 'workbins',
                             'interactions', 'user_data', 'history', 'agent_events'] LOOP
        EXECUTE format('SELECT count(*) FROM interactions.%I WHERE cc_id = $1', t) INTO n USING acme;
        IF n <> 0 THEN RAISE EXCEPTION 'bound to demo, % acme rows of % are visible', n, t; END IF;
        EXECUTE format('SELECT count(*) FROM interactions.%I WHERE cc_id <> $1', t) INTO n USING demo;
        IF n <> 0 THEN RAISE EXCEPTION 'bound to demo, % foreign rows of % are visible', n, t; END IF;
    END LOOP;
    SELECT count(*) INTO n FROM interactions.contact_centers;
    IF n <> 1 THEN RAISE EXCEPTION 'bound to demo, % contact centers are visible', n; END IF;
    IF interactions.snapshot(acme, foreign_id) IS NOT NULL THEN
        RAISE EXCEPTION 'a function read an acme interaction while bound to demo';
    END IF;
    IF EXISTS (SELECT 1 FROM interactions.interaction_history WHERE interaction_id = foreign_id) THEN
        RAISE EXCEPTION 'the history view shows acme rows while bound to demo';
    END IF;
    -- and none can be written
    UPDATE interactions.interactions SET subject = 'pwned' WHERE id = foreign_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'updated an acme interaction while bound to demo'; END IF;
    DELETE FROM interactions.user_data WHERE interaction_id = foreign_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 0 THEN RAISE EXCEPTION 'deleted acme user data while bound to demo'; END IF;
    BEGIN
        INSERT INTO interactions.user_data (cc_id, interaction_id, key, value) VALUES (acme, foreign_id, 'x', '1');
        RAISE EXCEPTION 'inserted acme user data while bound to demo';
    EXCEPTION WHEN insufficient_privilege THEN NULL;   -- new row violates row-level security policy
    END;
    BEGIN
        UPDATE interactions.interactions SET cc_id = acme WHERE cc_id = demo;
        RAISE EXCEPTION 'moved demo rows into acme';
    EXCEPTION WHEN insufficient_privilege OR foreign_key_violation THEN NULL;
    END;
END $$;
RESET ROLE;

-- The API itself, bound to demo, answers acme's interaction like an unknown one.
SET ROLE interactions_app;
DO $$
DECLARE
    r jsonb;
    foreign_id uuid := (SELECT id FROM acme_ids LIMIT 1);
BEGIN
    r := interactions.api(interactions.contact_center_id('demo'), 'admin', 'get', jsonb_build_object('id', foreign_id));
    IF (r->>'statusCode')::int <> 6 THEN RAISE EXCEPTION 'get of an acme id from demo answered %', r; END IF;
    r := interactions.api(interactions.contact_center_id('demo'), 'agent1', 'operation',
                          jsonb_build_object('id', foreign_id, 'operationName', 'UpdateUserData', 'userData', '{"x":1}'::jsonb));
    IF (r->>'statusCode')::int <> 6 THEN RAISE EXCEPTION 'an operation on an acme id from demo answered %', r; END IF;
    -- a login of one contact center means nothing in another
    r := interactions.api(interactions.contact_center_id('acme'), 'agent2', 'me', '{}');
    IF (r->>'statusCode')::int <> 20 THEN RAISE EXCEPTION 'demo''s agent2 was known in acme: %', r; END IF;
END $$;
-- the module's role cannot provision, read password hashes, or purge history
DO $$
BEGIN
    BEGIN
        PERFORM interactions.create_user('demo', 'mallory', 'x', ARRAY['admin']);
        RAISE EXCEPTION 'interactions_app could provision a user';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM password_hash FROM interactions.users LIMIT 1;
        RAISE EXCEPTION 'interactions_app could read password hashes';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        PERFORM interactions.purge_history(now());
        RAISE EXCEPTION 'interactions_app could purge the history';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END $$;
RESET ROLE;
\echo rls ok
