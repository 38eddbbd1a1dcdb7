-- Routing: offering Queued interactions to Ready agents.
--
-- Races are decided by row locks, never by luck.  An agent's channel row is locked before
-- their load is counted and an offer made, so two transactions can never together push an
-- agent over capacity; an interaction row is locked before it is offered, so it is never
-- offered twice.  Both sides take the other's locks with SKIP LOCKED, so routing never
-- waits and never deadlocks.  The price: two transactions that skip each other (one routing
-- interaction X and skipping agent A, the other routing agent A and skipping X) can leave X
-- queued with A free; interactions.maintenance() sweeps that case within one tick.

-- Offer interaction v (locked by the caller, state Queued) to agent p_user.
CREATE OR REPLACE FUNCTION interactions.offer(v interactions.interactions, p_user uuid)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions.interactions i
       SET state = 'Invited', invitee_id = p_user,
           offer_expires_at = now() + interactions.offer_timeout(v.cc_id, v.queue_id),
           participants = CASE WHEN p_user = ANY (i.participants) THEN i.participants
                               ELSE i.participants || p_user END,
           updated_at = now()
     WHERE i.cc_id = v.cc_id AND i.id = v.id;
    UPDATE interactions.agent_channels ch SET last_offer_at = clock_timestamp()
     WHERE ch.cc_id = v.cc_id AND ch.user_id = p_user AND ch.media = v.media_type;
    PERFORM interactions.record('Route', v, v.id, NULL, 'StatusChange', '{}', true);
END $$;
COMMENT ON FUNCTION interactions.offer(interactions.interactions, uuid) IS
  'Makes a queued interaction Invited to one agent, with the queue''s offer timeout, and records the offer.';

-- Offer one queued interaction to the best agent who can take it now: a Ready member of its
-- queue with free capacity for its media type who has not just declined it, the longest
-- idle first (CONTRACT 8.2: whose last interaction on the channel ended, or who became
-- Ready, longest ago: agent_channels.idle_since).  An agent who holds nothing comes before
-- one who is working with capacity to spare; with the default capacity of 1 that is
-- everyone who may be offered anything, and the first free candidate wins as before.
-- Returns whether an offer was made.
CREATE OR REPLACE FUNCTION interactions.route_interaction(p_cc integer, p_id uuid)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    v       interactions.interactions;
    cand    record;
    v_load  integer;
    v_spare uuid;
BEGIN
    SELECT * INTO v FROM interactions.interactions
     WHERE cc_id = p_cc AND id = p_id AND state = 'Queued' FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    FOR cand IN
        SELECT ch.user_id, ch.capacity
          FROM interactions.queue_members m
          JOIN interactions.agent_channels ch
            ON ch.cc_id = m.cc_id AND ch.user_id = m.user_id AND ch.media = v.media_type
         WHERE m.cc_id = p_cc AND m.queue_id = v.queue_id AND ch.state = 'Ready'
           AND ch.capacity > 0
           AND NOT (ch.user_id = ANY (v.declined_by) AND v.declined_until > now())
         ORDER BY ch.idle_since, ch.user_id
    LOOP
        -- lock the agent, then count their load with a fresh snapshot: every transaction
        -- that offered them work before us held this lock and has ended
        PERFORM 1 FROM interactions.agent_channels ch
         WHERE ch.cc_id = p_cc AND ch.user_id = cand.user_id AND ch.media = v.media_type
           AND ch.state = 'Ready'
           FOR UPDATE SKIP LOCKED;
        CONTINUE WHEN NOT FOUND;
        v_load := interactions.agent_load(p_cc, cand.user_id, v.media_type);
        IF v_load = 0 THEN
            PERFORM interactions.offer(v, cand.user_id);
            RETURN true;
        END IF;
        IF v_spare IS NULL AND v_load < (SELECT capacity FROM interactions.agent_channels ch
                                          WHERE ch.cc_id = p_cc AND ch.user_id = cand.user_id
                                            AND ch.media = v.media_type) THEN
            v_spare := cand.user_id;
        END IF;
    END LOOP;
    IF v_spare IS NOT NULL THEN
        -- still locked by us: nobody has offered them anything since it was counted
        PERFORM interactions.offer(v, v_spare);
        RETURN true;
    END IF;
    RETURN false;
