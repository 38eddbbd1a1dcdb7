-- V001: the foundation schema.
--
-- Every table carries the contact center (cc_id) and every key leads with it, so one
-- contact center's rows are one index range, and row-level security (sql/grants.sql) can
-- hide every other contact center's rows from the module's role.

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA interactions_ext;

CREATE TABLE interactions.contact_centers (
    id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_-]{1,64}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE interactions.contact_centers IS
  'Tenants. An httpd <Location> or <VirtualHost> serves one contact center (InteractionsContactCenter).';
COMMENT ON COLUMN interactions.contact_centers.id IS 'Internal key; every other table carries it as cc_id.';
COMMENT ON COLUMN interactions.contact_centers.name IS 'The name used in the httpd configuration.';
COMMENT ON COLUMN interactions.contact_centers.created_at IS 'When the contact center was provisioned.';

CREATE TABLE interactions.users (
    cc_id          integer NOT NULL REFERENCES interactions.contact_centers(id),
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    login          text NOT NULL CHECK (length(login) BETWEEN 1 AND 255),
    password_hash  text,
    roles          text[] NOT NULL DEFAULT '{}'
                   CHECK (roles <@ ARRAY['agent','supervisor','admin','apiuser']::text[]),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, id),
    UNIQUE (cc_id, login)
);
COMMENT ON TABLE interactions.users IS
  'People and integrations of a contact center. Logins are unique within a contact center only.';
COMMENT ON COLUMN interactions.users.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.users.id IS 'Opaque user id (appears in the API as "id").';
COMMENT ON COLUMN interactions.users.login IS 'The name the user authenticates with (API "userName").';
COMMENT ON COLUMN interactions.users.password_hash IS
  'bcrypt hash (pgcrypto crypt/gen_salt(''bf'')); NULL when another httpd authn module authenticates the user. Not readable by the module role.';
COMMENT ON COLUMN interactions.users.roles IS 'Any of agent, supervisor, admin, apiuser.';
COMMENT ON COLUMN interactions.users.created_at IS 'When the user was provisioned.';

CREATE TABLE interactions.agent_channels (
    cc_id         integer NOT NULL,
    user_id       uuid NOT NULL,
    media         text NOT NULL CHECK (media ~ '^[A-Za-z0-9_.-]{1,64}$'),
    state         text NOT NULL DEFAULT 'NotReady' CHECK (state IN ('Ready','NotReady')),
    capacity      integer NOT NULL DEFAULT 1 CHECK (capacity >= 0),
    state_since   timestamptz NOT NULL DEFAULT now(),
    last_offer_at timestamptz,
    PRIMARY KEY (cc_id, user_id, media),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE interactions.agent_channels IS
  'Per agent and media type: whether routing may offer work (Ready/NotReady) and how much at once (capacity).';
COMMENT ON COLUMN interactions.agent_channels.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.agent_channels.user_id IS 'The agent.';
COMMENT ON COLUMN interactions.agent_channels.media IS 'Media type, e.g. email, chat, workitem.';
COMMENT ON COLUMN interactions.agent_channels.state IS 'Ready: routing may offer; NotReady: keeps current work, gets nothing new.';
COMMENT ON COLUMN interactions.agent_channels.capacity IS 'Interactions of this media the agent may hold (Invited + Processing) at once; default 1.';
COMMENT ON COLUMN interactions.agent_channels.state_since IS 'When the state last changed.';
COMMENT ON COLUMN interactions.agent_channels.last_offer_at IS 'When routing last offered this agent work of this media; the longest idle agent goes first.';

CREATE TABLE interactions.queues (
    cc_id          integer NOT NULL REFERENCES interactions.contact_centers(id),
    id             uuid NOT NULL DEFAULT gen_random_uuid(),
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    offer_timeout  interval NOT NULL DEFAULT '30 seconds' CHECK (offer_timeout > '0'::interval),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, id),
    UNIQUE (cc_id, name)
);
COMMENT ON TABLE interactions.queues IS 'Where interactions wait to be offered to the queue''s members.';
COMMENT ON COLUMN interactions.queues.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.queues.id IS 'Internal key.';
COMMENT ON COLUMN interactions.queues.name IS 'The name used in the API (queueName).';
COMMENT ON COLUMN interactions.queues.offer_timeout IS 'How long an offer from this queue waits for Accept before it is withdrawn (Revoked) and routed again.';
COMMENT ON COLUMN interactions.queues.created_at IS 'When the queue was provisioned.';

