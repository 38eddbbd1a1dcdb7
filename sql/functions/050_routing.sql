-- Routing: offering Queued interactions to Ready agents.
--
-- Races are decided by row locks, never by luck.  An agent's channel row is locked before
-- their load is counted and an offer made, so two transactions can never together push an
-- agent over capacity; an interaction row is locked before it is offered, so it is never
-- offered twice.  Both sides take the other's locks with SKIP LOCKED, so routing never
-- waits and never deadlocks.  The price: two transactions that skip each other (one routing
-- interaction X and skipping agent A, the other routing agent A and skipping X) can leave X
-- queued with A free; interactions.maintenance() sweeps that case within one tick.

-- Offer interaction v (locked by the caller, state Queued) to agent p_user; p_why is what
-- the history row records of the choice (history.routing), NULL when it was not routing's.
CREATE OR REPLACE FUNCTION interactions.offer(v interactions.interactions, p_user uuid, p_why jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions.interactions i
       SET state = 'Invited', invitee_id = p_user, unservable = false,
           offer_expires_at = now() + interactions.offer_timeout(v.cc_id, v.queue_id),
           participants = CASE WHEN p_user = ANY (i.participants) THEN i.participants
                               ELSE i.participants || p_user END,
           updated_at = now()
     WHERE i.cc_id = v.cc_id AND i.id = v.id;
    UPDATE interactions.agent_channels ch SET last_offer_at = clock_timestamp()
     WHERE ch.cc_id = v.cc_id AND ch.user_id = p_user AND ch.media = v.media_type;
    -- round-robin's turn within the queue (the member row exists unless a Transfer made the offer)
    UPDATE interactions.queue_members m SET last_offer_at = clock_timestamp()
     WHERE m.cc_id = v.cc_id AND m.queue_id = v.queue_id AND m.user_id = p_user;
    -- record() takes the reason from the transaction setting, only for this row
    PERFORM set_config('interactions.routing', coalesce(p_why::text, ''), true);
    PERFORM interactions.record('Route', v, v.id, NULL, 'StatusChange', '{}', true);
    PERFORM set_config('interactions.routing', '', true);
END $$;
COMMENT ON FUNCTION interactions.offer(interactions.interactions, uuid, jsonb) IS
  'Makes a queued interaction Invited to one agent, with the queue''s offer timeout, and records the offer with why (history.routing).';

-- The skills work needs: the queue's requirements and the interaction's own
-- (userData.requiredSkills, an object of skill: level; entries that are not numbers are not
-- requirements), the higher level where both name a skill.  '{}' when none.
CREATE OR REPLACE FUNCTION interactions.requirements(p_cc integer, p_queue uuid, p_id uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(x.skill, x.lvl), '{}'::jsonb)
      FROM (SELECT r.skill, max(r.lvl) AS lvl
              FROM (SELECT q.skill, q.min_level::numeric AS lvl FROM interactions.queue_requirements q
                     WHERE q.cc_id = p_cc AND q.queue_id = p_queue
                    UNION ALL
                    SELECT e.key, (e.value #>> '{}')::numeric FROM interactions.user_data u
                      CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(u.value) = 'object'
                                                         THEN u.value ELSE '{}'::jsonb END) e
                     WHERE u.cc_id = p_cc AND u.interaction_id = p_id AND u.key = 'requiredSkills'
                       AND jsonb_typeof(e.value) = 'number') r
             GROUP BY r.skill) x
$$;
COMMENT ON FUNCTION interactions.requirements(integer, uuid, uuid) IS
  'The skills (skill: minimum level) an agent needs to be offered interaction p_id of queue p_queue: the queue''s requirements and userData.requiredSkills, the higher of the two per skill.';

-- Does agent p_user meet every requirement of p_req (interactions.requirements())?
CREATE OR REPLACE FUNCTION interactions.meets(p_cc integer, p_user uuid, p_req jsonb)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT p_req = '{}'::jsonb OR NOT EXISTS (
        SELECT 1 FROM jsonb_each_text(p_req) r
         WHERE NOT EXISTS (SELECT 1 FROM interactions.agent_skills s
                            WHERE s.cc_id = p_cc AND s.user_id = p_user AND s.skill = r.key
                              AND s.level >= r.value::numeric))
$$;
COMMENT ON FUNCTION interactions.meets(integer, uuid, jsonb) IS
  'Whether an agent has every skill of p_req at its level or above (an empty p_req: everyone).';

-- The agent's levels in the skills of p_req, and their total: what breaks the strategy's ties
-- and what the offer's history row shows.
CREATE OR REPLACE FUNCTION interactions.skills_for(p_cc integer, p_user uuid, p_req jsonb)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(s.skill, s.level), '{}'::jsonb) FROM interactions.agent_skills s
     WHERE p_req <> '{}'::jsonb AND s.cc_id = p_cc AND s.user_id = p_user AND p_req ? s.skill
