-- Routing policy per queue (CONTRACT 8.3): the provisioning of strategies, skills and
-- limits, and what routing keeps for them.  Routing itself is sql/functions/050_routing.sql.
--
-- The provisioning functions are for DBAs (SECURITY DEFINER, owned by interactions_system,
-- not executable by the module's role).  Each one that changes something writes a row of
-- interactions.config_history in the same transaction, so "who changed this queue and
-- when" has one answer.

-- ------------------------------------------------------------------ kept by routing

-- An Accept: one more interaction handled today on the channel (least-handled routing).
-- Only the agent's own Accepts write this row.
CREATE OR REPLACE FUNCTION interactions.count_handled(p_cc integer, p_user uuid, p_media text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO interactions.agent_handled AS h (cc_id, user_id, media, day, handled)
    VALUES (p_cc, p_user, p_media, current_date, 1)
    ON CONFLICT ON CONSTRAINT agent_handled_pkey DO UPDATE
       SET handled = CASE WHEN h.day = current_date THEN h.handled + 1 ELSE 1 END, day = current_date;
END $$;
COMMENT ON FUNCTION interactions.count_handled(integer, uuid, text) IS
  'Counts an accepted interaction against the agent''s day on that media (interactions.agent_handled, least-handled routing).';

-- ------------------------------------------------------------------ provisioning (DBAs)

-- One row of the configuration history.
CREATE OR REPLACE FUNCTION interactions.config_changed(p_cc integer, p_function text, p_target text,
                                                       p_change jsonb)
RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$
    INSERT INTO interactions.config_history (cc_id, function, target, change)
    VALUES (p_cc, p_function, p_target, p_change)
$$;
COMMENT ON FUNCTION interactions.config_changed(integer, text, text, jsonb) IS
  'Appends a row to interactions.config_history (the provisioning functions call it when they changed something).';

-- A queue's settings as set_queue_policy takes and returns them.
CREATE OR REPLACE FUNCTION interactions.queue_settings(p_cc integer, p_queue uuid)
RETURNS jsonb LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
    SELECT jsonb_build_object(
        'offer_timeout', q.offer_timeout::text, 'wrap_up', q.wrap_up::text,
        'max_no_answer', q.max_no_answer, 'strategy', q.strategy,
        'priority_per_minute', q.priority_per_minute, 'max_wait', q.max_wait::text,
        'overflow_queue', o.name, 'max_size', q.max_size,
        'service_level_threshold', q.service_level_threshold::text)
      FROM interactions.queues q
      LEFT JOIN interactions.queues o ON o.cc_id = q.cc_id AND o.id = q.overflow_queue_id
     WHERE q.cc_id = p_cc AND q.id = p_queue
$$;
COMMENT ON FUNCTION interactions.queue_settings(integer, uuid) IS
  'A queue''s settings (the keys of set_queue_policy) as one JSON object.';

-- Whether the Queued work of queue p_queue (NULL: every queue of the contact center) is
-- unservable, written again after a change of skills, requirements or members; work that
-- has become servable is offered by the next maintenance tick.
CREATE OR REPLACE FUNCTION interactions.recheck_unservable(p_cc integer, p_queue uuid)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_n integer;
BEGIN
    UPDATE interactions.interactions i
       SET unservable = x.nobody
      FROM (SELECT j.id, interactions.nobody_can_serve(j.cc_id, j.queue_id,
                                                      interactions.requirements(j.cc_id, j.queue_id, j.id)) AS nobody
              FROM interactions.interactions j
             WHERE j.cc_id = p_cc AND j.state = 'Queued' AND (p_queue IS NULL OR j.queue_id = p_queue)) x
     WHERE i.cc_id = p_cc AND i.id = x.id AND i.unservable IS DISTINCT FROM x.nobody;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.recheck_unservable(integer, uuid) IS
  'Re-evaluates the unservable flag of a queue''s waiting work (all queues when p_queue is NULL) after provisioning; returns how many flags changed.';

-- A queue's settings from a JSON object; keys not given keep their value, an unknown key or
-- a value of the wrong type or range raises (and nothing changes).  Returns the settings
-- after.  Keys: offer_timeout, wrap_up, max_wait (intervals: text such as '30 seconds' or a
-- number of seconds; max_wait may be null), max_no_answer (integer, 0: never), strategy,
-- priority_per_minute (number >= 0), overflow_queue (a queue's name or null), max_size
-- (integer >= 0 or null).
CREATE OR REPLACE FUNCTION interactions.set_queue_policy(contact_center text, queue text, policy jsonb)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_cc     integer := interactions.cc_by_name(contact_center);
    v_q      uuid := interactions.find_queue(v_cc, queue);
    v_key    text;
    v_before jsonb;
    v_after  jsonb;
    v_over   uuid;
    v_val    jsonb;
BEGIN
    IF v_q IS NULL THEN
        RAISE EXCEPTION 'unknown queue "%" in contact center "%"', queue, contact_center USING ERRCODE = 'no_data_found';
    END IF;
    IF policy IS NULL OR jsonb_typeof(policy) <> 'object' THEN
        RAISE EXCEPTION 'the policy must be a JSON object' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR v_key, v_val IN SELECT e.key, e.value FROM jsonb_each(policy) e LOOP
        IF v_key NOT IN ('offer_timeout', 'wrap_up', 'max_no_answer', 'strategy', 'priority_per_minute',
                         'max_wait', 'overflow_queue', 'max_size', 'service_level_threshold') THEN
            RAISE EXCEPTION 'unknown queue setting "%" (offer_timeout, wrap_up, max_no_answer, strategy, priority_per_minute, max_wait, overflow_queue, max_size, service_level_threshold)', v_key
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (v_key IN ('max_no_answer', 'priority_per_minute', 'max_size') AND jsonb_typeof(v_val) NOT IN ('number', 'null'))
           OR (v_key IN ('max_no_answer', 'priority_per_minute') AND jsonb_typeof(v_val) = 'null')
           OR (v_key IN ('max_no_answer', 'max_size') AND jsonb_typeof(v_val) = 'number'
               AND (v_val #>> '{}')::numeric <> trunc((v_val #>> '{}')::numeric))
           OR (v_key IN ('strategy') AND jsonb_typeof(v_val) <> 'string')
           OR (v_key IN ('overflow_queue') AND jsonb_typeof(v_val) NOT IN ('string', 'null'))
           OR (v_key IN ('offer_timeout', 'wrap_up', 'service_level_threshold') AND jsonb_typeof(v_val) NOT IN ('string', 'number'))
           OR (v_key IN ('max_wait') AND jsonb_typeof(v_val) NOT IN ('string', 'number', 'null')) THEN
            RAISE EXCEPTION 'queue setting "%": % is not a valid value', v_key, v_val
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    IF policy ? 'strategy'
       AND policy->>'strategy' NOT IN ('longest-idle', 'round-robin', 'least-handled', 'random', 'ring-all') THEN
        RAISE EXCEPTION 'unknown strategy "%" (longest-idle, round-robin, least-handled, random, ring-all)', policy->>'strategy'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(policy->'overflow_queue') = 'string' THEN
        v_over := interactions.find_queue(v_cc, policy->>'overflow_queue');
        IF v_over IS NULL THEN
            RAISE EXCEPTION 'unknown overflow queue "%"', policy->>'overflow_queue' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF v_over = v_q THEN
            RAISE EXCEPTION 'a queue cannot overflow into itself' USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;
    v_before := interactions.queue_settings(v_cc, v_q);
    UPDATE interactions.queues q
       SET offer_timeout = CASE WHEN policy ? 'offer_timeout' THEN interactions.policy_interval(policy->'offer_timeout')
                                ELSE q.offer_timeout END,
           wrap_up = CASE WHEN policy ? 'wrap_up' THEN interactions.policy_interval(policy->'wrap_up')
                          ELSE q.wrap_up END,
           max_no_answer = CASE WHEN policy ? 'max_no_answer' THEN (policy->>'max_no_answer')::integer
                                ELSE q.max_no_answer END,
           strategy = coalesce(policy->>'strategy', q.strategy),
           priority_per_minute = CASE WHEN policy ? 'priority_per_minute' THEN (policy->>'priority_per_minute')::numeric
                                      ELSE q.priority_per_minute END,
           max_wait = CASE WHEN NOT policy ? 'max_wait' THEN q.max_wait
                           WHEN jsonb_typeof(policy->'max_wait') = 'null' THEN NULL
                           ELSE interactions.policy_interval(policy->'max_wait') END,
           overflow_queue_id = CASE WHEN policy ? 'overflow_queue' THEN v_over ELSE q.overflow_queue_id END,
           max_size = CASE WHEN policy ? 'max_size' THEN (policy->>'max_size')::integer ELSE q.max_size END,
           service_level_threshold = CASE WHEN policy ? 'service_level_threshold'
                                          THEN interactions.policy_interval(policy->'service_level_threshold')
                                          ELSE q.service_level_threshold END
     WHERE q.cc_id = v_cc AND q.id = v_q;
    v_after := interactions.queue_settings(v_cc, v_q);
    IF v_after IS DISTINCT FROM v_before THEN
        PERFORM interactions.config_changed(v_cc, 'set_queue_policy', 'queue:' || queue, jsonb_build_object(
            'from', (SELECT jsonb_object_agg(b.key, b.value) FROM jsonb_each(v_before) b
                      WHERE b.value IS DISTINCT FROM v_after->b.key),
            'to', (SELECT jsonb_object_agg(a.key, a.value) FROM jsonb_each(v_after) a
                    WHERE a.value IS DISTINCT FROM v_before->a.key)));
    END IF;
    RETURN v_after;
END $$;
COMMENT ON FUNCTION interactions.set_queue_policy(text, text, jsonb) IS
  'Set a queue''s settings from a JSON object: offer_timeout, wrap_up, max_wait (interval text or seconds; max_wait null: none), max_no_answer (integer, 0: never), strategy (longest-idle, round-robin, least-handled, random, ring-all), priority_per_minute (number >= 0), overflow_queue (queue name or null), max_size (integer or null), service_level_threshold (interval text or seconds). Keys not given are kept; unknown keys and invalid values raise. Audited (config_history); returns the settings after.';

-- An agent's skill: level 0 to 10, or NULL to remove it.
CREATE OR REPLACE FUNCTION interactions.set_agent_skill(contact_center text, login text, skill text,
                                                        level integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v_cc  integer := interactions.cc_by_name(contact_center);
    v_u   uuid := interactions.user_by_name(v_cc, login);
    v_old integer;
BEGIN
    SELECT s.level INTO v_old FROM interactions.agent_skills s
     WHERE s.cc_id = v_cc AND s.user_id = v_u AND s.skill = skill FOR UPDATE;
    IF v_old IS NOT DISTINCT FROM level THEN
        RETURN;
    END IF;
    IF level IS NULL THEN
        DELETE FROM interactions.agent_skills s WHERE s.cc_id = v_cc AND s.user_id = v_u AND s.skill = skill;
    ELSE
        INSERT INTO interactions.agent_skills (cc_id, user_id, skill, level) VALUES (v_cc, v_u, skill, level)
        ON CONFLICT ON CONSTRAINT agent_skills_pkey DO UPDATE SET level = EXCLUDED.level;
    END IF;
    PERFORM interactions.config_changed(v_cc, 'set_agent_skill', 'user:' || login,
        jsonb_build_object('skill', skill, 'from', v_old, 'to', level));
    PERFORM interactions.recheck_unservable(v_cc, NULL);
END $$;
COMMENT ON FUNCTION interactions.set_agent_skill(text, text, text, integer) IS
  'Give an agent a skill at a level (0 to 10), or remove it (NULL). Idempotent. Audited (config_history).';

-- A queue's requirement: the lowest level of a skill its agents need, or NULL to remove it.
CREATE OR REPLACE FUNCTION interactions.set_queue_requirement(contact_center text, queue text, skill text,
                                                              min_level integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v_cc  integer := interactions.cc_by_name(contact_center);
    v_q   uuid := interactions.find_queue(v_cc, queue);
    v_old integer;
BEGIN
    IF v_q IS NULL THEN
        RAISE EXCEPTION 'unknown queue "%" in contact center "%"', queue, contact_center USING ERRCODE = 'no_data_found';
    END IF;
    SELECT r.min_level INTO v_old FROM interactions.queue_requirements r
     WHERE r.cc_id = v_cc AND r.queue_id = v_q AND r.skill = skill FOR UPDATE;
    IF v_old IS NOT DISTINCT FROM min_level THEN
        RETURN;
    END IF;
    IF min_level IS NULL THEN
        DELETE FROM interactions.queue_requirements r WHERE r.cc_id = v_cc AND r.queue_id = v_q AND r.skill = skill;
    ELSE
        INSERT INTO interactions.queue_requirements (cc_id, queue_id, skill, min_level)
        VALUES (v_cc, v_q, skill, min_level)
        ON CONFLICT ON CONSTRAINT queue_requirements_pkey DO UPDATE SET min_level = EXCLUDED.min_level;
    END IF;
    PERFORM interactions.config_changed(v_cc, 'set_queue_requirement', 'queue:' || queue,
        jsonb_build_object('skill', skill, 'from', v_old, 'to', min_level));
    PERFORM interactions.recheck_unservable(v_cc, v_q);
END $$;
COMMENT ON FUNCTION interactions.set_queue_requirement(text, text, text, integer) IS
  'Require a skill at a minimum level (0 to 10) of every agent offered a queue''s work, or drop the requirement (NULL). Idempotent. Audited (config_history).';

-- ------------------------------------------------------------------ for supervisors and DBAs

CREATE OR REPLACE VIEW interactions.queue_routing WITH (security_invoker = true) AS
SELECT cc.name AS contact_center,
       q.name  AS queue,
       q.strategy,
       q.priority_per_minute,
       q.max_wait,
       o.name  AS overflow_queue,
       q.max_size,
       (SELECT count(*) FROM interactions.interactions i
         WHERE i.cc_id = q.cc_id AND i.queue_id = q.id AND i.state = 'Queued')                   AS waiting,
       (SELECT count(*) FROM interactions.interactions i
         WHERE i.cc_id = q.cc_id AND i.queue_id = q.id AND i.unservable AND i.state = 'Queued')  AS unservable,
       (SELECT coalesce(jsonb_object_agg(r.skill, r.min_level), '{}'::jsonb) FROM interactions.queue_requirements r
         WHERE r.cc_id = q.cc_id AND r.queue_id = q.id)                                         AS requirements,
       (SELECT count(*) FROM interactions.history h
         WHERE h.cc_id = q.cc_id AND h.operation = 'Overflow' AND h.from_queue = q.name
           AND h.at > now() - interval '24 hours')                                               AS overflowed_24h
  FROM interactions.queues q
  JOIN interactions.contact_centers cc ON cc.id = q.cc_id
  LEFT JOIN interactions.queues o ON o.cc_id = q.cc_id AND o.id = q.overflow_queue_id;
COMMENT ON VIEW interactions.queue_routing IS
  'Per queue: its routing policy, what waits, how much of that nobody can serve (no member has the skills), its requirements, and how much overflowed in the last 24 hours.';
COMMENT ON COLUMN interactions.queue_routing.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.queue_routing.queue IS 'Queue name.';
COMMENT ON COLUMN interactions.queue_routing.strategy IS 'The queue''s strategy.';
COMMENT ON COLUMN interactions.queue_routing.priority_per_minute IS 'Priority ageing per minute waited.';
COMMENT ON COLUMN interactions.queue_routing.max_wait IS 'Longest wait before overflow (NULL: none).';
COMMENT ON COLUMN interactions.queue_routing.overflow_queue IS 'Where work overflows (NULL: none).';
COMMENT ON COLUMN interactions.queue_routing.max_size IS 'Most work that may wait (NULL: no limit).';
COMMENT ON COLUMN interactions.queue_routing.waiting IS 'Interactions Queued now.';
COMMENT ON COLUMN interactions.queue_routing.unservable IS 'Of those, how many no member of the queue has the skills for.';
COMMENT ON COLUMN interactions.queue_routing.requirements IS 'The queue''s skill requirements (skill: minimum level).';
COMMENT ON COLUMN interactions.queue_routing.overflowed_24h IS 'Interactions moved out of the queue by overflow in the last 24 hours.';

-- ------------------------------------------------------------------ membership and accounts

-- An agent leaves a queue: routing offers them its work no more, and the offers of its work
-- they hold now are withdrawn and routed to others (not counted as missed).
CREATE OR REPLACE FUNCTION interactions.remove_queue_member(contact_center text, queue text, login text)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_variable
DECLARE
    v_cc integer := interactions.cc_by_name(contact_center);
    v_q  uuid := interactions.find_queue(v_cc, queue);
    v_u  uuid := interactions.user_by_name(v_cc, login);
    v    interactions.interactions;
BEGIN
    IF v_q IS NULL THEN
        RAISE EXCEPTION 'unknown queue "%" in contact center "%"', queue, contact_center USING ERRCODE = 'no_data_found';
    END IF;
    DELETE FROM interactions.queue_members m WHERE m.cc_id = v_cc AND m.queue_id = v_q AND m.user_id = v_u;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    PERFORM set_config('interactions.cc', v_cc::text, true);
    PERFORM set_config('interactions.actor', '', true);
    PERFORM set_config('interactions.ref', '', true);
    FOR v IN
        SELECT * FROM interactions.interactions i
         WHERE i.cc_id = v_cc AND i.state = 'Invited' AND i.queue_id = v_q
           AND (i.invitee_id = v_u OR EXISTS (SELECT 1 FROM interactions.ring_offers r
                                               WHERE r.cc_id = i.cc_id AND r.interaction_id = i.id
                                                 AND r.user_id = v_u))
         ORDER BY i.id
           FOR UPDATE
    LOOP
        CONTINUE WHEN interactions.ring_drop(v, v_u, 'Revoke');
        PERFORM interactions.revoke_offer(v);
        PERFORM interactions.route_interaction(v_cc, v.id);
    END LOOP;
    PERFORM interactions.config_changed(v_cc, 'remove_queue_member', 'queue:' || queue,
        jsonb_build_object('removed', login));
    PERFORM interactions.recheck_unservable(v_cc, v_q);
    RETURN true;
END $$;
COMMENT ON FUNCTION interactions.remove_queue_member(text, text, text) IS
  'Take an agent out of a queue: no more offers of its work, the offers they hold withdrawn and routed to others. Returns whether they were a member. Audited (config_history).';

-- What disabling a user does beyond the account (disable_user): their push sessions end,
-- their channels go LoggedOut with their offers withdrawn, and the work they own goes back
-- to its queue as nobody's, routed to others.  No actor: the account change did it.
CREATE OR REPLACE FUNCTION interactions.release_user(p_cc integer, p_user uuid)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v   interactions.interactions;
    v_n integer := 0;
BEGIN
    PERFORM set_config('interactions.cc', p_cc::text, true);
    PERFORM set_config('interactions.actor', '', true);
    PERFORM set_config('interactions.ref', '', true);
    IF to_regclass('interactions.push_sessions') IS NOT NULL THEN
        EXECUTE 'DELETE FROM interactions.push_sessions s WHERE s.cc_id = $1 AND s.user_id = $2' USING p_cc, p_user;
    END IF;
    PERFORM interactions.log_out_agent(p_cc, p_user, 'Disabled');
    FOR v IN
        SELECT * FROM interactions.interactions i
         WHERE i.cc_id = p_cc AND i.owner_id = p_user AND i.state = 'Processing' AND i.queue_id IS NOT NULL
         ORDER BY i.id
           FOR UPDATE
    LOOP
        PERFORM interactions.requeue(v, NULL, 'Release');
        v_n := v_n + 1;
    END LOOP;
    PERFORM interactions.recheck_unservable(p_cc, NULL);
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.release_user(integer, uuid) IS
  'disable_user''s effects on the contact center: push sessions ended, channels LoggedOut and offers withdrawn, Processing work back to its queue (history operation Release) and routed. Returns how many interactions went back.';
