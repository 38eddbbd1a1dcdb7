-- V012: the agent's day — channel states with reasons, wrap-up, missed offers, longest idle.
--
-- An agent's channel was Ready or NotReady and nothing else happened to it: routing offered
-- work to whoever was offered work least recently, an agent who let every offer expire
-- stayed Ready, and finishing an interaction led straight to the next.  A channel now has
-- the states of GWS's userState (CONTRACT 8.2): Ready, NotReady (with a reason the contact
-- center provisions, or the server's MissedOffers), AfterCallWork (wrap-up, which a queue's
-- wrap_up ends by itself), DoNotDisturb (the state to return to is kept) and LoggedOut.
--
-- Every change of a channel's state is a row of interactions.history (operation
-- 'ChannelState', no interaction, the agent as audience), written in the same transaction
-- as the change: the agent-state history is the same durable, append-only stream as the
-- interactions' (sql/functions/045_agent_states.sql).  interactions.agent_events, the
-- earlier Ready/NotReady log, is copied into it below and written no more.

ALTER TABLE interactions.agent_channels DROP CONSTRAINT agent_channels_state_check;
ALTER TABLE interactions.agent_channels
    ADD CONSTRAINT agent_channels_state_check
        CHECK (state IN ('Ready', 'NotReady', 'AfterCallWork', 'DoNotDisturb', 'LoggedOut')),
    ADD COLUMN reason text,
    ADD COLUMN wrap_up_until timestamptz,
    ADD COLUMN dnd_state text,
    ADD COLUMN dnd_reason text,
    ADD COLUMN missed_offers integer NOT NULL DEFAULT 0 CHECK (missed_offers >= 0),
    ADD COLUMN idle_since timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT agent_channels_reason CHECK (reason IS NULL OR state = 'NotReady'),
    ADD CONSTRAINT agent_channels_dnd CHECK ((state = 'DoNotDisturb') = (dnd_state IS NOT NULL)),
    ADD CONSTRAINT agent_channels_dnd_state
        CHECK (dnd_state IN ('Ready', 'NotReady', 'AfterCallWork')),
    ADD CONSTRAINT agent_channels_dnd_reason CHECK (dnd_reason IS NULL OR dnd_state = 'NotReady'),
    ADD CONSTRAINT agent_channels_wrap_up
        CHECK (wrap_up_until IS NULL OR state = 'AfterCallWork' OR dnd_state = 'AfterCallWork');
UPDATE interactions.agent_channels SET idle_since = state_since;

COMMENT ON TABLE interactions.agent_channels IS
  'Per agent and media type: the channel''s state (GWS userState: Ready, NotReady, AfterCallWork, DoNotDisturb, LoggedOut), how much work at once (capacity), and what routing orders Ready agents by (idle_since). Every change of state is a ChannelState row of interactions.history (view interactions.agent_state_history).';
COMMENT ON COLUMN interactions.agent_channels.state IS
  'Ready: routing may offer work of this media. NotReady (reason): keeps current work, gets nothing new. AfterCallWork: wrap-up after an interaction (ends by itself at wrap_up_until, or when the agent chooses). DoNotDisturb: nothing new; dnd_state is where DoNotDisturbOff returns. LoggedOut: outside a contact-center session.';
COMMENT ON COLUMN interactions.agent_channels.reason IS
  'NotReady only: the reason (a name of interactions.not_ready_reasons, or MissedOffers when the server set it); NULL: no reason given.';
COMMENT ON COLUMN interactions.agent_channels.wrap_up_until IS
  'AfterCallWork that a queue''s wrap_up started: when the maintenance tick makes the channel Ready again. NULL: no end (the agent chose AfterCallWork).';
COMMENT ON COLUMN interactions.agent_channels.dnd_state IS
  'While DoNotDisturb: the state DoNotDisturbOff returns to (Ready, NotReady or AfterCallWork; an AfterCallWork whose end passed returns Ready).';
COMMENT ON COLUMN interactions.agent_channels.dnd_reason IS 'While DoNotDisturb with dnd_state NotReady: its reason.';
COMMENT ON COLUMN interactions.agent_channels.missed_offers IS
  'Consecutive offers of this media to the agent that expired unanswered; an Accept or Reject ends the run, and so does any state the agent chooses. At a queue''s max_no_answer the channel goes NotReady with reason MissedOffers.';
