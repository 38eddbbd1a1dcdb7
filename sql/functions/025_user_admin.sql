-- Account changes for DBAs (password, roles, disablement) and the two credential lookups of
-- the module's authn provider.
--
-- Every change moves users.credential_version (trigger users_credential_version) and is
-- recorded in interactions.user_audit with the session user (trigger users_audit), so the
-- module drops what it cached about the user within seconds and the DBA can tell who did it.
-- The provisioning functions are SECURITY DEFINER, owned by interactions_system, and not
-- executable by the module's role (900_security.sql grants it only what it calls).

-- bcrypt reads only the first 72 bytes of a password: a longer one would be accepted with
-- any ending, so it is refused rather than silently shortened.  The cost (10) is the one the
-- authn provider's stand-in hash for unknown users has (mi_password.c): both paths then
-- cost the same.
CREATE OR REPLACE FUNCTION interactions.new_password_hash(p_password text) RETURNS text
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog AS $$
BEGIN
    IF p_password IS NULL THEN
        RETURN NULL;
    END IF;
    IF octet_length(p_password) > 72 THEN
        RAISE EXCEPTION 'a password may have at most 72 bytes (this one has %): bcrypt ignores the rest',
            octet_length(p_password) USING ERRCODE = 'string_data_right_truncation';
    END IF;
    RETURN interactions_ext.crypt(p_password, interactions_ext.gen_salt('bf', 10));
END $$;
COMMENT ON FUNCTION interactions.new_password_hash(text) IS
  'The bcrypt hash (cost 10) stored for a new password; refuses passwords over 72 bytes (bcrypt would ignore the rest). NULL stays NULL (another authn module authenticates the user).';

-- The user row of a login, locked for the change; raises for an unknown one.
CREATE OR REPLACE FUNCTION interactions.user_for_change(p_contact_center text, p_login text)
RETURNS interactions.users LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_cc integer := interactions.cc_by_name(p_contact_center);
    v_id uuid := interactions.user_by_name(v_cc, p_login);
    v    interactions.users;
BEGIN
    SELECT * INTO STRICT v FROM interactions.users u WHERE u.cc_id = v_cc AND u.id = v_id FOR UPDATE;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.user_for_change(text, text) IS
  'The row of user p_login of a contact center, locked FOR UPDATE; raises no_data_found when there is none.';

