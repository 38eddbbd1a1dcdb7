-- The agent operations of POST /me/interactions/{id} (CONTRACT section 5), PUT
-- /interactions/{id}, channels and workbins.  Each runs inside interactions.api(): one
-- transaction, the interaction row locked first, every check before every write, the
-- history row written with the change, routing in the same transaction.

-- Refuse the operation unless this agent may act on v in one of p_states.  Someone else's
-- interaction is statusCode 5 (also when it sits in another agent's personal workbin); the
-- caller's own, or nobody's, in a state the operation does not accept is statusCode 2.
-- Pull checks the state first: agents race for a shared workbin's content, and the loser
-- must hear that it is gone (2), not that it is now the winner's (5).  Other operations
-- have a single rightful caller, so a stranger hears 5 whatever the state.
CREATE OR REPLACE FUNCTION interactions.refuse(c interactions.caller, v interactions.interactions,
                                               p_op text, p_states text[])
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), 'operations on interactions need the agent role');
    END IF;
    IF p_op = 'Pull' AND NOT (v.state = ANY (p_states)) THEN
        RETURN interactions.err(interactions.sc_state(), format('%s is not possible while the interaction is %s', p_op, v.state));
    END IF;
    IF (v.owner_id IS NOT NULL AND v.owner_id <> c.id)
       OR (v.invitee_id IS NOT NULL AND v.invitee_id <> c.id
           AND NOT EXISTS (SELECT 1 FROM interactions.ring_offers r      -- ring-all: theirs too
                            WHERE r.cc_id = v.cc_id AND r.interaction_id = v.id AND r.user_id = c.id)) THEN
        RETURN interactions.err(interactions.sc_permission(), 'this interaction is not yours');
    END IF;
    IF v.state = 'InWorkbin' AND EXISTS (
           SELECT 1 FROM interactions.workbins w
            WHERE w.cc_id = v.cc_id AND w.id = v.workbin_id AND w.owner_id IS NOT NULL
              AND w.owner_id <> c.id) THEN
        RETURN interactions.err(interactions.sc_permission(), 'this interaction is in another agent''s workbin');
    END IF;
    IF NOT (v.state = ANY (p_states)) THEN
        RETURN interactions.err(interactions.sc_state(), format('%s is not possible while the interaction is %s', p_op, v.state));
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION interactions.refuse(interactions.caller, interactions.interactions, text, text[]) IS
  'The refusal (statusCode 5 or 2) of an operation the caller may not perform on this interaction now, or NULL.';

-- The workbin an agent means by a name: their personal one first, else the shared one.
CREATE OR REPLACE FUNCTION interactions.find_workbin(c interactions.caller, p_name text)
RETURNS interactions.workbins LANGUAGE plpgsql STABLE AS $$
DECLARE
    w interactions.workbins;
BEGIN
    SELECT * INTO w FROM interactions.workbins x
     WHERE x.cc_id = c.cc_id AND x.name = p_name AND (x.owner_id = c.id OR x.owner_id IS NULL)
     ORDER BY x.owner_id NULLS LAST
     LIMIT 1;
    RETURN w;
END $$;

COMMENT ON FUNCTION interactions.find_workbin(interactions.caller, text) IS
  'The workbin an agent means by a name: their personal workbin of that name, else the shared one.';

-- A workbin and its content, oldest first, as GET /me/workbins/{name}, GetWorkbinContent and
-- its push message show it: at most p_max bytes of interactions (NULL: all), like a page of
-- a list ("truncated": true when some were left out; "count" is how many it holds).
CREATE OR REPLACE FUNCTION interactions.workbin_json(w interactions.workbins, p_max bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_ids  uuid[];
    v_n    integer;
    v_page jsonb;
BEGIN
    SELECT array_agg(i.id ORDER BY i.updated_at, i.id) INTO v_ids
      FROM interactions.interactions i
     WHERE i.cc_id = w.cc_id AND i.workbin_id = w.id AND i.state = 'InWorkbin';
    v_n := coalesce(cardinality(v_ids), 0);
    v_page := interactions.page_of(w.cc_id, v_ids, true, p_max, 0, v_n);
    RETURN jsonb_build_object(
        'name', w.name,
        'type', CASE WHEN w.owner_id IS NULL THEN 'shared' ELSE 'personal' END,
        'interactions', v_page->'interactions',
        'count', v_n)
        || CASE WHEN v_page ? 'truncated' THEN jsonb_build_object('truncated', true) ELSE '{}'::jsonb END;
END $$;

COMMENT ON FUNCTION interactions.workbin_json(interactions.workbins, bigint) IS
  'A workbin and its content as the API shows it ({"name","type","interactions":[...],"count","truncated"?}), at most p_max bytes of interactions.';

-- The serialized size of an interaction's user data (PostgreSQL's jsonb text form), which
-- must stay within the module's InteractionsMaxUserDataSize.
CREATE OR REPLACE FUNCTION interactions.user_data_fits(p_cc integer, p_id uuid, p_max integer)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN p_max IS NULL OR octet_length(interactions.user_data_of(p_cc, p_id)::text) <= p_max;
END $$;

COMMENT ON FUNCTION interactions.user_data_fits(integer, uuid, integer) IS
  'Does the interaction''s user data, serialized, fit in p_max bytes?';

-- The snapshot just recorded in this transaction is the answer; only PUT, which shows cc and
-- body, builds a fuller one.
CREATE OR REPLACE FUNCTION interactions.done(c interactions.caller, p_id uuid, p_full boolean DEFAULT false)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_snap jsonb;
BEGIN
    IF NOT p_full THEN
        SELECT h.snapshot INTO v_snap FROM interactions.history h
         WHERE h.cc_id = c.cc_id AND h.interaction_id = p_id AND h.xid = pg_current_xact_id()
         ORDER BY h.seq DESC LIMIT 1;
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(),
                              'referenceId', nullif(current_setting('interactions.ref', true), '')::bigint,
                              'interaction', coalesce(v_snap, interactions.snapshot(c.cc_id, p_id, p_full)));
END $$;

COMMENT ON FUNCTION interactions.done(interactions.caller, uuid, boolean) IS
  'The success document of an operation: its referenceId and the interaction after it.';