$$;
COMMENT ON FUNCTION interactions.skills_for(integer, uuid, jsonb) IS
  'An agent''s levels in the skills p_req names (the winner''s skills in history.routing).';

-- Queued work's place in the line: its priority aged by the queue's priority_per_minute.
CREATE OR REPLACE FUNCTION interactions.effective_priority(p_priority integer, p_per_minute numeric,
                                                           p_queued_at timestamptz)
RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT p_priority + CASE WHEN p_per_minute = 0 THEN 0
                             ELSE round(p_per_minute * extract(epoch FROM now() - p_queued_at) / 60, 3) END
$$;
COMMENT ON FUNCTION interactions.effective_priority(integer, numeric, timestamptz) IS
  'priority + priority_per_minute x minutes waited (CONTRACT 8.3): the order of a queue''s waiting work.';

-- Whether no member of v's queue who is not disabled has the skills it requires: nobody can
-- ever be offered it until provisioning changes.  Asked only when routing found nobody.
CREATE OR REPLACE FUNCTION interactions.nobody_can_serve(p_cc integer, p_queue uuid, p_req jsonb)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT NOT EXISTS (SELECT 1 FROM interactions.queue_members m
                         JOIN interactions.users u ON u.cc_id = m.cc_id AND u.id = m.user_id
                        WHERE m.cc_id = p_cc AND m.queue_id = p_queue AND NOT u.disabled
                          AND interactions.meets(p_cc, m.user_id, p_req))
$$;
COMMENT ON FUNCTION interactions.nobody_can_serve(integer, uuid, jsonb) IS
  'No enabled member of the queue has the skills p_req requires (the interaction is unservable).';

