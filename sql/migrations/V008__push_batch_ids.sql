-- V008: what the ack extension's batch numbers mean now (no change of data or structure).
--
-- The session functions commit asynchronously, so a crash of PostgreSQL or a failover can set
-- a session row back by its last moment of bookkeeping.  A batch number is therefore no longer
-- a counter of the row but names the stream position the batch reached: the seq of its last
-- history row.  The client's acknowledgement carries it, and push_connect restores the cursor
-- from it when the row has forgotten (sql/functions/060_push.sql).  Sessions opened before
-- this hold small counter values: acknowledging the last of them is answered as before, and
-- an older one names a history row delivered long ago, below the cursor, which never moves
-- back.
COMMENT ON COLUMN interactions.push_sessions.ack IS
  'The client negotiated the CometD ack extension: the cursor moves only when it acknowledges a batch, and its acknowledgement (the seq of the batch''s last history row) restores the cursor should this row have lost the last moment of bookkeeping.';
COMMENT ON COLUMN interactions.push_sessions.sent_batch IS
  'Ack extension: the batch number the client holds or was last sent: the seq of the last history row of the last batch with events (a batch without events keeps it); 0 before the first.';
COMMENT ON COLUMN interactions.push_sessions.sent_xid IS
  'Ack extension: the cursor that acknowledging sent_batch leads to (past rows for nobody else, up to the stable cut of the last reply).';
COMMENT ON COLUMN interactions.push_sessions.sent_seq IS
  'Ack extension: second half of the position acknowledging sent_batch leads to.';