CREATE OR REPLACE FUNCTION interactions.set_user_password(contact_center text, login text, password text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v interactions.users := interactions.user_for_change(contact_center, login);
BEGIN
    IF password IS NOT NULL AND octet_length(password) <= 72 AND v.password_hash IS NOT NULL
       AND interactions_ext.crypt(password, v.password_hash) = v.password_hash THEN
        RETURN v.credential_version;       -- the same password: nothing changes
    END IF;
    UPDATE interactions.users u SET password_hash = interactions.new_password_hash(password)
     WHERE u.cc_id = v.cc_id AND u.id = v.id
    RETURNING u.credential_version INTO v.credential_version;
    RETURN v.credential_version;
END $$;
COMMENT ON FUNCTION interactions.set_user_password(text, text, text) IS
  'Give a user a new password (bcrypt; at most 72 bytes; NULL: another httpd authn module authenticates the user). Idempotent. The old password stops working within seconds (InteractionsAuthnCacheRecheck), the new one works at once. Audited; returns the new credential_version.';

CREATE OR REPLACE FUNCTION interactions.set_user_roles(contact_center text, login text, roles text[])
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v       interactions.users := interactions.user_for_change(contact_center, login);
    v_roles text[];
BEGIN
    IF roles IS NULL OR NOT (roles <@ ARRAY['agent','supervisor','admin','apiuser']::text[]) THEN
        RAISE EXCEPTION 'roles must be among agent, supervisor, admin, apiuser' USING ERRCODE = 'check_violation';
    END IF;
    v_roles := (SELECT coalesce(array_agg(DISTINCT r ORDER BY r), '{}') FROM unnest(roles) r);
    IF v_roles IS DISTINCT FROM v.roles THEN
        UPDATE interactions.users u SET roles = v_roles
         WHERE u.cc_id = v.cc_id AND u.id = v.id
        RETURNING u.credential_version INTO v.credential_version;
        PERFORM interactions.config_changed(v.cc_id, 'set_user_roles', 'user:' || login,
                                            jsonb_build_object('from', to_jsonb(v.roles), 'to', to_jsonb(v_roles)));
    END IF;
    IF 'agent' = ANY (v_roles) THEN
        INSERT INTO interactions.agent_channels (cc_id, user_id, media)
        VALUES (v.cc_id, v.id, 'email') ON CONFLICT DO NOTHING;
    END IF;
    RETURN v.credential_version;
END $$;
COMMENT ON FUNCTION interactions.set_user_roles(text, text, text[]) IS
  'Replace a user''s roles (among agent, supervisor, admin, apiuser). Idempotent. Applies to the user''s next request. Audited; returns the new credential_version.';

CREATE OR REPLACE FUNCTION interactions.disable_user(contact_center text, login text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v interactions.users := interactions.user_for_change(contact_center, login);
BEGIN
    IF NOT v.disabled THEN
        UPDATE interactions.users u SET disabled = true
         WHERE u.cc_id = v.cc_id AND u.id = v.id
        RETURNING u.credential_version INTO v.credential_version;
    END IF;
    -- a user who can no longer act holds nothing: push sessions end, every channel
    -- LoggedOut (recorded in the agent-state history, no actor), offers withdrawn and owned
    -- work back to its queue, routed to others
    PERFORM interactions.release_user(v.cc_id, v.id);
    IF NOT v.disabled THEN
        PERFORM interactions.config_changed(v.cc_id, 'disable_user', 'user:' || login,
                                            jsonb_build_object('disabled', true));
    END IF;
    RETURN v.credential_version;
END $$;
COMMENT ON FUNCTION interactions.disable_user(text, text) IS
  'Disable a user: refused by authentication and by every API call from the next request on (the row stays for the history); their push sessions end, an agent''s channels go LoggedOut, their offers are withdrawn and the work they own goes back to its queue. Idempotent. Audited (user_audit, config_history); returns the new credential_version.';

CREATE OR REPLACE FUNCTION interactions.enable_user(contact_center text, login text)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v interactions.users := interactions.user_for_change(contact_center, login);
BEGIN
    IF v.disabled THEN
        UPDATE interactions.users u SET disabled = false
         WHERE u.cc_id = v.cc_id AND u.id = v.id
        RETURNING u.credential_version INTO v.credential_version;
    END IF;
    RETURN v.credential_version;
END $$;
COMMENT ON FUNCTION interactions.enable_user(text, text) IS
  'Enable a disabled user again. Idempotent. Audited; returns the new credential_version.';

-- Used by the module's authn provider (granted to interactions_app).  Both cross contact
-- centers by id without binding one, hence SECURITY DEFINER; neither returns tenant data
-- beyond the one user's credential.

-- A full check: the version and the bcrypt hash, read together so that a cache entry is
-- never stored under a version newer than the hash it verified.
CREATE OR REPLACE FUNCTION interactions.credential(p_cc integer, p_login text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT credential_version::text || ' ' || password_hash FROM interactions.users
     WHERE cc_id = p_cc AND login = p_login AND NOT disabled AND password_hash IS NOT NULL
$$;
COMMENT ON FUNCTION interactions.credential(integer, text) IS
  'For the authn provider: "<credential_version> <bcrypt hash>" of an enabled user with a password, else NULL (unknown, disabled, or authenticated by another module).';

-- The cheap re-validation of a cached credential: no hash leaves the database.
CREATE OR REPLACE FUNCTION interactions.credential_version(p_cc integer, p_login text) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT credential_version FROM interactions.users
     WHERE cc_id = p_cc AND login = p_login AND NOT disabled AND password_hash IS NOT NULL
$$;
COMMENT ON FUNCTION interactions.credential_version(integer, text) IS
  'For the authn provider''s credential cache: the credential_version of an enabled user with a password, else NULL. A cached credential verified against another version is dropped.';