-- Offer one queued interaction to the best agent who can take it now: a Ready member of its
-- queue with free capacity for its media type, meeting every skill it requires, who has not
-- just declined it, in the queue's strategy's order (CONTRACT 8.3): longest-idle (8.2:
-- agent_channels.idle_since), round-robin (the member offered this queue's work least
-- recently), least-handled (fewest accepted today), random; ties of the strategy go to the
-- highest total level in the required skills, then to the longest idle.  ring-all offers it
-- to every such agent with room at once (the first of them is the invitee, the others rows
-- of interactions.ring_offers; the first Accept wins).  Otherwise an agent who holds nothing comes before one
-- who is working with capacity to spare.  When nobody can be offered it now, whether
-- anybody ever could is written on the row (unservable).  Returns whether an offer was made.
CREATE OR REPLACE FUNCTION interactions.route_interaction(p_cc integer, p_id uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v       interactions.interactions;
    q       interactions.queues;
    v_req   jsonb;
    cand    record;
    v_load  integer;
    v_rank  integer := 0;
    v_n     integer := 0;
    v_spare record;
    v_srank integer;
    v_win   record;
    v_wrank integer;
    v_unsrv boolean;
    v_ring  uuid[] := '{}';
BEGIN
    SELECT * INTO v FROM interactions.interactions
     WHERE cc_id = p_cc AND id = p_id AND state = 'Queued' FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    SELECT * INTO STRICT q FROM interactions.queues x WHERE x.cc_id = p_cc AND x.id = v.queue_id;
    v_req := interactions.requirements(p_cc, v.queue_id, v.id);
    FOR cand IN
        -- the queue's Ready members first (a few dozen rows), and only then their skills:
        -- left to itself the planner checks the skills of every Ready agent of the media
        WITH ready AS MATERIALIZED (
            SELECT ch.user_id, ch.capacity, ch.idle_since, m.last_offer_at
              FROM interactions.queue_members m
              JOIN interactions.agent_channels ch
                ON ch.cc_id = m.cc_id AND ch.user_id = m.user_id AND ch.media = v.media_type
             WHERE m.cc_id = p_cc AND m.queue_id = v.queue_id AND ch.state = 'Ready'
               AND ch.capacity > 0
               AND NOT (ch.user_id = ANY (v.declined_by) AND v.declined_until > now()))
        SELECT r.user_id, r.capacity, count(*) OVER () AS n,
               (SELECT coalesce(sum(s.level), 0) FROM interactions.agent_skills s
                 WHERE v_req <> '{}'::jsonb AND s.cc_id = p_cc AND s.user_id = r.user_id
                   AND v_req ? s.skill) AS skill_total
          FROM ready r
         WHERE v_req = '{}'::jsonb OR interactions.meets(p_cc, r.user_id, v_req)
         ORDER BY CASE WHEN q.strategy = 'least-handled'
                       THEN (SELECT h.handled FROM interactions.agent_handled h
                              WHERE h.cc_id = p_cc AND h.user_id = r.user_id AND h.media = v.media_type
                                AND h.day = current_date) END NULLS FIRST,
                  CASE WHEN q.strategy = 'round-robin' THEN coalesce(r.last_offer_at, '-infinity') END,
                  CASE WHEN q.strategy = 'longest-idle' THEN r.idle_since END,
                  CASE WHEN q.strategy = 'random' THEN random() END,
                  skill_total DESC, r.idle_since, r.user_id
    LOOP
        v_rank := v_rank + 1;
        v_n := cand.n;
        -- lock the agent, then count their load with a fresh snapshot: every transaction
        -- that offered them work before us held this lock and has ended
        PERFORM 1 FROM interactions.agent_channels ch
         WHERE ch.cc_id = p_cc AND ch.user_id = cand.user_id AND ch.media = v.media_type
           AND ch.state = 'Ready'
           FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        v_load := interactions.agent_load(p_cc, cand.user_id, v.media_type);
        IF q.strategy = 'ring-all' THEN
            -- every free one rings (each stays locked by us); the first is the invitee
            IF v_load < (SELECT capacity FROM interactions.agent_channels ch
                          WHERE ch.cc_id = p_cc AND ch.user_id = cand.user_id AND ch.media = v.media_type) THEN
                v_ring := v_ring || cand.user_id;
                IF v_win IS NULL THEN
                    v_win := cand;
                    v_wrank := v_rank;
                END IF;
            END IF;
            CONTINUE;
        END IF;
        IF v_load = 0 THEN
            v_win := cand;
            v_wrank := v_rank;
            EXIT;
        END IF;
        IF v_spare IS NULL AND v_load < (SELECT capacity FROM interactions.agent_channels ch
                                          WHERE ch.cc_id = p_cc AND ch.user_id = cand.user_id
                                            AND ch.media = v.media_type) THEN
            v_spare := cand;
            v_srank := v_rank;
        END IF;
    END LOOP;
    IF v_win IS NULL AND v_spare IS NOT NULL THEN
        -- still locked by us: nobody has offered them anything since it was counted
        v_win := v_spare;
        v_wrank := v_srank;
    END IF;
    IF v_win IS NOT NULL THEN
        IF cardinality(v_ring) > 1 THEN
            INSERT INTO interactions.ring_offers (cc_id, interaction_id, user_id, media)
            SELECT p_cc, v.id, u, v.media_type FROM unnest(v_ring[2:]) u;
            UPDATE interactions.interactions i
               SET participants = i.participants || ARRAY(SELECT u FROM unnest(v_ring[2:]) u
                                                           WHERE NOT (u = ANY (i.participants)))
             WHERE i.cc_id = p_cc AND i.id = v.id;
            UPDATE interactions.queue_members m SET last_offer_at = clock_timestamp()
             WHERE m.cc_id = p_cc AND m.queue_id = v.queue_id AND m.user_id = ANY (v_ring[2:]);
        END IF;
        PERFORM interactions.offer(v, v_win.user_id, jsonb_build_object(
            'strategy', q.strategy, 'by', 'interaction', 'candidates', v_n, 'rank', v_wrank,
            'requirements', v_req, 'skills', interactions.skills_for(p_cc, v_win.user_id, v_req),
            'skillTotal', v_win.skill_total,
            'effectivePriority', interactions.effective_priority(v.priority, q.priority_per_minute, v.queued_at),
            'agedBy', interactions.effective_priority(v.priority, q.priority_per_minute, v.queued_at) - v.priority,
            'waitedSeconds', round(extract(epoch FROM now() - v.queued_at)::numeric, 3))
            || CASE WHEN q.strategy = 'ring-all' THEN jsonb_build_object('ringing', cardinality(v_ring))
                    ELSE '{}'::jsonb END);
        RETURN true;
    END IF;
    v_unsrv := interactions.nobody_can_serve(p_cc, v.queue_id, v_req);
    IF v_unsrv IS DISTINCT FROM v.unservable THEN
        UPDATE interactions.interactions i SET unservable = v_unsrv WHERE i.cc_id = p_cc AND i.id = v.id;
    END IF;
    RETURN false;
END $$;
COMMENT ON FUNCTION interactions.route_interaction(integer, uuid) IS
  'Offers a Queued interaction to the Ready member of its queue with free capacity and the skills it requires whom the queue''s strategy puts first (ties: highest skill total, then longest idle); one holding nothing before one working with capacity to spare; ring-all offers to all of them at once. Never blocks (skips locked rows). Marks it unservable when no member has the skills.';

-- Offer an agent who may have free capacity the queued interactions of their queues whose
-- skills they have, highest effective priority (priority aged by the queue's
-- priority_per_minute) first, then oldest, as many as the capacity allows.  Returns the
-- number of offers made.
CREATE OR REPLACE FUNCTION interactions.route_agent(p_cc integer, p_user uuid, p_media text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_cap   integer;
    v_free  integer;
    v_n     integer := 0;
    w       record;
    v       interactions.interactions;
BEGIN
    SELECT capacity INTO v_cap FROM interactions.agent_channels ch
     WHERE ch.cc_id = p_cc AND ch.user_id = p_user AND ch.media = p_media AND ch.state = 'Ready'
       FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    v_free := v_cap - interactions.agent_load(p_cc, p_user, p_media);
    IF v_free <= 0 THEN
        RETURN 0;
    END IF;
    FOR w IN
        -- the waiting work of the agent's queues first, and only then its skills (as in the
        -- maintenance tick: else the planner checks the skills of every queued row)
        WITH mine AS MATERIALIZED (
            SELECT i.id, i.queue_id, i.priority, i.queued_at, q.strategy, q.priority_per_minute
              FROM interactions.queue_members m
              JOIN interactions.queues q ON q.cc_id = m.cc_id AND q.id = m.queue_id
              JOIN interactions.interactions i
                ON i.cc_id = m.cc_id AND i.queue_id = m.queue_id AND i.state = 'Queued'
               AND i.media_type = p_media
             WHERE m.cc_id = p_cc AND m.user_id = p_user
               AND NOT (p_user = ANY (i.declined_by) AND i.declined_until > now()))
        SELECT x.id, x.strategy, x.priority_per_minute, req.r,
               interactions.effective_priority(x.priority, x.priority_per_minute, x.queued_at) AS eff
          FROM mine x
          CROSS JOIN LATERAL (SELECT interactions.requirements(p_cc, x.queue_id, x.id) AS r) req
         WHERE interactions.meets(p_cc, p_user, req.r)
         ORDER BY eff DESC, x.queued_at, x.id
    LOOP
        IF w.strategy = 'ring-all' THEN
            -- it rings for every free member, this agent (locked by us, free) among them
            IF interactions.route_interaction(p_cc, w.id) THEN
                v_n := v_n + 1;
                EXIT WHEN v_n >= v_free;
            END IF;
            CONTINUE;
        END IF;
        SELECT * INTO v FROM interactions.interactions i
         WHERE i.cc_id = p_cc AND i.id = w.id AND i.state = 'Queued' FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        PERFORM interactions.offer(v, p_user, jsonb_build_object(
            'strategy', w.strategy, 'by', 'agent', 'candidates', 1, 'rank', 1,
            'requirements', w.r, 'skills', interactions.skills_for(p_cc, p_user, w.r),
            'skillTotal', (SELECT coalesce(sum(x.value::numeric), 0)
                             FROM jsonb_each_text(interactions.skills_for(p_cc, p_user, w.r)) x),
            'effectivePriority', w.eff, 'agedBy', w.eff - v.priority,
            'waitedSeconds', round(extract(epoch FROM now() - v.queued_at)::numeric, 3)));
        v_n := v_n + 1;
        EXIT WHEN v_n >= v_free;
    END LOOP;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.route_agent(integer, uuid, text) IS
  'Offers a Ready agent with free capacity the queued interactions of their queues whose skills they have, highest effective priority (aged) first, then oldest (never blocks).';

-- Withdraw an offer: the interaction goes back to its queue, the agents it was offered to
-- (its invitee and, for ring-all, every other agent it rang for) are told Revoked and are
-- not offered it again for one offer timeout.  Used by offer expiry and when agents leave.
-- Returns the agents told.
CREATE OR REPLACE FUNCTION interactions.revoke_offer(v interactions.interactions)
RETURNS uuid[] LANGUAGE plpgsql AS $$
DECLARE
    v_told uuid[] := ARRAY[v.invitee_id] || interactions.ring_end(v.cc_id, v.id);
BEGIN
    UPDATE interactions.interactions i
       SET state = 'Queued', invitee_id = NULL, offer_expires_at = NULL,
           declined_by = CASE WHEN i.declined_until > now() THEN i.declined_by ELSE '{}' END
                         || v_told,
           declined_until = now() + interactions.offer_timeout(v.cc_id, v.queue_id),
           updated_at = now()
     WHERE i.cc_id = v.cc_id AND i.id = v.id;
    PERFORM interactions.record('Revoke', v, v.id, NULL, 'StatusChange', v_told, true);
    RETURN v_told;
END $$;
COMMENT ON FUNCTION interactions.revoke_offer(interactions.interactions) IS
  'Withdraws an unanswered offer (a ring-all one from everyone it rang for): Queued again, the agents told Revoked and skipped for one offer timeout. Returns the agents told.';

-- A ring-all offer ends (accepted, or withdrawn): its other agents' rows go.  Returns them.
CREATE OR REPLACE FUNCTION interactions.ring_end(p_cc integer, p_id uuid)
RETURNS uuid[] LANGUAGE plpgsql AS $$
DECLARE
    v_users uuid[];
BEGIN
    WITH gone AS (DELETE FROM interactions.ring_offers r
                   WHERE r.cc_id = p_cc AND r.interaction_id = p_id RETURNING r.user_id)
    SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') INTO v_users FROM gone;
    RETURN v_users;
END $$;
COMMENT ON FUNCTION interactions.ring_end(integer, uuid) IS
  'Deletes a ring-all offer''s rows of interactions.ring_offers; returns the agents they named.';

-- Agent p_user drops out of ring-all offer v (locked, Invited) that still rings for someone
-- else: Reject, or the agent leaving (LoggedOut, disabled, out of the queue).  When they
-- were its invitee, the next agent it rings for becomes it.  The agent is told Revoked; on
-- Reject they are skipped for one offer timeout.  Returns false, changing nothing, when
-- nobody else is rung (the caller withdraws the offer as for any other).
CREATE OR REPLACE FUNCTION interactions.ring_drop(v interactions.interactions, p_user uuid, p_op text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_next uuid;
BEGIN
    IF p_user = v.invitee_id THEN
        SELECT r.user_id INTO v_next FROM interactions.ring_offers r
         WHERE r.cc_id = v.cc_id AND r.interaction_id = v.id ORDER BY r.user_id LIMIT 1;
    ELSE
        v_next := v.invitee_id;
    END IF;
    DELETE FROM interactions.ring_offers r
     WHERE r.cc_id = v.cc_id AND r.interaction_id = v.id AND r.user_id IN (p_user, v_next);
    IF NOT FOUND OR v_next IS NULL THEN
        RETURN false;
    END IF;
    UPDATE interactions.interactions i
       SET invitee_id = v_next, updated_at = now(),
           declined_by = CASE WHEN p_op <> 'Reject' THEN i.declined_by
                              WHEN i.declined_until > now() THEN i.declined_by || p_user
                              ELSE ARRAY[p_user] END,
           declined_until = CASE WHEN p_op <> 'Reject' THEN i.declined_until
                                 ELSE now() + interactions.offer_timeout(i.cc_id, i.queue_id) END
     WHERE i.cc_id = v.cc_id AND i.id = v.id;
    PERFORM interactions.record(p_op, v, v.id, NULL, 'StatusChange', ARRAY[p_user], p_op <> 'Reject');
    RETURN true;
END $$;
COMMENT ON FUNCTION interactions.ring_drop(interactions.interactions, uuid, text) IS
  'Takes one agent out of a ring-all offer that still rings for others (the next becomes the invitee if it was them), telling them Revoked; false when nobody else is rung.';

-- The background work of every httpd child, run one at a time cluster-wide (advisory lock):
-- withdraw expired offers (counting them as missed) and route them again, end timed
-- wrap-ups, offer queued work to free agents that two racing transactions skipped, and
-- expire silent push sessions.  Cheap when there is nothing
-- to do: every step starts from a partial index.  Returns the number of changes made.
CREATE OR REPLACE FUNCTION interactions.maintenance(p_batch integer DEFAULT 200, p_tick_ms integer DEFAULT 500)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v      interactions.interactions;
    a      record;
    v_n    integer := 0;
    v_u    uuid;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('interactions-maintenance')) THEN
        RETURN 0;
    END IF;
    PERFORM set_config('interactions.actor', '', true);
    PERFORM set_config('interactions.ref', '', true);
    -- 1. offers nobody answered in time
    FOR v IN
        SELECT * FROM interactions.interactions
         WHERE state = 'Invited' AND offer_expires_at <= now()
         ORDER BY offer_expires_at
         LIMIT p_batch
           FOR UPDATE SKIP LOCKED
    LOOP
        PERFORM set_config('interactions.cc', v.cc_id::text, true);
        -- counted against the agents (at the queue's max_no_answer: NotReady) before the
        -- interaction is routed again: ring-all's every agent it rang for
        FOREACH v_u IN ARRAY interactions.revoke_offer(v) LOOP
            v.invitee_id := v_u;
            PERFORM interactions.offer_missed(v);
        END LOOP;
        PERFORM interactions.route_interaction(v.cc_id, v.id);
        v_n := v_n + 1;
    END LOOP;
    -- 1b. timed wrap-ups that have ended: Ready again, and offered work
    v_n := v_n + interactions.end_wrap_ups(p_batch);
    -- 1c. work that waited past its queue's max_wait: to the overflow queue
    v_n := v_n + interactions.overflow_waiting(p_batch);
    -- 2. Ready agents with free capacity while work they could take waits in their queues.
    -- Agents with waiting work first, then their load: left to itself the planner counts
    -- every Ready agent's load (a function is cheap to its estimate) on every tick.
    FOR a IN
        WITH waiting AS MATERIALIZED (
            SELECT ch.cc_id, ch.user_id, ch.media, ch.capacity, ch.idle_since FROM interactions.agent_channels ch
             WHERE ch.state = 'Ready' AND ch.capacity > 0
               AND EXISTS (SELECT 1 FROM (
                               SELECT i.cc_id, i.queue_id, i.id FROM interactions.queue_members m
                                 JOIN interactions.interactions i
                                   ON i.cc_id = m.cc_id AND i.queue_id = m.queue_id
                                  AND i.state = 'Queued' AND i.media_type = ch.media
                                WHERE m.cc_id = ch.cc_id AND m.user_id = ch.user_id AND NOT i.unservable
                                  AND NOT (ch.user_id = ANY (i.declined_by) AND i.declined_until > now())
                               -- OFFSET 0: the skills of the agent's own queues' work only; else
                               -- the planner checks them for every queued row of the contact center
                               OFFSET 0) x
                            WHERE interactions.meets(ch.cc_id, ch.user_id,
                                                     interactions.requirements(x.cc_id, x.queue_id, x.id))))
        SELECT w.cc_id, w.user_id, w.media FROM waiting w
         WHERE interactions.agent_load(w.cc_id, w.user_id, w.media) < w.capacity
         ORDER BY w.idle_since
         LIMIT p_batch
    LOOP
        PERFORM set_config('interactions.cc', a.cc_id::text, true);
        v_n := v_n + interactions.route_agent(a.cc_id, a.user_id, a.media);
    END LOOP;
    -- 3. push sessions whose clients stopped polling (when the push channel is installed)
    IF to_regprocedure('interactions.push_sweep(integer)') IS NOT NULL THEN
        EXECUTE 'SELECT interactions.push_sweep($1)' INTO a USING p_tick_ms;
    END IF;
    -- 3b. the queue statistics' rollups catch up with the history (075_queue_statistics.sql);
    --    from the cursor of each contact center, so cheap when nothing was written
    PERFORM interactions.queue_rollup(p_batch * 25);
    -- 4. the history's partitions and retention, once a minute (065_history.sql); last, so
    -- that a partition it drops is locked only until this transaction ends.  Whatever goes
    -- wrong there must not stop the work above: it is reported in PostgreSQL's log and
    -- tried again a minute later.
    IF to_regprocedure('interactions.history_retention(integer)') IS NOT NULL
       AND extract(epoch FROM now()) * 1000
           - coalesce(pg_sequence_last_value('interactions.history_retention_clock'), 0) >= 60000 THEN
        BEGIN
            PERFORM interactions.history_retention();
        EXCEPTION WHEN OTHERS THEN
            PERFORM setval('interactions.history_retention_clock', (extract(epoch FROM now()) * 1000)::bigint);
            RAISE WARNING 'history retention failed: % (%)', SQLERRM, SQLSTATE;
        END;
    END IF;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.maintenance(integer, integer) IS
  'Background work run by every httpd child each InteractionsMaintenanceInterval (p_tick_ms), one at a time (advisory lock): expires offers (missed offers counted), ends timed wrap-ups, moves work waiting past max_wait to its overflow queue, routes skipped work, sweeps push sessions, folds new history into the queue statistics'' rollups, and once a minute keeps the history''s partitions and retention. Returns the number of interactions and channels changed.';

-- ------------------------------------------------------------------ overflow and queue size

-- Whether queue p_queue may take one more waiting interaction (max_size).  Admissions to a
-- bounded queue take a transaction-scoped advisory lock on the queue first, so that two
-- transactions cannot both count max_size - 1 and both enter: they wait for each other for
-- the length of one admission; unbounded queues take no lock.
CREATE OR REPLACE FUNCTION interactions.queue_has_room(p_cc integer, p_queue uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_max integer;
BEGIN
    SELECT q.max_size INTO v_max FROM interactions.queues q WHERE q.cc_id = p_cc AND q.id = p_queue;
    IF v_max IS NULL THEN
        RETURN true;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('interactions-queue-size:' || p_queue::text, p_cc));
    RETURN (SELECT count(*) FROM interactions.interactions i
             WHERE i.cc_id = p_cc AND i.queue_id = p_queue AND i.state = 'Queued') < v_max;
END $$;
COMMENT ON FUNCTION interactions.queue_has_room(integer, uuid) IS
  'Whether fewer than max_size interactions wait in the queue (always, without max_size); serializes admissions to a bounded queue.';

-- Where work sent to queue p_queue waits: there, or when it is at max_size its overflow
-- queue (if that has room), or nowhere (NULL: refused, statusCode 2).
CREATE OR REPLACE FUNCTION interactions.queue_admit(p_cc integer, p_queue uuid)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
    v_over uuid;
BEGIN
    IF interactions.queue_has_room(p_cc, p_queue) THEN
        RETURN p_queue;
    END IF;
    SELECT q.overflow_queue_id INTO v_over FROM interactions.queues q WHERE q.cc_id = p_cc AND q.id = p_queue;
    IF v_over IS NOT NULL AND interactions.queue_has_room(p_cc, v_over) THEN
        RETURN v_over;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION interactions.queue_admit(integer, uuid) IS
  'The queue work sent to p_queue waits in: p_queue, its overflow queue when p_queue is at max_size, or NULL (both full: refused).';

-- The routing note of a history row that puts work in another queue than asked for.
CREATE OR REPLACE FUNCTION interactions.overflow_note(p_cc integer, p_reason text, p_from uuid, p_to uuid)
RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('overflow', p_reason,
        'from', (SELECT q.name FROM interactions.queues q WHERE q.cc_id = p_cc AND q.id = p_from),
        'to', (SELECT q.name FROM interactions.queues q WHERE q.cc_id = p_cc AND q.id = p_to))
$$;
COMMENT ON FUNCTION interactions.overflow_note(integer, text, uuid, uuid) IS
  'history.routing of an overflow: {"overflow": max_wait|max_size, "from", "to"}.';

-- Place v (Processing, locked) in queue p_queue as nobody's, or in its overflow queue when
-- p_queue is full (the history row says so).  Returns false, changing nothing, when neither
-- has room.
CREATE OR REPLACE FUNCTION interactions.place_in_queue(v interactions.interactions, p_queue uuid, p_op text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v_to uuid := interactions.queue_admit(v.cc_id, p_queue);
BEGIN
    IF v_to IS NULL THEN
        RETURN false;
    END IF;
    IF v_to <> p_queue THEN
        PERFORM set_config('interactions.routing', interactions.overflow_note(v.cc_id, 'max_size', p_queue, v_to)::text, true);
    END IF;
    PERFORM interactions.requeue(v, v_to, p_op);
    PERFORM set_config('interactions.routing', '', true);
    RETURN true;
END $$;
COMMENT ON FUNCTION interactions.place_in_queue(interactions.interactions, uuid, text) IS
  'Requeues an interaction into a queue, or its overflow queue when that one is at max_size; false when neither has room.';

-- Queued work that waited past its queue's max_wait moves to the overflow queue (if that
-- has room), recorded as Overflow with no actor or referenceId, and is routed there.
CREATE OR REPLACE FUNCTION interactions.overflow_waiting(p_batch integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    r   record;
    v   interactions.interactions;
    v_n integer := 0;
BEGIN
    FOR r IN
        SELECT i.cc_id, i.id, q.overflow_queue_id AS to_queue
          FROM interactions.queues q
          JOIN interactions.interactions i
            ON i.cc_id = q.cc_id AND i.queue_id = q.id AND i.state = 'Queued'
           AND i.queued_at <= now() - q.max_wait
         WHERE q.max_wait IS NOT NULL AND q.overflow_queue_id IS NOT NULL
         ORDER BY i.queued_at
         LIMIT p_batch
           FOR UPDATE OF i SKIP LOCKED
    LOOP
        PERFORM set_config('interactions.cc', r.cc_id::text, true);
        CONTINUE WHEN NOT interactions.queue_has_room(r.cc_id, r.to_queue);
        SELECT * INTO STRICT v FROM interactions.interactions i WHERE i.cc_id = r.cc_id AND i.id = r.id;
        UPDATE interactions.interactions i
           SET queue_id = r.to_queue, queued_at = now(), declined_by = '{}', declined_until = NULL,
               unservable = false, updated_at = now()
         WHERE i.cc_id = r.cc_id AND i.id = r.id;
        PERFORM set_config('interactions.routing',
            (interactions.overflow_note(r.cc_id, 'max_wait', v.queue_id, r.to_queue)
             || jsonb_build_object('waitedSeconds', round(extract(epoch FROM now() - v.queued_at)::numeric, 3)))::text, true);
        PERFORM interactions.record('Overflow', v, v.id, NULL, 'StatusChange', '{}', true);
        PERFORM set_config('interactions.routing', '', true);
        PERFORM interactions.route_interaction(r.cc_id, r.id);
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.overflow_waiting(integer) IS
  'Maintenance: moves Queued work that waited longer than its queue''s max_wait to the overflow queue (history operation Overflow, no actor, no referenceId) and routes it there. Returns how many.';
