-- referenceIds are numbered per contact center: a tenant's numbers say nothing about the
-- others' traffic.  Each contact center gets its own sequence when it is provisioned (also
-- when a DBA, not a superuser, provisions it), the module's role may draw from it, and
-- provisioning again keeps it.  Run by scripts/test as the superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'reference id check failed: %', what;
    END IF;
END $$;

-- no shared sequence is left
SELECT pg_temp.check(to_regclass('interactions.reference_ids') IS NULL, 'the shared sequence is gone');
-- every contact center has its own
SELECT pg_temp.check(NOT EXISTS (SELECT 1 FROM interactions.contact_centers c
                                  WHERE to_regclass(format('interactions.reference_ids_%s', c.id)) IS NULL),
                     'every contact center has its sequence');

SET ROLE interactions_dba;
SELECT interactions.create_contact_center('sqlref1') AS cc1 \gset
SELECT interactions.create_contact_center('sqlref2') AS cc2 \gset
RESET ROLE;

SET ROLE interactions_app;
SELECT pg_temp.check(interactions.next_reference_id(:cc1) = 1, 'first of cc1');
SELECT pg_temp.check(interactions.next_reference_id(:cc1) = 2, 'second of cc1');
SELECT interactions.next_reference_id(:cc2) AS x \gset
SELECT interactions.next_reference_id(:cc2) AS x \gset
SELECT interactions.next_reference_id(:cc2) AS x \gset
-- cc2's traffic does not move cc1's numbers
SELECT pg_temp.check(interactions.next_reference_id(:cc1) = 3, 'cc1 unaffected by cc2');
RESET ROLE;

-- provisioning again keeps the sequence where it is
SET ROLE interactions_dba;
SELECT pg_temp.check(interactions.create_contact_center('sqlref1') = :cc1, 'idempotent');
RESET ROLE;
SET ROLE interactions_app;
SELECT pg_temp.check(interactions.next_reference_id(:cc1) = 4, 'not reset by provisioning again');
-- the module's role cannot create sequences itself
DO $$
BEGIN
    CREATE SEQUENCE interactions.reference_ids_999999;
    RAISE EXCEPTION 'the module role created a sequence';
EXCEPTION WHEN insufficient_privilege THEN
    NULL;
END $$;
RESET ROLE;
