-- The agent's day: channel states, their history, wrap-up, missed offers (CONTRACT 8.2).
-- Repeatable: re-applied by interactions-migrate.
--
-- A channel (interactions.agent_channels: an agent and a media type) is Ready, NotReady
-- (with a reason), AfterCallWork, DoNotDisturb or LoggedOut.  Only interactions.channel_write()
-- changes a channel's state, and it appends the change to interactions.history in the same
-- transaction: a row with operation 'ChannelState', no interaction, the agent as audience,
-- from_state/to_state, the actor and referenceId of the request (none when the server
-- itself changed it: wrap-up ending, missed offers, a disabled user), the queue that caused
-- it in to_queue, and as snapshot the channel as a push message shows it
-- ({"user":{"id","userName"},"channels":[{"channel","userState"}]}) with the cause and the
-- state before.  Their notification is 'ChannelState': the push channel delivers them as
-- ChannelStateChangeMessage on /v2/me/channels to the agent and on /v2/agents to the
-- contact center's supervisors and admins (060_push.sql).
--
-- Locks: interaction rows before channel rows.  The operations on interactions lock the
-- interaction and then update the agent's channel (idle_since, wrap-up, missed offers);
-- whoever holds a channel lock takes interaction locks only with SKIP LOCKED (routing) or
-- has taken them before it (EndContactCenterSession), so the two never wait on each other
-- in a circle.

-- The display name of a state and reason: the contact center's name for a provisioned
-- reason, plain words otherwise.
CREATE OR REPLACE FUNCTION interactions.state_display_name(p_cc integer, p_state text, p_reason text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_state = 'NotReady' AND p_reason IS NOT NULL THEN
        RETURN coalesce((SELECT r.display_name FROM interactions.not_ready_reasons r
                          WHERE r.cc_id = p_cc AND r.name = p_reason),
                        CASE p_reason WHEN 'MissedOffers' THEN 'Missed offers' ELSE p_reason END);
    END IF;
    RETURN CASE p_state
        WHEN 'Ready' THEN 'Ready'
        WHEN 'NotReady' THEN 'Not ready'
        WHEN 'AfterCallWork' THEN 'After call work'
        WHEN 'DoNotDisturb' THEN 'Do not disturb'
        WHEN 'LoggedOut' THEN 'Logged out'
        ELSE p_state END;
END $$;
COMMENT ON FUNCTION interactions.state_display_name(integer, text, text) IS
  'userState.displayName: a provisioned reason''s display name, "Missed offers" for the server''s reason, else the state in plain words.';

-- GWS userState of a channel: {"state","reason"?,"displayName","since","until"?}; "until"
-- is when a timed wrap-up ends.
CREATE OR REPLACE FUNCTION interactions.user_state_of(ch interactions.agent_channels)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v jsonb;
BEGIN
    v := jsonb_build_object('state', ch.state,
                            'displayName', interactions.state_display_name(ch.cc_id, ch.state, ch.reason),
                            'since', interactions.iso(ch.state_since));
    IF ch.reason IS NOT NULL THEN
        v := v || jsonb_build_object('reason', ch.reason);
    END IF;
    IF ch.state = 'AfterCallWork' AND ch.wrap_up_until IS NOT NULL THEN
        v := v || jsonb_build_object('until', interactions.iso(ch.wrap_up_until));
    END IF;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.user_state_of(interactions.agent_channels) IS
  'A channel''s GWS userState: {"state","reason"?,"displayName","since","until"? (end of a timed wrap-up)}.';

-- The one writer of a channel's state.  p_after is the row as it is to be (the caller's
-- copy of p_before with its changes); a change of the state or reason that GET /me shows is
-- recorded in the history (p_cause: Agent, Session, DoNotDisturb, WrapUp, WrapUpEnd,
-- MissedOffers, Disabled), with no actor when p_system.  Becoming Ready starts the agent's
-- idle time.
CREATE OR REPLACE FUNCTION interactions.channel_write(p_before interactions.agent_channels,
                                                      p_after interactions.agent_channels,
                                                      p_cause text, p_system boolean,
                                                      p_queue text DEFAULT NULL)
RETURNS interactions.agent_channels LANGUAGE plpgsql AS $$
DECLARE
    v_changed boolean := (p_before.state, p_before.reason) IS DISTINCT FROM (p_after.state, p_after.reason);
    v_actor   uuid := CASE WHEN p_system THEN NULL
                           ELSE nullif(current_setting('interactions.actor', true), '')::uuid END;
    v_login   text;
    v_ch      interactions.agent_channels;