-- Move v back into a queue (p_queue, or its own) as nobody's.
CREATE OR REPLACE FUNCTION interactions.requeue(v interactions.interactions, p_queue uuid, p_op text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions.interactions i
       SET state = 'Queued', queue_id = coalesce(p_queue, v.queue_id), owner_id = NULL,
           invitee_id = NULL, offer_expires_at = NULL, workbin_id = NULL,
           declined_by = '{}', declined_until = NULL, queued_at = now(), updated_at = now()
     WHERE i.cc_id = v.cc_id AND i.id = v.id;
    PERFORM interactions.record(p_op, v, v.id);
    PERFORM interactions.route_interaction(v.cc_id, v.id);
END $$;
COMMENT ON FUNCTION interactions.requeue(interactions.interactions, uuid, text) IS
  'Places an interaction in a queue as nobody''s, records it and routes it.';

-- ------------------------------------------------------------------ POST /me/interactions/{id}

CREATE OR REPLACE FUNCTION interactions.api_operation(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_op      text := a->>'operationName';
    v         interactions.interactions;
    v_err     jsonb;
    v_q       uuid;
    v_w       interactions.workbins;
    v_target  interactions.caller;
    v_keys    text[];
    v_child   uuid;
    v_max     integer := (a->>'_maxUserData')::integer;
    v_others  uuid[];
    v_u       uuid;
BEGIN
    IF v_op = 'GetWorkbinContent' THEN
        RETURN interactions.op_get_workbin_content(c, a->>'workbin', (a->>'_maxBytes')::bigint);
    END IF;
    SELECT * INTO v FROM interactions.interactions
     WHERE cc_id = c.cc_id AND id = interactions.as_uuid(a->>'id') FOR UPDATE;
    IF NOT FOUND THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such interaction');
    END IF;

    CASE v_op
    WHEN 'Accept' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Invited']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        -- ring-all: the first Accept wins; everyone else it rang for is told Revoked at once
        v_others := ARRAY(SELECT u FROM unnest(v.invitee_id || interactions.ring_end(c.cc_id, v.id)) u
                           WHERE u <> c.id);
        UPDATE interactions.interactions SET state = 'Processing', owner_id = c.id, invitee_id = NULL,
               offer_expires_at = NULL, updated_at = now()
         WHERE cc_id = c.cc_id AND id = v.id;
        PERFORM interactions.record(v_op, v, v.id, NULL, 'StatusChange', v_others);
        PERFORM interactions.offer_answered(c.cc_id, c.id, v.media_type);
        PERFORM interactions.count_handled(c.cc_id, c.id, v.media_type);
        FOREACH v_u IN ARRAY v_others LOOP
            PERFORM interactions.route_agent(c.cc_id, v_u, v.media_type);
        END LOOP;

    WHEN 'Reject' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Invited']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        -- ring-all: while it rings for others it stays offered to them
        IF interactions.ring_drop(v, c.id, v_op) THEN
            PERFORM interactions.offer_answered(c.cc_id, c.id, v.media_type);
            PERFORM interactions.route_agent(c.cc_id, c.id, v.media_type);
            RETURN interactions.done(c, v.id);
        END IF;
        -- back in its queue at its old place, not offered to this agent again for one offer timeout
        UPDATE interactions.interactions i SET state = 'Queued', invitee_id = NULL, offer_expires_at = NULL,
               declined_by = CASE WHEN i.declined_until > now() THEN i.declined_by ELSE '{}' END || c.id,
               declined_until = now() + interactions.offer_timeout(i.cc_id, i.queue_id),
               updated_at = now()
         WHERE i.cc_id = c.cc_id AND i.id = v.id;
        PERFORM interactions.record(v_op, v, v.id);
        PERFORM interactions.offer_answered(c.cc_id, c.id, v.media_type);
        PERFORM interactions.route_interaction(c.cc_id, v.id);
        PERFORM interactions.route_agent(c.cc_id, c.id, v.media_type);

    WHEN 'Complete' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        IF a ? 'queueName' THEN
            v_q := interactions.find_queue(c.cc_id, a->>'queueName');
            IF v_q IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown queue'); END IF;
            IF NOT interactions.place_in_queue(v, v_q, v_op) THEN
                RETURN interactions.err(interactions.sc_state(), 'the queue is full (max_size)');
            END IF;
        ELSE
            UPDATE interactions.interactions SET state = 'Completed', owner_id = NULL, updated_at = now()
             WHERE cc_id = c.cc_id AND id = v.id;
            PERFORM interactions.record(v_op, v, v.id);
        END IF;
        -- the agent's work on it ended: idle time, and the queue's wrap-up, start now
        PERFORM interactions.work_ended(c.cc_id, c.id, v.media_type, v.queue_id);
        PERFORM interactions.route_agent(c.cc_id, c.id, v.media_type);

    WHEN 'PlaceInQueue' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        v_q := interactions.find_queue(c.cc_id, a->>'queueName');
        IF v_q IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown queue'); END IF;
        IF NOT interactions.place_in_queue(v, v_q, v_op) THEN
            RETURN interactions.err(interactions.sc_state(), 'the queue is full (max_size)');
        END IF;
        PERFORM interactions.work_ended(c.cc_id, c.id, v.media_type, v.queue_id);
        PERFORM interactions.route_agent(c.cc_id, c.id, v.media_type);

    WHEN 'PlaceInWorkbin' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        v_w := interactions.find_workbin(c, a->>'workbin');
        IF v_w.id IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown workbin'); END IF;
        UPDATE interactions.interactions SET state = 'InWorkbin', workbin_id = v_w.id, owner_id = NULL,
               updated_at = now()
         WHERE cc_id = c.cc_id AND id = v.id;
        PERFORM interactions.record(v_op, v, v.id);
        PERFORM interactions.work_ended(c.cc_id, c.id, v.media_type, v.queue_id);
        PERFORM interactions.route_agent(c.cc_id, c.id, v.media_type);

    WHEN 'Pull' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['InWorkbin']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        UPDATE interactions.interactions i SET state = 'Processing', owner_id = c.id, workbin_id = NULL,
               participants = CASE WHEN c.id = ANY (i.participants) THEN i.participants
                                   ELSE i.participants || c.id END,
               updated_at = now()
         WHERE i.cc_id = c.cc_id AND i.id = v.id;
        PERFORM interactions.record(v_op, v, v.id);

    WHEN 'Transfer' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        IF a ? 'queueName' THEN
            v_q := interactions.find_queue(c.cc_id, a->>'queueName');
            IF v_q IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown queue'); END IF;
            IF NOT interactions.place_in_queue(v, v_q, v_op) THEN
                RETURN interactions.err(interactions.sc_state(), 'the queue is full (max_size)');
            END IF;
        ELSE
            SELECT u.cc_id, u.id, u.login, u.roles INTO v_target FROM interactions.users u
             WHERE u.cc_id = c.cc_id
               AND (u.login = a->>'user' OR u.id = interactions.as_uuid(a->>'user'))
             ORDER BY (u.login = a->>'user') DESC
             LIMIT 1;
            IF v_target.id IS NULL OR NOT interactions.has_role(v_target, 'agent') THEN
                RETURN interactions.err(interactions.sc_invalid(), 'unknown target agent');
            END IF;
            IF v_target.id = c.id THEN
                RETURN interactions.err(interactions.sc_invalid(), 'cannot transfer to yourself');
            END IF;
            -- the same offer as routing makes: the target may reject it or let it expire, and
            -- then it goes back to the interaction's queue
            UPDATE interactions.interactions i
               SET state = 'Invited', owner_id = NULL, invitee_id = v_target.id,
                   declined_by = '{}', declined_until = NULL,
                   offer_expires_at = now() + interactions.offer_timeout(i.cc_id, i.queue_id),
                   participants = CASE WHEN v_target.id = ANY (i.participants) THEN i.participants
                                       ELSE i.participants || v_target.id END,
                   updated_at = now()
             WHERE i.cc_id = c.cc_id AND i.id = v.id;
            PERFORM interactions.record(v_op, v, v.id);
        END IF;
        PERFORM interactions.work_ended(c.cc_id, c.id, v.media_type, v.queue_id);
        PERFORM interactions.route_agent(c.cc_id, c.id, v.media_type);

    WHEN 'AttachUserData', 'UpdateUserData' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing', 'Composing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        IF v_op = 'AttachUserData' THEN
            SELECT array_agg(u.key ORDER BY u.key) INTO v_keys FROM interactions.user_data u
             WHERE u.cc_id = c.cc_id AND u.interaction_id = v.id AND a->'userData' ? u.key;
            IF v_keys IS NOT NULL THEN
                RETURN interactions.err(interactions.sc_exists(), format('user data key already exists: %s', array_to_string(v_keys, ', ')));
            END IF;
        END IF;
        INSERT INTO interactions.user_data (cc_id, interaction_id, key, value)
        SELECT c.cc_id, v.id, e.key, e.value FROM jsonb_each(a->'userData') e
        ON CONFLICT (cc_id, interaction_id, key) DO UPDATE SET value = EXCLUDED.value;
        IF NOT interactions.user_data_fits(c.cc_id, v.id, v_max) THEN
            RETURN interactions.err(interactions.sc_invalid(), format('the user data would exceed %s bytes', v_max));
        END IF;
        UPDATE interactions.interactions SET updated_at = now() WHERE cc_id = c.cc_id AND id = v.id;
        PERFORM interactions.record(v_op, v, v.id, jsonb_build_object('set', a->'userData'), 'PropertiesUpdated');

    WHEN 'DeleteUserData' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing', 'Composing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        WITH gone AS (
            DELETE FROM interactions.user_data u
             WHERE u.cc_id = c.cc_id AND u.interaction_id = v.id
               AND u.key IN (SELECT jsonb_array_elements_text(a->'keys'))
            RETURNING u.key)
        SELECT coalesce(array_agg(key ORDER BY key), '{}') INTO v_keys FROM gone;
        UPDATE interactions.interactions SET updated_at = now() WHERE cc_id = c.cc_id AND id = v.id;
        PERFORM interactions.record(v_op, v, v.id, jsonb_build_object('deleted', to_jsonb(v_keys)),
                                    'PropertiesUpdated');

    WHEN 'Reply', 'ReplyAll' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Processing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        IF v.media_type <> 'email' THEN
            RETURN interactions.err(interactions.sc_state(), format('%s is only possible for email', v_op));
        END IF;
        -- GWS clients may name the draft's queue (else the original's) and give its first body
        -- and user data
        IF a ? 'queueName' THEN
            v_q := interactions.find_queue(c.cc_id, a->>'queueName');
            IF v_q IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown queue'); END IF;
        END IF;
        INSERT INTO interactions.interactions (cc_id, media_type, state, queue_id, owner_id, parent_id,
               subject, from_address, to_addresses, cc_addresses, priority, participants, created_by, body)
        VALUES (c.cc_id, 'email', 'Composing', coalesce(v_q, v.queue_id), c.id, v.id,
               CASE WHEN v.subject ~* '^re:' THEN v.subject ELSE 'Re: ' || coalesce(v.subject, '') END,
               v.to_addresses[1],
               CASE WHEN v.from_address IS NULL THEN '{}' ELSE ARRAY[v.from_address] END,
               CASE WHEN v_op = 'ReplyAll'
                    THEN ARRAY(SELECT x FROM unnest(v.to_addresses[2:] || v.cc_addresses) x
                                WHERE x IS DISTINCT FROM v.to_addresses[1]
                                  AND x IS DISTINCT FROM v.from_address)
                    ELSE '{}' END,
               v.priority, ARRAY[c.id], c.id, a->>'body')
        RETURNING id INTO v_child;
        IF a ? 'userData' THEN
            INSERT INTO interactions.user_data (cc_id, interaction_id, key, value)
            SELECT c.cc_id, v_child, e.key, e.value FROM jsonb_each(a->'userData') e;
        END IF;
        PERFORM interactions.record(v_op, NULL, v_child);
        RETURN interactions.done(c, v_child);

    WHEN 'Cancel', 'Send' THEN
        v_err := interactions.refuse(c, v, v_op, ARRAY['Composing']);
        IF v_err IS NOT NULL THEN RETURN v_err; END IF;
        IF v_op = 'Send' AND cardinality(v.to_addresses) = 0 THEN
            RETURN interactions.err(interactions.sc_invalid(), 'the draft has no recipients (to)');
        END IF;
        UPDATE interactions.interactions SET state = CASE v_op WHEN 'Send' THEN 'Sent' ELSE 'Canceled' END,
               owner_id = NULL, updated_at = now()
         WHERE cc_id = c.cc_id AND id = v.id;
        PERFORM interactions.record(v_op, v, v.id);

    ELSE
        RETURN interactions.err(interactions.sc_invalid(), 'unknown operation');
    END CASE;
    RETURN interactions.done(c, v.id);
END $$;
COMMENT ON FUNCTION interactions.api_operation(interactions.caller, jsonb) IS
  'POST /me/interactions/{id}: Accept, Reject, Complete, PlaceInQueue, PlaceInWorkbin, Pull, Transfer, Attach/Update/DeleteUserData, Reply, ReplyAll, Cancel, Send.';

-- GetWorkbinContent: answered at once and also delivered on the push channel, through a
-- history row that concerns no interaction.  The row is the durable source of that message
-- and the DBA's record of the read, not a copy of the content: which workbin, how many
-- interactions it held, and the page bound of the call.  A copy of every interaction's
-- snapshot on every call let one agent add hundreds of megabytes to the append-only history
-- in seconds.  The push side renders the content when it delivers the message
-- (interactions.workbin_content_delivered), rights checked then.
CREATE OR REPLACE FUNCTION interactions.op_get_workbin_content(c interactions.caller, p_name text,
                                                               p_max bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    w     interactions.workbins;
    v_wb  jsonb;
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), 'workbins are for agents');
    END IF;
    w := interactions.find_workbin(c, p_name);
    IF w.id IS NULL THEN
        RETURN interactions.err(interactions.sc_invalid(), 'unknown workbin');
    END IF;
    v_wb := interactions.workbin_json(w, p_max);
    INSERT INTO interactions.history (cc_id, operation, actor_id, actor_login, reference_id,
                                      notification, audience, snapshot)
    VALUES (c.cc_id, 'GetWorkbinContent', c.id, c.login,
            nullif(current_setting('interactions.ref', true), '')::bigint, 'WorkbinContent',
            ARRAY[c.id],
            jsonb_build_object('workbin', w.id, 'name', w.name, 'type', v_wb->'type',
                               'count', v_wb->'count', 'maxBytes', p_max));
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(),
                              'referenceId', nullif(current_setting('interactions.ref', true), '')::bigint,
                              'workbin', v_wb);
