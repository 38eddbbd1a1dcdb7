-- The module's entry point and the read API.  SECURITY INVOKER: these run as the module's
-- role, so row-level security applies to every statement in them.

CREATE OR REPLACE FUNCTION interactions.has_role(c interactions.caller, VARIADIC wanted text[])
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT c.roles && wanted
$$;
COMMENT ON FUNCTION interactions.has_role(interactions.caller, text[]) IS 'Does the caller have any of these roles?';

CREATE OR REPLACE FUNCTION interactions.api_me(c interactions.caller) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_user jsonb;
BEGIN
    v_user := jsonb_build_object(
        'id', c.id,
        'userName', c.login,
        'roles', to_jsonb(c.roles),
        'channels', coalesce((
            SELECT jsonb_agg(jsonb_build_object('channel', ch.media,
                                                'userState', interactions.user_state_of(ch),
                                                'capacity', ch.capacity)
                             ORDER BY ch.media)
              FROM interactions.agent_channels ch
             WHERE ch.cc_id = c.cc_id AND ch.user_id = c.id), '[]'::jsonb));
    IF interactions.has_role(c, 'agent') THEN
        -- what a desktop offers in its NotReady menu
        v_user := v_user || jsonb_build_object('notReadyReasons', coalesce((
            SELECT jsonb_agg(jsonb_build_object('name', r.name, 'displayName', r.display_name)
                             ORDER BY r.display_name, r.name)
              FROM interactions.not_ready_reasons r
             WHERE r.cc_id = c.cc_id AND r.name <> 'MissedOffers'), '[]'::jsonb));
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'user', v_user);
END $$;

COMMENT ON FUNCTION interactions.api_me(interactions.caller) IS 'GET /me.';

