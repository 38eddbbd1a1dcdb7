-- Provisioning (CONTRACT section 7): what a DBA or a deployment script calls from psql.
-- SECURITY DEFINER, owned by interactions_system (which bypasses row-level security), and
-- executable by interactions_dba only: the module's role cannot provision.  Every function
-- is idempotent: calling it again with the same arguments changes nothing.

-- The one lookup of a contact center by name.  Used by the module itself too (granted to
-- interactions_app): no tenant data leaves it.
CREATE OR REPLACE FUNCTION interactions.contact_center_id(p_name text) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT id FROM interactions.contact_centers WHERE name = p_name
$$;
COMMENT ON FUNCTION interactions.contact_center_id(text) IS
  'The id of the contact center a location serves, or NULL (called by the module, which caches it).';

-- ... for provisioning, where an unknown name is an error.
CREATE OR REPLACE FUNCTION interactions.cc_by_name(p_name text) RETURNS integer
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v integer := interactions.contact_center_id(p_name);
BEGIN
    IF v IS NULL THEN
        RAISE EXCEPTION 'unknown contact center "%"', p_name USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.cc_by_name(text) IS 'The id of a contact center; raises an error when there is none.';

-- The one lookup of a user by login for provisioning: raises when there is none.
CREATE OR REPLACE FUNCTION interactions.user_by_name(p_cc integer, p_login text) RETURNS uuid
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v uuid;
BEGIN
    SELECT u.id INTO v FROM interactions.users u WHERE u.cc_id = p_cc AND u.login = p_login;
    IF v IS NULL THEN
        RAISE EXCEPTION 'unknown user "%" in contact center "%"', p_login,
            (SELECT c.name FROM interactions.contact_centers c WHERE c.id = p_cc)
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.user_by_name(integer, text) IS 'The id of a user of a contact center; raises an error when there is none.';