BEGIN
    UPDATE interactions.agent_channels ch
       SET state = p_after.state, reason = p_after.reason, wrap_up_until = p_after.wrap_up_until,
           dnd_state = p_after.dnd_state, dnd_reason = p_after.dnd_reason,
           missed_offers = p_after.missed_offers,
           state_since = CASE WHEN v_changed THEN now() ELSE ch.state_since END,
           idle_since = CASE WHEN p_after.state = 'Ready' AND p_before.state <> 'Ready' THEN now()
                             ELSE p_after.idle_since END
     WHERE ch.cc_id = p_before.cc_id AND ch.user_id = p_before.user_id AND ch.media = p_before.media
    RETURNING ch.* INTO v_ch;
    IF v_changed THEN
        SELECT u.login INTO v_login FROM interactions.users u
         WHERE u.cc_id = v_ch.cc_id AND u.id = v_ch.user_id;
        INSERT INTO interactions.history (cc_id, operation, actor_id, actor_login, reference_id,
                                          from_state, to_state, to_queue, notification, audience,
                                          snapshot)
        VALUES (v_ch.cc_id, 'ChannelState', v_actor,
                (SELECT u.login FROM interactions.users u WHERE u.cc_id = v_ch.cc_id AND u.id = v_actor),
                nullif(current_setting('interactions.ref', true), '')::bigint,
                p_before.state, v_ch.state, p_queue, 'ChannelState', ARRAY[v_ch.user_id],
                jsonb_build_object(
                    'user', jsonb_build_object('id', v_ch.user_id, 'userName', v_login),
                    'channels', jsonb_build_array(jsonb_build_object(
                        'channel', v_ch.media, 'userState', interactions.user_state_of(v_ch))),
                    'cause', p_cause,
                    'previous', interactions.user_state_of(p_before)));
    END IF;
    RETURN v_ch;
END $$;
COMMENT ON FUNCTION interactions.channel_write(interactions.agent_channels, interactions.agent_channels, text, boolean, text) IS
  'Writes a channel''s new state (p_after) and, when the state or reason changed, appends its ChannelState row to interactions.history (cause, actor unless p_system, referenceId, the queue that caused it). The only writer of agent_channels.state.';

-- The caller's channel of media p_media, locked; created (NotReady) when the agent has
-- fewer than p_max channels, else NULL (one agent must not make the server hold rows for
-- any number of made-up media types: InteractionsMaxAgentChannels).
CREATE OR REPLACE FUNCTION interactions.channel_for_update(c interactions.caller, p_media text,
                                                           p_max integer)
RETURNS interactions.agent_channels LANGUAGE plpgsql AS $$
DECLARE
    ch interactions.agent_channels;
BEGIN
    SELECT * INTO ch FROM interactions.agent_channels x
     WHERE x.cc_id = c.cc_id AND x.user_id = c.id AND x.media = p_media FOR UPDATE;
    IF FOUND THEN
        RETURN ch;
    END IF;
    IF p_max IS NOT NULL AND (SELECT count(*) FROM interactions.agent_channels x
                               WHERE x.cc_id = c.cc_id AND x.user_id = c.id) >= p_max THEN
        RETURN NULL;
    END IF;
    INSERT INTO interactions.agent_channels (cc_id, user_id, media) VALUES (c.cc_id, c.id, p_media)
    ON CONFLICT DO NOTHING;
    SELECT * INTO STRICT ch FROM interactions.agent_channels x
     WHERE x.cc_id = c.cc_id AND x.user_id = c.id AND x.media = p_media FOR UPDATE;
    RETURN ch;
END $$;
COMMENT ON FUNCTION interactions.channel_for_update(interactions.caller, text, integer) IS
  'The caller''s channel of a media type, locked FOR UPDATE; created NotReady if the agent has fewer than p_max channels, else NULL.';

-- The state DoNotDisturbOff returns a channel to: its saved state, and Ready for a timed
-- wrap-up that ended meanwhile.
CREATE OR REPLACE FUNCTION interactions.dnd_return(ch interactions.agent_channels)
RETURNS interactions.agent_channels LANGUAGE plpgsql STABLE AS $$
DECLARE
    v interactions.agent_channels := ch;
BEGIN
    v.state := ch.dnd_state;
    v.reason := ch.dnd_reason;
    v.dnd_state := NULL;
    v.dnd_reason := NULL;
    IF v.state = 'AfterCallWork' AND v.wrap_up_until IS NOT NULL AND v.wrap_up_until <= now() THEN
        v.state := 'Ready';
    END IF;
    IF v.state <> 'AfterCallWork' THEN
        v.wrap_up_until := NULL;
    END IF;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.dnd_return(interactions.agent_channels) IS
  'The channel as DoNotDisturbOff leaves it: the state saved when DoNotDisturb began (Ready if it was a timed wrap-up that has ended).';

