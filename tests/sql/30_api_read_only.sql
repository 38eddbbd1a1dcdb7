-- interactions.api() as the module calls it: the module says whether an operation may write
-- (its table of operations, mi_ops.h).  A read runs in a read-only transaction, so nothing it
-- calls can write, and takes no referenceId; a write is numbered first.  The four-argument
-- form (psql, scripts) runs read-write.  As the module's role; run by scripts/test as the
-- cluster superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'api check failed: %', what;
    END IF;
END $$;

SELECT interactions.create_contact_center('sqlapi') AS cc \gset
SELECT interactions.create_user('sqlapi', 'agent1', 'password', ARRAY['agent']) IS NOT NULL AS x \gset
SELECT interactions.create_user('sqlapi', 'feeder', 'password', ARRAY['apiuser']) IS NOT NULL AS x \gset
SELECT interactions.create_queue('sqlapi', 'support') IS NOT NULL AS x \gset

-- where the contact center's referenceIds stand
SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS ref0 FROM interactions.reference_ids_:cc \gset
SET ROLE interactions_app;

-- a read: read-only from the start of the call, no referenceId drawn
BEGIN;
SELECT pg_temp.check((interactions.api(:cc, 'agent1', 'me', '{}', false)->>'statusCode') = '0', 'a read answers');
SELECT pg_temp.check(current_setting('transaction_read_only') = 'on', 'a read runs read-only');
SELECT pg_temp.check(current_setting('interactions.ref', true) IS NULL
                     OR current_setting('interactions.ref', true) = '', 'a read has no referenceId');
COMMIT;
RESET ROLE;
SELECT pg_temp.check((SELECT CASE WHEN is_called THEN last_value ELSE 0 END
                        FROM interactions.reference_ids_:cc) = :ref0, 'no referenceId drawn');
SET ROLE interactions_app;

-- a read that was a write after all cannot write: the call fails, nothing is created
DO $$
DECLARE
    v_cc integer := interactions.contact_center_id('sqlapi');
BEGIN
    PERFORM interactions.api(v_cc, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}', false);
    RAISE EXCEPTION 'a create ran as a read';
EXCEPTION WHEN read_only_sql_transaction THEN
    NULL;
END $$;
RESET ROLE;
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM interactions.interactions WHERE cc_id = :cc), 'nothing created');
SET ROLE interactions_app;

-- a refused read (unknown id) is still an answer, read-only
BEGIN;
SELECT pg_temp.check((interactions.api(:cc, 'agent1', 'get', '{"id":"00000000-0000-4000-8000-000000000000"}', false)->>'statusCode') = '6', 'unknown id');
COMMIT;

-- a write: read-write, numbered
BEGIN;
SELECT interactions.api(:cc, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}', true) AS r \gset
SELECT pg_temp.check(current_setting('transaction_read_only') = 'off', 'a write runs read-write');
SELECT pg_temp.check((:'r'::jsonb->>'referenceId')::bigint > :ref0, 'a write is numbered');
COMMIT;

-- the four-argument form: read-write whatever the operation
BEGIN;
SELECT pg_temp.check((interactions.api(:cc, 'agent1', 'me', '{}')->>'statusCode') = '0', 'psql form');
SELECT pg_temp.check(current_setting('transaction_read_only') = 'off', 'the psql form runs read-write');
COMMIT;
RESET ROLE;
