-- Erasing one customer's personal data (V014).  Repeatable: re-applied by
-- interactions-migrate.
--
-- The customer is an address: their interactions are those whose from, to or cc names it
-- (compared trimmed and case-insensitively, also as "Name <address>").  Of those
-- interactions, erasure removes what the customer wrote or is: the subject, the body, every
-- user-data key, and the customer's address wherever the interaction lists it — from the
-- current rows and from every copy of them: the history's snapshots and user-data changes,
-- workbin content recorded before V007, webhook deliveries not yet removed.  It keeps every
-- row, their order and every other field: ids, media type, states, queues, workbins,
-- agents, times, referenceIds, the other addresses.  Each erased interaction gets a history
-- row "Erase" (its agents see the erased interaction on the push channel, integrations on
-- the event feed and webhooks, so that they can erase their copies), and the erasure is
-- recorded in interactions.erasures.

-- Does address text p_text name the customer p_addr (trimmed, lower case)?
CREATE OR REPLACE FUNCTION interactions.names_address(p_text text, p_addr text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_text IS NOT NULL
       AND (lower(btrim(p_text)) = p_addr OR position('<' || p_addr || '>' IN lower(p_text)) > 0)
$$;
COMMENT ON FUNCTION interactions.names_address(text, text) IS
  'Whether an address as an interaction stores it ("jane@example.com", "Jane <Jane@Example.com>") names the customer p_addr (trimmed, lower case).';

-- A snapshot (or any interaction object the API renders) without the customer's personal
-- data: subject, body and user data gone, the customer's address taken out of from/to/cc.
CREATE OR REPLACE FUNCTION interactions.erased_snapshot(p_snap jsonb, p_addr text) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v jsonb := p_snap;
    k text;
BEGIN
    IF v IS NULL OR jsonb_typeof(v) <> 'object' THEN
        RETURN v;
    END IF;
    IF v ? 'subject' THEN v := jsonb_set(v, '{subject}', 'null'); END IF;
    IF v ? 'body' THEN v := jsonb_set(v, '{body}', 'null'); END IF;
    IF v ? 'userData' THEN v := jsonb_set(v, '{userData}', '{}'); END IF;
    IF jsonb_typeof(v->'from') = 'string' AND interactions.names_address(v->>'from', p_addr) THEN
        v := jsonb_set(v, '{from}', 'null');
    END IF;
    FOREACH k IN ARRAY ARRAY['to', 'cc'] LOOP
        IF jsonb_typeof(v->k) = 'array' THEN
            v := jsonb_set(v, ARRAY[k], coalesce((SELECT jsonb_agg(e) FROM jsonb_array_elements(v->k) e
                                                   WHERE NOT (jsonb_typeof(e) = 'string'
                                                              AND interactions.names_address(e #>> '{}', p_addr))),
                                                  '[]'::jsonb));
        END IF;
    END LOOP;
    RETURN v;
END $$;
COMMENT ON FUNCTION interactions.erased_snapshot(jsonb, text) IS
  'An interaction object without customer p_addr''s personal data: subject, body and userData emptied, the customer''s address removed from from/to/cc; everything else as it was.';

CREATE OR REPLACE FUNCTION interactions.erase_customer(p_cc text, p_address text)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_cc     integer;
    v_addr   text := lower(btrim(p_address));
    v_ids    uuid[];
    v_before interactions.interactions;
    v_id     uuid;
    v_rows   bigint := 0;
    v_other  bigint := 0;
    v_n      bigint;
BEGIN
    v_cc := interactions.cc_by_name(p_cc);
    IF v_addr IS NULL OR v_addr = '' OR v_addr !~ '@' THEN
        RAISE EXCEPTION 'an address is needed to name the customer (%)', p_address
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('interactions.cc', v_cc::text, true),
            set_config('interactions.actor', '', true),
            set_config('interactions.ref', '', true);

    -- the customer's interactions, locked against concurrent operations for the rest of it
    SELECT coalesce(array_agg(i.id ORDER BY i.received_at, i.id), '{}') INTO v_ids
      FROM (SELECT x.id, x.received_at FROM interactions.interactions x
             WHERE x.cc_id = v_cc
               AND (interactions.names_address(x.from_address, v_addr)
                    OR EXISTS (SELECT 1 FROM unnest(x.to_addresses || x.cc_addresses) a
                                WHERE interactions.names_address(a, v_addr)))
             ORDER BY x.cc_id, x.id
               FOR UPDATE) i;

    PERFORM set_config('interactions.erasing', 'on', true);
    FOREACH v_id IN ARRAY v_ids LOOP
        SELECT * INTO STRICT v_before FROM interactions.interactions WHERE cc_id = v_cc AND id = v_id;
        UPDATE interactions.interactions i
           SET subject = NULL, body = NULL,
               from_address = CASE WHEN interactions.names_address(i.from_address, v_addr) THEN NULL
                                   ELSE i.from_address END,
               to_addresses = ARRAY(SELECT a FROM unnest(i.to_addresses) a WHERE NOT interactions.names_address(a, v_addr)),
               cc_addresses = ARRAY(SELECT a FROM unnest(i.cc_addresses) a WHERE NOT interactions.names_address(a, v_addr))
         WHERE i.cc_id = v_cc AND i.id = v_id;
        DELETE FROM interactions.user_data WHERE cc_id = v_cc AND interaction_id = v_id;
        -- every copy in the history: its rows stay, only these two fields change
        UPDATE interactions.history h
           SET snapshot = interactions.erased_snapshot(h.snapshot, v_addr),
               user_data_change = CASE WHEN h.user_data_change IS NULL THEN NULL ELSE '{"erased": true}'::jsonb END
         WHERE h.cc_id = v_cc AND h.interaction_id = v_id;
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_rows := v_rows + v_n;
        -- and the erasure itself, told to whoever follows the interaction
        PERFORM interactions.record('Erase', v_before, v_id, '{"erased": true}'::jsonb,
                                    CASE WHEN v_before.state IN ('Completed', 'Canceled', 'Sent') THEN NULL
                                         ELSE 'PropertiesUpdated' END, '{}', true);
    END LOOP;

    IF cardinality(v_ids) > 0 THEN
        -- workbin content recorded in the history before V007 carries interactions whole
        UPDATE interactions.history h
           SET snapshot = jsonb_set(h.snapshot, '{interactions}',
                   (SELECT jsonb_agg(CASE WHEN interactions.as_uuid(e->>'id') = ANY (v_ids)
                                          THEN interactions.erased_snapshot(e, v_addr) ELSE e END
                                     ORDER BY o)
                      FROM jsonb_array_elements(h.snapshot->'interactions') WITH ORDINALITY AS x(e, o)))
         WHERE h.cc_id = v_cc AND h.interaction_id IS NULL AND h.operation = 'GetWorkbinContent'
           AND jsonb_typeof(h.snapshot->'interactions') = 'array'
           AND EXISTS (SELECT 1 FROM jsonb_array_elements(h.snapshot->'interactions') e
                        WHERE interactions.as_uuid(e->>'id') = ANY (v_ids));
        GET DIAGNOSTICS v_n = ROW_COUNT;
        v_other := v_other + v_n;
        -- webhook deliveries keep the events they carry (068_webhooks.sql)
        IF to_regprocedure('interactions.webhook_erase(integer,uuid[],text)') IS NOT NULL THEN
            EXECUTE 'SELECT interactions.webhook_erase($1, $2, $3)' INTO v_n USING v_cc, v_ids, v_addr;
            v_other := v_other + coalesce(v_n, 0);
        END IF;
    END IF;
    PERFORM set_config('interactions.erasing', 'off', true);

    INSERT INTO interactions.erasures (cc_id, customer_hash, interaction_ids, history_rows, other_rows)
    VALUES (v_cc, encode(sha256(convert_to(v_addr, 'UTF8')), 'hex'), v_ids, v_rows, v_other);
    RETURN jsonb_build_object('interactions', cardinality(v_ids), 'historyRows', v_rows, 'otherRows', v_other);
END $$;
COMMENT ON FUNCTION interactions.erase_customer(text, text) IS
  'Erases customer p_address''s personal data in contact center p_cc (for DBAs): of every interaction whose from/to/cc names the address, the subject, body, user data and the customer''s address, in the current rows and in every copy (history snapshots and user-data changes, old workbin content, webhook deliveries); rows, order and other fields stay. Appends an Erase history row per interaction and records the erasure in interactions.erasures. Returns {"interactions","historyRows","otherRows"}.';