CREATE TABLE interactions.queue_members (
    cc_id     integer NOT NULL,
    queue_id  uuid NOT NULL,
    user_id   uuid NOT NULL,
    PRIMARY KEY (cc_id, queue_id, user_id),
    FOREIGN KEY (cc_id, queue_id) REFERENCES interactions.queues(cc_id, id) ON DELETE CASCADE,
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
CREATE INDEX queue_members_user ON interactions.queue_members (cc_id, user_id);
COMMENT ON TABLE interactions.queue_members IS 'Agents that routing may offer a queue''s interactions to.';
COMMENT ON COLUMN interactions.queue_members.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.queue_members.queue_id IS 'The queue.';
COMMENT ON COLUMN interactions.queue_members.user_id IS 'The member agent.';
COMMENT ON INDEX interactions.queue_members_user IS 'The queues of an agent (routing when the agent becomes Ready).';

CREATE TABLE interactions.workbins (
    cc_id       integer NOT NULL REFERENCES interactions.contact_centers(id),
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    owner_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, id),
    FOREIGN KEY (cc_id, owner_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX workbins_shared_name ON interactions.workbins (cc_id, name) WHERE owner_id IS NULL;
CREATE UNIQUE INDEX workbins_personal_name ON interactions.workbins (cc_id, owner_id, name) WHERE owner_id IS NOT NULL;
COMMENT ON TABLE interactions.workbins IS
  'Places where agents park interactions: personal (owner_id set) or shared by the contact center''s agents (owner_id NULL).';
COMMENT ON COLUMN interactions.workbins.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.workbins.id IS 'Internal key.';
COMMENT ON COLUMN interactions.workbins.name IS 'The name used in the API; an agent''s personal workbin hides a shared one of the same name.';
COMMENT ON COLUMN interactions.workbins.owner_id IS 'The agent owning a personal workbin; NULL for a shared one.';
COMMENT ON COLUMN interactions.workbins.created_at IS 'When the workbin was provisioned.';
COMMENT ON INDEX interactions.workbins_shared_name IS 'Shared workbin names are unique in a contact center.';
COMMENT ON INDEX interactions.workbins_personal_name IS 'Personal workbin names are unique per agent.';

CREATE TABLE interactions.interactions (
    cc_id             integer NOT NULL REFERENCES interactions.contact_centers(id),
    id                uuid NOT NULL DEFAULT gen_random_uuid(),
    media_type        text NOT NULL CHECK (media_type ~ '^[A-Za-z0-9_.-]{1,64}$'),
    state             text NOT NULL CHECK (state IN ('Queued','Invited','Processing','InWorkbin',
                                                     'Composing','Completed','Canceled','Sent')),
    queue_id          uuid,
    workbin_id        uuid,
    owner_id          uuid,
    invitee_id        uuid,
    offer_expires_at  timestamptz,
    declined_by       uuid[] NOT NULL DEFAULT '{}',
    declined_until    timestamptz,
    parent_id         uuid,
    external_id       text CHECK (length(external_id) BETWEEN 1 AND 255),
    subject           text,
    from_address      text,
    to_addresses      text[] NOT NULL DEFAULT '{}',
    cc_addresses      text[] NOT NULL DEFAULT '{}',
    body              text,
    priority          integer NOT NULL DEFAULT 0,
    participants      uuid[] NOT NULL DEFAULT '{}',
    created_by        uuid,
    received_at       timestamptz NOT NULL DEFAULT now(),
    queued_at         timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, id),
    UNIQUE (cc_id, external_id),
    FOREIGN KEY (cc_id, queue_id) REFERENCES interactions.queues(cc_id, id),
    FOREIGN KEY (cc_id, workbin_id) REFERENCES interactions.workbins(cc_id, id),
    FOREIGN KEY (cc_id, owner_id) REFERENCES interactions.users(cc_id, id),
    FOREIGN KEY (cc_id, invitee_id) REFERENCES interactions.users(cc_id, id),
    FOREIGN KEY (cc_id, parent_id) REFERENCES interactions.interactions(cc_id, id),
    -- the state machine's invariants, so that no bug can store an impossible row
    CHECK ((state = 'Invited') = (invitee_id IS NOT NULL)),
    CHECK ((state = 'Invited') = (offer_expires_at IS NOT NULL)),
    CHECK ((state IN ('Processing','Composing')) = (owner_id IS NOT NULL)),
    CHECK ((state = 'InWorkbin') = (workbin_id IS NOT NULL)),
    CHECK (state NOT IN ('Queued','Invited') OR queue_id IS NOT NULL)
);
CREATE INDEX interactions_active ON interactions.interactions (cc_id, received_at, id)
    WHERE state NOT IN ('Completed','Canceled','Sent');
CREATE INDEX interactions_routing ON interactions.interactions (cc_id, queue_id, priority DESC, queued_at, id)
    WHERE state = 'Queued';
CREATE INDEX interactions_offers ON interactions.interactions (offer_expires_at) WHERE state = 'Invited';
CREATE INDEX interactions_owner ON interactions.interactions (cc_id, owner_id) WHERE owner_id IS NOT NULL;
CREATE INDEX interactions_invitee ON interactions.interactions (cc_id, invitee_id) WHERE invitee_id IS NOT NULL;
CREATE INDEX interactions_workbin ON interactions.interactions (cc_id, workbin_id) WHERE workbin_id IS NOT NULL;
CREATE INDEX interactions_state ON interactions.interactions (cc_id, state, received_at);
COMMENT ON TABLE interactions.interactions IS
  'Interactions (emails, chats, work items...) and their current state. Every change also appends a row to interactions.history.';
COMMENT ON COLUMN interactions.interactions.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.interactions.id IS 'Opaque id used in the API.';
COMMENT ON COLUMN interactions.interactions.media_type IS 'email, chat, workitem, ... (API mediaType).';
COMMENT ON COLUMN interactions.interactions.state IS 'Queued, Invited, Processing, InWorkbin, Composing; final: Completed, Canceled, Sent.';
COMMENT ON COLUMN interactions.interactions.queue_id IS 'The queue it waits in or came from; where a refused transfer or a withdrawn offer returns it.';
COMMENT ON COLUMN interactions.interactions.workbin_id IS 'The workbin it is parked in (state InWorkbin).';
COMMENT ON COLUMN interactions.interactions.owner_id IS 'The agent working on it (Processing, Composing).';
COMMENT ON COLUMN interactions.interactions.invitee_id IS 'The agent it is offered to (Invited).';
COMMENT ON COLUMN interactions.interactions.offer_expires_at IS 'When the current offer is withdrawn if not accepted.';
COMMENT ON COLUMN interactions.interactions.declined_by IS 'Agents who rejected it or let an offer expire; routing skips them until declined_until.';
COMMENT ON COLUMN interactions.interactions.declined_until IS 'When declined_by stops applying.';
COMMENT ON COLUMN interactions.interactions.parent_id IS 'For a reply: the interaction it answers.';
COMMENT ON COLUMN interactions.interactions.external_id IS 'The creator''s idempotency key: creating with a known externalId returns the existing interaction.';
COMMENT ON COLUMN interactions.interactions.subject IS 'Subject line.';
COMMENT ON COLUMN interactions.interactions.from_address IS 'Sender (API "from").';
COMMENT ON COLUMN interactions.interactions.to_addresses IS 'Recipients (API "to").';
COMMENT ON COLUMN interactions.interactions.cc_addresses IS 'Copy recipients (API "cc").';
COMMENT ON COLUMN interactions.interactions.body IS 'Message body; returned by GET /interactions/{id} only.';
COMMENT ON COLUMN interactions.interactions.priority IS 'Higher is offered first within a queue.';
COMMENT ON COLUMN interactions.interactions.participants IS 'Every agent it was ever offered to or owned by: they may still read it.';
COMMENT ON COLUMN interactions.interactions.created_by IS 'The user who created it.';
COMMENT ON COLUMN interactions.interactions.received_at IS 'When it was created (API receivedDate).';
COMMENT ON COLUMN interactions.interactions.queued_at IS 'When it last entered a queue; the oldest is offered first among equal priorities.';
COMMENT ON COLUMN interactions.interactions.updated_at IS 'When it last changed (API updatedDate).';
COMMENT ON INDEX interactions.interactions_active IS 'GET /interactions: the active interactions of a contact center in creation order.';
COMMENT ON INDEX interactions.interactions_routing IS 'Routing: the highest-priority, oldest queued interaction of a queue.';
COMMENT ON INDEX interactions.interactions_offers IS 'Offer timeouts: the offers due to expire.';
COMMENT ON INDEX interactions.interactions_owner IS 'An agent''s interactions and load.';
COMMENT ON INDEX interactions.interactions_invitee IS 'An agent''s offers and load.';
COMMENT ON INDEX interactions.interactions_workbin IS 'Workbin content.';
COMMENT ON INDEX interactions.interactions_state IS 'Filtering by state (including final states).';

CREATE TABLE interactions.user_data (
    cc_id           integer NOT NULL,
    interaction_id  uuid NOT NULL,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    value           jsonb NOT NULL,
    PRIMARY KEY (cc_id, interaction_id, key),
    FOREIGN KEY (cc_id, interaction_id) REFERENCES interactions.interactions(cc_id, id) ON DELETE CASCADE
);
CREATE INDEX user_data_key ON interactions.user_data (cc_id, key);
COMMENT ON TABLE interactions.user_data IS
  'Key/value data attached to interactions (API userData), one row per key so that DBAs can query by key.';
COMMENT ON COLUMN interactions.user_data.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.user_data.interaction_id IS 'The interaction.';
COMMENT ON COLUMN interactions.user_data.key IS 'Key, 1 to 255 characters.';
COMMENT ON COLUMN interactions.user_data.value IS 'Any JSON value, nested values included.';
COMMENT ON INDEX interactions.user_data_key IS 'Finding interactions by user-data key.';

CREATE SEQUENCE interactions.reference_ids AS bigint;
COMMENT ON SEQUENCE interactions.reference_ids IS
  'API referenceId values: each request that changes something gets one, and its push notifications carry it.';

CREATE TABLE interactions.history (
    cc_id             integer NOT NULL,
    seq               bigint GENERATED ALWAYS AS IDENTITY,
    xid               xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at                timestamptz NOT NULL DEFAULT clock_timestamp(),
    interaction_id    uuid,
    operation         text NOT NULL,
    actor_id          uuid,
    actor_login       text,
    reference_id      bigint,
    from_state        text,
    to_state          text,
    from_queue        text,
    to_queue          text,
    from_workbin      text,
    to_workbin        text,
    from_owner        uuid,
    to_owner          uuid,
    from_invitee      uuid,
    to_invitee        uuid,
    user_data_change  jsonb,
    notification      text CHECK (notification IN ('StatusChange','PropertiesUpdated','WorkbinContent')),
    audience          uuid[] NOT NULL DEFAULT '{}',
    revoked           uuid[] NOT NULL DEFAULT '{}',
    snapshot          jsonb,
    PRIMARY KEY (cc_id, seq)
);
CREATE INDEX history_interaction ON interactions.history (cc_id, interaction_id, seq);
CREATE INDEX history_stream ON interactions.history (xid, seq);
CREATE INDEX history_cc_stream ON interactions.history (cc_id, xid, seq);
CREATE INDEX history_actor ON interactions.history (cc_id, actor_id, at);
COMMENT ON TABLE interactions.history IS
  'Append-only log of every change to every interaction, written in the same transaction as the change. It is both the DBA''s audit trail and the durable event log that feeds the push channel.';
COMMENT ON COLUMN interactions.history.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.history.seq IS 'Insertion order (not commit order: see xid).';
COMMENT ON COLUMN interactions.history.xid IS 'The writing transaction. Readers of the stream take rows in (xid, seq) order below the oldest running transaction, so none is ever skipped.';
COMMENT ON COLUMN interactions.history.at IS 'When the change happened.';
COMMENT ON COLUMN interactions.history.interaction_id IS 'The interaction; NULL for rows that are only messages (WorkbinContent).';
COMMENT ON COLUMN interactions.history.operation IS 'What happened: Create, Accept, Reject, Complete, ..., Route (offered), Revoke (offer withdrawn), Update (PUT).';
COMMENT ON COLUMN interactions.history.actor_id IS 'The user who made the change; NULL for routing and timeouts.';
COMMENT ON COLUMN interactions.history.actor_login IS 'The actor''s login at the time (kept if the user is removed).';
COMMENT ON COLUMN interactions.history.reference_id IS 'The referenceId returned to the API caller (also in the push message).';
COMMENT ON COLUMN interactions.history.from_state IS 'State before the change.';
COMMENT ON COLUMN interactions.history.to_state IS 'State after the change.';
COMMENT ON COLUMN interactions.history.from_queue IS 'Queue name before.';
COMMENT ON COLUMN interactions.history.to_queue IS 'Queue name after.';
COMMENT ON COLUMN interactions.history.from_workbin IS 'Workbin name before.';
COMMENT ON COLUMN interactions.history.to_workbin IS 'Workbin name after.';
COMMENT ON COLUMN interactions.history.from_owner IS 'Owning agent before.';
COMMENT ON COLUMN interactions.history.to_owner IS 'Owning agent after.';
COMMENT ON COLUMN interactions.history.from_invitee IS 'Agent it was offered to before.';
COMMENT ON COLUMN interactions.history.to_invitee IS 'Agent it is offered to after.';
COMMENT ON COLUMN interactions.history.user_data_change IS 'User-data change: {"set":{key:value,...},"deleted":[key,...]} (Create and PUT record the whole set as "set" after "cleared":true).';
COMMENT ON COLUMN interactions.history.notification IS 'The push notificationType this row is delivered as; NULL when no agent is told.';
COMMENT ON COLUMN interactions.history.audience IS 'Agents told of this change on /v2/me/interactions.';
COMMENT ON COLUMN interactions.history.revoked IS 'Agents for whom the interaction stopped being theirs (told with state Revoked).';
COMMENT ON COLUMN interactions.history.snapshot IS 'The interaction after the change (for WorkbinContent rows: the workbin and its content).';
COMMENT ON INDEX interactions.history_interaction IS 'One interaction''s life in order.';
COMMENT ON INDEX interactions.history_stream IS 'The push stream across contact centers (listener wake-ups).';
COMMENT ON INDEX interactions.history_cc_stream IS 'The push stream of one contact center (session delivery).';
COMMENT ON INDEX interactions.history_actor IS 'Agent activity.';

-- The history is append-only: not even its owner can rewrite it; retention goes through
-- interactions.purge_history(), which the trigger lets through.
CREATE FUNCTION interactions.history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('interactions.purging', true) = 'on' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'interactions.history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
COMMENT ON FUNCTION interactions.history_append_only() IS
  'Refuses UPDATE and DELETE on interactions.history, except deletes made by interactions.purge_history().';
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON interactions.history
    FOR EACH ROW EXECUTE FUNCTION interactions.history_append_only();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON interactions.history
    FOR EACH STATEMENT EXECUTE FUNCTION interactions.history_append_only();

CREATE TYPE interactions.caller AS (
    cc_id  integer,
    id     uuid,
    login  text,
    roles  text[]
);
COMMENT ON TYPE interactions.caller IS 'The authenticated user of an API call, resolved once per request.';
