-- Account changes: set_user_password, set_user_roles, disable_user, enable_user and
-- create_user move credential_version and are audited with the session user; passwords over
-- 72 bytes are refused; the audit is append-only; a disabled user is refused by
-- interactions.api() and by the authn provider's lookups; the module's role cannot change
-- accounts.  Everything runs in one transaction that is rolled back, so the contact center
-- t20 is left as it was.  Run by scripts/test as the cluster superuser; any failed check raises.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;

SELECT interactions.create_contact_center('t20') IS NOT NULL AS cc \gset
SELECT interactions.create_user('t20', 'sql_admin_user', 'first', ARRAY['agent']) IS NOT NULL AS created \gset

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'failed: %', what;
    END IF;
END $$;

CREATE FUNCTION pg_temp.u() RETURNS interactions.users LANGUAGE sql AS $$
    SELECT u.* FROM interactions.users u JOIN interactions.contact_centers c ON c.id = u.cc_id
     WHERE c.name = 't20' AND u.login = 'sql_admin_user'
$$;

CREATE FUNCTION pg_temp.audit() RETURNS SETOF interactions.user_audit LANGUAGE sql AS $$
    SELECT a.* FROM interactions.user_audit a WHERE a.cc_id = (pg_temp.u()).cc_id
       AND a.user_id = (pg_temp.u()).id ORDER BY a.seq
$$;

-- creation is audited
SELECT pg_temp.check((SELECT count(*) = 1 AND min(change) = 'created' AND min(changed_by) = session_user
                        AND bool_and(detail->'roles' = '["agent"]' AND (detail->>'password')::boolean)
                        FROM pg_temp.audit()), 'create_user is audited');

-- a new password: version moves, the new one verifies, audited (without any hash)
DO $$
DECLARE v0 integer := (pg_temp.u()).credential_version; v1 integer;
BEGIN
    v1 := interactions.set_user_password('t20', 'sql_admin_user', 'second');
    PERFORM pg_temp.check(v1 = v0 + 1, 'set_user_password moves credential_version');
    PERFORM pg_temp.check((pg_temp.u()).credential_version = v1, 'the returned version is stored');
    PERFORM pg_temp.check(interactions_ext.crypt('second', (pg_temp.u()).password_hash) = (pg_temp.u()).password_hash,
                          'the new password verifies');
    PERFORM pg_temp.check((SELECT change = 'password' AND credential_version = v1 AND changed_by = session_user
                             AND NOT detail::text ~ '\$2' FROM pg_temp.audit() ORDER BY seq DESC LIMIT 1),
                          'the password change is audited without its hash');
    -- the same password again changes nothing
    PERFORM pg_temp.check(interactions.set_user_password('t20', 'sql_admin_user', 'second') = v1,
                          'setting the same password is idempotent');
    PERFORM pg_temp.check((SELECT count(*) FROM pg_temp.audit()) = 2, 'an idempotent call is not audited');
END $$;