-- Who may read an interaction: the one definition that GET /interactions/{id} and GET
-- /interactions both apply (CONTRACT 8.1b), in two halves.  interactions.reader_of() looks up
-- once per request what the caller's reading depends on; interactions.may_read() decides for
-- one interaction from that alone.  Admins, supervisors and integrations read every
-- interaction of their contact center.  An agent reads those offered to, owned by or handled
-- by them (participants), those lying in a workbin they may use (their personal ones and
-- the shared ones: they could Pull them), and those waiting in a queue they are a member of
-- (Queued, or Invited to someone: the queue's until accepted) — not what a colleague is
-- working on, not another agent's personal workbin, not the finished work of others.
CREATE OR REPLACE FUNCTION interactions.reader_of(c interactions.caller)
RETURNS interactions.reader LANGUAGE plpgsql STABLE AS $$
DECLARE
    r interactions.reader;
BEGIN
    r.everything := c.roles && ARRAY['admin', 'supervisor', 'apiuser'];
    IF NOT r.everything AND 'agent' = ANY (c.roles) THEN
        r.user_id := c.id;
        r.queues := ARRAY(SELECT m.queue_id FROM interactions.queue_members m
                           WHERE m.cc_id = c.cc_id AND m.user_id = c.id);
        r.workbins := ARRAY(SELECT w.id FROM interactions.workbins w
                             WHERE w.cc_id = c.cc_id AND (w.owner_id IS NULL OR w.owner_id = c.id));
    END IF;
    RETURN r;
END $$;
COMMENT ON FUNCTION interactions.reader_of(interactions.caller) IS
  'What the caller''s right to read interactions depends on (interactions.reader), for interactions.may_read().';

-- A single expression without subqueries, so that the planner inlines it into the list's
-- WHERE clause: no function call per row.
CREATE OR REPLACE FUNCTION interactions.may_read(r interactions.reader, i interactions.interactions)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT r.everything
        OR coalesce(i.invitee_id = r.user_id OR i.owner_id = r.user_id
                    OR r.user_id = ANY (i.participants)
                    OR i.workbin_id = ANY (r.workbins)
                    OR (i.state IN ('Queued', 'Invited') AND i.queue_id = ANY (r.queues)),
                    false)
$$;
COMMENT ON FUNCTION interactions.may_read(interactions.reader, interactions.interactions) IS
  'May this reader (interactions.reader_of) read the interaction (GET /interactions/{id}, and the same set in GET /interactions)? Admins, supervisors, apiusers: all of their contact center; agents: offered to, owned or handled by them, in a workbin they may use, or waiting (Queued/Invited) in a queue they are a member of.';

-- One page of a list, from the ids of the page in order (at most the limit asked for): with
-- p_full the interactions' snapshots, else just their ids (a page of uris), until the next one
-- would take the page past p_max bytes of JSON (always at least one; NULL: no bound).  One
-- request must not make the database, and then an httpd process, hold a page of any size:
-- 500 interactions with 32 KiB of user data each are 20 MB.  Returns {"interactions":[..]}
-- and, when more follow, "nextOffset" (where the next page starts) and, when the bound ended
-- the page before the limit, "truncated": true.
CREATE OR REPLACE FUNCTION interactions.page_of(p_cc integer, p_ids uuid[], p_full boolean,
                                                p_max bigint, p_offset integer, p_total bigint)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_id    uuid;
    v_row   interactions.interactions;
    v_item  jsonb;
    v_size  bigint;
    v_bytes bigint := 2;
    v_items jsonb[] := '{}';
    v_res   jsonb;
BEGIN
    FOREACH v_id IN ARRAY coalesce(p_ids, '{}') LOOP
        IF p_full THEN
            SELECT * INTO v_row FROM interactions.interactions i WHERE i.cc_id = p_cc AND i.id = v_id;
            CONTINUE WHEN NOT FOUND;
            v_item := interactions.snapshot_of(v_row);
        ELSE
            v_item := jsonb_build_object('id', v_id);
        END IF;
        v_size := octet_length(v_item::text) + 1;
        EXIT WHEN cardinality(v_items) > 0 AND p_max IS NOT NULL AND v_bytes + v_size > p_max;
        v_items := array_append(v_items, v_item);
        v_bytes := v_bytes + v_size;
    END LOOP;
    v_res := jsonb_build_object('interactions', to_jsonb(v_items));
    IF p_offset + cardinality(v_items) < p_total THEN
        v_res := v_res || jsonb_build_object('nextOffset', p_offset + cardinality(v_items));
    END IF;
    IF cardinality(v_items) < cardinality(p_ids) THEN
        v_res := v_res || jsonb_build_object('truncated', true);
    END IF;
    RETURN v_res;
END $$;
COMMENT ON FUNCTION interactions.page_of(integer, uuid[], boolean, bigint, integer, bigint) IS
  'One page of a list from the ordered ids p_ids: snapshots (p_full) or ids, stopping before p_max bytes of JSON (at least one item); {"interactions":[..],"nextOffset"?,"truncated"?}.';

-- GET /interactions: the contact center's active interactions (or those in the state asked
-- for, final states included), optionally of one queue, in creation order; of those, what
-- the caller may read (interactions.may_read: for an agent, not the whole contact center).
CREATE OR REPLACE FUNCTION interactions.api_list(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_state text := a->>'state';
    v_queue uuid;
    v_workbin uuid;
    v_limit integer := coalesce((a->>'limit')::integer, 100);
    v_offset integer := coalesce((a->>'offset')::integer, 0);
    v_total bigint;
    v_ids   uuid[];
    v_reader interactions.reader := interactions.reader_of(c);
BEGIN
    IF NOT interactions.has_role(c, 'admin', 'supervisor', 'agent', 'apiuser') THEN
        RETURN interactions.err(interactions.sc_permission(), 'listing interactions needs the agent, supervisor, admin or apiuser role');
    END IF;
    IF a ? 'queue' THEN
        v_queue := interactions.find_queue(c.cc_id, a->>'queue');
        IF v_queue IS NULL THEN
            RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'interactions', '[]'::jsonb, 'totalCount', 0,
                                      'limit', v_limit, 'offset', v_offset);
        END IF;
    END IF;
    IF a ? 'workbin' THEN
        -- the workbin the caller means by the name (an agent's personal one first)
        v_workbin := (interactions.find_workbin(c, a->>'workbin')).id;
        IF v_workbin IS NULL THEN
            RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'interactions', '[]'::jsonb, 'totalCount', 0,
                                      'limit', v_limit, 'offset', v_offset);
        END IF;
    END IF;
    -- The filter, once: NOT MATERIALIZED makes each use below its own query, as if written
    -- out twice (the count, and the page in creation order with its LIMIT).
    WITH matching AS NOT MATERIALIZED (
        SELECT i.id, i.received_at FROM interactions.interactions i
         WHERE i.cc_id = c.cc_id
           AND (CASE WHEN v_state IS NULL THEN i.state NOT IN ('Completed','Canceled','Sent')
                     ELSE i.state = v_state END)
           AND (v_queue IS NULL OR i.queue_id = v_queue)
           AND (v_workbin IS NULL OR i.workbin_id = v_workbin)
           AND interactions.may_read(v_reader, i))
    SELECT (SELECT count(*) FROM matching),
           (SELECT array_agg(p.id ORDER BY p.received_at, p.id)
              FROM (SELECT m.id, m.received_at FROM matching m
                     ORDER BY m.received_at, m.id
                     LIMIT v_limit OFFSET v_offset) p)
      INTO v_total, v_ids;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'totalCount', v_total, 'limit', v_limit, 'offset', v_offset)
        || interactions.page_of(c.cc_id, v_ids, a ? 'fields', (a->>'_maxBytes')::bigint, v_offset, v_total);