CREATE OR REPLACE FUNCTION interactions.create_contact_center(name text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE v integer;
BEGIN
    INSERT INTO interactions.contact_centers (name) VALUES (create_contact_center.name)
        ON CONFLICT ON CONSTRAINT contact_centers_name_key DO NOTHING;
    v := interactions.contact_center_id(create_contact_center.name);
    -- its own referenceIds (interactions.next_reference_id): a shared sequence would tell
    -- each tenant how busy the others are
    IF to_regclass(format('interactions.%I', 'reference_ids_' || v)) IS NULL THEN
        EXECUTE format('CREATE SEQUENCE interactions.%I AS bigint', 'reference_ids_' || v);
        EXECUTE format('GRANT USAGE ON SEQUENCE interactions.%I TO interactions_app', 'reference_ids_' || v);
        EXECUTE format('COMMENT ON SEQUENCE interactions.%I IS %L', 'reference_ids_' || v,
                       format('API referenceId values of contact center %s: each request that changes something gets one, and its push notifications carry it.', v));
    END IF;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.create_contact_center(text) IS
  'Provision a contact center (idempotent) and its referenceId sequence (interactions.reference_ids_<id>); returns its id. The name is what InteractionsContactCenter names.';

CREATE OR REPLACE FUNCTION interactions.create_user(contact_center text, login text, password text,
                                                    roles text[])
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
    v_cc   integer := interactions.cc_by_name(contact_center);
    v_id   uuid;
    v_hash text;
BEGIN
    IF NOT (create_user.roles <@ ARRAY['agent','supervisor','admin','apiuser']::text[]) THEN
        RAISE EXCEPTION 'roles must be among agent, supervisor, admin, apiuser' USING ERRCODE = 'check_violation';
    END IF;
    SELECT u.id, u.password_hash INTO v_id, v_hash FROM interactions.users u
     WHERE u.cc_id = v_cc AND u.login = create_user.login;
    IF v_id IS NULL THEN
        INSERT INTO interactions.users (cc_id, login, password_hash, roles)
        VALUES (v_cc, create_user.login, interactions.new_password_hash(password),
                (SELECT coalesce(array_agg(DISTINCT r ORDER BY r), '{}') FROM unnest(create_user.roles) r))
        RETURNING id INTO v_id;
    ELSE
        UPDATE interactions.users u
           SET roles = (SELECT coalesce(array_agg(DISTINCT r ORDER BY r), '{}') FROM unnest(create_user.roles) r),
               password_hash = CASE
                   WHEN password IS NULL THEN NULL
                   WHEN v_hash IS NOT NULL AND octet_length(password) <= 72
                        AND interactions_ext.crypt(password, v_hash) = v_hash THEN v_hash
                   ELSE interactions.new_password_hash(password) END
         WHERE u.cc_id = v_cc AND u.id = v_id;
    END IF;
    IF 'agent' = ANY (create_user.roles) THEN
        INSERT INTO interactions.agent_channels (cc_id, user_id, media)
        VALUES (v_cc, v_id, 'email') ON CONFLICT DO NOTHING;
    END IF;
    RETURN v_id;
END $$;
COMMENT ON FUNCTION interactions.create_user(text, text, text, text[]) IS
  'Provision a user (idempotent: an existing login gets these roles and, if different, this password). The password is stored as a bcrypt hash and may have at most 72 bytes; NULL means another httpd authn module authenticates the user. Agents get an email channel (NotReady). Changes are audited (interactions.user_audit).';

CREATE OR REPLACE FUNCTION interactions.create_queue(contact_center text, name text,
                                                     offer_timeout interval DEFAULT '30 seconds')
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
    v_cc integer := interactions.cc_by_name(contact_center);
    v_id uuid;
BEGIN
    INSERT INTO interactions.queues (cc_id, name, offer_timeout)
    VALUES (v_cc, create_queue.name, create_queue.offer_timeout)
    ON CONFLICT (cc_id, name) DO UPDATE SET offer_timeout = EXCLUDED.offer_timeout
    RETURNING id INTO v_id;
    RETURN v_id;
END $$;
COMMENT ON FUNCTION interactions.create_queue(text, text, interval) IS
  'Provision a queue (idempotent; calling again sets the offer timeout).';

CREATE OR REPLACE FUNCTION interactions.add_queue_member(contact_center text, queue text, login text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
    v_cc integer := interactions.cc_by_name(contact_center);
    v_q  uuid;
    v_u  uuid;
BEGIN
    v_q := interactions.find_queue(v_cc, queue);
    IF v_q IS NULL THEN
        RAISE EXCEPTION 'unknown queue "%" in contact center "%"', queue, contact_center USING ERRCODE = 'no_data_found';
    END IF;
    v_u := interactions.user_by_name(v_cc, add_queue_member.login);
    INSERT INTO interactions.queue_members (cc_id, queue_id, user_id) VALUES (v_cc, v_q, v_u)
        ON CONFLICT DO NOTHING;
END $$;
COMMENT ON FUNCTION interactions.add_queue_member(text, text, text) IS
  'Make an agent a member of a queue (idempotent): routing may then offer the queue''s interactions to them.';

CREATE OR REPLACE FUNCTION interactions.create_workbin(contact_center text, name text,
                                                       owner_login text DEFAULT NULL)
RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
    v_cc    integer := interactions.cc_by_name(contact_center);
    v_owner uuid;
    v_id    uuid;
BEGIN
    IF owner_login IS NOT NULL THEN
        v_owner := interactions.user_by_name(v_cc, owner_login);
    END IF;
    SELECT id INTO v_id FROM interactions.workbins w
     WHERE w.cc_id = v_cc AND w.name = create_workbin.name AND w.owner_id IS NOT DISTINCT FROM v_owner;
    IF v_id IS NULL THEN
        INSERT INTO interactions.workbins (cc_id, name, owner_id) VALUES (v_cc, create_workbin.name, v_owner)
        RETURNING id INTO v_id;
    END IF;
    RETURN v_id;
END $$;
COMMENT ON FUNCTION interactions.create_workbin(text, text, text) IS
  'Provision a workbin (idempotent): personal to owner_login, or shared by the contact center''s agents when owner_login is NULL.';

CREATE OR REPLACE FUNCTION interactions.set_agent_capacity(contact_center text, login text, media text,
                                                           capacity integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
    v_cc integer := interactions.cc_by_name(contact_center);
    v_u  uuid;
BEGIN
    v_u := interactions.user_by_name(v_cc, set_agent_capacity.login);
    INSERT INTO interactions.agent_channels (cc_id, user_id, media, capacity)
    VALUES (v_cc, v_u, media, capacity)
    ON CONFLICT (cc_id, user_id, media) DO UPDATE SET capacity = EXCLUDED.capacity;
END $$;
COMMENT ON FUNCTION interactions.set_agent_capacity(text, text, text, integer) IS
  'How many interactions of a media type an agent may hold at once (default 1).';

