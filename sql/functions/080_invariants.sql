-- The invariant checker: what must hold whatever happened, used by the tests after every
-- race and fault, and available to DBAs.  Returns one text per violation; none is healthy.
CREATE OR REPLACE FUNCTION interactions.invariant_violations(p_cc integer, p_check_capacity boolean DEFAULT false)
RETURNS SETOF text LANGUAGE plpgsql STABLE AS $$
DECLARE
    i      record;
    h      record;
    prev   record;
    v_ud   jsonb;
    v_cur  jsonb;
    k      text;
    v_seq    bigint;
    v_state  text;
    v_reason text;
    v_cut  boolean;
    v_kept timestamptz := (SELECT history_kept_from FROM interactions.contact_centers WHERE id = p_cc);
BEGIN
    FOR i IN SELECT x.*, q.name AS queue_name, w.name AS workbin_name
               FROM interactions.interactions x
               LEFT JOIN interactions.queues q ON q.cc_id = x.cc_id AND q.id = x.queue_id
               LEFT JOIN interactions.workbins w ON w.cc_id = x.cc_id AND w.id = x.workbin_id
              WHERE x.cc_id = p_cc
    LOOP
        prev := NULL;
        v_ud := '{}'::jsonb;
        -- retention may have removed the start of the history of an interaction received
        -- before history_kept_from: its chain is checked from the first row left
        v_cut := v_kept IS NOT NULL AND i.received_at < v_kept;
        FOR h IN SELECT * FROM interactions.history
                  WHERE cc_id = p_cc AND interaction_id = i.id ORDER BY seq
        LOOP
            IF prev IS NULL THEN
                IF h.from_state IS NOT NULL AND NOT v_cut THEN
                    RETURN NEXT format('%s: history starts from state %s, not from nothing', i.id, h.from_state);
                END IF;
            ELSE
                IF h.from_state IS DISTINCT FROM prev.to_state
                   OR h.from_owner IS DISTINCT FROM prev.to_owner
                   OR h.from_invitee IS DISTINCT FROM prev.to_invitee
                   OR h.from_queue IS DISTINCT FROM prev.to_queue
                   OR h.from_workbin IS DISTINCT FROM prev.to_workbin THEN
                    RETURN NEXT format('%s: history row %s (%s) does not continue from row %s', i.id, h.seq,
                                       h.operation, prev.seq);
                END IF;
                -- erasing personal data (066_erasure.sql) is the one change a final interaction takes
                IF prev.to_state IN ('Completed', 'Canceled', 'Sent') AND h.operation <> 'Erase' THEN
                    RETURN NEXT format('%s: changed by %s after reaching the final state %s', i.id,
                                       h.operation, prev.to_state);
                END IF;
            END IF;
            IF h.user_data_change IS NOT NULL THEN
                IF (h.user_data_change->>'cleared')::boolean THEN
                    v_ud := '{}'::jsonb;
                END IF;
                v_ud := v_ud || coalesce(h.user_data_change->'set', '{}'::jsonb);
                FOR k IN SELECT jsonb_array_elements_text(coalesce(h.user_data_change->'deleted', '[]'::jsonb)) LOOP
                    v_ud := v_ud - k;
                END LOOP;
            END IF;
            prev := h;
        END LOOP;
        IF prev IS NULL THEN
            IF NOT v_cut THEN
                RETURN NEXT format('%s: no history', i.id);
            END IF;
            CONTINUE;
        END IF;
        IF prev.to_state IS DISTINCT FROM i.state OR prev.to_owner IS DISTINCT FROM i.owner_id
           OR prev.to_invitee IS DISTINCT FROM i.invitee_id OR prev.to_queue IS DISTINCT FROM i.queue_name
           OR prev.to_workbin IS DISTINCT FROM i.workbin_name
           OR prev.snapshot->>'state' IS DISTINCT FROM i.state THEN
            RETURN NEXT format('%s: replaying the history gives %s/%s, the row says %s/%s', i.id,
                               prev.to_state, prev.to_owner, i.state, i.owner_id);
        END IF;
        v_cur := interactions.user_data_of(p_cc, i.id);
        IF v_cur IS DISTINCT FROM v_ud AND NOT v_cut THEN
            RETURN NEXT format('%s: replaying user data gives %s, the table says %s', i.id, v_ud, v_cur);
        END IF;
    END LOOP;
    -- the agent-state history replays to every channel's state: each ChannelState row
    -- continues from the one before it, and the last names the state the channel is in
    FOR i IN SELECT ch.user_id, ch.media, ch.state, ch.reason
               FROM interactions.agent_channels ch WHERE ch.cc_id = p_cc
    LOOP
        v_seq := NULL;
        FOR h IN SELECT x.seq, x.from_state, x.to_state,
                        x.snapshot->'channels'->0->'userState'->>'reason' AS reason
                   FROM interactions.history x
                  WHERE x.cc_id = p_cc AND x.operation = 'ChannelState' AND x.audience[1] = i.user_id
                    AND x.snapshot->'channels'->0->>'channel' = i.media
                  ORDER BY x.seq
        LOOP
            IF v_seq IS NOT NULL AND h.from_state IS NOT NULL AND h.from_state IS DISTINCT FROM v_state THEN
                RETURN NEXT format('agent %s %s: state history row %s does not continue from row %s',
                                   i.user_id, i.media, h.seq, v_seq);
            END IF;
            v_seq := h.seq;
            v_state := h.to_state;
            v_reason := h.reason;
        END LOOP;
        IF v_seq IS NOT NULL AND (v_state, v_reason) IS DISTINCT FROM (i.state, i.reason) THEN
            RETURN NEXT format('agent %s %s: the state history ends in %s/%s, the channel is %s/%s', i.user_id,
                               i.media, v_state, v_reason, i.state, i.reason);
        END IF;
    END LOOP;
    IF p_check_capacity THEN
        FOR i IN SELECT ch.user_id, ch.media, ch.capacity,
                        interactions.agent_load(ch.cc_id, ch.user_id, ch.media) AS load
                   FROM interactions.agent_channels ch WHERE ch.cc_id = p_cc
        LOOP
            IF i.load > i.capacity THEN
                RETURN NEXT format('agent %s holds %s %s interactions, capacity %s', i.user_id, i.load,
                                   i.media, i.capacity);
            END IF;
        END LOOP;
    END IF;
END $$;
COMMENT ON FUNCTION interactions.invariant_violations(integer, boolean) IS
  'Checks a contact center: every interaction''s history is a gapless chain ending in its current row (state, owner, invitee, queue, workbin, user data), nothing changed after a final state; every channel''s state history likewise ends in its state and reason; optionally that no agent holds more than their capacity. Returns one line per violation.';
