-- V015: webhooks — a contact center's changes POSTed to a URL of an integration, in order, at
-- least once, by a worker the module runs (sql/functions/068_webhooks.sql,
-- mod_interactions/mi_webhook.c).
--
-- A webhook follows the history stream like a push session: its cursor is a stream position
-- (xid, seq), and the rows after it that it wants become a delivery — a batch of events
-- with its payload — which is tried until the receiver accepts it or it has failed
-- InteractionsWebhookAttempts times (then it is dead: kept for a DBA to look at or send
-- again, and the webhook moves on).  A webhook has at most one delivery pending, so its
-- events arrive in stream order.  The payload is kept with the delivery, so that what was
-- tried is what is retried, and so that retention of the history never waits for a
-- receiver that is down (it waits only for rows not yet read into a delivery).

CREATE TABLE interactions.webhooks (
    cc_id        integer NOT NULL REFERENCES interactions.contact_centers(id),
    id           uuid NOT NULL DEFAULT gen_random_uuid(),
    url          text NOT NULL CHECK (url ~ '^https?://[^/?#@[:space:]]+(/[^[:space:]]*)?$' AND length(url) <= 2048),
    events       text[] NOT NULL CHECK (cardinality(events) > 0),
    secret       text NOT NULL CHECK (length(secret) >= 32),
    enabled      boolean NOT NULL DEFAULT true,
    cursor_xid   xid8 NOT NULL,
    cursor_seq   bigint NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   name NOT NULL DEFAULT session_user,
    PRIMARY KEY (cc_id, id)
);
COMMENT ON TABLE interactions.webhooks IS
  'Webhooks of a contact center (interactions.create_webhook): the URL its changes are POSTed to, which operations, the secret that signs each request, and how far it has read the history stream.';
COMMENT ON COLUMN interactions.webhooks.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.webhooks.id IS 'The webhook (sent as X-Interactions-Webhook).';
COMMENT ON COLUMN interactions.webhooks.url IS 'Where deliveries are POSTed (http or https); its host must be allowed by InteractionsWebhookAllow of the httpd that delivers.';
COMMENT ON COLUMN interactions.webhooks.events IS 'The history operations it receives (Create, Accept, Complete, Erase, ...), or * for all.';
COMMENT ON COLUMN interactions.webhooks.secret IS 'HMAC-SHA256 key of the X-Interactions-Signature header (returned by create_webhook; never sent).';
COMMENT ON COLUMN interactions.webhooks.enabled IS 'A disabled webhook gets no new deliveries and holds back no retention; enabling it again starts from then.';
COMMENT ON COLUMN interactions.webhooks.cursor_xid IS 'Stream position read so far, first half: history rows at or before (cursor_xid, cursor_seq) in (xid, seq) order are in a delivery or were not wanted.';
COMMENT ON COLUMN interactions.webhooks.cursor_seq IS 'Stream position, second half.';
COMMENT ON COLUMN interactions.webhooks.created_at IS 'When it was created.';
COMMENT ON COLUMN interactions.webhooks.created_by IS 'The database role that created it.';

CREATE TABLE interactions.webhook_deliveries (
    cc_id            integer NOT NULL,
    webhook_id       uuid NOT NULL,
    id               bigint GENERATED ALWAYS AS IDENTITY,
    created_at       timestamptz NOT NULL DEFAULT now(),
    first_seq        bigint NOT NULL,
    last_seq         bigint NOT NULL,
    events           integer NOT NULL CHECK (events > 0),
    payload          jsonb NOT NULL,
    state            text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_attempt_at  timestamptz,
    last_status      integer,
    last_error       text,
    delivered_at     timestamptz,
    PRIMARY KEY (cc_id, id),
    FOREIGN KEY (cc_id, webhook_id) REFERENCES interactions.webhooks(cc_id, id) ON DELETE CASCADE
);
-- at most one pending delivery per webhook: its events go out in order
CREATE UNIQUE INDEX webhook_deliveries_pending ON interactions.webhook_deliveries (cc_id, webhook_id)
    WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON interactions.webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_webhook ON interactions.webhook_deliveries (cc_id, webhook_id, id);
COMMENT ON TABLE interactions.webhook_deliveries IS
  'Every batch of events sent or to be sent to a webhook: its payload, state (pending, delivered, dead), attempts and the last answer. Delivered ones are removed after 30 days; dead ones stay until a DBA sends them again (interactions.webhook_retry) or removes them.';
COMMENT ON COLUMN interactions.webhook_deliveries.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.webhook_deliveries.webhook_id IS 'The webhook.';
COMMENT ON COLUMN interactions.webhook_deliveries.id IS 'The delivery (sent as X-Interactions-Delivery; the same on every attempt).';
COMMENT ON COLUMN interactions.webhook_deliveries.created_at IS 'When its events were read from the history.';
COMMENT ON COLUMN interactions.webhook_deliveries.first_seq IS 'seq of its first event.';
COMMENT ON COLUMN interactions.webhook_deliveries.last_seq IS 'seq of its last event.';
COMMENT ON COLUMN interactions.webhook_deliveries.events IS 'How many events it carries.';
COMMENT ON COLUMN interactions.webhook_deliveries.payload IS 'The JSON body POSTed: {"webhookId","deliveryId","contactCenter","events":[..]}.';
COMMENT ON COLUMN interactions.webhook_deliveries.state IS 'pending (to be tried, or being tried), delivered (a 2xx answer), dead (failed InteractionsWebhookAttempts times).';
COMMENT ON COLUMN interactions.webhook_deliveries.attempts IS 'Attempts made (an attempt counts when it starts).';
COMMENT ON COLUMN interactions.webhook_deliveries.next_attempt_at IS 'Pending: when it is tried next (after a failure: backoff doubling from 1 s up to 10 min; while an attempt runs: when it is tried again should the worker vanish).';
COMMENT ON COLUMN interactions.webhook_deliveries.last_attempt_at IS 'When the last attempt started.';
COMMENT ON COLUMN interactions.webhook_deliveries.last_status IS 'HTTP status of the last answer (NULL: none, see last_error).';
COMMENT ON COLUMN interactions.webhook_deliveries.last_error IS 'Why the last attempt failed: the answer''s status, a connection error, a refused host, a redirect.';
COMMENT ON COLUMN interactions.webhook_deliveries.delivered_at IS 'When the receiver accepted it.';
COMMENT ON INDEX interactions.webhook_deliveries_pending IS 'One pending delivery per webhook: in order.';
COMMENT ON INDEX interactions.webhook_deliveries_due IS 'The worker''s look-up of deliveries due.';
COMMENT ON INDEX interactions.webhook_deliveries_webhook IS 'A webhook''s deliveries in order.';