END $$;
COMMENT ON FUNCTION interactions.api_list(interactions.caller, jsonb) IS
  'GET /interactions (filters state, queue, workbin; paging limit/offset, pages bounded by _maxBytes).';

-- GET /me/interactions: what the agent has now (offered to them, or theirs to work on).
CREATE OR REPLACE FUNCTION interactions.api_my_list(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_limit integer := coalesce((a->>'limit')::integer, 100);
    v_offset integer := coalesce((a->>'offset')::integer, 0);
    v_ids   uuid[];
    v_total bigint;
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), '/me/interactions is for agents');
    END IF;
    -- the filter once, as in interactions.api_list()
    WITH matching AS NOT MATERIALIZED (
        SELECT i.id, i.received_at FROM interactions.interactions i
         WHERE i.cc_id = c.cc_id
           AND (i.invitee_id = c.id OR i.owner_id = c.id
                OR (i.state = 'Invited' AND EXISTS (SELECT 1 FROM interactions.ring_offers r   -- ring-all
                                                     WHERE r.cc_id = i.cc_id AND r.interaction_id = i.id
                                                       AND r.user_id = c.id)))
           AND (NOT a ? 'state' OR i.state = a->>'state'))
    SELECT (SELECT count(*) FROM matching),
           (SELECT array_agg(p.id ORDER BY p.received_at, p.id)
              FROM (SELECT m.id, m.received_at FROM matching m
                     ORDER BY m.received_at, m.id
                     LIMIT v_limit OFFSET v_offset) p)
      INTO v_total, v_ids;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'totalCount', v_total, 'limit', v_limit, 'offset', v_offset)
        || interactions.page_of(c.cc_id, v_ids, a ? 'fields', (a->>'_maxBytes')::bigint, v_offset, v_total);
END $$;
COMMENT ON FUNCTION interactions.api_my_list(interactions.caller, jsonb) IS 'GET /me/interactions.';

-- GET /interactions/{id}: what interactions.may_read lets the caller read (the same set
-- GET /interactions lists).
CREATE OR REPLACE FUNCTION interactions.api_get(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v interactions.interactions;
BEGIN
    SELECT * INTO v FROM interactions.interactions
     WHERE cc_id = c.cc_id AND id = interactions.as_uuid(a->>'id');
    IF NOT FOUND THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such interaction');
    END IF;
    IF NOT interactions.may_read(interactions.reader_of(c), v) THEN
        RETURN interactions.err(interactions.sc_permission(), 'this interaction is not yours');
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'interaction', interactions.snapshot_of(v, true));
END $$;
COMMENT ON FUNCTION interactions.api_get(interactions.caller, jsonb) IS 'GET /interactions/{id}.';