COMMENT ON COLUMN interactions.agent_channels.idle_since IS
  'When the agent''s last interaction of this media ended or the channel became Ready, whichever is later: routing offers to the Ready agent idle longest first.';
COMMENT ON COLUMN interactions.agent_channels.last_offer_at IS
  'When routing last offered this agent work of this media (for reports; routing orders by idle_since).';
COMMENT ON COLUMN interactions.agent_channels.state_since IS 'When the state (as GET /me shows it) last changed: userState.since.';

-- Routing orders Ready agents by idle_since now.
DROP INDEX interactions.agent_channels_ready;
CREATE INDEX agent_channels_ready ON interactions.agent_channels (cc_id, media, idle_since)
    WHERE state = 'Ready';
COMMENT ON INDEX interactions.agent_channels_ready IS 'Ready agents of a media type, longest idle first.';
-- The maintenance tick's wrap-ups that are due, from a partial index: cheap at any number
-- of agents when none is due.
CREATE INDEX agent_channels_wrap_up ON interactions.agent_channels (wrap_up_until)
    WHERE state = 'AfterCallWork' AND wrap_up_until IS NOT NULL;
COMMENT ON INDEX interactions.agent_channels_wrap_up IS 'Timed wrap-ups, soonest end first (maintenance).';

ALTER TABLE interactions.queues
    ADD COLUMN wrap_up interval NOT NULL DEFAULT '0'
        CHECK (wrap_up >= '0'::interval AND wrap_up <= '1 day'::interval),
    ADD COLUMN max_no_answer integer NOT NULL DEFAULT 3 CHECK (max_no_answer BETWEEN 0 AND 1000);
COMMENT ON COLUMN interactions.queues.wrap_up IS
  'After an agent completes, transfers or places elsewhere an interaction of this queue, their channel is AfterCallWork this long, then Ready by itself (0: no wrap-up). interactions.set_queue_policy().';
COMMENT ON COLUMN interactions.queues.max_no_answer IS
  'After this many consecutive offers to an agent expire unanswered (the last from this queue), the agent''s channel goes NotReady with reason MissedOffers (0: never). interactions.set_queue_policy().';

CREATE TABLE interactions.not_ready_reasons (
    cc_id         integer NOT NULL REFERENCES interactions.contact_centers(id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 255),
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, name)
);
COMMENT ON TABLE interactions.not_ready_reasons IS
  'The reasons an agent may give for NotReady, per contact center (interactions.create_not_ready_reason). MissedOffers is the server''s own: provisioning it only sets its display name.';
COMMENT ON COLUMN interactions.not_ready_reasons.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.not_ready_reasons.name IS 'What clients send ({"operationName":"NotReady","reason":name}).';
COMMENT ON COLUMN interactions.not_ready_reasons.display_name IS 'What a desktop shows (userState.displayName).';
COMMENT ON COLUMN interactions.not_ready_reasons.created_at IS 'When the reason was provisioned.';

-- The Ready/NotReady log so far, into the agent-state history (ChannelState rows, as
-- sql/functions/045_agent_states.sql writes them; the earlier rows knew only the new state).
INSERT INTO interactions.history (cc_id, at, operation, actor_id, actor_login, reference_id,
                                  from_state, to_state, audience, snapshot)
SELECT e.cc_id, e.at, 'ChannelState', e.user_id, u.login, e.reference_id,
       lag(e.event) OVER (PARTITION BY e.cc_id, e.user_id, e.media ORDER BY e.seq), e.event,
       ARRAY[e.user_id],
       jsonb_build_object('user', jsonb_build_object('id', e.user_id, 'userName', u.login),
                          'channels', jsonb_build_array(jsonb_build_object(
                              'channel', e.media,
                              'userState', jsonb_build_object(
                                  'state', e.event,
                                  'displayName', CASE e.event WHEN 'Ready' THEN 'Ready' ELSE 'Not ready' END,
                                  'since', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))),
                          'cause', 'Agent')
  FROM interactions.agent_events e
  JOIN interactions.users u ON u.cc_id = e.cc_id AND u.id = e.user_id
 ORDER BY e.seq;

COMMENT ON TABLE interactions.agent_events IS
  'Ready/NotReady changes written before V012 (copied then into interactions.history as ChannelState rows); nothing writes here any more: see the view interactions.agent_state_history.';
