-- interactions.replication_status, where DBAs see how far behind a reporting replica is
-- (docs/deployment.md): interactions_dba reads every part of it.  On this server (a
-- primary) the standby branch returns no row, so its heartbeat is read directly: on a
-- standby the view computes it from the same function.  Run by scripts/test as the superuser.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE FUNCTION pg_temp.check(ok boolean, what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'replication status check failed: %', what;
    END IF;
END $$;

-- a heartbeat the maintenance tick wrote
SELECT setval('interactions.push_sweep_clock', (extract(epoch FROM now()) * 1000)::bigint) IS NOT NULL AS x \gset

SET ROLE interactions_dba;
SELECT pg_temp.check(now() - interactions.push_last_sweep() < interval '1 minute',
                     'the DBA reads the heartbeat');
SELECT pg_temp.check((SELECT count(*) FROM interactions.replication_status WHERE role = 'standby') = 0,
                     'a primary has no standby row of its own');
SELECT pg_temp.check(NOT pg_is_in_recovery(), 'the test runs on a primary');
RESET ROLE;
