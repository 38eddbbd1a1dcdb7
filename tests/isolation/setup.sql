-- tests/isolation/setup.sql — what the concurrency specs stand on, run by tests/isolation/run.sh
-- as the superuser before PostgreSQL's isolation tester: contact center "iso" with its users,
-- queues and workbins, and the schema "isolation" of helpers the specs call.  run.sh drops
-- the schema again afterwards, so that nothing the integration tests see was made for them.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

SELECT interactions.create_contact_center('iso');
DO $$
DECLARE
    u record;
BEGIN
    FOR u IN SELECT * FROM (VALUES ('admin', ARRAY['admin']), ('supervisor', ARRAY['supervisor']),
                                   ('agent1', ARRAY['agent']), ('agent2', ARRAY['agent']),
                                   ('agent3', ARRAY['agent']), ('agent4', ARRAY['agent']),
                                   ('feeder', ARRAY['apiuser'])) AS v(login, roles)
    LOOP
        IF NOT EXISTS (SELECT 1 FROM interactions.users x JOIN interactions.contact_centers c ON c.id = x.cc_id
                        WHERE c.name = 'iso' AND x.login = u.login) THEN
            PERFORM interactions.create_user('iso', u.login, NULL, u.roles);
        END IF;
    END LOOP;
END $$;
SELECT interactions.create_queue('iso', 'support');
SELECT interactions.create_queue('iso', 'sales');
SELECT interactions.add_queue_member('iso', q, a)
  FROM (VALUES ('support', 'agent1'), ('support', 'agent2'), ('support', 'agent3'),
               ('sales', 'agent1'), ('sales', 'agent2'), ('sales', 'agent3'), ('sales', 'agent4')) AS v(q, a);
SELECT interactions.create_workbin('iso', 'drafts', a) FROM unnest(ARRAY['agent1', 'agent2', 'agent3', 'agent4']) a;
SELECT interactions.create_workbin('iso', 'team');
-- ring-all-accept.spec's queue, every member of it
SELECT interactions.create_queue('iso', 'ring');
SELECT interactions.add_queue_member('iso', 'ring', a) FROM unnest(ARRAY['agent1', 'agent2', 'agent3']) a;

-- The specs run the maintenance tick, which is cluster-wide: an offer that the SQL tests
-- left in another contact center would expire during some spec (when depends on how long
-- the specs before it took) and be counted in its output.  Those offers never expire while
-- the specs run.
UPDATE interactions.interactions SET offer_expires_at = 'infinity'
 WHERE state = 'Invited' AND cc_id <> (SELECT id FROM interactions.contact_centers WHERE name = 'iso');

DROP SCHEMA IF EXISTS isolation CASCADE;
CREATE SCHEMA isolation;
COMMENT ON SCHEMA isolation IS 'Helpers of the concurrency specs (tests/isolation); dropped after they ran.';
GRANT USAGE ON SCHEMA isolation TO interactions_app;

-- Values a spec's setup keeps for its steps (ids of what it created): the isolation tester
-- has no variables, and every permutation creates new rows.
CREATE TABLE isolation.vars (name text PRIMARY KEY, value text NOT NULL);
GRANT SELECT ON isolation.vars TO interactions_app;

-- The id of contact center "iso", the first argument of every interactions.api() call.
CREATE FUNCTION isolation.cc() RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog AS $$
    SELECT id FROM interactions.contact_centers WHERE name = 'iso'
$$;

-- A value the setup kept; a name it did not keep is the spec's mistake, not a NULL.
CREATE FUNCTION isolation.var(p_name text) RETURNS text LANGUAGE plpgsql STABLE
SET search_path = pg_catalog AS $$
DECLARE
    v text;
BEGIN
    SELECT value INTO v FROM isolation.vars WHERE name = p_name;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'isolation.var: the setup kept no value named %', p_name;
    END IF;
    RETURN v;
END $$;

