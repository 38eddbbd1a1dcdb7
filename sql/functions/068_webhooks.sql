-- Webhooks (V015): provisioning for DBAs, and the two calls of the delivery worker that the
-- module runs (mod_interactions/mi_webhook.c).  Repeatable: re-applied by
-- interactions-migrate.
--
-- The worker's loop: webhook_claim() reads, for every enabled webhook without a pending
-- delivery, the history rows after its cursor (the stable cut, in stream order, like the
-- push channel and the event feed) into a new delivery, and hands out the deliveries that
-- are due, each with its body and signature; the worker POSTs them and reports each answer
-- to webhook_result(), which marks the delivery delivered, or schedules the next attempt
-- (backoff doubling from p_backoff_ms up to p_backoff_max_ms), or after p_max_attempts
-- failures marks it dead and lets the webhook move on.  A claimed delivery is leased: its
-- next attempt is set past the worker's timeout, so a worker that vanishes mid-request
-- leaves it to be tried again, never lost.  At most one delivery of a webhook is pending
-- (a unique index), so a webhook's events go out in stream order.
--
-- The signature: X-Interactions-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
-- "<t>.<body>" with the webhook's secret>.  It is computed here, so the secret never leaves
-- the database; the module sees the body and the signature only.

CREATE OR REPLACE FUNCTION interactions.create_webhook(p_cc text, p_url text, p_events text[])
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_cc     integer;
    v_id     uuid;
    v_secret text := encode(interactions_ext.gen_random_bytes(32), 'hex');
BEGIN
    v_cc := interactions.cc_by_name(p_cc);
    IF p_url IS NULL OR p_url !~ '^https?://[^/?#@[:space:]]+(/[^[:space:]]*)?$' OR length(p_url) > 2048 THEN
        RAISE EXCEPTION 'a webhook URL is http:// or https://, a host, a path; no credentials, no spaces (%)', p_url
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_events IS NULL OR cardinality(p_events) = 0
       OR EXISTS (SELECT 1 FROM unnest(p_events) e WHERE e IS NULL OR e !~ '^([A-Za-z]{1,64}|\*)$') THEN
        RAISE EXCEPTION 'events are operation names (Create, Accept, Complete, ...) or * for all (%)', p_events
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO interactions.webhooks (cc_id, url, events, secret, cursor_xid)
    VALUES (v_cc, p_url, p_events, v_secret, pg_snapshot_xmin(pg_current_snapshot()))
    RETURNING id INTO v_id;
    RETURN jsonb_build_object('id', v_id, 'secret', v_secret);
END $$;
COMMENT ON FUNCTION interactions.create_webhook(text, text, text[]) IS
  'Creates a webhook of contact center p_cc: the history operations p_events (or * for all) that commit from now on are POSTed to p_url, in order, at least once. Returns {"id","secret"}: the secret signs every request (X-Interactions-Signature) and is not shown again by any function.';

CREATE OR REPLACE FUNCTION interactions.set_webhook_enabled(p_cc text, p_id uuid, p_enabled boolean)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    -- enabling starts from now: what committed while it was off is not sent
    UPDATE interactions.webhooks w
       SET enabled = p_enabled,
           cursor_xid = CASE WHEN p_enabled AND NOT w.enabled THEN pg_snapshot_xmin(pg_current_snapshot()) ELSE w.cursor_xid END,
           cursor_seq = CASE WHEN p_enabled AND NOT w.enabled THEN 0 ELSE w.cursor_seq END
     WHERE w.cc_id = interactions.cc_by_name(p_cc) AND w.id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no webhook % in %', p_id, p_cc USING ERRCODE = 'no_data_found';
    END IF;
    RETURN p_enabled;
END $$;
COMMENT ON FUNCTION interactions.set_webhook_enabled(text, uuid, boolean) IS
  'Disables a webhook (no new deliveries; its pending one waits; it no longer holds back retention) or enables it again, from then on.';

CREATE OR REPLACE FUNCTION interactions.drop_webhook(p_cc text, p_id uuid)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    DELETE FROM interactions.webhooks
     WHERE cc_id = interactions.cc_by_name(p_cc) AND id = p_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no webhook % in %', p_id, p_cc USING ERRCODE = 'no_data_found';
    END IF;
END $$;
COMMENT ON FUNCTION interactions.drop_webhook(text, uuid) IS 'Removes a webhook and its deliveries.';