-- POST /interactions: a new inbound interaction, Queued in queueName and routed at once.
-- externalId makes it idempotent, also when two identical requests race.
CREATE OR REPLACE FUNCTION interactions.api_create(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_queue uuid;
    v_id    uuid;
    v_ud    jsonb := coalesce(a->'userData', '{}'::jsonb);
    v_to    uuid;
BEGIN
    IF NOT interactions.has_role(c, 'admin', 'apiuser') THEN
        RETURN interactions.err(interactions.sc_permission(), 'creating interactions needs the admin or apiuser role');
    END IF;
    IF a ? 'externalId' THEN
        SELECT id INTO v_id FROM interactions.interactions
         WHERE cc_id = c.cc_id AND external_id = a->>'externalId';
        IF FOUND THEN
            RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'id', v_id, 'created', false);
        END IF;
    END IF;
    v_queue := interactions.find_queue(c.cc_id, a->>'queueName');
    IF v_queue IS NULL THEN
        RETURN interactions.err(interactions.sc_invalid(), 'unknown queue');
    END IF;
    -- at max_size: its overflow queue, or refused (CONTRACT 8.3)
    v_to := interactions.queue_admit(c.cc_id, v_queue);
    IF v_to IS NULL THEN
        RETURN interactions.err(interactions.sc_state(), 'the queue is full (max_size)');
    END IF;
    INSERT INTO interactions.interactions (cc_id, media_type, state, queue_id, external_id, subject,
        from_address, to_addresses, cc_addresses, body, priority, created_by, queued_at)
    VALUES (c.cc_id, a->>'mediaType', 'Queued', v_to, a->>'externalId', a->>'subject', a->>'from',
        coalesce(ARRAY(SELECT jsonb_array_elements_text(a->'to')), '{}'),
        coalesce(ARRAY(SELECT jsonb_array_elements_text(a->'cc')), '{}'),
        a->>'body', coalesce((a->>'priority')::integer, 0), c.id, now())
    ON CONFLICT (cc_id, external_id) DO NOTHING
    RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        -- a concurrent request with the same externalId won; answer with its interaction
        SELECT id INTO STRICT v_id FROM interactions.interactions
         WHERE cc_id = c.cc_id AND external_id = a->>'externalId';
        RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'id', v_id, 'created', false);
    END IF;
    INSERT INTO interactions.user_data (cc_id, interaction_id, key, value)
    SELECT c.cc_id, v_id, e.key, e.value FROM jsonb_each(v_ud) e;
    IF v_to <> v_queue THEN
        PERFORM set_config('interactions.routing', interactions.overflow_note(c.cc_id, 'max_size', v_queue, v_to)::text, true);
    END IF;
    PERFORM interactions.record('Create', NULL, v_id,
        CASE WHEN v_ud = '{}'::jsonb THEN NULL ELSE jsonb_build_object('set', v_ud) END);
    PERFORM set_config('interactions.routing', '', true);
    PERFORM interactions.route_interaction(c.cc_id, v_id);
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'id', v_id, 'created', true,
                              'referenceId', current_setting('interactions.ref')::bigint);
END $$;
COMMENT ON FUNCTION interactions.api_create(interactions.caller, jsonb) IS
  'POST /interactions (roles admin, apiuser); idempotent with externalId.';

