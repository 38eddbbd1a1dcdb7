-- V002: what the agent operations and routing need beyond the foundation.

CREATE TABLE interactions.agent_events (
    cc_id         integer NOT NULL,
    seq           bigint GENERATED ALWAYS AS IDENTITY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    user_id       uuid NOT NULL,
    media         text NOT NULL,
    event         text NOT NULL CHECK (event IN ('Ready', 'NotReady')),
    reference_id  bigint,
    PRIMARY KEY (cc_id, seq),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_events_user ON interactions.agent_events (cc_id, user_id, at);
COMMENT ON TABLE interactions.agent_events IS
  'Append-only log of agents'' channel state changes (Ready / NotReady), for agent activity reports.';
COMMENT ON COLUMN interactions.agent_events.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.agent_events.seq IS 'Insertion order.';
COMMENT ON COLUMN interactions.agent_events.at IS 'When the agent changed state.';
COMMENT ON COLUMN interactions.agent_events.user_id IS 'The agent.';
COMMENT ON COLUMN interactions.agent_events.media IS 'The media channel whose state changed.';
COMMENT ON COLUMN interactions.agent_events.event IS 'Ready or NotReady.';
COMMENT ON COLUMN interactions.agent_events.reference_id IS 'The referenceId of the API request.';
COMMENT ON INDEX interactions.agent_events_user IS 'One agent''s state changes in time order.';

CREATE TRIGGER agent_events_append_only BEFORE UPDATE OR DELETE ON interactions.agent_events
    FOR EACH ROW EXECUTE FUNCTION interactions.history_append_only();
COMMENT ON TRIGGER agent_events_append_only ON interactions.agent_events IS
  'Agent state changes are append-only like interactions.history (retention via interactions.purge_history).';
COMMENT ON TRIGGER history_append_only ON interactions.history IS
  'The history is append-only (retention via interactions.purge_history).';
COMMENT ON TRIGGER history_no_truncate ON interactions.history IS 'TRUNCATE would erase the audit trail.';

-- Routing looks for the Ready members of a queue.
CREATE INDEX agent_channels_ready ON interactions.agent_channels (cc_id, media, last_offer_at)
    WHERE state = 'Ready';
COMMENT ON INDEX interactions.agent_channels_ready IS 'Ready agents of a media type, least recently offered first.';