-- What of an interactions.api() result does not change from run to run (ids, dates and
-- referenceIds do): statusCode, statusMessage, and the interaction's state, assignedTo,
-- queue, workbin and user data, as compact JSON in that order.
CREATE FUNCTION isolation.digest(r jsonb) RETURNS text LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog AS $$
    SELECT '{' || concat_ws(',',
        '"statusCode":' || (r->'statusCode')::text,
        CASE WHEN (r->>'statusCode')::integer <> 0 AND r ? 'statusMessage'
             THEN '"statusMessage":' || (r->'statusMessage')::text END,
        CASE WHEN r ? 'created' THEN '"created":' || (r->'created')::text END,
        CASE WHEN jsonb_typeof(i->'state') IS NOT NULL AND jsonb_typeof(i->'state') <> 'null'
             THEN '"state":' || (i->'state')::text END,
        CASE WHEN coalesce(i->>'assignedTo', '') <> '' THEN '"assignedTo":' || (i->'assignedTo')::text END,
        CASE WHEN coalesce(i->>'queue', '') <> '' THEN '"queue":' || (i->'queue')::text END,
        CASE WHEN coalesce(i->>'workbin', '') <> '' THEN '"workbin":' || (i->'workbin')::text END,
        CASE WHEN jsonb_typeof(i->'userData') = 'object' AND i->'userData' <> '{}'
             THEN '"userData":{' || (SELECT string_agg(to_json(e.key)::text || ':' || e.value::text, ',')
                                       FROM jsonb_each(i->'userData') e) || '}' END
    ) || '}'
      FROM (SELECT r->'interaction' AS i) x
$$;

-- Contact center "iso" without interactions, every agent NotReady with capacity 1, the
-- same (null) last offer and the same idle time, queues without wrap-up, so that routing's choice depends only on the spec: the first
-- setup of every spec.
CREATE PROCEDURE isolation.reset() LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    cc integer := isolation.cc();
BEGIN
    -- the history is append-only but for this switch
    PERFORM set_config('interactions.purging', 'on', true);
    DELETE FROM interactions.history WHERE cc_id = cc;
    DELETE FROM interactions.user_data WHERE cc_id = cc;
    UPDATE interactions.interactions SET parent_id = NULL WHERE cc_id = cc;
    DELETE FROM interactions.interactions WHERE cc_id = cc;
    DELETE FROM interactions.agent_channels WHERE cc_id = cc AND media <> 'email';
    -- and for the agent's day: the same idle time for all, no reason, wrap-up, Do Not
    -- Disturb or missed offers; queues without wrap-up
    UPDATE interactions.agent_channels SET state = 'NotReady', capacity = 1, last_offer_at = NULL,
           reason = NULL, wrap_up_until = NULL, dnd_state = NULL, dnd_reason = NULL, missed_offers = 0,
           idle_since = '2000-01-01'
     WHERE cc_id = cc;
    UPDATE interactions.queues SET wrap_up = '0', max_no_answer = 3 WHERE cc_id = cc;
    -- and for routing policy (V021): longest-idle queues without ageing or limits, nobody's
    -- turn taken, nothing handled today (ring-all offers go with their interactions)
    UPDATE interactions.queues SET strategy = 'longest-idle', priority_per_minute = 0, max_wait = NULL,
           overflow_queue_id = NULL, max_size = NULL
     WHERE cc_id = cc;
    UPDATE interactions.queue_members SET last_offer_at = NULL WHERE cc_id = cc;
    DELETE FROM interactions.agent_handled WHERE cc_id = cc;
    DELETE FROM isolation.vars;
    PERFORM set_config('interactions.purging', 'off', true);
END $$;

-- rows of a query as lines "a|b", after a header of its column names (there even when no
-- row is: read from a temporary view of the query) and before "(n rows)"
CREATE FUNCTION isolation.table_lines(p_query text) RETURNS SETOF text LANGUAGE plpgsql
SET search_path = pg_catalog AS $$
DECLARE
    rows json;
    n integer;
