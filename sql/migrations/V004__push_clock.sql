-- V004: when the push sessions were last swept.
--
-- A push session ends maxInterval after its client's last message, but only time during
-- which the database could be reached counts: while it cannot (an outage, a failover to a
-- standby) no client can reach its session either, and that silence must not end the
-- session — its client would have to handshake again and would miss what happened in
-- between, ack extension or not.  interactions.push_sweep() (every maintenance tick)
-- writes the time here; a sweep that finds the last one long past knows the sweepers could
-- not run, and moves every session's expiry on by the gap.  A sequence, because it is
-- written on every tick and needs no row lock or MVCC version, and it is replicated like
-- everything else, so the clock survives a failover.
CREATE SEQUENCE interactions.push_sweep_clock MINVALUE 0;
SELECT setval('interactions.push_sweep_clock', (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
COMMENT ON SEQUENCE interactions.push_sweep_clock IS
  'Epoch milliseconds of the last push-session sweep (interactions.push_sweep()); a long gap means the database was unreachable, and that time does not count against sessions.';