END $$;
COMMENT ON FUNCTION interactions.op_get_workbin_content(interactions.caller, text, bigint) IS
  'GetWorkbinContent: the workbin''s content (at most p_max bytes of interactions), answered and also sent to the caller on the push channel; the history row records which workbin and how many interactions, not the content.';

-- The content of the WorkbinContent message of history row p_row for user c, rendered when
-- it is delivered: the workbin as it is now, if c may still use it (an agent; their personal
-- workbin or a shared one), else empty.  A row written before V007 carries its content.
CREATE OR REPLACE FUNCTION interactions.workbin_content_delivered(p_cc integer, c interactions.caller,
                                                                  p_row jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    w interactions.workbins;
BEGIN
    IF p_row ? 'interactions' THEN
        RETURN p_row;
    END IF;
    SELECT * INTO w FROM interactions.workbins x
     WHERE x.cc_id = p_cc AND x.id = interactions.as_uuid(p_row->>'workbin');
    IF w.id IS NULL OR NOT ('agent' = ANY (c.roles))
       OR (w.owner_id IS NOT NULL AND w.owner_id IS DISTINCT FROM c.id) THEN
        RETURN jsonb_build_object('name', p_row->'name', 'type', p_row->'type',
                                  'interactions', '[]'::jsonb, 'count', 0);
    END IF;
    RETURN interactions.workbin_json(w, (p_row->>'maxBytes')::bigint);
END $$;
COMMENT ON FUNCTION interactions.workbin_content_delivered(integer, interactions.caller, jsonb) IS
  'The workbin content of a WorkbinContent history row as user c gets it on delivery: the workbin as it is then, if c may still use it, else empty.';

-- ------------------------------------------------------------------ PUT /interactions/{id}

-- userData is replaced as a whole; subject, to, cc and body are writable only while the
-- interaction is a Composing draft.  The owning agent or an admin may update.
CREATE OR REPLACE FUNCTION interactions.api_update(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v      interactions.interactions;
    v_max  integer := (a->>'_maxUserData')::integer;
BEGIN
    SELECT * INTO v FROM interactions.interactions
     WHERE cc_id = c.cc_id AND id = interactions.as_uuid(a->>'id') FOR UPDATE;
    IF NOT FOUND THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such interaction');
    END IF;
    IF NOT (interactions.has_role(c, 'admin')
            OR (interactions.has_role(c, 'agent') AND v.owner_id IS NOT DISTINCT FROM c.id)) THEN
        RETURN interactions.err(interactions.sc_permission(), 'only its owner or an admin may update an interaction');
    END IF;
    IF v.state IN ('Completed', 'Canceled', 'Sent') THEN
        RETURN interactions.err(interactions.sc_state(), format('a %s interaction cannot change', v.state));
    END IF;
    IF v.state <> 'Composing' AND (a ?| ARRAY['subject', 'to', 'cc', 'body']) THEN
        RETURN interactions.err(interactions.sc_read_only(), 'subject, to, cc and body are read-only unless the interaction is a Composing draft');
    END IF;
    UPDATE interactions.interactions i
       SET subject = CASE WHEN a ? 'subject' THEN a->>'subject' ELSE i.subject END,
           to_addresses = CASE WHEN a ? 'to' THEN ARRAY(SELECT jsonb_array_elements_text(a->'to')) ELSE i.to_addresses END,
           cc_addresses = CASE WHEN a ? 'cc' THEN ARRAY(SELECT jsonb_array_elements_text(a->'cc')) ELSE i.cc_addresses END,
           body = CASE WHEN a ? 'body' THEN a->>'body' ELSE i.body END,
           updated_at = now()
     WHERE i.cc_id = c.cc_id AND i.id = v.id;
    IF a ? 'userData' THEN
        DELETE FROM interactions.user_data WHERE cc_id = c.cc_id AND interaction_id = v.id;
        INSERT INTO interactions.user_data (cc_id, interaction_id, key, value)
        SELECT c.cc_id, v.id, e.key, e.value FROM jsonb_each(a->'userData') e;
        IF NOT interactions.user_data_fits(c.cc_id, v.id, v_max) THEN
            RETURN interactions.err(interactions.sc_invalid(), format('the user data would exceed %s bytes', v_max));
        END IF;
    END IF;
    PERFORM interactions.record('Update', v, v.id,
        CASE WHEN a ? 'userData' THEN jsonb_build_object('cleared', true, 'set', a->'userData') END,
        'PropertiesUpdated');
    RETURN interactions.done(c, v.id, true);
END $$;
COMMENT ON FUNCTION interactions.api_update(interactions.caller, jsonb) IS
  'PUT /interactions/{id}: replace userData; subject/to/cc/body of a Composing draft.';

-- ------------------------------------------------------------------ channels and workbins

-- POST /me/channels/{media}: the state the agent chooses for one channel (CONTRACT 8.2).
-- Ready (routing offers at once), NotReady with an optional provisioned reason, or
-- AfterCallWork (no end: until the agent chooses another state).  Choosing ends a wrap-up
-- and a run of missed offers; a LoggedOut channel is logged in by it.  While Do Not Disturb
-- is on the channel keeps it: statusCode 2, DoNotDisturbOff first.
CREATE OR REPLACE FUNCTION interactions.api_channel(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_media  text := a->>'media';
    v_state  text := a->>'operationName';
    v_reason text := a->>'reason';
    ch       interactions.agent_channels;
    v_new    interactions.agent_channels;
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), 'channels are for agents');
    END IF;
    IF v_state NOT IN ('Ready', 'NotReady', 'AfterCallWork') THEN
        RETURN interactions.err(interactions.sc_invalid(), 'unknown operation (Ready, NotReady or AfterCallWork)');
    END IF;
    IF v_reason IS NOT NULL AND (v_state <> 'NotReady' OR NOT EXISTS (
            SELECT 1 FROM interactions.not_ready_reasons r
             WHERE r.cc_id = c.cc_id AND r.name = v_reason AND r.name <> 'MissedOffers')) THEN
        RETURN interactions.err(interactions.sc_invalid(),
            CASE WHEN v_state <> 'NotReady' THEN 'only NotReady takes a reason'
                 ELSE format('unknown reason %s', left(v_reason, 64)) END);
    END IF;
    ch := interactions.channel_for_update(c, v_media, (a->>'_maxChannels')::integer);
    IF ch.user_id IS NULL THEN
        RETURN interactions.err(interactions.sc_invalid(),
            format('an agent may have at most %s channels', a->>'_maxChannels'));
    END IF;
    IF ch.state = 'DoNotDisturb' THEN
        RETURN interactions.err(interactions.sc_state(), 'Do Not Disturb is on: DoNotDisturbOff first');
    END IF;
    v_new := ch;
    v_new.state := v_state;
    v_new.reason := v_reason;
    v_new.wrap_up_until := NULL;
    v_new.missed_offers := 0;
    PERFORM interactions.channel_write(ch, v_new, 'Agent', false);
    IF v_state = 'Ready' THEN
        PERFORM interactions.route_agent(c.cc_id, c.id, v_media);
    END IF;
    RETURN interactions.api_me(c) || jsonb_build_object(
        'referenceId', nullif(current_setting('interactions.ref', true), '')::bigint);
END $$;
COMMENT ON FUNCTION interactions.api_channel(interactions.caller, jsonb) IS
  'POST /me/channels/{media}: Ready (routing may offer work of this media, and does at once), NotReady with an optional reason (keeps current work, gets nothing new) or AfterCallWork; refused (2) while Do Not Disturb is on.';

-- POST /me: the agent's session and Do Not Disturb, over all their channels (CONTRACT 8.2).
--   StartContactCenterSession {"channels":[..]}: the named channels NotReady (created if
--     new, a NotReady one keeps its reason), every other channel LoggedOut; Do Not Disturb
--     ends.
--   EndContactCenterSession: every channel LoggedOut.
--   A channel going LoggedOut must hold no Processing interaction of its media (statusCode
--   2, nothing changed); its offers are withdrawn and routed to others.
--   DoNotDisturbOn: every logged-in channel DoNotDisturb, its state kept; DoNotDisturbOff:
--     back to the kept state (a timed wrap-up that ended meanwhile: Ready).
-- Channels are locked in media order, after the interactions whose offers are withdrawn
-- (see the lock order at the top of 045_agent_states.sql).
CREATE OR REPLACE FUNCTION interactions.api_me_state(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_op     text := a->>'operationName';
    v_named  text[];
    v_busy   text;
    ch       interactions.agent_channels;
    v_new    interactions.agent_channels;
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), 'the contact-center session is for agents');
    END IF;
    IF v_op NOT IN ('StartContactCenterSession', 'EndContactCenterSession', 'DoNotDisturbOn', 'DoNotDisturbOff') THEN
        RETURN interactions.err(interactions.sc_invalid(), 'unknown operation');
    END IF;
    IF v_op IN ('StartContactCenterSession', 'EndContactCenterSession') THEN
        v_named := CASE WHEN v_op = 'StartContactCenterSession'
                        THEN ARRAY(SELECT DISTINCT m FROM jsonb_array_elements_text(a->'channels') m ORDER BY m)
                        ELSE '{}' END;
        -- offers first (their interactions are locked before any channel), then the work
        -- that may not be logged out: the caller's Processing interactions of the channels
        -- going LoggedOut, read after the offers are withdrawn so that an Accept that won
        -- the race for one is seen
        PERFORM interactions.withdraw_offers(c.cc_id, c.id, v_named);
        SELECT min(i.media_type) INTO v_busy FROM interactions.interactions i
         WHERE i.cc_id = c.cc_id AND i.owner_id = c.id AND i.state = 'Processing'
           AND NOT (i.media_type = ANY (v_named));
        IF v_busy IS NOT NULL THEN
            RETURN interactions.err(interactions.sc_state(),
                format('you are working on %s interactions: complete them, or place them elsewhere, before logging the channel out', v_busy));
        END IF;
        -- every channel of the agent in media order, then the new ones: two requests of
        -- one agent take them in the same order
        PERFORM 1 FROM interactions.agent_channels x
          WHERE x.cc_id = c.cc_id AND x.user_id = c.id ORDER BY x.media FOR UPDATE;
        FOREACH v_busy IN ARRAY v_named LOOP
            IF interactions.channel_for_update(c, v_busy, (a->>'_maxChannels')::integer) IS NULL THEN
                RETURN interactions.err(interactions.sc_invalid(),
                    format('an agent may have at most %s channels', a->>'_maxChannels'));
            END IF;
        END LOOP;
    END IF;
    FOR ch IN SELECT * FROM interactions.agent_channels x
               WHERE x.cc_id = c.cc_id AND x.user_id = c.id
               ORDER BY x.media
                 FOR UPDATE
    LOOP
        v_new := ch;
        IF v_op = 'DoNotDisturbOn' THEN
            CONTINUE WHEN ch.state IN ('LoggedOut', 'DoNotDisturb');
            v_new.dnd_state := ch.state;
            v_new.dnd_reason := ch.reason;
            v_new.state := 'DoNotDisturb';
            v_new.reason := NULL;
        ELSIF v_op = 'DoNotDisturbOff' THEN
            CONTINUE WHEN ch.state <> 'DoNotDisturb';
            v_new := interactions.dnd_return(ch);
        ELSIF ch.media = ANY (v_named) THEN
            CONTINUE WHEN ch.state = 'NotReady';
            v_new := CASE WHEN ch.state = 'DoNotDisturb' THEN interactions.dnd_return(ch) ELSE ch END;
            v_new.state := 'NotReady';
            v_new.reason := NULL;
            v_new.wrap_up_until := NULL;
            v_new.missed_offers := 0;
        ELSE
            CONTINUE WHEN ch.state = 'LoggedOut';
            v_new.state := 'LoggedOut';
            v_new.reason := NULL;
            v_new.wrap_up_until := NULL;
            v_new.dnd_state := NULL;
            v_new.dnd_reason := NULL;
            v_new.missed_offers := 0;
        END IF;
        v_new := interactions.channel_write(ch, v_new,
            CASE WHEN v_op LIKE 'DoNotDisturb%' THEN 'DoNotDisturb' ELSE 'Session' END, false);
        IF v_new.state = 'Ready' THEN
            PERFORM interactions.route_agent(c.cc_id, c.id, v_new.media);
        END IF;
    END LOOP;
    RETURN interactions.api_me(c) || jsonb_build_object(
        'referenceId', nullif(current_setting('interactions.ref', true), '')::bigint);