-- A dead delivery sent again: after the webhook's pending one, out of the webhook's order
-- (its events carry their seq).
CREATE OR REPLACE FUNCTION interactions.webhook_retry(p_cc text, p_delivery bigint)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    d interactions.webhook_deliveries;
BEGIN
    SELECT * INTO d FROM interactions.webhook_deliveries
     WHERE cc_id = interactions.cc_by_name(p_cc) AND id = p_delivery FOR UPDATE;
    IF NOT FOUND OR d.state <> 'dead' THEN
        RAISE EXCEPTION 'no dead delivery % in %', p_delivery, p_cc USING ERRCODE = 'no_data_found';
    END IF;
    IF EXISTS (SELECT 1 FROM interactions.webhook_deliveries x
                WHERE x.cc_id = d.cc_id AND x.webhook_id = d.webhook_id AND x.state = 'pending') THEN
        RAISE EXCEPTION 'webhook % has a delivery pending: send this one again when it is done', d.webhook_id
            USING ERRCODE = 'object_in_use';
    END IF;
    UPDATE interactions.webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = now()
     WHERE cc_id = d.cc_id AND id = d.id;
END $$;
COMMENT ON FUNCTION interactions.webhook_retry(text, bigint) IS
  'Sends dead delivery p_delivery again (attempts start over), once its webhook has no delivery pending; the receiver gets it after later events.';

-- The worker: new deliveries from the stream, then the deliveries due, leased.
CREATE OR REPLACE FUNCTION interactions.webhook_claim(p_limit integer, p_batch integer, p_lease_ms integer)
RETURNS json LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    w        interactions.webhooks;
    v_cut    xid8 := pg_snapshot_xmin(pg_current_snapshot());
    v_n      integer;
    v_events jsonb;
    v_first  bigint;
    v_last   bigint;
    v_lxid   xid8;
    v_lseq   bigint;
    v_out    json;
BEGIN
    FOR w IN SELECT x.* FROM interactions.webhooks x
              WHERE x.enabled
                AND NOT EXISTS (SELECT 1 FROM interactions.webhook_deliveries d
                                 WHERE d.cc_id = x.cc_id AND d.webhook_id = x.id AND d.state = 'pending')
              ORDER BY x.cc_id, x.id
                FOR UPDATE OF x SKIP LOCKED
    LOOP
        WITH r AS (
            SELECT h FROM interactions.history h
             WHERE h.cc_id = w.cc_id
               AND (h.xid, h.seq) > (w.cursor_xid, w.cursor_seq)
               AND h.xid < v_cut
               AND h.at >= interactions.history_floor(w.cc_id, w.cursor_xid)
             ORDER BY h.xid, h.seq
             LIMIT greatest(p_batch, 1))
        SELECT count(*)::integer,
               jsonb_agg(interactions.event_json(r.h) ORDER BY (r.h).xid, (r.h).seq)
                   FILTER (WHERE (r.h).operation = ANY (w.events) OR '*' = ANY (w.events)),
               min((r.h).seq) FILTER (WHERE (r.h).operation = ANY (w.events) OR '*' = ANY (w.events)),
               max((r.h).seq) FILTER (WHERE (r.h).operation = ANY (w.events) OR '*' = ANY (w.events)),
               (array_agg((r.h).xid ORDER BY (r.h).xid DESC, (r.h).seq DESC))[1],
               (array_agg((r.h).seq ORDER BY (r.h).xid DESC, (r.h).seq DESC))[1]
          INTO v_n, v_events, v_first, v_last, v_lxid, v_lseq
          FROM r;
        IF v_events IS NOT NULL THEN
            INSERT INTO interactions.webhook_deliveries (cc_id, webhook_id, first_seq, last_seq, events, payload)
            VALUES (w.cc_id, w.id, v_first, v_last, jsonb_array_length(v_events),
                    jsonb_build_object('webhookId', w.id,
                                       'contactCenter', (SELECT name FROM interactions.contact_centers WHERE id = w.cc_id),
                                       'events', v_events));
        END IF;
        -- a full batch ends at its last row; otherwise everything below the cut has been read
        IF v_n >= greatest(p_batch, 1) THEN
            UPDATE interactions.webhooks SET cursor_xid = v_lxid, cursor_seq = v_lseq
             WHERE cc_id = w.cc_id AND id = w.id;
        ELSIF (v_cut, 0::bigint) > (w.cursor_xid, w.cursor_seq) THEN
            UPDATE interactions.webhooks SET cursor_xid = v_cut, cursor_seq = 0
             WHERE cc_id = w.cc_id AND id = w.id;
        END IF;
    END LOOP;

    WITH due AS (
        SELECT d.cc_id, d.id FROM interactions.webhook_deliveries d
          JOIN interactions.webhooks wh ON wh.cc_id = d.cc_id AND wh.id = d.webhook_id AND wh.enabled
         WHERE d.state = 'pending' AND d.next_attempt_at <= now()
         ORDER BY d.next_attempt_at
         LIMIT greatest(p_limit, 1)
           FOR UPDATE OF d SKIP LOCKED),
    taken AS (
        UPDATE interactions.webhook_deliveries d
           SET attempts = d.attempts + 1, last_attempt_at = now(),
               next_attempt_at = now() + p_lease_ms * interval '1 millisecond'
          FROM due
         WHERE d.cc_id = due.cc_id AND d.id = due.id
        RETURNING d.*),
    signed AS (
        SELECT t.cc_id, t.id, t.webhook_id, t.attempts, wh.url, t.payload::text AS body,
               floor(extract(epoch FROM now()))::bigint AS ts, wh.secret
          FROM taken t JOIN interactions.webhooks wh ON wh.cc_id = t.cc_id AND wh.id = t.webhook_id)
    SELECT coalesce(json_agg(json_build_object(
               'cc', s.cc_id, 'id', s.id, 'webhookId', s.webhook_id, 'attempt', s.attempts, 'url', s.url,
               'body', s.body,
               'signature', format('t=%s,v1=%s', s.ts,
                                   encode(interactions_ext.hmac(s.ts || '.' || s.body, s.secret, 'sha256'), 'hex')))
               ORDER BY s.cc_id, s.id), '[]'::json)
      INTO v_out FROM signed s;
    RETURN json_build_object('deliveries', v_out);
