-- Common helpers used by every operation.  Repeatable: re-applied by interactions-migrate.

-- The contact center of this transaction.  The module passes it into interactions.api(),
-- which sets it first thing; row-level security compares every row against it.  Unset
-- means NULL, and NULL matches no row (fail closed).
CREATE OR REPLACE FUNCTION interactions.current_cc() RETURNS integer
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT nullif(current_setting('interactions.cc', true), '')::integer
$$;
COMMENT ON FUNCTION interactions.current_cc() IS
  'The contact center this transaction is bound to (setting interactions.cc); row-level security filters on it.';

-- A client's string as a uuid, or NULL when it is not one.  A cast of text that is not a
-- uuid raises (a 500, and the client's text in the server log), so every id a client sends
-- goes through here; plpgsql's IF tests the form before the cast runs, which an SQL
-- expression does not promise.
CREATE OR REPLACE FUNCTION interactions.as_uuid(p text) RETURNS uuid
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF p ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' THEN
        RETURN p::uuid;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION interactions.as_uuid(text) IS
  'A client''s text as a uuid (8-4-4-4-12 hex digits), or NULL when it is not one: ids from clients never raise a cast error.';

CREATE OR REPLACE FUNCTION interactions.iso(ts timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
COMMENT ON FUNCTION interactions.iso(timestamptz) IS 'ISO-8601 UTC text of a timestamp, as the API shows dates.';

-- The contract's statusCodes (CONTRACT section 3) by name, the names of mi_status.h
-- (MI_SC_STATE is interactions.sc_state()); tests/unit/test_status.c holds the two in step.
-- SQL functions of one constant: the planner inlines them, so a call costs nothing.
CREATE OR REPLACE FUNCTION interactions.sc_ok() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 0 $$;
COMMENT ON FUNCTION interactions.sc_ok() IS 'statusCode 0: success.';
CREATE OR REPLACE FUNCTION interactions.sc_state() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 2 $$;
COMMENT ON FUNCTION interactions.sc_state() IS 'statusCode 2: not possible in the interaction''s current state (HTTP 409).';
CREATE OR REPLACE FUNCTION interactions.sc_permission() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 5 $$;
COMMENT ON FUNCTION interactions.sc_permission() IS 'statusCode 5: the user may not do this, or not to this resource (HTTP 403).';
CREATE OR REPLACE FUNCTION interactions.sc_not_found() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 6 $$;
COMMENT ON FUNCTION interactions.sc_not_found() IS 'statusCode 6: no such resource, also when it is another contact center''s (HTTP 404).';
CREATE OR REPLACE FUNCTION interactions.sc_invalid() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 10 $$;
COMMENT ON FUNCTION interactions.sc_invalid() IS 'statusCode 10: input validation error (HTTP 400).';
CREATE OR REPLACE FUNCTION interactions.sc_read_only() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 11 $$;
COMMENT ON FUNCTION interactions.sc_read_only() IS 'statusCode 11: attempt to change a read-only property (HTTP 400).';
CREATE OR REPLACE FUNCTION interactions.sc_exists() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 18 $$;
COMMENT ON FUNCTION interactions.sc_exists() IS 'statusCode 18: the resource already exists (HTTP 409).';
CREATE OR REPLACE FUNCTION interactions.sc_unauthenticated() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT 20 $$;
COMMENT ON FUNCTION interactions.sc_unauthenticated() IS 'statusCode 20: not authenticated: the user is not known in the contact center, or disabled (HTTP 401).';

CREATE OR REPLACE FUNCTION interactions.err(code integer, message text) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT jsonb_build_object('statusCode', code, 'statusMessage', message)
$$;
COMMENT ON FUNCTION interactions.err(integer, text) IS
  'An API failure document: the module turns it into the error envelope (statusCode, statusMessage).';

-- The one lookup of a queue by name (provisioning, GET /interactions?queue=, create and the
-- operations that name a queue).
CREATE OR REPLACE FUNCTION interactions.find_queue(p_cc integer, p_name text) RETURNS uuid
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT id FROM interactions.queues WHERE cc_id = p_cc AND name = p_name);
END $$;

COMMENT ON FUNCTION interactions.find_queue(integer, text) IS 'A queue''s id by name, or NULL.';

-- How long an offer from a queue stands (and a declined agent is skipped): its offer timeout.
CREATE OR REPLACE FUNCTION interactions.offer_timeout(p_cc integer, p_queue uuid) RETURNS interval
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT q.offer_timeout FROM interactions.queues q WHERE q.cc_id = p_cc AND q.id = p_queue);
END $$;