END $$;
COMMENT ON FUNCTION interactions.route_interaction(integer, uuid) IS
  'Offers a Queued interaction to the longest-idle Ready member of its queue (agent_channels.idle_since) with free capacity, one holding nothing before one working with capacity to spare (never blocks; skips locked rows).';

-- Offer an agent who may have free capacity the highest-priority, oldest queued interactions
-- of their queues, as many as the capacity allows.  Returns the number of offers made.
CREATE OR REPLACE FUNCTION interactions.route_agent(p_cc integer, p_user uuid, p_media text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_cap   integer;
    v_free  integer;
    v_n     integer := 0;
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
    FOR v IN
        SELECT i.* FROM interactions.interactions i
         WHERE i.cc_id = p_cc AND i.state = 'Queued' AND i.media_type = p_media
           AND i.queue_id IN (SELECT m.queue_id FROM interactions.queue_members m
                               WHERE m.cc_id = p_cc AND m.user_id = p_user)
           AND NOT (p_user = ANY (i.declined_by) AND i.declined_until > now())
         ORDER BY i.priority DESC, i.queued_at, i.id
         LIMIT v_free
           FOR UPDATE OF i SKIP LOCKED
    LOOP
        PERFORM interactions.offer(v, p_user);
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.route_agent(integer, uuid, text) IS
  'Offers a Ready agent with free capacity the highest-priority, oldest queued interactions of their queues (never blocks).';

-- Withdraw an offer: the interaction goes back to its queue, the agent is told Revoked and
-- is not offered it again for one offer timeout.  Used by offer expiry.
CREATE OR REPLACE FUNCTION interactions.revoke_offer(v interactions.interactions)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions.interactions i
       SET state = 'Queued', invitee_id = NULL, offer_expires_at = NULL,
           declined_by = CASE WHEN i.declined_until > now() THEN i.declined_by ELSE '{}' END
                         || v.invitee_id,
           declined_until = now() + interactions.offer_timeout(v.cc_id, v.queue_id),
           updated_at = now()
     WHERE i.cc_id = v.cc_id AND i.id = v.id;
    PERFORM interactions.record('Revoke', v, v.id, NULL, 'StatusChange', ARRAY[v.invitee_id], true);
END $$;
COMMENT ON FUNCTION interactions.revoke_offer(interactions.interactions) IS
  'Withdraws an unanswered offer: Queued again, the agent told Revoked and skipped for one offer timeout.';

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
        PERFORM interactions.revoke_offer(v);
        -- counted against the agent (at the queue's max_no_answer: NotReady) before the
        -- interaction is routed again
        PERFORM interactions.offer_missed(v);
        PERFORM interactions.route_interaction(v.cc_id, v.id);
        v_n := v_n + 1;
    END LOOP;
    -- 1b. timed wrap-ups that have ended: Ready again, and offered work
    v_n := v_n + interactions.end_wrap_ups(p_batch);
    -- 2. Ready agents with free capacity while work they could take waits in their queues.
    -- Agents with waiting work first, then their load: left to itself the planner counts
    -- every Ready agent's load (a function is cheap to its estimate) on every tick.
    FOR a IN
        WITH waiting AS MATERIALIZED (
            SELECT ch.cc_id, ch.user_id, ch.media, ch.capacity, ch.idle_since FROM interactions.agent_channels ch
             WHERE ch.state = 'Ready' AND ch.capacity > 0
               AND EXISTS (SELECT 1 FROM interactions.queue_members m
                             JOIN interactions.interactions i
                               ON i.cc_id = m.cc_id AND i.queue_id = m.queue_id
                              AND i.state = 'Queued' AND i.media_type = ch.media
                            WHERE m.cc_id = ch.cc_id AND m.user_id = ch.user_id
                              AND NOT (ch.user_id = ANY (i.declined_by) AND i.declined_until > now())))
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
  'Background work run by every httpd child each InteractionsMaintenanceInterval (p_tick_ms), one at a time (advisory lock): expires offers (missed offers counted), ends timed wrap-ups, routes skipped work, sweeps push sessions, folds new history into the queue statistics'' rollups, and once a minute keeps the history''s partitions and retention. Returns the number of interactions and channels changed.';