END $$;
COMMENT ON FUNCTION interactions.webhook_claim(integer, integer, integer) IS
  'The webhook worker''s read: turns the history rows after each enabled webhook''s cursor (below the stable cut, at most p_batch) into a delivery when the webhook has none pending, then leases up to p_limit deliveries that are due for p_lease_ms: {"deliveries":[{"cc","id","webhookId","attempt","url","body","signature"}]}. Crosses contact centers (SECURITY DEFINER); returns no secret.';

-- The answer to one attempt: p_status the HTTP status (0: none), p_error why it failed.
CREATE OR REPLACE FUNCTION interactions.webhook_result(p_cc integer, p_id bigint, p_attempt integer,
                                                       p_status integer, p_error text,
                                                       p_max_attempts integer, p_backoff_ms integer,
                                                       p_backoff_max_ms integer)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    d interactions.webhook_deliveries;
BEGIN
    SELECT * INTO d FROM interactions.webhook_deliveries
     WHERE cc_id = p_cc AND id = p_id AND state = 'pending' AND attempts = p_attempt FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 'stale';   -- another attempt (or a DBA) got there first
    END IF;
    IF p_status BETWEEN 200 AND 299 THEN
        UPDATE interactions.webhook_deliveries
           SET state = 'delivered', delivered_at = now(), last_status = p_status, last_error = NULL
         WHERE cc_id = p_cc AND id = p_id;
        RETURN 'delivered';
    END IF;
    IF d.attempts >= greatest(p_max_attempts, 1) THEN
        UPDATE interactions.webhook_deliveries
           SET state = 'dead', last_status = nullif(p_status, 0), last_error = left(p_error, 1000)
         WHERE cc_id = p_cc AND id = p_id;
        RETURN 'dead';
    END IF;
    UPDATE interactions.webhook_deliveries
       SET last_status = nullif(p_status, 0), last_error = left(p_error, 1000),
           next_attempt_at = now() + least(p_backoff_ms::double precision * power(2, d.attempts - 1),
                                           p_backoff_max_ms::double precision) * interval '1 millisecond'
     WHERE cc_id = p_cc AND id = p_id;
    RETURN 'retry';
END $$;
COMMENT ON FUNCTION interactions.webhook_result(integer, bigint, integer, integer, text, integer, integer, integer) IS
  'Records the answer to attempt p_attempt of delivery p_id: a 2xx status delivers it; otherwise it is tried again after p_backoff_ms doubling per attempt (at most p_backoff_max_ms), or after p_max_attempts attempts it is dead. Returns delivered, retry, dead or stale.';