END $$;
COMMENT ON FUNCTION interactions.api_me_state(interactions.caller, jsonb) IS
  'POST /me: StartContactCenterSession (named channels NotReady, others LoggedOut), EndContactCenterSession (all LoggedOut; refused with 2 while the agent has Processing interactions), DoNotDisturbOn/Off.';

CREATE OR REPLACE FUNCTION interactions.api_workbins(c interactions.caller)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), 'workbins are for agents');
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'workbins', coalesce((
        SELECT jsonb_agg(jsonb_build_object(
                   'name', w.name,
                   'type', CASE WHEN w.owner_id IS NULL THEN 'shared' ELSE 'personal' END,
                   'count', (SELECT count(*) FROM interactions.interactions i
                              WHERE i.cc_id = w.cc_id AND i.workbin_id = w.id AND i.state = 'InWorkbin'))
               ORDER BY w.owner_id NULLS LAST, w.name)
          FROM interactions.workbins w
         WHERE w.cc_id = c.cc_id AND (w.owner_id = c.id OR w.owner_id IS NULL)), '[]'::jsonb));
END $$;
COMMENT ON FUNCTION interactions.api_workbins(interactions.caller) IS
  'GET /me/workbins: the agent''s personal workbins and the shared ones, with how many interactions each holds.';