-- Withdraw the offers to user p_user of every media type but those in p_keep: the channels
-- are leaving the contact center (LoggedOut, or the user disabled).  Not counted as missed
-- offers; each interaction is routed again at once.
CREATE OR REPLACE FUNCTION interactions.withdraw_offers(p_cc integer, p_user uuid, p_keep text[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v   interactions.interactions;
    v_n integer := 0;
BEGIN
    FOR v IN
        SELECT * FROM interactions.interactions i
         WHERE i.cc_id = p_cc AND i.state = 'Invited' AND NOT (i.media_type = ANY (p_keep))
           AND (i.invitee_id = p_user
                OR EXISTS (SELECT 1 FROM interactions.ring_offers r        -- ring-all (050_routing.sql)
                            WHERE r.cc_id = i.cc_id AND r.interaction_id = i.id AND r.user_id = p_user))
         ORDER BY i.id
           FOR UPDATE
    LOOP
        CONTINUE WHEN interactions.ring_drop(v, p_user, 'Revoke');
        PERFORM interactions.revoke_offer(v);
        PERFORM interactions.route_interaction(p_cc, v.id);
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.withdraw_offers(integer, uuid, text[]) IS
  'Withdraws the offers made to an agent of every media type not in p_keep, as an expiry does but without counting them as missed, and routes each again.';

-- An agent's work on an interaction of media p_media from queue p_queue has ended
-- (Complete, Transfer, PlaceInQueue, PlaceInWorkbin): the agent's idle time starts again,
-- and if the queue has a wrap-up and the channel is Ready (or in a timed wrap-up), the
-- channel goes AfterCallWork until it ends.  A channel in any other state keeps it: an
-- agent who went NotReady while finishing their last interaction stays NotReady.
CREATE OR REPLACE FUNCTION interactions.work_ended(p_cc integer, p_user uuid, p_media text,
                                                   p_queue uuid)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ch     interactions.agent_channels;
    v_new  interactions.agent_channels;
    v_wrap interval;
    v_name text;
BEGIN
    SELECT q.wrap_up, q.name INTO v_wrap, v_name FROM interactions.queues q
     WHERE q.cc_id = p_cc AND q.id = p_queue;
    IF coalesce(v_wrap, '0') = '0'::interval THEN
        UPDATE interactions.agent_channels x SET idle_since = now()
         WHERE x.cc_id = p_cc AND x.user_id = p_user AND x.media = p_media;
        RETURN;
    END IF;
    SELECT * INTO ch FROM interactions.agent_channels x
     WHERE x.cc_id = p_cc AND x.user_id = p_user AND x.media = p_media FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_new := ch;
    v_new.idle_since := now();
    IF ch.state = 'Ready' OR (ch.state = 'AfterCallWork' AND ch.wrap_up_until IS NOT NULL) THEN
        v_new.state := 'AfterCallWork';
        v_new.wrap_up_until := greatest(coalesce(ch.wrap_up_until, now()), now() + v_wrap);
    END IF;
    PERFORM interactions.channel_write(ch, v_new, 'WrapUp', false, v_name);
END $$;
COMMENT ON FUNCTION interactions.work_ended(integer, uuid, text, uuid) IS
  'An agent finished with an interaction of a queue: idle time starts again, and a Ready channel goes AfterCallWork for the queue''s wrap_up (a timed wrap-up is extended).';

-- An offer to the agent was answered (Accept, Reject): the run of missed offers ends.  The
-- row is written (and locked) only when there was a run.
CREATE OR REPLACE FUNCTION interactions.offer_answered(p_cc integer, p_user uuid, p_media text)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE interactions.agent_channels ch SET missed_offers = 0
     WHERE ch.cc_id = p_cc AND ch.user_id = p_user AND ch.media = p_media AND ch.missed_offers <> 0;
END $$;
COMMENT ON FUNCTION interactions.offer_answered(integer, uuid, text) IS
  'Ends an agent''s run of missed offers of a media type (Accept, Reject).';

-- Offer v expired unanswered (v: the row before the expiry): one more missed offer in a
-- row; at the queue's max_no_answer a Ready channel goes NotReady with reason MissedOffers
-- (no actor: the server did it).
CREATE OR REPLACE FUNCTION interactions.offer_missed(v interactions.interactions)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ch     interactions.agent_channels;
    v_new  interactions.agent_channels;
    v_max  integer;
    v_name text;
BEGIN
    SELECT q.max_no_answer, q.name INTO v_max, v_name FROM interactions.queues q
     WHERE q.cc_id = v.cc_id AND q.id = v.queue_id;
    UPDATE interactions.agent_channels x SET missed_offers = x.missed_offers + 1
     WHERE x.cc_id = v.cc_id AND x.user_id = v.invitee_id AND x.media = v.media_type
    RETURNING x.* INTO ch;
    IF ch.user_id IS NULL OR coalesce(v_max, 0) = 0 OR ch.missed_offers < v_max OR ch.state <> 'Ready' THEN
        RETURN;
    END IF;
    v_new := ch;
    v_new.state := 'NotReady';
    v_new.reason := 'MissedOffers';
    v_new.missed_offers := 0;
    PERFORM interactions.channel_write(ch, v_new, 'MissedOffers', true, v_name);
END $$;
COMMENT ON FUNCTION interactions.offer_missed(interactions.interactions) IS
  'Counts an expired offer against its agent; at the queue''s max_no_answer in a row the Ready channel goes NotReady with reason MissedOffers.';

-- Maintenance: timed wrap-ups that have ended go Ready (no actor) and are offered work at
-- once.  A channel locked by a request of its agent is left for the next tick.
CREATE OR REPLACE FUNCTION interactions.end_wrap_ups(p_batch integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ch    interactions.agent_channels;
    v_new interactions.agent_channels;
    v_n   integer := 0;
BEGIN
    FOR ch IN
        SELECT * FROM interactions.agent_channels x
         WHERE x.state = 'AfterCallWork' AND x.wrap_up_until IS NOT NULL AND x.wrap_up_until <= now()
         ORDER BY x.wrap_up_until
         LIMIT p_batch
           FOR UPDATE SKIP LOCKED
    LOOP
        PERFORM set_config('interactions.cc', ch.cc_id::text, true);
        v_new := ch;
        v_new.state := 'Ready';
        v_new.wrap_up_until := NULL;
        PERFORM interactions.channel_write(ch, v_new, 'WrapUpEnd', true);
        PERFORM interactions.route_agent(ch.cc_id, ch.user_id, ch.media);
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.end_wrap_ups(integer) IS
  'Maintenance: makes Ready the channels whose timed wrap-up has ended (at most p_batch, skipping locked ones) and offers them work. Returns how many.';

-- Every channel of user p_user LoggedOut and their offers withdrawn (the user was disabled).
-- No actor: the change comes from the account, not from a request.
CREATE OR REPLACE FUNCTION interactions.log_out_agent(p_cc integer, p_user uuid, p_cause text)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    ch    interactions.agent_channels;
    v_new interactions.agent_channels;
    v_n   integer := 0;
BEGIN
    PERFORM interactions.withdraw_offers(p_cc, p_user, '{}');
    FOR ch IN
        SELECT * FROM interactions.agent_channels x
         WHERE x.cc_id = p_cc AND x.user_id = p_user AND x.state <> 'LoggedOut'
         ORDER BY x.media
           FOR UPDATE
    LOOP
        v_new := ch;
        v_new.state := 'LoggedOut';
        v_new.reason := NULL;
        v_new.wrap_up_until := NULL;
        v_new.dnd_state := NULL;
        v_new.dnd_reason := NULL;
        v_new.missed_offers := 0;
        PERFORM interactions.channel_write(ch, v_new, p_cause, true);
        v_n := v_n + 1;
    END LOOP;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.log_out_agent(integer, uuid, text) IS
  'Logs every channel of an agent out (no actor) after withdrawing their offers; used when the user is disabled. Returns the channels changed.';

-- ------------------------------------------------------------------ provisioning (DBAs)

CREATE OR REPLACE FUNCTION interactions.create_not_ready_reason(contact_center text, name text,
                                                                display_name text)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
#variable_conflict use_column
DECLARE
    v_cc integer := interactions.cc_by_name(contact_center);
BEGIN
    INSERT INTO interactions.not_ready_reasons (cc_id, name, display_name)
    VALUES (v_cc, create_not_ready_reason.name, coalesce(create_not_ready_reason.display_name,
                                                         create_not_ready_reason.name))
    ON CONFLICT (cc_id, name) DO UPDATE SET display_name = EXCLUDED.display_name;
END $$;
COMMENT ON FUNCTION interactions.create_not_ready_reason(text, text, text) IS
  'Provision a NotReady reason agents may give (idempotent; calling again sets the display name). MissedOffers is the server''s: provisioning it sets only its display name, agents still cannot choose it.';

CREATE OR REPLACE FUNCTION interactions.policy_interval(p jsonb) RETURNS interval
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF jsonb_typeof(p) = 'number' THEN
        RETURN (p::text)::numeric * interval '1 second';
    END IF;
    RETURN (p #>> '{}')::interval;
END $$;
COMMENT ON FUNCTION interactions.policy_interval(jsonb) IS
  'A queue setting''s interval: a JSON number of seconds, or interval text (''30 seconds'').';