-- Erasure (066_erasure.sql): the events of interactions p_ids in deliveries still kept.
CREATE OR REPLACE FUNCTION interactions.webhook_erase(p_cc integer, p_ids uuid[], p_addr text)
RETURNS bigint LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    v_n bigint;
BEGIN
    UPDATE interactions.webhook_deliveries d
       SET payload = jsonb_set(d.payload, '{events}',
               (SELECT jsonb_agg(CASE WHEN interactions.as_uuid(e->>'interactionId') = ANY (p_ids)
                                      THEN jsonb_set(jsonb_set(e, '{interaction}', interactions.erased_snapshot(e->'interaction', p_addr)),
                                                     '{userDataChange}',
                                                     CASE WHEN e->'userDataChange' = 'null'::jsonb THEN 'null'::jsonb
                                                          ELSE '{"erased": true}'::jsonb END)
                                      ELSE e END ORDER BY o)
                  FROM jsonb_array_elements(d.payload->'events') WITH ORDINALITY AS x(e, o)))
     WHERE d.cc_id = p_cc
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(d.payload->'events') e
                    WHERE interactions.as_uuid(e->>'interactionId') = ANY (p_ids));
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.webhook_erase(integer, uuid[], text) IS
  'For interactions.erase_customer: erases customer p_addr''s data from the events of interactions p_ids in the webhook deliveries of contact center p_cc; returns the deliveries changed.';

-- Delivered deliveries are kept 30 days (dead ones until a DBA acts); run by retention.
CREATE OR REPLACE FUNCTION interactions.webhook_prune() RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
    v_n bigint;
BEGIN
    DELETE FROM interactions.webhook_deliveries
     WHERE state = 'delivered' AND delivered_at < now() - interval '30 days';
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.webhook_prune() IS
  'Removes webhook deliveries delivered more than 30 days ago (run once a minute by interactions.history_retention()).';

-- For DBAs: each webhook and how its deliveries stand.
CREATE OR REPLACE VIEW interactions.webhook_status WITH (security_invoker = true) AS
SELECT cc.name                                         AS contact_center,
       w.id                                            AS webhook_id,
       w.url,
       w.events,
       w.enabled,
       p.id                                            AS pending_delivery,
       p.attempts                                      AS pending_attempts,
       p.next_attempt_at                               AS pending_next_attempt,
       p.last_status                                   AS pending_last_status,
       p.last_error                                    AS pending_last_error,
       p.created_at                                    AS pending_since,
       (SELECT max(d.delivered_at) FROM interactions.webhook_deliveries d
         WHERE d.cc_id = w.cc_id AND d.webhook_id = w.id AND d.state = 'delivered') AS last_delivered_at,
       (SELECT count(*) FROM interactions.webhook_deliveries d
         WHERE d.cc_id = w.cc_id AND d.webhook_id = w.id AND d.state = 'delivered'
           AND d.delivered_at > now() - interval '24 hours')                      AS delivered_24h,
       (SELECT count(*) FROM interactions.webhook_deliveries d
         WHERE d.cc_id = w.cc_id AND d.webhook_id = w.id AND d.state = 'dead')   AS dead
  FROM interactions.webhooks w
  JOIN interactions.contact_centers cc ON cc.id = w.cc_id
  LEFT JOIN interactions.webhook_deliveries p
         ON p.cc_id = w.cc_id AND p.webhook_id = w.id AND p.state = 'pending';
COMMENT ON VIEW interactions.webhook_status IS
  'Per webhook: its URL, operations and whether enabled; the delivery pending (attempts, next attempt, last answer, since when); when it last delivered, how many deliveries in the last 24 hours, how many are dead.';
COMMENT ON COLUMN interactions.webhook_status.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.webhook_status.webhook_id IS 'The webhook.';
COMMENT ON COLUMN interactions.webhook_status.url IS 'Where it POSTs.';
COMMENT ON COLUMN interactions.webhook_status.events IS 'Operations it receives (* for all).';
COMMENT ON COLUMN interactions.webhook_status.enabled IS 'Whether it gets new deliveries.';
COMMENT ON COLUMN interactions.webhook_status.pending_delivery IS 'The delivery being tried, if any.';
COMMENT ON COLUMN interactions.webhook_status.pending_attempts IS 'Attempts made on it.';
COMMENT ON COLUMN interactions.webhook_status.pending_next_attempt IS 'When it is tried next.';
COMMENT ON COLUMN interactions.webhook_status.pending_last_status IS 'HTTP status of its last answer.';
COMMENT ON COLUMN interactions.webhook_status.pending_last_error IS 'Why its last attempt failed.';
COMMENT ON COLUMN interactions.webhook_status.pending_since IS 'When its events were read (how far behind the webhook is).';
COMMENT ON COLUMN interactions.webhook_status.last_delivered_at IS 'When a delivery last succeeded.';
COMMENT ON COLUMN interactions.webhook_status.delivered_24h IS 'Deliveries accepted in the last 24 hours.';
COMMENT ON COLUMN interactions.webhook_status.dead IS 'Deliveries that failed every attempt (webhook_deliveries with state dead).';
