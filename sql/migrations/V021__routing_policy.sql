-- V021: routing policy per queue (CONTRACT 8.3) — strategies, skills, priority ageing,
-- overflow and size limits, why each offer went where it did, audited provisioning.
--
-- Routing was one rule: the longest-idle Ready member of the queue, the waiting work by
-- static priority then age.  A queue now chooses its strategy (longest-idle, round-robin,
-- least-handled, random, ring-all), may require skills that agents hold with levels, ages
-- its waiting work (priority_per_minute), bounds how long work waits (max_wait, then
-- overflow_queue) and how much may wait (max_size).  Each offer's history row says why it
-- went to whom (history.routing); each provisioning change is a row of config_history.
-- The functions are in sql/functions/050_routing.sql and 055_routing_policy.sql.

ALTER TABLE interactions.queues
    ADD COLUMN strategy text NOT NULL DEFAULT 'longest-idle'
        CHECK (strategy IN ('longest-idle', 'round-robin', 'least-handled', 'random', 'ring-all')),
    ADD COLUMN priority_per_minute numeric NOT NULL DEFAULT 0
        CHECK (priority_per_minute >= 0 AND priority_per_minute <= 1000000),
    ADD COLUMN max_wait interval
        CHECK (max_wait > '0'::interval AND max_wait <= '30 days'::interval),
    ADD COLUMN overflow_queue_id uuid,
    ADD COLUMN max_size integer CHECK (max_size >= 0),
    ADD CONSTRAINT queues_overflow FOREIGN KEY (cc_id, overflow_queue_id) REFERENCES interactions.queues(cc_id, id),
    ADD CONSTRAINT queues_overflow_elsewhere CHECK (overflow_queue_id <> id);
COMMENT ON COLUMN interactions.queues.strategy IS
  'Which Ready member gets an offer: longest-idle (default), round-robin (the member offered work of this queue least recently), least-handled (fewest interactions accepted today), random, ring-all (every free member at once; the first Accept wins). interactions.set_queue_policy().';
COMMENT ON COLUMN interactions.queues.priority_per_minute IS
  'Priority ageing: waiting work is ordered by priority + priority_per_minute x minutes waited (0: static priority). interactions.set_queue_policy().';
COMMENT ON COLUMN interactions.queues.max_wait IS
  'With overflow_queue: work waiting longer than this moves there (maintenance tick). NULL: no limit. interactions.set_queue_policy().';
COMMENT ON COLUMN interactions.queues.overflow_queue_id IS
  'Where work goes after max_wait, or when the queue is at max_size. NULL: none (max_size refuses). interactions.set_queue_policy().';
COMMENT ON COLUMN interactions.queues.max_size IS
  'At most this many interactions wait (Queued) in the queue: creating or queueing one more is refused (statusCode 2), or overflows when overflow_queue is set. NULL: no limit. interactions.set_queue_policy().';
COMMENT ON CONSTRAINT queues_overflow ON interactions.queues IS 'The overflow queue is a queue of the same contact center.';
COMMENT ON CONSTRAINT queues_overflow_elsewhere ON interactions.queues IS 'A queue does not overflow into itself.';
CREATE INDEX queues_max_wait ON interactions.queues (cc_id, id) WHERE max_wait IS NOT NULL AND overflow_queue_id IS NOT NULL;
COMMENT ON INDEX interactions.queues_max_wait IS 'The queues whose waiting work the maintenance tick moves after max_wait.';

-- round-robin: the member offered work of this queue least recently goes next
ALTER TABLE interactions.queue_members ADD COLUMN last_offer_at timestamptz;
COMMENT ON COLUMN interactions.queue_members.last_offer_at IS
  'When routing last offered this member work of this queue (round-robin: the least recent, never first).';