-- passwords over 72 bytes are refused everywhere, 72 bytes are fine; bytes, not characters
DO $$
DECLARE v0 integer := (pg_temp.u()).credential_version;
BEGIN
    BEGIN
        PERFORM interactions.set_user_password('t20', 'sql_admin_user', repeat('x', 73));
        RAISE EXCEPTION 'failed: a 73-byte password was accepted by set_user_password';
    EXCEPTION WHEN string_data_right_truncation THEN NULL;
    END;
    BEGIN
        PERFORM interactions.set_user_password('t20', 'sql_admin_user', repeat('€', 25));   -- 75 bytes
        RAISE EXCEPTION 'failed: a 25-character, 75-byte password was accepted';
    EXCEPTION WHEN string_data_right_truncation THEN NULL;
    END;
    BEGIN
        PERFORM interactions.create_user('t20', 'sql_long_password', repeat('y', 100), ARRAY['agent']);
        RAISE EXCEPTION 'failed: create_user accepted a 100-byte password';
    EXCEPTION WHEN string_data_right_truncation THEN NULL;
    END;
    BEGIN
        PERFORM interactions.create_user('t20', 'sql_admin_user', repeat('y', 100), ARRAY['agent']);
        RAISE EXCEPTION 'failed: create_user accepted a 100-byte password for an existing user';
    EXCEPTION WHEN string_data_right_truncation THEN NULL;
    END;
    PERFORM pg_temp.check(NOT EXISTS (SELECT 1 FROM interactions.users WHERE login = 'sql_long_password'),
                          'a refused create_user creates nothing');
    PERFORM pg_temp.check((pg_temp.u()).credential_version = v0, 'a refused password changes nothing');
    PERFORM interactions.set_user_password('t20', 'sql_admin_user', repeat('z', 72));
    PERFORM pg_temp.check(interactions_ext.crypt(repeat('z', 72), (pg_temp.u()).password_hash) = (pg_temp.u()).password_hash,
                          'a 72-byte password is accepted');
END $$;

-- roles: validated, sorted, version moves, audited from/to; the same roles again change nothing
DO $$
DECLARE v0 integer := (pg_temp.u()).credential_version; v1 integer;
BEGIN
    BEGIN
        PERFORM interactions.set_user_roles('t20', 'sql_admin_user', ARRAY['root']);
        RAISE EXCEPTION 'failed: an unknown role was accepted';
    EXCEPTION WHEN check_violation THEN NULL;
    END;
    v1 := interactions.set_user_roles('t20', 'sql_admin_user', ARRAY['supervisor', 'agent', 'agent']);
    PERFORM pg_temp.check(v1 = v0 + 1 AND (pg_temp.u()).roles = ARRAY['agent', 'supervisor'],
                          'set_user_roles stores the roles and moves the version');
    PERFORM pg_temp.check((SELECT change = 'roles' AND detail = '{"from":["agent"],"to":["agent","supervisor"]}'
                             FROM pg_temp.audit() ORDER BY seq DESC LIMIT 1), 'the role change is audited');
    PERFORM pg_temp.check(interactions.set_user_roles('t20', 'sql_admin_user', ARRAY['agent', 'supervisor']) = v1,
                          'the same roles again change nothing');
END $$;

-- the module's lookups, as the module's role
SELECT (pg_temp.u()).cc_id AS cc \gset
SET ROLE interactions_app;
SELECT pg_temp.check(split_part(interactions.credential(:cc, 'sql_admin_user'), ' ', 1)::integer
                     = interactions.credential_version(:cc, 'sql_admin_user'), 'credential() leads with the version');
SELECT pg_temp.check(split_part(interactions.credential(:cc, 'sql_admin_user'), ' ', 2) LIKE '$2_$10$%',
                     'credential() carries the bcrypt hash');
SELECT pg_temp.check(interactions.credential(:cc, 'sql_nobody') IS NULL
                     AND interactions.credential_version(:cc, 'sql_nobody') IS NULL, 'unknown users have no credential');
SELECT pg_temp.check((interactions.api(:cc, 'sql_admin_user', 'me', '{}')->>'statusCode')::integer = 0,
                     'an enabled user is served');
-- the module cannot change accounts
SELECT pg_temp.check(NOT has_function_privilege('interactions.set_user_password(text,text,text)', 'EXECUTE')
                     AND NOT has_function_privilege('interactions.set_user_roles(text,text,text[])', 'EXECUTE')
                     AND NOT has_function_privilege('interactions.disable_user(text,text)', 'EXECUTE')
                     AND NOT has_function_privilege('interactions.enable_user(text,text)', 'EXECUTE')
                     AND NOT has_function_privilege('interactions.create_user(text,text,text,text[])', 'EXECUTE'),
                     'the module''s role cannot change accounts');