-- The next referenceId of contact center p_cc, from its own sequence (created with it by
-- interactions.create_contact_center()): numbers that say nothing about other tenants.
CREATE OR REPLACE FUNCTION interactions.next_reference_id(p_cc integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN nextval(format('interactions.%I', 'reference_ids_' || p_cc)::regclass);
END $$;
COMMENT ON FUNCTION interactions.next_reference_id(integer) IS
  'The next API referenceId of contact center p_cc (its sequence interactions.reference_ids_<id>).';

-- The one statement the module prepares for the REST API.  One call is one transaction:
-- it binds the transaction to the contact center (row-level security), resolves the
-- caller, and runs operation p_op.  Whether it may write is the module's decision, made once
-- per request from its table of operations (mod_interactions/mi_ops.h), as PostgREST
-- decides from the method: a read (p_write false) runs in a read-only transaction and gets
-- no referenceId; a write is numbered (referenceId) first.  tests/unit/test_ops.c holds the
-- names below and the module's table in step, and each read's function must be STABLE.
CREATE OR REPLACE FUNCTION interactions.api(p_cc integer, p_login text, p_op text, p_args jsonb,
                                            p_write boolean)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    c      interactions.caller;
    v_res  jsonb;
BEGIN
    IF NOT p_write THEN
        -- From here on nothing in this transaction can write, whatever the function it runs.
        -- Here, before the block below: the end of a subtransaction restores the read-write
        -- state of the one around it.
        PERFORM set_config('transaction_read_only', 'on', true);
    END IF;
    BEGIN
        PERFORM set_config('interactions.cc', p_cc::text, true);
        SELECT u.cc_id, u.id, u.login, u.roles INTO c
          FROM interactions.users u WHERE u.cc_id = p_cc AND u.login = p_login AND NOT u.disabled;
        IF c.id IS NULL THEN
            -- a disabled user is refused on every call, whichever authn module let them in
            RETURN interactions.err(interactions.sc_unauthenticated(), 'the user is not known in this contact center or is disabled');
        END IF;
        PERFORM set_config('interactions.actor', c.id::text, true);
        IF p_write THEN
            PERFORM set_config('interactions.ref', interactions.next_reference_id(p_cc)::text, true);
        END IF;
        v_res := CASE p_op
            WHEN 'me'        THEN interactions.api_me(c)
            WHEN 'list'      THEN interactions.api_list(c, p_args)
            WHEN 'my_list'   THEN interactions.api_my_list(c, p_args)
            WHEN 'get'       THEN interactions.api_get(c, p_args)
            WHEN 'create'    THEN interactions.api_create(c, p_args)
            WHEN 'operation' THEN interactions.api_operation(c, p_args)
            WHEN 'update'    THEN interactions.api_update(c, p_args)
            WHEN 'channel'   THEN interactions.api_channel(c, p_args)
            WHEN 'me_state'  THEN interactions.api_me_state(c, p_args)
            WHEN 'workbins'  THEN interactions.api_workbins(c)
            WHEN 'workbin'   THEN interactions.api_workbin(c, p_args)
            WHEN 'agents'    THEN interactions.api_agents(c, p_args)
            WHEN 'agent_channel' THEN interactions.api_agent_channel(c, p_args)
            WHEN 'supervise' THEN interactions.api_supervise(c, p_args)
            WHEN 'events'    THEN interactions.api_events(c, p_args)
            WHEN 'queues'    THEN interactions.api_queues(c, p_args)
            WHEN 'queue_statistics' THEN interactions.api_queue_statistics(c, p_args)
            ELSE interactions.err(interactions.sc_not_found(), 'no such operation')
        END;
        IF (v_res->>'statusCode')::integer <> interactions.sc_ok() THEN
            -- a refusal changes nothing, even if the operation wrote before it decided
            RAISE EXCEPTION USING ERRCODE = 'MI001', MESSAGE = v_res::text;
        END IF;
        RETURN v_res || jsonb_build_object('caller', jsonb_build_object('id', c.id, 'roles', to_jsonb(c.roles)));
    EXCEPTION WHEN SQLSTATE 'MI001' THEN
        RETURN SQLERRM::jsonb;
    END;
END $$;
COMMENT ON FUNCTION interactions.api(integer, text, text, jsonb, boolean) IS
  'Entry point of every REST call: binds the transaction to contact center p_cc, resolves p_login, and runs operation p_op with arguments p_args; read-only unless p_write (which also numbers the request: referenceId). Returns {"statusCode":0,...} or {"statusCode":N,"statusMessage":...}; on failure nothing was changed.';

-- For psql, scripts and the isolation specs: any operation, read-write (a read takes a
-- referenceId then).  The module always says which of its calls only read.
CREATE OR REPLACE FUNCTION interactions.api(p_cc integer, p_login text, p_op text, p_args jsonb)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT interactions.api(p_cc, p_login, p_op, p_args, true)
$$;
COMMENT ON FUNCTION interactions.api(integer, text, text, jsonb) IS
  'interactions.api(p_cc, p_login, p_op, p_args, true): runs operation p_op read-write, for psql and scripts (the module passes p_write itself).';
