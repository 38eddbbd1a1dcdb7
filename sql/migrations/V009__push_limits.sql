-- V009: what one user may make the push channel hold.
--
-- A handshake opens a session row, and each costs a little everywhere (the listener's reads,
-- every held connect's re-checks, the sweeper).  interactions.push_handshake() counts a
-- user's live sessions before it opens another (InteractionsPushSessionsPerUser) and keeps
-- a token bucket per user for the rate of handshakes (InteractionsPushHandshakesPerMinute):
-- a loop of handshake and disconnect leaves no session behind, so the rate needs state of
-- its own.  Both are counted here, in the database, so that they hold across every child
-- process and every httpd server sharing it.

-- Counting a user's sessions.  user_id never changes, so the index costs the connects'
-- updates nothing (they stay HOT).
CREATE INDEX push_sessions_user ON interactions.push_sessions (cc_id, user_id);
COMMENT ON INDEX interactions.push_sessions_user IS
  'A user''s live sessions, counted at each handshake (InteractionsPushSessionsPerUser).';

CREATE TABLE interactions.push_handshake_budget (
    cc_id        integer NOT NULL,
    user_id      uuid NOT NULL,
    tokens       double precision NOT NULL CHECK (tokens >= 0),
    refilled_at  timestamptz NOT NULL,
    PRIMARY KEY (cc_id, user_id),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE
);
COMMENT ON TABLE interactions.push_handshake_budget IS
  'Per user, the handshakes the push channel still allows now: a token bucket of InteractionsPushHandshakesPerMinute tokens, refilled at that rate; a handshake takes one, none left refuses it (interactions.push_handshake()).';
COMMENT ON COLUMN interactions.push_handshake_budget.cc_id IS 'Contact center of the user.';
COMMENT ON COLUMN interactions.push_handshake_budget.user_id IS 'The user whose handshakes are counted.';
COMMENT ON COLUMN interactions.push_handshake_budget.tokens IS 'Handshakes left at refilled_at (fractions accrue between handshakes).';
COMMENT ON COLUMN interactions.push_handshake_budget.refilled_at IS 'When tokens was last brought up to date.';
