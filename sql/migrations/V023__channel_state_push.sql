-- V023: channel states on the push channel.
--
-- Every change of an agent's channel state is a ChannelState row of interactions.history
-- (V012).  Those rows had no notification, so the push channel passed them by.  They now
-- carry notification 'ChannelState': delivered as ChannelStateChangeMessage on
-- /v2/me/channels to the agent (the row's audience) and on /v2/agents to the contact
-- center's supervisors and admins, with the same cursors, ack extension and rights checks
-- as the interactions' messages (sql/functions/060_push.sql).  Rows written before this
-- migration keep no notification: they precede every session's cursor.

-- The check's name depends on the history's past (V013 recreated the table while the old
-- one still held the name): found by what it checks.
DO $$
DECLARE
    v_name name;
BEGIN
    FOR v_name IN
        SELECT c.conname FROM pg_constraint c
         WHERE c.conrelid = 'interactions.history'::regclass AND c.contype = 'c'
           AND pg_get_constraintdef(c.oid) LIKE '%notification%'
    LOOP
        EXECUTE format('ALTER TABLE interactions.history DROP CONSTRAINT %I', v_name);
    END LOOP;
END $$;
ALTER TABLE interactions.history
    ADD CONSTRAINT history_notification_check
        CHECK (notification IN ('StatusChange', 'PropertiesUpdated', 'WorkbinContent', 'ChannelState'));
COMMENT ON COLUMN interactions.history.notification IS
  'The push notification of the row: StatusChange or PropertiesUpdated (interactions: /v2/me/interactions to the audience and revoked, /v2/interactions to supervisors and admins), WorkbinContent (to the agent who asked), ChannelState (an agent''s channel state: /v2/me/channels to the agent, /v2/agents to supervisors and admins); NULL: nobody is told.';

-- A push session may follow the two channel-state channels too.
ALTER TABLE interactions.push_sessions DROP CONSTRAINT push_sessions_channels_check;
ALTER TABLE interactions.push_sessions
    ADD CONSTRAINT push_sessions_channels_check
        CHECK (channels <@ ARRAY['/v2/me/interactions', '/v2/interactions',
                                 '/v2/me/channels', '/v2/agents']::text[]);
COMMENT ON COLUMN interactions.push_sessions.channels IS
  'Subscribed channels: /v2/me/interactions, /v2/interactions, /v2/me/channels, /v2/agents.';
