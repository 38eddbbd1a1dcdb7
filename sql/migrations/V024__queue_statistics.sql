-- V024: queue statistics for supervisors and the DBA's reporting views.
--
-- A queue gets the threshold its service level is measured against.
--
-- GET /queues/{name}/statistics counts a queue's events of the day exactly, from the
-- history.  Read row by row, a busy queue's day is tens of thousands of rows, each with a
-- look-up of when its interaction entered the queue: ~0.3 s per call at 3,000 interactions,
-- measured, and a supervisor wall asks for every queue every second.  So the maintenance
-- tick folds the history, as it commits, into per-minute rollups of each queue
-- (queue_rollups), up to a cursor in the stream (queue_rollup_cursors: the same stable cut
-- the push channel reads, so a transaction that commits late is folded in by a later tick,
-- never skipped); a statistics call adds the rollups of the period to the few rows after
-- the cursor, which it reads through history_queue_stream.  Exact, whenever the tick ran.
--
-- history_finished: the rows where an interaction reached a final state, by time, so that
-- interactions.interaction_facts over one day reads that day's finished interactions and
-- then each one's rows (history_interaction).

ALTER TABLE interactions.queues
    ADD COLUMN service_level_threshold interval NOT NULL DEFAULT '60 seconds'
        CHECK (service_level_threshold > '0'::interval AND service_level_threshold <= '1 day'::interval);
COMMENT ON COLUMN interactions.queues.service_level_threshold IS
  'Service level: the share of the queue''s interactions answered (accepted) within this wait, of those answered or abandoned (GET /queues/{name}/statistics, interactions.queue_intervals). Default 60 s. interactions.set_queue_policy().';

CREATE INDEX history_queue_stream ON interactions.history (cc_id, (coalesce(from_queue, to_queue)), xid, seq)
    WHERE interaction_id IS NOT NULL;
COMMENT ON INDEX interactions.history_queue_stream IS
  'A queue''s interaction events (the queue left, or entered by Create) in stream order: the rows of a queue that the statistics rollups have not folded in yet.';

CREATE INDEX history_finished ON interactions.history (cc_id, at)
    WHERE interaction_id IS NOT NULL AND to_state IN ('Completed', 'Canceled', 'Sent')
      AND from_state IS DISTINCT FROM to_state;
COMMENT ON INDEX interactions.history_finished IS
  'Interactions reaching a final state, by time: interactions.interaction_facts.';

CREATE TABLE interactions.queue_rollups (
    cc_id           integer NOT NULL REFERENCES interactions.contact_centers(id),
    queue           text NOT NULL,
    minute          timestamptz NOT NULL,
    created         integer NOT NULL DEFAULT 0,
    answered        integer NOT NULL DEFAULT 0,
    abandoned       integer NOT NULL DEFAULT 0,
    waits           double precision[] NOT NULL DEFAULT '{}',
    handled         integer NOT NULL DEFAULT 0,
    handle_seconds  numeric NOT NULL DEFAULT 0,
    PRIMARY KEY (cc_id, queue, minute)
);
COMMENT ON TABLE interactions.queue_rollups IS
  'Per queue and minute of the last two days: the events of interactions.queue_events folded in by the maintenance tick (up to interactions.queue_rollup_cursors), which GET /queues/{name}/statistics reads instead of the history. Derived data: the history is the record; for reports use the views (interactions.queue_intervals).';
COMMENT ON COLUMN interactions.queue_rollups.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.queue_rollups.queue IS 'Queue name (as the history records it).';
COMMENT ON COLUMN interactions.queue_rollups.minute IS 'The minute the events happened in (their history rows'' at, truncated).';
COMMENT ON COLUMN interactions.queue_rollups.created IS 'Interactions created in the queue.';
COMMENT ON COLUMN interactions.queue_rollups.answered IS 'Offers from the queue accepted.';
COMMENT ON COLUMN interactions.queue_rollups.abandoned IS 'Interactions that left the queue for a final state unaccepted.';
COMMENT ON COLUMN interactions.queue_rollups.waits IS 'The wait of each answered one, in seconds (unordered; double precision, which a percentile sorts twice as fast as numeric): averages, percentiles and the service level of any period and threshold.';
COMMENT ON COLUMN interactions.queue_rollups.handled IS 'Times an agent stopped working on an interaction of the queue.';
COMMENT ON COLUMN interactions.queue_rollups.handle_seconds IS 'Their handle times, summed.';

CREATE TABLE interactions.queue_rollup_cursors (
    cc_id       integer PRIMARY KEY REFERENCES interactions.contact_centers(id),
    cursor_xid  xid8 NOT NULL,
    cursor_seq  bigint NOT NULL,
    rolled_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE interactions.queue_rollup_cursors IS
  'Per contact center: how far in the history stream ((xid, seq) order, below the stable cut) interactions.queue_rollups has folded the events in.';
COMMENT ON COLUMN interactions.queue_rollup_cursors.cc_id IS 'Contact center.';
COMMENT ON COLUMN interactions.queue_rollup_cursors.cursor_xid IS 'Every history row before (cursor_xid, cursor_seq) is folded in, none after.';
COMMENT ON COLUMN interactions.queue_rollup_cursors.cursor_seq IS 'See cursor_xid.';
COMMENT ON COLUMN interactions.queue_rollup_cursors.rolled_at IS 'When the tick last moved the cursor.';