-- least-handled: accepted today, counted where the Accept happens.  A table of its own, not
-- columns of agent_channels: an Accept then locks no channel row, so it never waits for a
-- router or the maintenance tick working on the agent's channel.
CREATE TABLE interactions.agent_handled (
    cc_id       integer NOT NULL,
    user_id     uuid NOT NULL,
    media       text NOT NULL,
    day         date NOT NULL,
    handled     integer NOT NULL DEFAULT 0 CHECK (handled >= 0),
    PRIMARY KEY (cc_id, user_id, media),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE interactions.agent_handled IS
  'How many interactions of a media each agent accepted on their latest working day (least-handled routing).';
COMMENT ON COLUMN interactions.agent_handled.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.agent_handled.user_id IS 'The agent.';
COMMENT ON COLUMN interactions.agent_handled.media IS 'Media type.';
COMMENT ON COLUMN interactions.agent_handled.day IS 'The day counted (database time zone); an older day counts as 0 today.';
COMMENT ON COLUMN interactions.agent_handled.handled IS 'Interactions accepted on that day.';

ALTER TABLE interactions.interactions ADD COLUMN unservable boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN interactions.interactions.unservable IS
  'Queued work that no member of its queue can ever be offered: nobody has the skills it requires (the queue''s and its userData.requiredSkills). Set by routing, cleared when provisioning or an offer changes that.';
CREATE INDEX interactions_unservable ON interactions.interactions (cc_id, queue_id) WHERE unservable;
COMMENT ON INDEX interactions.interactions_unservable IS 'Work nobody can serve, per queue (supervisors'' statistic).';
-- max_wait: the oldest waiting work of a queue
CREATE INDEX interactions_waiting ON interactions.interactions (cc_id, queue_id, queued_at) WHERE state = 'Queued';
COMMENT ON INDEX interactions.interactions_waiting IS 'Queued work of a queue, oldest first (max_wait overflow, max_size).';

ALTER TABLE interactions.history ADD COLUMN routing jsonb;
COMMENT ON COLUMN interactions.history.routing IS
  'Route and Overflow rows: why. {"strategy","candidates" (free Ready members meeting the requirements),"rank" (the winner''s place among them, 1 = first),"requirements":{skill:min},"skills":{skill:level of the winner},"skillTotal","effectivePriority","agedBy","waitedSeconds"}; Overflow: {"reason":"max_wait"|"max_size","from","to"}.';

CREATE TABLE interactions.agent_skills (
    cc_id    integer NOT NULL,
    user_id  uuid NOT NULL,
    skill    text NOT NULL CHECK (skill ~ '^[A-Za-z0-9_.-]{1,64}$'),
    level    integer NOT NULL CHECK (level BETWEEN 0 AND 10),
    PRIMARY KEY (cc_id, user_id, skill),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE interactions.agent_skills IS 'The skills of an agent, with levels 0 to 10 (interactions.set_agent_skill).';
COMMENT ON COLUMN interactions.agent_skills.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.agent_skills.user_id IS 'The agent.';
COMMENT ON COLUMN interactions.agent_skills.skill IS 'Skill name (letters, digits, _ . -), as queues and userData.requiredSkills name it.';
COMMENT ON COLUMN interactions.agent_skills.level IS '0 to 10; a requirement of min_level n is met by a level of n or more.';

CREATE TABLE interactions.queue_requirements (
    cc_id      integer NOT NULL,
    queue_id   uuid NOT NULL,
    skill      text NOT NULL CHECK (skill ~ '^[A-Za-z0-9_.-]{1,64}$'),
    min_level  integer NOT NULL CHECK (min_level BETWEEN 0 AND 10),
    PRIMARY KEY (cc_id, queue_id, skill),
    FOREIGN KEY (cc_id, queue_id) REFERENCES interactions.queues(cc_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE interactions.queue_requirements IS 'Skills every agent offered a queue''s work must have (interactions.set_queue_requirement).';
COMMENT ON COLUMN interactions.queue_requirements.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.queue_requirements.queue_id IS 'The queue.';
COMMENT ON COLUMN interactions.queue_requirements.skill IS 'Skill name.';
COMMENT ON COLUMN interactions.queue_requirements.min_level IS 'The lowest level that meets the requirement (0 to 10).';

CREATE TABLE interactions.config_history (
    cc_id       integer NOT NULL REFERENCES interactions.contact_centers(id),
    seq         bigint GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL DEFAULT now(),
    changed_by  name NOT NULL DEFAULT session_user,
    application text DEFAULT current_setting('application_name', true),
    function    text NOT NULL,
    target      text NOT NULL,
    change      jsonb NOT NULL,
    PRIMARY KEY (cc_id, seq)
);
CREATE INDEX config_history_target ON interactions.config_history (cc_id, target, seq);
COMMENT ON TABLE interactions.config_history IS
  'Append-only record of routing provisioning: every call of set_queue_policy, set_agent_skill, set_queue_requirement, remove_queue_member, disable_user and set_user_roles that changed something, with who and what.';
COMMENT ON COLUMN interactions.config_history.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.config_history.seq IS 'Order of the changes.';
COMMENT ON COLUMN interactions.config_history.at IS 'When (the transaction''s time).';
COMMENT ON COLUMN interactions.config_history.changed_by IS 'The database role that made the change (session_user).';
COMMENT ON COLUMN interactions.config_history.application IS 'application_name of the session that made the change.';
COMMENT ON COLUMN interactions.config_history.function IS 'The provisioning function called.';
COMMENT ON COLUMN interactions.config_history.target IS 'What changed: queue:<name>, user:<login>.';
COMMENT ON COLUMN interactions.config_history.change IS 'The change: {"from":..,"to":..} or the arguments.';
COMMENT ON INDEX interactions.config_history_target IS 'The changes of one queue or user in order.';

CREATE FUNCTION interactions.config_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'interactions.config_history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
COMMENT ON FUNCTION interactions.config_history_append_only() IS
  'Refuses UPDATE, DELETE and TRUNCATE on interactions.config_history.';
CREATE TRIGGER config_history_append_only BEFORE UPDATE OR DELETE ON interactions.config_history
    FOR EACH ROW EXECUTE FUNCTION interactions.config_history_append_only();
CREATE TRIGGER config_history_no_truncate BEFORE TRUNCATE ON interactions.config_history
    FOR EACH STATEMENT EXECUTE FUNCTION interactions.config_history_append_only();
COMMENT ON TRIGGER config_history_append_only ON interactions.config_history IS 'The configuration history is append-only.';
COMMENT ON TRIGGER config_history_no_truncate ON interactions.config_history IS 'TRUNCATE would erase the configuration history.';

-- ring-all: an offer rings every free member at once.  interactions.invitee_id holds the
-- first of them (the strategy's choice, as for any offer); the others are rows here, for
-- as long as the interaction is Invited.  The first Accept wins and the rows go.
CREATE TABLE interactions.ring_offers (
    cc_id           integer NOT NULL,
    interaction_id  uuid NOT NULL,
    user_id         uuid NOT NULL,
    media           text NOT NULL,
    PRIMARY KEY (cc_id, interaction_id, user_id),
    FOREIGN KEY (cc_id, interaction_id) REFERENCES interactions.interactions(cc_id, id) ON DELETE CASCADE,
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
CREATE INDEX ring_offers_user ON interactions.ring_offers (cc_id, user_id, media);
COMMENT ON TABLE interactions.ring_offers IS
  'A ring-all offer''s other agents: the interaction (Invited) is offered to its invitee_id and to every agent here at once; the first Accept wins, the others are revoked.';
COMMENT ON COLUMN interactions.ring_offers.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.ring_offers.interaction_id IS 'The interaction offered.';
COMMENT ON COLUMN interactions.ring_offers.user_id IS 'An agent it is offered to besides invitee_id.';
COMMENT ON COLUMN interactions.ring_offers.media IS 'The interaction''s media type (counted in the agent''s load).';
COMMENT ON INDEX interactions.ring_offers_user IS 'An agent''s ringing offers (their load).';

-- offer() takes the reason of the choice now, revoke_offer() returns whom it told
-- (V011: old signatures go here, once)
DROP FUNCTION IF EXISTS interactions.offer(interactions.interactions, uuid);
DROP FUNCTION IF EXISTS interactions.revoke_offer(interactions.interactions);