BEGIN
    EXECUTE format('CREATE TEMPORARY VIEW isolation_table AS %s', p_query);
    RETURN NEXT (SELECT string_agg(attname, '|' ORDER BY attnum) FROM pg_attribute
                  WHERE attrelid = 'pg_temp.isolation_table'::regclass AND attnum > 0);
    DROP VIEW pg_temp.isolation_table;
    EXECUTE format('SELECT json_agg(t) FROM (%s) t', p_query) INTO rows;
    n := coalesce(json_array_length(rows), 0);
    RETURN QUERY
        SELECT (SELECT string_agg(CASE json_typeof(e.value) WHEN 'null' THEN ''
                                                            WHEN 'string' THEN e.value #>> '{}'
                                                            ELSE e.value::text END, '|' ORDER BY e.o)
                  FROM json_each(r.value) WITH ORDINALITY AS e(key, value, o))
          FROM json_array_elements(coalesce(rows, '[]')) WITH ORDINALITY AS r(value, o)
         ORDER BY r.o;
    RETURN NEXT format('(%s row%s)', n, CASE WHEN n = 1 THEN '' ELSE 's' END);
END $$;

-- The teardown of every spec: every interaction of the contact center with its history,
-- each Ready or loaded agent's load, the spec's own check query (p_check) when it has one,
-- and every invariant violation (interactions.invariant_violations(cc, true)), which the
-- expected output never holds.
CREATE FUNCTION isolation.final_state(p_check text DEFAULT NULL) RETURNS SETOF text LANGUAGE plpgsql
SET search_path = pg_catalog AS $$
DECLARE
    cc integer := isolation.cc();
BEGIN
    RETURN QUERY SELECT * FROM isolation.table_lines(format($q$
      SELECT coalesce(i.subject, '') AS interaction, i.state, o.login AS owner, v.login AS invitee,
             q.name AS queue, w.name AS workbin,
             CASE WHEN interactions.user_data_of(i.cc_id, i.id) = '{}' THEN NULL
                  ELSE interactions.user_data_of(i.cc_id, i.id)::text END AS user_data,
             (SELECT string_agg(h.operation || coalesce(' by ' || h.actor_login, '')
                                || CASE WHEN h.to_invitee IS NOT NULL
                                        THEN ' to ' || (SELECT u.login FROM interactions.users u
                                                         WHERE u.cc_id = h.cc_id AND u.id = h.to_invitee)
                                        ELSE '' END, ', ' ORDER BY h.seq)
                FROM interactions.history h WHERE h.cc_id = i.cc_id AND h.interaction_id = i.id) AS history
        FROM interactions.interactions i
        LEFT JOIN interactions.users o ON o.cc_id = i.cc_id AND o.id = i.owner_id
        LEFT JOIN interactions.users v ON v.cc_id = i.cc_id AND v.id = i.invitee_id
        LEFT JOIN interactions.queues q ON q.cc_id = i.cc_id AND q.id = i.queue_id
        LEFT JOIN interactions.workbins w ON w.cc_id = i.cc_id AND w.id = i.workbin_id
       WHERE i.cc_id = %s ORDER BY i.subject, i.received_at $q$, cc));
    RETURN QUERY SELECT * FROM isolation.table_lines(format($q$
      SELECT u.login AS agent, ch.state, ch.capacity, interactions.agent_load(ch.cc_id, ch.user_id, ch.media) AS load
        FROM interactions.agent_channels ch JOIN interactions.users u ON u.cc_id = ch.cc_id AND u.id = ch.user_id
       WHERE ch.cc_id = %s AND (ch.state = 'Ready' OR interactions.agent_load(ch.cc_id, ch.user_id, ch.media) > 0)
       ORDER BY u.login, ch.media $q$, cc));
    IF p_check IS NOT NULL THEN
        RETURN QUERY SELECT * FROM isolation.table_lines(p_check);
    END IF;
    RETURN QUERY
        SELECT 'INVARIANT VIOLATION: '
               || regexp_replace(v, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<id>', 'g')
          FROM interactions.invariant_violations(cc, true) v;
END $$;