SELECT pg_temp.check(NOT has_table_privilege('interactions.user_audit', 'SELECT')
                     AND NOT has_table_privilege('interactions.user_audit', 'INSERT'),
                     'the module''s role cannot read or write the account audit');
RESET ROLE;

-- disable: refused by api() (statusCode 20) and by both lookups; enable brings the user back
DO $$
DECLARE v0 integer := (pg_temp.u()).credential_version; v1 integer; v2 integer; cc integer := (pg_temp.u()).cc_id;
BEGIN
    v1 := interactions.disable_user('t20', 'sql_admin_user');
    PERFORM pg_temp.check(v1 = v0 + 1 AND (pg_temp.u()).disabled, 'disable_user disables and moves the version');
    PERFORM pg_temp.check(interactions.disable_user('t20', 'sql_admin_user') = v1, 'disable_user is idempotent');
    SET LOCAL ROLE interactions_app;
    PERFORM pg_temp.check((interactions.api(cc, 'sql_admin_user', 'me', '{}')->>'statusCode')::integer = 20,
                          'api() refuses a disabled user with statusCode 20');
    PERFORM pg_temp.check(interactions.credential(cc, 'sql_admin_user') IS NULL
                          AND interactions.credential_version(cc, 'sql_admin_user') IS NULL,
                          'a disabled user has no credential');
    RESET ROLE;
    v2 := interactions.enable_user('t20', 'sql_admin_user');
    PERFORM pg_temp.check(v2 = v1 + 1 AND NOT (pg_temp.u()).disabled, 'enable_user enables and moves the version');
    PERFORM pg_temp.check((SELECT array_agg(change ORDER BY seq) FROM pg_temp.audit())
                          = ARRAY['created', 'password', 'password', 'roles', 'disabled', 'enabled'],
                          'every change is audited once, in order');
END $$;

-- a change made by hand moves the version and is audited too
DO $$
DECLARE v0 integer := (pg_temp.u()).credential_version;
BEGIN
    UPDATE interactions.users SET password_hash = interactions_ext.crypt('by hand', interactions_ext.gen_salt('bf', 4))
     WHERE cc_id = (pg_temp.u()).cc_id AND id = (pg_temp.u()).id;
    PERFORM pg_temp.check((pg_temp.u()).credential_version = v0 + 1, 'an UPDATE by hand moves the version');
    PERFORM pg_temp.check((SELECT change = 'password' AND changed_by = session_user
                             FROM pg_temp.audit() ORDER BY seq DESC LIMIT 1), 'an UPDATE by hand is audited');
    UPDATE interactions.users SET login = login WHERE cc_id = (pg_temp.u()).cc_id AND id = (pg_temp.u()).id;
    PERFORM pg_temp.check((pg_temp.u()).credential_version = v0 + 1, 'an unrelated UPDATE leaves the version');
END $$;

-- unknown users and contact centers are errors
DO $$
BEGIN
    BEGIN
        PERFORM interactions.disable_user('t20', 'sql_nobody');
        RAISE EXCEPTION 'failed: disabling an unknown user succeeded';
    EXCEPTION WHEN no_data_found THEN NULL;
    END;
    BEGIN
        PERFORM interactions.set_user_roles('no such contact center', 'sql_admin_user', ARRAY['agent']);
        RAISE EXCEPTION 'failed: an unknown contact center was accepted';
    EXCEPTION WHEN no_data_found THEN NULL;
    END;
END $$;

-- the audit is append-only, even for the superuser
DO $$
BEGIN
    BEGIN
        UPDATE interactions.user_audit SET changed_by = 'someone else';
        RAISE EXCEPTION 'failed: the audit was updated';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        DELETE FROM interactions.user_audit;
        RAISE EXCEPTION 'failed: the audit was deleted from';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
    BEGIN
        TRUNCATE interactions.user_audit CASCADE;
        RAISE EXCEPTION 'failed: the audit was truncated';
    EXCEPTION WHEN insufficient_privilege THEN NULL;
    END;
END $$;

ROLLBACK;