CREATE OR REPLACE FUNCTION interactions.api_workbin(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    w interactions.workbins;
BEGIN
    IF NOT interactions.has_role(c, 'agent') THEN
        RETURN interactions.err(interactions.sc_permission(), 'workbins are for agents');
    END IF;
    w := interactions.find_workbin(c, a->>'name');
    IF w.id IS NULL THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such workbin');
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(),
                              'workbin', interactions.workbin_json(w, (a->>'_maxBytes')::bigint));
END $$;
COMMENT ON FUNCTION interactions.api_workbin(interactions.caller, jsonb) IS
  'GET /me/workbins/{name}: a workbin the agent may use and its content.';

-- ------------------------------------------------------------------ supervisors (CONTRACT 8.2)

-- An agent as GET /agents shows them: {"id","userName","channels":[{"channel","userState",
-- "capacity"}]}, only the channels of media p_media and in state p_state when given.
CREATE OR REPLACE FUNCTION interactions.agent_json(p_cc integer, p_user uuid, p_login text,
                                                   p_media text DEFAULT NULL, p_state text DEFAULT NULL)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN jsonb_build_object('id', p_user, 'userName', p_login, 'channels', coalesce((
        SELECT jsonb_agg(jsonb_build_object('channel', ch.media,
                                            'userState', interactions.user_state_of(ch),
                                            'capacity', ch.capacity) ORDER BY ch.media)
          FROM interactions.agent_channels ch
         WHERE ch.cc_id = p_cc AND ch.user_id = p_user
           AND (p_media IS NULL OR ch.media = p_media)
           AND (p_state IS NULL OR ch.state = p_state)), '[]'::jsonb));