COMMENT ON FUNCTION interactions.offer_timeout(integer, uuid) IS
  'A queue''s offer timeout: how long an offer from it stands, and how long an agent who declined is skipped.';

-- The hot helpers are PL/pgSQL, not SQL functions: PostgreSQL 15 plans a non-inlinable SQL
-- function anew in every transaction, PL/pgSQL caches its plans for the session.
CREATE OR REPLACE FUNCTION interactions.user_data_of(p_cc integer, p_id uuid) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(jsonb_object_agg(u.key, u.value), '{}'::jsonb)
              FROM interactions.user_data u
             WHERE u.cc_id = p_cc AND u.interaction_id = p_id);
END $$;

COMMENT ON FUNCTION interactions.user_data_of(integer, uuid) IS 'An interaction''s user data as one JSON object.';

-- The snapshot of an interaction: the API fields plus "_owner", "_invitee", "_ringing" and
-- "_workbinOwner", which the module uses to derive the caller's capabilities and then drops.
CREATE OR REPLACE FUNCTION interactions.snapshot_of(i interactions.interactions, p_full boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_wb_name  text;
    v_wb_owner uuid;
    v          jsonb;
BEGIN
    IF i.workbin_id IS NOT NULL THEN
        SELECT w.name, w.owner_id INTO v_wb_name, v_wb_owner FROM interactions.workbins w
         WHERE w.cc_id = i.cc_id AND w.id = i.workbin_id;
    END IF;
    v := jsonb_build_object(
        'id', i.id,
        'mediaType', i.media_type,
        'state', i.state,
        'queue', (SELECT q.name FROM interactions.queues q WHERE q.cc_id = i.cc_id AND q.id = i.queue_id),
        'workbin', v_wb_name,
        'assignedTo', (SELECT u.login FROM interactions.users u
                        WHERE u.cc_id = i.cc_id AND u.id = coalesce(i.owner_id, i.invitee_id)),
        'parentId', i.parent_id,
        'userData', interactions.user_data_of(i.cc_id, i.id),
        'subject', i.subject,
        'from', i.from_address,
        'to', to_jsonb(i.to_addresses),
        'receivedDate', interactions.iso(i.received_at),
        'updatedDate', interactions.iso(i.updated_at),
        'priority', i.priority,
        '_owner', i.owner_id,
        '_invitee', i.invitee_id,
        '_workbinOwner', v_wb_owner);
    IF i.unservable AND i.state = 'Queued' THEN
        v := v || jsonb_build_object('_unservable', true);     -- rendered as "unservable": true
    END IF;
    IF i.state = 'Invited' THEN
        -- ring-all: the other agents it is offered to, who may Accept it as the invitee may
        v := v || coalesce((SELECT jsonb_build_object('_ringing', jsonb_agg(r.user_id ORDER BY r.user_id))
                              FROM interactions.ring_offers r
                             WHERE r.cc_id = i.cc_id AND r.interaction_id = i.id
                            HAVING count(*) > 0), '{}'::jsonb);
    END IF;
    IF p_full THEN
        v := v || jsonb_build_object('cc', to_jsonb(i.cc_addresses), 'body', i.body);
    END IF;
    RETURN v;
END $$;

COMMENT ON FUNCTION interactions.snapshot_of(interactions.interactions, boolean) IS
  'An interaction as the API shows it (plus internal _owner/_invitee/_workbinOwner ids); p_full adds cc and body.';

CREATE OR REPLACE FUNCTION interactions.snapshot(p_cc integer, p_id uuid, p_full boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    i interactions.interactions;
BEGIN
    SELECT * INTO i FROM interactions.interactions x WHERE x.cc_id = p_cc AND x.id = p_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN interactions.snapshot_of(i, p_full);
END $$;

COMMENT ON FUNCTION interactions.snapshot(integer, uuid, boolean) IS 'interactions.snapshot_of() by id.';

-- Append one history row for a change to interaction p_id, which the caller has already
-- written.  p_before is the row as it was (NULL for a creation).  Who is told: every agent
-- the interaction was offered to or owned by, before or after the change, except those in
-- p_revoked, who are told that it was withdrawn from them.  Routing and timeouts pass
-- p_system so that the row has no acting user (the referenceId of the request that caused
-- it, if any, stays).
CREATE OR REPLACE FUNCTION interactions.record(
    p_op text,
    p_before interactions.interactions,
    p_id uuid,
    p_user_data_change jsonb DEFAULT NULL,
    p_notification text DEFAULT 'StatusChange',
    p_revoked uuid[] DEFAULT '{}',
    p_system boolean DEFAULT false
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_cc     integer := interactions.current_cc();
    v_after  interactions.interactions;
    v_actor  uuid := CASE WHEN p_system THEN NULL
                          ELSE nullif(current_setting('interactions.actor', true), '')::uuid END;
    v_ref    bigint := nullif(current_setting('interactions.ref', true), '')::bigint;
    v_aud    uuid[];
BEGIN
    SELECT * INTO STRICT v_after FROM interactions.interactions WHERE cc_id = v_cc AND id = p_id;
    -- ring-all: every agent an offer rings for is told of it like its invitee
    SELECT coalesce(array_agg(DISTINCT a), '{}') INTO v_aud
      FROM unnest(ARRAY[p_before.invitee_id, p_before.owner_id, v_after.invitee_id, v_after.owner_id]
                  || CASE WHEN v_after.state = 'Invited'
                          THEN ARRAY(SELECT r.user_id FROM interactions.ring_offers r
                                      WHERE r.cc_id = v_cc AND r.interaction_id = p_id)
                          ELSE '{}'::uuid[] END) a
     WHERE a IS NOT NULL AND NOT (a = ANY (p_revoked));
    INSERT INTO interactions.history (cc_id, interaction_id, operation, actor_id, actor_login,
        reference_id, from_state, to_state, from_queue, to_queue, from_workbin, to_workbin,
        from_owner, to_owner, from_invitee, to_invitee, user_data_change, notification,
        audience, revoked, snapshot, routing)
    VALUES (v_cc, p_id, p_op, v_actor,
        (SELECT login FROM interactions.users WHERE cc_id = v_cc AND id = v_actor),
        v_ref, p_before.state, v_after.state,
        (SELECT name FROM interactions.queues WHERE cc_id = v_cc AND id = p_before.queue_id),
        (SELECT name FROM interactions.queues WHERE cc_id = v_cc AND id = v_after.queue_id),
        (SELECT name FROM interactions.workbins WHERE cc_id = v_cc AND id = p_before.workbin_id),
        (SELECT name FROM interactions.workbins WHERE cc_id = v_cc AND id = v_after.workbin_id),
        p_before.owner_id, v_after.owner_id, p_before.invitee_id, v_after.invitee_id,
        p_user_data_change, p_notification, v_aud, p_revoked,
        interactions.snapshot_of(v_after),
        -- why routing chose (interactions.offer() sets it for its row only)
        nullif(current_setting('interactions.routing', true), '')::jsonb);
END $$;
COMMENT ON FUNCTION interactions.record(text, interactions.interactions, uuid, jsonb, text, uuid[], boolean) IS
  'Appends the history row of a change (actor and referenceId from the transaction settings interactions.actor / interactions.ref; no actor when p_system).';

-- The load of an agent on a media type: what routing counts against the capacity.
CREATE OR REPLACE FUNCTION interactions.agent_load(p_cc integer, p_user uuid, p_media text)
RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*)::integer FROM interactions.interactions i
             WHERE i.cc_id = p_cc AND i.invitee_id = p_user AND i.state = 'Invited' AND i.media_type = p_media)
         + (SELECT count(*)::integer FROM interactions.ring_offers r       -- ring-all offers
             WHERE r.cc_id = p_cc AND r.user_id = p_user AND r.media = p_media)
         + (SELECT count(*)::integer FROM interactions.interactions i
             WHERE i.cc_id = p_cc AND i.owner_id = p_user AND i.state = 'Processing' AND i.media_type = p_media);
END $$;

COMMENT ON FUNCTION interactions.agent_load(integer, uuid, text) IS
  'Interactions of a media type offered to (Invited, ring-all offers included) or being worked on (Processing) by an agent; routing keeps it at or below the capacity.';
