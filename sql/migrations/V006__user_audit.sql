-- V006: account changes are audited, and every one of them moves the credential version.
--
-- The module keeps verified credentials in shared memory and trusts an entry only while the
-- user's credential_version is the one it was verified against; a change made anywhere (the
-- provisioning functions, or an UPDATE by hand) must therefore move the version, or a
-- changed password, a removed role or a disablement would not reach a cached entry.  The
-- BEFORE trigger makes sure it moves; the AFTER trigger writes who did it.

CREATE TABLE interactions.user_audit (
    cc_id              integer NOT NULL REFERENCES interactions.contact_centers(id),
    seq                bigint GENERATED ALWAYS AS IDENTITY,
    user_id            uuid NOT NULL,
    login              text NOT NULL,
    change             text NOT NULL CHECK (change IN ('created', 'password', 'roles', 'disabled', 'enabled')),
    detail             jsonb NOT NULL DEFAULT '{}',
    credential_version integer NOT NULL,
    changed_by         name NOT NULL DEFAULT session_user,
    application        text DEFAULT current_setting('application_name', true),
    changed_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, seq),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users (cc_id, id)
);
CREATE INDEX user_audit_user ON interactions.user_audit (cc_id, user_id, seq);
COMMENT ON TABLE interactions.user_audit IS
  'Append-only record of every change to a user''s account: creation, password, roles, disablement. Written by a trigger on interactions.users, so changes made by hand are recorded too.';
COMMENT ON COLUMN interactions.user_audit.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.user_audit.seq IS 'Order of the changes.';
COMMENT ON COLUMN interactions.user_audit.user_id IS 'The user changed.';
COMMENT ON COLUMN interactions.user_audit.login IS 'The user''s login at the time of the change.';
COMMENT ON COLUMN interactions.user_audit.change IS 'created, password, roles, disabled or enabled.';
COMMENT ON COLUMN interactions.user_audit.detail IS 'For roles: {"from":[..],"to":[..]}; for created: {"roles":[..],"password":true|false}. Never a password or a hash.';
COMMENT ON COLUMN interactions.user_audit.credential_version IS 'interactions.users.credential_version after the change.';
COMMENT ON COLUMN interactions.user_audit.changed_by IS 'The database role that made the change (session_user, also inside SECURITY DEFINER functions).';
COMMENT ON COLUMN interactions.user_audit.application IS 'application_name of the session that made the change.';
COMMENT ON COLUMN interactions.user_audit.changed_at IS 'When (the transaction''s time).';

CREATE FUNCTION interactions.user_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'interactions.user_audit is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
COMMENT ON FUNCTION interactions.user_audit_append_only() IS
  'Refuses UPDATE, DELETE and TRUNCATE on interactions.user_audit.';
CREATE TRIGGER user_audit_append_only BEFORE UPDATE OR DELETE ON interactions.user_audit
    FOR EACH ROW EXECUTE FUNCTION interactions.user_audit_append_only();
CREATE TRIGGER user_audit_no_truncate BEFORE TRUNCATE ON interactions.user_audit
    FOR EACH STATEMENT EXECUTE FUNCTION interactions.user_audit_append_only();
COMMENT ON TRIGGER user_audit_append_only ON interactions.user_audit IS 'The account audit is append-only.';
COMMENT ON TRIGGER user_audit_no_truncate ON interactions.user_audit IS 'TRUNCATE would erase the account audit.';

-- A change to what authenticates or authorizes a user moves credential_version, unless the
-- statement already moved it.
CREATE FUNCTION interactions.users_credential_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.password_hash IS DISTINCT FROM OLD.password_hash
        OR NEW.roles IS DISTINCT FROM OLD.roles
        OR NEW.disabled IS DISTINCT FROM OLD.disabled)
       AND NEW.credential_version = OLD.credential_version THEN
        NEW.credential_version := OLD.credential_version + 1;
    END IF;
    RETURN NEW;
END $$;
COMMENT ON FUNCTION interactions.users_credential_version() IS
  'Moves users.credential_version when the password hash, the roles or disabled change, so that whatever a server caches about the user is dropped.';
CREATE TRIGGER users_credential_version BEFORE UPDATE ON interactions.users
    FOR EACH ROW EXECUTE FUNCTION interactions.users_credential_version();
COMMENT ON TRIGGER users_credential_version ON interactions.users IS
  'A password, role or disablement change moves credential_version.';

CREATE FUNCTION interactions.users_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO interactions.user_audit (cc_id, user_id, login, change, detail, credential_version)
        VALUES (NEW.cc_id, NEW.id, NEW.login, 'created',
                jsonb_build_object('roles', to_jsonb(NEW.roles), 'password', NEW.password_hash IS NOT NULL,
                                   'disabled', NEW.disabled),
                NEW.credential_version);
        RETURN NULL;
    END IF;
    IF NEW.password_hash IS DISTINCT FROM OLD.password_hash THEN
        INSERT INTO interactions.user_audit (cc_id, user_id, login, change, detail, credential_version)
        VALUES (NEW.cc_id, NEW.id, NEW.login, 'password',
                jsonb_build_object('password', NEW.password_hash IS NOT NULL), NEW.credential_version);
    END IF;
    IF NEW.roles IS DISTINCT FROM OLD.roles THEN
        INSERT INTO interactions.user_audit (cc_id, user_id, login, change, detail, credential_version)
        VALUES (NEW.cc_id, NEW.id, NEW.login, 'roles',
                jsonb_build_object('from', to_jsonb(OLD.roles), 'to', to_jsonb(NEW.roles)),
                NEW.credential_version);
    END IF;
    IF NEW.disabled IS DISTINCT FROM OLD.disabled THEN
        INSERT INTO interactions.user_audit (cc_id, user_id, login, change, credential_version)
        VALUES (NEW.cc_id, NEW.id, NEW.login, CASE WHEN NEW.disabled THEN 'disabled' ELSE 'enabled' END,
                NEW.credential_version);
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION interactions.users_audit() IS
  'Appends to interactions.user_audit what an INSERT or UPDATE of interactions.users changed (creation, password, roles, disablement), with the session user.';
CREATE TRIGGER users_audit AFTER INSERT OR UPDATE ON interactions.users
    FOR EACH ROW EXECUTE FUNCTION interactions.users_audit();
COMMENT ON TRIGGER users_audit ON interactions.users IS 'Every account change is recorded in interactions.user_audit.';

-- Users that exist already: their creation predates the audit.
INSERT INTO interactions.user_audit (cc_id, user_id, login, change, detail, credential_version, changed_at)
SELECT u.cc_id, u.id, u.login, 'created',
       jsonb_build_object('roles', to_jsonb(u.roles), 'password', u.password_hash IS NOT NULL,
                          'disabled', u.disabled, 'before_audit', true),
       u.credential_version, u.created_at
  FROM interactions.users u ORDER BY u.cc_id, u.created_at;