END $$;
COMMENT ON FUNCTION interactions.agent_json(integer, uuid, text, text, text) IS
  'An agent as GET /agents shows them ({"id","userName","channels":[{"channel","userState","capacity"}]}), only the channels of p_media / in p_state when given.';

-- GET /agents (supervisors, admins): the contact center's enabled agents in userName order,
-- each with their channels.  media= and state= keep the agents having such a channel and
-- show only those channels (a channel the agent never used does not exist: it is not
-- listed, not even as LoggedOut); queue= keeps the queue's members (an unknown queue: none).
CREATE OR REPLACE FUNCTION interactions.api_agents(c interactions.caller, a jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_media  text := a->>'media';
    v_state  text := a->>'state';
    v_queue  uuid;
    v_limit  integer := coalesce((a->>'limit')::integer, 100);
    v_offset integer := coalesce((a->>'offset')::integer, 0);
    v_total  bigint;
    v_agents jsonb;
BEGIN
    IF NOT interactions.has_role(c, 'supervisor', 'admin') THEN
        RETURN interactions.err(interactions.sc_permission(), 'listing agents needs the supervisor or admin role');
    END IF;
    IF a ? 'queue' THEN
        v_queue := interactions.find_queue(c.cc_id, a->>'queue');
        IF v_queue IS NULL THEN
            RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'agents', '[]'::jsonb,
                                      'totalCount', 0, 'limit', v_limit, 'offset', v_offset);
        END IF;
    END IF;
    -- the filter once, as in interactions.api_list()
    WITH matching AS NOT MATERIALIZED (
        SELECT u.id, u.login FROM interactions.users u
         WHERE u.cc_id = c.cc_id AND NOT u.disabled AND 'agent' = ANY (u.roles)
           AND (v_queue IS NULL OR EXISTS (
                    SELECT 1 FROM interactions.queue_members m
                     WHERE m.cc_id = u.cc_id AND m.queue_id = v_queue AND m.user_id = u.id))
           AND ((v_media IS NULL AND v_state IS NULL) OR EXISTS (
                    SELECT 1 FROM interactions.agent_channels ch
                     WHERE ch.cc_id = u.cc_id AND ch.user_id = u.id
                       AND (v_media IS NULL OR ch.media = v_media)
                       AND (v_state IS NULL OR ch.state = v_state))))
    SELECT (SELECT count(*) FROM matching),
           (SELECT coalesce(jsonb_agg(interactions.agent_json(c.cc_id, p.id, p.login, v_media, v_state)
                                      ORDER BY p.login), '[]'::jsonb)
              FROM (SELECT m.id, m.login FROM matching m
                     ORDER BY m.login LIMIT v_limit OFFSET v_offset) p)
      INTO v_total, v_agents;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(), 'agents', v_agents,
                              'totalCount', v_total, 'limit', v_limit, 'offset', v_offset);
