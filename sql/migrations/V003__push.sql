-- V003: the push channel's sessions (CometD / Bayeux).
--
-- A Bayeux session lives here, not in an httpd process, so that the handshake, the
-- subscriptions and every /meta/connect of one client may land on any child process of any
-- httpd server sharing this database.  Its delivery cursor is a position in the history
-- stream (interactions.history ordered by xid, seq): everything at or before it has been
-- delivered (or acknowledged, with the ack extension).  No tenant's session is visible to
-- another's: cc_id leads every key and row-level security applies as on every table.

CREATE TABLE interactions.push_sessions (
    cc_id        integer NOT NULL REFERENCES interactions.contact_centers(id),
    client_id    text NOT NULL CHECK (client_id ~ '^[0-9a-f]{32}$'),
    user_id      uuid NOT NULL,
    browser_id   text CHECK (browser_id ~ '^[A-Za-z0-9]{16,64}$'),
    channels     text[] NOT NULL DEFAULT '{}'
                 CHECK (channels <@ ARRAY['/v2/me/interactions','/v2/interactions']::text[]),
    ack          boolean NOT NULL DEFAULT false,
    cursor_xid   xid8 NOT NULL,
    cursor_seq   bigint NOT NULL DEFAULT 0,
    sent_batch   bigint NOT NULL DEFAULT 0,
    sent_xid     xid8,
    sent_seq     bigint,
    hold_gen     bigint NOT NULL DEFAULT 0,
    held_until   timestamptz,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cc_id, client_id),
    FOREIGN KEY (cc_id, user_id) REFERENCES interactions.users(cc_id, id) ON DELETE CASCADE,
    CHECK ((sent_xid IS NULL) = (sent_seq IS NULL))
);
CREATE INDEX push_sessions_browser ON interactions.push_sessions (cc_id, browser_id)
    WHERE browser_id IS NOT NULL;
-- Not a key: the sweeper looks across contact centers for expired sessions.
CREATE INDEX push_sessions_expiry ON interactions.push_sessions (expires_at);

COMMENT ON TABLE interactions.push_sessions IS
  'CometD/Bayeux sessions of the push channel (one per handshake), shared by every httpd process and server on this database. Removed by /meta/disconnect or, when the client stops polling, by interactions.push_sweep().';
COMMENT ON COLUMN interactions.push_sessions.cc_id IS 'Contact center the session was opened in; it is invisible to every other.';
COMMENT ON COLUMN interactions.push_sessions.client_id IS 'The Bayeux clientId: 128 random bits in hex, chosen by the module.';
COMMENT ON COLUMN interactions.push_sessions.user_id IS 'The authenticated user who opened the session; requests of any other user naming this clientId are told 402 (unknown client).';
COMMENT ON COLUMN interactions.push_sessions.browser_id IS 'The BAYEUX_BROWSER cookie of the handshake: held connects are limited per browser (InteractionsPushSessionsPerBrowser).';
COMMENT ON COLUMN interactions.push_sessions.channels IS 'Subscribed channels: /v2/me/interactions and/or /v2/interactions.';
COMMENT ON COLUMN interactions.push_sessions.ack IS 'The client negotiated the CometD ack extension: the cursor moves only when it acknowledges a batch.';
COMMENT ON COLUMN interactions.push_sessions.cursor_xid IS 'Delivery cursor, first half: history rows at or before (cursor_xid, cursor_seq) in (xid, seq) order are done.';
COMMENT ON COLUMN interactions.push_sessions.cursor_seq IS 'Delivery cursor, second half.';
COMMENT ON COLUMN interactions.push_sessions.sent_batch IS 'Ack extension: id of the last batch (connect reply) sent; 0 before the first.';
COMMENT ON COLUMN interactions.push_sessions.sent_xid IS 'Ack extension: the cursor the last batch reached; it becomes the cursor when the client acknowledges that batch.';
COMMENT ON COLUMN interactions.push_sessions.sent_seq IS 'Ack extension: second half of the sent cursor.';
COMMENT ON COLUMN interactions.push_sessions.hold_gen IS 'Counts /meta/connect requests; a held connect superseded by a newer one (on any process) answers at once without delivering.';
COMMENT ON COLUMN interactions.push_sessions.held_until IS 'While a /meta/connect is held: when the hold ends at the latest. Used to count held connects per browser.';
COMMENT ON COLUMN interactions.push_sessions.expires_at IS 'The session is gone after this: maxInterval after the end of the last connect (a held connect keeps it alive until its hold ends plus maxInterval).';
COMMENT ON COLUMN interactions.push_sessions.created_at IS 'Handshake time.';
COMMENT ON INDEX interactions.push_sessions_browser IS 'Held connects of one browser (multiple-clients advice).';
COMMENT ON INDEX interactions.push_sessions_expiry IS 'Sweeping expired sessions of every contact center.';
