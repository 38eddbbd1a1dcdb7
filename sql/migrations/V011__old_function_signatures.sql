-- V011: functions of older signatures go here, once, instead of on every run of the
-- repeatable files (sql/functions), which now only create what is current.  A function
-- whose arguments changed would otherwise stay beside the new one, callable and out of date,
-- and with defaults make calls ambiguous.
DROP FUNCTION IF EXISTS interactions.record(text, interactions.interactions, uuid, jsonb, text, uuid[]);
DROP FUNCTION IF EXISTS interactions.workbin_json(interactions.workbins);
DROP FUNCTION IF EXISTS interactions.op_get_workbin_content(interactions.caller, text);
DROP FUNCTION IF EXISTS interactions.maintenance(integer);
DROP FUNCTION IF EXISTS interactions.push_handshake(integer, text, text, text, boolean, integer);
DROP FUNCTION IF EXISTS interactions.push_sweep();

-- push_connect kept its arguments but returns json now: CREATE OR REPLACE cannot change
-- that, so the jsonb one goes (only that one: the json one stays in place, and the module
-- keeps working while this runs).
DO $$
DECLARE
    f regprocedure := to_regprocedure('interactions.push_connect(integer, text, text, boolean, bigint, bigint, integer, integer, integer, integer)');
BEGIN
    IF f IS NOT NULL AND (SELECT prorettype FROM pg_proc WHERE oid = f) = 'jsonb'::regtype THEN
        EXECUTE format('DROP FUNCTION %s', f);
    END IF;
END $$;