END $$;
COMMENT ON FUNCTION interactions.api_agents(interactions.caller, jsonb) IS
  'GET /agents (supervisor, admin): enabled agents with their channels and states; filters media, state (agents with such a channel, only those channels shown), queue (its members); paging limit/offset.';

-- POST /agents/{userName}/channels/{media} (supervisors, admins): the agent's channel is
-- put in the state named, as the agent's own POST /me/channels/{media} would (Ready,
-- NotReady with a provisioned reason, AfterCallWork without end), recorded with the
-- supervisor as actor and cause Supervisor.  What a forced state does:
--   * it ends a wrap-up (timed or not) and a run of missed offers, as the agent's choice does;
--   * it ends Do Not Disturb on that channel (the supervisor's decision wins);
--   * current work and an offer already made stay with the agent (NotReady gets nothing new);
--   * a LoggedOut channel, or one the agent never used, is refused (statusCode 2): logging
--     in is the agent's own act (StartContactCenterSession), so no one is routed work who is
--     not at their desk.
CREATE OR REPLACE FUNCTION interactions.api_agent_channel(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_media  text := a->>'media';
    v_state  text := a->>'operationName';
    v_reason text := a->>'reason';
    v_target interactions.caller;
    ch       interactions.agent_channels;
    v_new    interactions.agent_channels;
BEGIN
    IF NOT interactions.has_role(c, 'supervisor', 'admin') THEN
        RETURN interactions.err(interactions.sc_permission(), 'setting an agent''s state needs the supervisor or admin role');
    END IF;
    IF v_state IS NULL OR v_state NOT IN ('Ready', 'NotReady', 'AfterCallWork') THEN
        RETURN interactions.err(interactions.sc_invalid(), 'unknown operation (Ready, NotReady or AfterCallWork)');
    END IF;
    IF v_reason IS NOT NULL AND (v_state <> 'NotReady' OR NOT EXISTS (
            SELECT 1 FROM interactions.not_ready_reasons r
             WHERE r.cc_id = c.cc_id AND r.name = v_reason AND r.name <> 'MissedOffers')) THEN
        RETURN interactions.err(interactions.sc_invalid(),
            CASE WHEN v_state <> 'NotReady' THEN 'only NotReady takes a reason'
                 ELSE format('unknown reason %s', left(v_reason, 64)) END);
    END IF;
    SELECT u.cc_id, u.id, u.login, u.roles INTO v_target FROM interactions.users u
     WHERE u.cc_id = c.cc_id AND u.login = a->>'user' AND NOT u.disabled;
    IF v_target.id IS NULL OR NOT interactions.has_role(v_target, 'agent') THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such agent');
    END IF;
    SELECT * INTO ch FROM interactions.agent_channels x
     WHERE x.cc_id = c.cc_id AND x.user_id = v_target.id AND x.media = v_media FOR UPDATE;
    IF NOT FOUND OR ch.state = 'LoggedOut' THEN
        RETURN interactions.err(interactions.sc_state(),
            format('%s is not logged in on the %s channel: logging in is the agent''s own StartContactCenterSession',
                   v_target.login, left(v_media, 64)));
    END IF;
    v_new := ch;
    v_new.state := v_state;
    v_new.reason := v_reason;
    v_new.wrap_up_until := NULL;
    v_new.dnd_state := NULL;
    v_new.dnd_reason := NULL;
    v_new.missed_offers := 0;
    PERFORM interactions.channel_write(ch, v_new, 'Supervisor', false);
    IF v_state = 'Ready' THEN
        PERFORM interactions.route_agent(c.cc_id, v_target.id, v_media);
    END IF;
    RETURN jsonb_build_object('statusCode', interactions.sc_ok(),
        'referenceId', nullif(current_setting('interactions.ref', true), '')::bigint,
        'agent', interactions.agent_json(c.cc_id, v_target.id, v_target.login));
END $$;
COMMENT ON FUNCTION interactions.api_agent_channel(interactions.caller, jsonb) IS
  'POST /agents/{userName}/channels/{media} (supervisor, admin): forces Ready, NotReady (reason) or AfterCallWork on an agent''s logged-in channel, ending wrap-up and Do Not Disturb there; refused (2) for a LoggedOut channel. Recorded with the supervisor as actor, cause Supervisor.';

-- POST /interactions/{id} (supervisors, admins): move any active interaction of the contact
-- center — Queued, Invited, Processing or InWorkbin; a Composing draft is its author's —
-- with the agent's operation bodies: Transfer (to an agent: offered to them as routing
-- would; or to a queueName), PlaceInQueue, PlaceInWorkbin (a shared workbin, or the
-- supervisor's own).  Recorded with the supervisor as actor.  An agent the interaction is
-- taken from is told: an offer withdrawn arrives as Revoked; an owner sees it leave, and
-- their work on it has ended (idle time and the queue's wrap-up start, as when they move it
-- themselves).  Every check comes before every write.
CREATE OR REPLACE FUNCTION interactions.api_supervise(c interactions.caller, a jsonb)
RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    v_op      text := a->>'operationName';
    v         interactions.interactions;
    v_q       uuid;
    v_w       interactions.workbins;
    v_target  interactions.caller;
    v_revoked uuid[] := '{}';
    v_admit   uuid;
BEGIN
    IF NOT interactions.has_role(c, 'supervisor', 'admin') THEN
        RETURN interactions.err(interactions.sc_permission(), 'moving interactions needs the supervisor or admin role');
    END IF;
    IF v_op IS NULL OR v_op NOT IN ('Transfer', 'PlaceInQueue', 'PlaceInWorkbin') THEN
        RETURN interactions.err(interactions.sc_invalid(), 'unknown operation (Transfer, PlaceInQueue or PlaceInWorkbin)');
    END IF;
    SELECT * INTO v FROM interactions.interactions
     WHERE cc_id = c.cc_id AND id = interactions.as_uuid(a->>'id') FOR UPDATE;
    IF NOT FOUND THEN
        RETURN interactions.err(interactions.sc_not_found(), 'no such interaction');
    END IF;
    IF v.state NOT IN ('Queued', 'Invited', 'Processing', 'InWorkbin') THEN
        RETURN interactions.err(interactions.sc_state(), format('%s is not possible while the interaction is %s', v_op, v.state));
    END IF;
    IF v_op = 'PlaceInQueue' OR (v_op = 'Transfer' AND a ? 'queueName') THEN
        v_q := interactions.find_queue(c.cc_id, a->>'queueName');
        IF v_q IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown queue'); END IF;
        -- the queue's max_size holds for supervisors too: its overflow queue, or refused
        v_admit := interactions.queue_admit(c.cc_id, v_q);
        IF v_admit IS NULL THEN
            RETURN interactions.err(interactions.sc_state(), 'the queue is full (max_size)');
        END IF;
        IF v_admit <> v_q THEN
            PERFORM set_config('interactions.routing',
                interactions.overflow_note(c.cc_id, 'max_size', v_q, v_admit)::text, true);
            v_q := v_admit;
        END IF;
    ELSIF v_op = 'PlaceInWorkbin' THEN
        v_w := interactions.find_workbin(c, a->>'workbin');
        IF v_w.id IS NULL THEN RETURN interactions.err(interactions.sc_invalid(), 'unknown workbin'); END IF;
    ELSE
        SELECT u.cc_id, u.id, u.login, u.roles INTO v_target FROM interactions.users u
         WHERE u.cc_id = c.cc_id AND NOT u.disabled
           AND (u.login = a->>'user' OR u.id = interactions.as_uuid(a->>'user'))
         ORDER BY (u.login = a->>'user') DESC
         LIMIT 1;
        IF v_target.id IS NULL OR NOT interactions.has_role(v_target, 'agent') THEN
            RETURN interactions.err(interactions.sc_invalid(), 'unknown target agent');
        END IF;
        IF v_target.id IN (v.owner_id, v.invitee_id) THEN
            RETURN interactions.err(interactions.sc_invalid(), format('the interaction is already with %s', v_target.login));
        END IF;
    END IF;

    IF v.state = 'Invited' THEN
        v_revoked := ARRAY[v.invitee_id];
    END IF;
    IF v_q IS NOT NULL THEN
        UPDATE interactions.interactions i
           SET state = 'Queued', queue_id = v_q, owner_id = NULL, invitee_id = NULL,
               offer_expires_at = NULL, workbin_id = NULL,
               -- what was taken from an agent is not offered to them again at once
               declined_by = CASE WHEN v.state IN ('Invited', 'Processing')
                                  THEN ARRAY[coalesce(v.invitee_id, v.owner_id)] ELSE '{}' END,
               declined_until = CASE WHEN v.state IN ('Invited', 'Processing')
                                     THEN now() + interactions.offer_timeout(i.cc_id, v_q) END,
               queued_at = now(), updated_at = now()
         WHERE i.cc_id = c.cc_id AND i.id = v.id;
    ELSIF v_w.id IS NOT NULL THEN
        UPDATE interactions.interactions i
           SET state = 'InWorkbin', workbin_id = v_w.id, owner_id = NULL, invitee_id = NULL,
               offer_expires_at = NULL, updated_at = now()
         WHERE i.cc_id = c.cc_id AND i.id = v.id;
    ELSE
        -- the same offer as an agent's Transfer makes: rejected or expired, it goes back to
        -- the interaction's queue
        UPDATE interactions.interactions i
           SET state = 'Invited', owner_id = NULL, invitee_id = v_target.id, workbin_id = NULL,
               declined_by = '{}', declined_until = NULL,
               offer_expires_at = now() + interactions.offer_timeout(i.cc_id, i.queue_id),
               participants = CASE WHEN v_target.id = ANY (i.participants) THEN i.participants
                                   ELSE i.participants || v_target.id END,
               updated_at = now()
         WHERE i.cc_id = c.cc_id AND i.id = v.id;
    END IF;
    PERFORM interactions.record(v_op, v, v.id, NULL, 'StatusChange', v_revoked);
    PERFORM set_config('interactions.routing', '', true);
    -- the owner's work on it ended before it is routed again: their wrap-up starts and their
    -- idle time restarts, so routing does not hand it straight back to them
    IF v.state = 'Processing' THEN
        PERFORM interactions.work_ended(c.cc_id, v.owner_id, v.media_type, v.queue_id);
    END IF;
    IF v_q IS NOT NULL THEN
        PERFORM interactions.route_interaction(c.cc_id, v.id);
    END IF;
    -- the agent it was taken from has room again
    IF v.state IN ('Processing', 'Invited') THEN
        PERFORM interactions.route_agent(c.cc_id, coalesce(v.owner_id, v.invitee_id), v.media_type);
    END IF;
    RETURN interactions.done(c, v.id);
END $$;
COMMENT ON FUNCTION interactions.api_supervise(interactions.caller, jsonb) IS
  'POST /interactions/{id} (supervisor, admin): Transfer (to an agent or queueName), PlaceInQueue or PlaceInWorkbin of any Queued, Invited, Processing or InWorkbin interaction, with the supervisor as actor; an offer withdrawn is told Revoked, an owner''s work ends (idle time, wrap-up).';
