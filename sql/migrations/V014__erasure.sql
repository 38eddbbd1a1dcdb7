-- V014: erasing one customer's personal data (interactions.erase_customer, in
-- sql/functions/066_erasure.sql), and the record of every erasure.
--
-- The history is append-only, and keeps copies of what a customer wrote (the snapshot of
-- every change: subject, addresses, user data; the user-data changes).  Erasure is the one
-- change the history allows: under the transaction setting interactions.erasing, an UPDATE
-- may rewrite snapshot and user_data_change and nothing else, so the trail keeps its rows,
-- their order and every other field.  Only roles that may UPDATE the history can use it
-- (interactions_system, through erase_customer; never the module's role), and each erasure
-- is recorded here.

CREATE OR REPLACE FUNCTION interactions.history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('interactions.purging', true) = 'on' AND TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    -- erasure rewrites the personal data a row carries, and nothing else
    IF current_setting('interactions.erasing', true) = 'on' AND TG_OP = 'UPDATE'
       AND TG_TABLE_NAME ~ '^history(_[0-9]{6})?$'
       AND (to_jsonb(NEW) - 'snapshot' - 'user_data_change') = (to_jsonb(OLD) - 'snapshot' - 'user_data_change') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'interactions.history is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
COMMENT ON FUNCTION interactions.history_append_only() IS
  'Refuses UPDATE and DELETE on interactions.history (and agent_events), except deletes made by retention (interactions.purging) and, on the history, updates of snapshot and user_data_change alone made by interactions.erase_customer() (interactions.erasing).';

CREATE TABLE interactions.erasures (
    cc_id          integer NOT NULL REFERENCES interactions.contact_centers(id),
    seq            bigint GENERATED ALWAYS AS IDENTITY,
    erased_at      timestamptz NOT NULL DEFAULT now(),
    erased_by      name NOT NULL DEFAULT session_user,
    application    text DEFAULT current_setting('application_name', true),
    customer_hash  text NOT NULL,
    interaction_ids uuid[] NOT NULL,
    history_rows   bigint NOT NULL,
    other_rows     bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (cc_id, seq)
);
COMMENT ON TABLE interactions.erasures IS
  'Append-only record of every erasure of a customer''s personal data (interactions.erase_customer): who, when, which interactions and how many history rows; never the personal data itself.';
COMMENT ON COLUMN interactions.erasures.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.erasures.seq IS 'Order of the erasures.';
COMMENT ON COLUMN interactions.erasures.erased_at IS 'When (the transaction''s time).';
COMMENT ON COLUMN interactions.erasures.erased_by IS 'The database role that erased (session_user, also inside the SECURITY DEFINER function).';
COMMENT ON COLUMN interactions.erasures.application IS 'application_name of the session that erased.';
COMMENT ON COLUMN interactions.erasures.customer_hash IS 'SHA-256 (hex) of the customer''s address as matched (trimmed, lower case): whether an address was erased can be checked, the address is not kept.';
COMMENT ON COLUMN interactions.erasures.interaction_ids IS 'The interactions whose personal data was erased.';
COMMENT ON COLUMN interactions.erasures.history_rows IS 'History rows rewritten (snapshot, user-data change).';
COMMENT ON COLUMN interactions.erasures.other_rows IS 'Other rows carrying copies that were rewritten (webhook deliveries, workbin content recorded before V007).';

CREATE FUNCTION interactions.erasures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'interactions.erasures is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
COMMENT ON FUNCTION interactions.erasures_append_only() IS 'Refuses UPDATE, DELETE and TRUNCATE on interactions.erasures.';
CREATE TRIGGER erasures_append_only BEFORE UPDATE OR DELETE ON interactions.erasures
    FOR EACH ROW EXECUTE FUNCTION interactions.erasures_append_only();
CREATE TRIGGER erasures_no_truncate BEFORE TRUNCATE ON interactions.erasures
    FOR EACH STATEMENT EXECUTE FUNCTION interactions.erasures_append_only();
COMMENT ON TRIGGER erasures_append_only ON interactions.erasures IS 'The record of erasures is append-only.';
COMMENT ON TRIGGER erasures_no_truncate ON interactions.erasures IS 'TRUNCATE would erase the record of erasures.';
