-- Each fact of the SQL side in one place, checked on the installed functions: statusCodes by
-- name (interactions.sc_*(), inlined), one lookup per concept (a contact center, a queue by
-- name), the list filters of GET /interactions and /me/interactions written once, and no
-- function left over under an old signature.  Run by scripts/test as the cluster superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'SQL tidiness check failed: %', what;
    END IF;
END $$;

-- The functions of the schema with their source, without comments (they may quote code).
CREATE TEMP VIEW src AS
SELECT p.oid::regprocedure AS fn, p.proname,
       regexp_replace(p.prosrc, '--[^\n]*', '', 'g') AS body
  FROM pg_proc p WHERE p.pronamespace = 'interactions'::regnamespace;

-- statusCodes: the contract's numbers (CONTRACT section 3), by name
SELECT pg_temp.check(interactions.sc_ok() = 0 AND interactions.sc_state() = 2
                     AND interactions.sc_permission() = 5 AND interactions.sc_not_found() = 6
                     AND interactions.sc_invalid() = 10 AND interactions.sc_read_only() = 11
                     AND interactions.sc_exists() = 18 AND interactions.sc_unauthenticated() = 20,
                     'the statusCodes are the contract''s');
-- ... constants the planner folds in: no call is left at run time
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM pg_proc p
                                  WHERE p.pronamespace = 'interactions'::regnamespace
                                    AND p.proname LIKE 'sc\_%'
                                    AND (p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'sql') OR p.provolatile <> 'i'
                                         OR p.prosrc !~ '^ *SELECT [0-9]+ *$')),
                     'sc_*() are IMMUTABLE SQL functions of one constant');
CREATE TEMP TABLE plan (line text);
DO $$
DECLARE
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) SELECT interactions.err(interactions.sc_state(), ''x'')' LOOP
        INSERT INTO plan VALUES (l);
    END LOOP;
END $$;
SELECT pg_temp.check((SELECT bool_or(line ~ 'Output: .*2') AND NOT bool_or(line ~ 'sc_state')
                        FROM plan), 'sc_state() is inlined');
-- ... and no function answers a bare number
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM src
                                  WHERE body ~ 'err\(\s*[0-9]'
                                     OR body ~ '''statusCode'',\s*[0-9]'
                                     OR body ~ 'statusCode''\)::integer\s*(<>|=|!=)\s*[0-9]'),
                     'statusCodes by name: ' || (SELECT string_agg(fn::text, ', ') FROM src
                                                  WHERE body ~ 'err\(\s*[0-9]'
                                                     OR body ~ '''statusCode'',\s*[0-9]'));

-- one lookup per concept: a contact center by name, a queue by name, a user by login for
-- provisioning, a queue's offer timeout
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM src WHERE proname <> 'contact_center_id'
                                   AND body ~* 'FROM\s+interactions\.contact_centers\s+\w*\s*WHERE\s+\w*\.?name\s*='),
                     'contact centers are looked up by name in interactions.contact_center_id() only');
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM src WHERE proname <> 'find_queue'
                                   AND body ~* 'FROM\s+interactions\.queues\s+\w*\s*WHERE[^;]*\mname\s*='),
                     'queues are looked up by name in interactions.find_queue() only: '
                     || (SELECT string_agg(fn::text, ', ') FROM src WHERE proname <> 'find_queue'
                           AND body ~* 'FROM\s+interactions\.queues\s+\w*\s*WHERE[^;]*\mname\s*='));
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM src WHERE proname <> 'offer_timeout'
                                   AND body ~* 'SELECT\s+\w+\.offer_timeout\s+FROM'),
                     'a queue''s offer timeout is read in interactions.offer_timeout() only');
SELECT pg_temp.check((SELECT count(*) FROM src WHERE body ~* 'unknown user "%" in contact center') = 1,
                     'provisioning looks users up in interactions.user_by_name() only');

-- the list filters are written once per list
SELECT pg_temp.check((SELECT count(*) FROM regexp_matches((SELECT body FROM src WHERE proname = 'api_list'),
                                                          'may_read', 'g')) = 1,
                     'GET /interactions filters once');
SELECT pg_temp.check((SELECT count(*) FROM regexp_matches((SELECT body FROM src WHERE proname = 'api_my_list'),
                                                          'i\.invitee_id = c\.id', 'g')) = 1,
                     'GET /me/interactions filters once');

-- no function under two signatures, but the module's and psql's interactions.api()
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM src WHERE proname <> 'api'
                                  GROUP BY proname HAVING count(*) > 1),
                     'no function left under an old signature: '
                     || (SELECT string_agg(proname, ', ') FROM (SELECT proname FROM src WHERE proname <> 'api'
                                                                 GROUP BY proname HAVING count(*) > 1) x));
