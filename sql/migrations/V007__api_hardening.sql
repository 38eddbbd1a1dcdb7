-- V007: API hardening.
--
-- referenceIds numbered per contact center.  One sequence for the whole database told every
-- tenant how many write requests all the others made (two calls a second apart, and the
-- difference of their referenceIds is everybody's traffic in between).  Each contact center
-- now has its own sequence, interactions.reference_ids_<id>, created with it by
-- interactions.create_contact_center(); nextval() takes no lock that outlives the call, so
-- concurrent requests of one contact center never wait for each other.  The sequences of
-- existing contact centers continue from where the shared one stood, so no referenceId is
-- given out twice.
DO $$
DECLARE
    r       record;
    v_next  bigint;
BEGIN
    SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END INTO v_next
      FROM interactions.reference_ids;
    FOR r IN SELECT id FROM interactions.contact_centers ORDER BY id LOOP
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS interactions.%I AS bigint START WITH %s',
                       'reference_ids_' || r.id, v_next);
        EXECUTE format('COMMENT ON SEQUENCE interactions.%I IS %L', 'reference_ids_' || r.id,
                       format('API referenceId values of contact center %s: each request that changes something gets one, and its push notifications carry it.', r.id));
    END LOOP;
END $$;

DROP SEQUENCE interactions.reference_ids;

-- Who may read an interaction depends, for an agent, on their queues and the workbins they
-- may use: interactions.reader_of() looks them up once per request, and
-- interactions.may_read(reader, interaction) decides per interaction from this alone (see
-- sql/functions/030_api.sql).
CREATE TYPE interactions.reader AS (
    everything  boolean,
    user_id     uuid,
    queues      uuid[],
    workbins    uuid[]
);
COMMENT ON TYPE interactions.reader IS
  'What a caller''s right to read interactions depends on: everything (admin, supervisor, apiuser), or for an agent their id, the queues they are a member of and the workbins they may use.';

-- GetWorkbinContent no longer copies the workbin's content into the history on every call
-- (one agent calling it in a loop added tens of megabytes a second to the append-only
-- table): its row records which workbin was read and how many interactions it held, and
-- the push channel renders the content when it delivers the message.
COMMENT ON COLUMN interactions.history.snapshot IS
  'The interaction after the change. For WorkbinContent rows: which workbin was read ({"workbin": id, "name", "type", "count": interactions it held, "maxBytes": the page bound of the call}); the push channel renders the content when it delivers the message (rows written before V007 carry the content itself).';
COMMENT ON COLUMN interactions.history.interaction_id IS
  'The interaction; NULL for rows that concern none (GetWorkbinContent: a read of a workbin, recorded for the push message and the audit trail).';
