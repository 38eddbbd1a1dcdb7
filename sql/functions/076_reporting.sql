-- Reporting views for DBAs (docs/dba.md "Reports"): one row per finished interaction, and
-- 15-minute rollups per queue and per agent.  security_invoker like every view here: a DBA
-- sees every contact center, the module's role only the one its transaction is bound to.
-- They read interactions.history as it is (partitioned or not); filter them by contact
-- center and time.

-- One row per finished interaction (the history row where it reached Completed, Canceled or
-- Sent), from the interaction's history up to that row: each row's state lasted until the
-- next row.  A filter on ended_at reads that period's finished interactions through
-- history_finished, then each one's rows through history_interaction.
CREATE OR REPLACE VIEW interactions.interaction_facts WITH (security_invoker = true) AS
SELECT cc.name                                          AS contact_center,
       f.interaction_id,
       f.snapshot->>'mediaType'                         AS media_type,
       s.created_at,
       f.at                                             AS ended_at,
       f.to_state                                       AS outcome,
       s.first_queue,
       coalesce(f.from_queue, f.to_queue)               AS last_queue,
       s.first_accept_at IS NOT NULL                    AS answered,
       extract(epoch FROM s.first_accept_at - s.created_at)::numeric(12, 3) AS first_wait_seconds,
       coalesce(s.wait_seconds, 0)::numeric(12, 3)      AS wait_seconds,
       coalesce(s.handle_seconds, 0)::numeric(12, 3)    AS handle_seconds,
       coalesce(s.workbin_seconds, 0)::numeric(12, 3)   AS workbin_seconds,
       extract(epoch FROM f.at - s.created_at)::numeric(12, 3) AS lifetime_seconds,
       s.offers,
       s.transfers,
       coalesce((SELECT array_agg(u.login ORDER BY u.login) FROM interactions.users u
                  WHERE u.cc_id = f.cc_id AND u.id = ANY (s.owners)), '{}') AS agents
  FROM interactions.history f
  JOIN interactions.contact_centers cc ON cc.id = f.cc_id
  CROSS JOIN LATERAL (
      SELECT min(r.at)                                                         AS created_at,
             (array_agg(r.to_queue ORDER BY r.seq) FILTER (WHERE r.to_queue IS NOT NULL))[1] AS first_queue,
             min(r.at) FILTER (WHERE r.operation = 'Accept')                   AS first_accept_at,
             sum(extract(epoch FROM r.until - r.at)) FILTER (WHERE r.to_state IN ('Queued', 'Invited')) AS wait_seconds,
             sum(extract(epoch FROM r.until - r.at)) FILTER (WHERE r.to_state = 'Processing')          AS handle_seconds,
             sum(extract(epoch FROM r.until - r.at)) FILTER (WHERE r.to_state = 'InWorkbin')           AS workbin_seconds,
             count(*) FILTER (WHERE r.to_state = 'Invited' AND r.from_state IS DISTINCT FROM 'Invited') AS offers,
             count(*) FILTER (WHERE r.operation = 'Transfer')                  AS transfers,
             array_agg(DISTINCT r.to_owner) FILTER (WHERE r.to_owner IS NOT NULL) AS owners
        FROM (SELECT h.seq, h.at, h.operation, h.from_state, h.to_state, h.to_queue, h.to_owner,
                     lead(h.at) OVER (ORDER BY h.seq) AS until
                FROM interactions.history h
               WHERE h.cc_id = f.cc_id AND h.interaction_id = f.interaction_id
                 AND h.seq <= f.seq AND h.at <= f.at) r) s
 WHERE f.interaction_id IS NOT NULL
   AND f.to_state IN ('Completed', 'Canceled', 'Sent')
   AND f.from_state IS DISTINCT FROM f.to_state;
COMMENT ON VIEW interactions.interaction_facts IS
  'One row per finished interaction (Completed, Canceled or Sent): when it was created and ended, its first and last queue, whether and how soon it was answered, the time it spent waiting (Queued or offered), handled (Processing) and parked (InWorkbin), its offers and transfers, and the agents who worked on it. Filter by contact_center and ended_at.';
COMMENT ON COLUMN interactions.interaction_facts.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.interaction_facts.interaction_id IS 'The interaction.';
COMMENT ON COLUMN interactions.interaction_facts.media_type IS 'Its media type.';
COMMENT ON COLUMN interactions.interaction_facts.created_at IS 'When it was created (its first history row).';
COMMENT ON COLUMN interactions.interaction_facts.ended_at IS 'When it reached its final state.';
COMMENT ON COLUMN interactions.interaction_facts.outcome IS 'Completed, Canceled or Sent.';
COMMENT ON COLUMN interactions.interaction_facts.first_queue IS 'The first queue it was in.';
COMMENT ON COLUMN interactions.interaction_facts.last_queue IS 'The queue it was in (or came from) when it ended.';
COMMENT ON COLUMN interactions.interaction_facts.answered IS 'Whether an agent ever accepted it (false: abandoned, or created without a queue).';
COMMENT ON COLUMN interactions.interaction_facts.first_wait_seconds IS 'From creation to the first Accept; NULL if never answered.';
COMMENT ON COLUMN interactions.interaction_facts.wait_seconds IS 'All the time it spent Queued or offered (Invited).';
COMMENT ON COLUMN interactions.interaction_facts.handle_seconds IS 'All the time agents worked on it (Processing).';
COMMENT ON COLUMN interactions.interaction_facts.workbin_seconds IS 'All the time it lay in workbins.';
COMMENT ON COLUMN interactions.interaction_facts.lifetime_seconds IS 'From creation to the end.';
COMMENT ON COLUMN interactions.interaction_facts.offers IS 'Times it was offered to an agent (routing or a transfer to an agent).';
COMMENT ON COLUMN interactions.interaction_facts.transfers IS 'Transfers.';
COMMENT ON COLUMN interactions.interaction_facts.agents IS 'Logins of the agents who owned it at some time.';

-- Per queue and 15 minutes (UTC-aligned): the events of interactions.queue_events, the one
-- definition the statistics API counts too.  Service level against the queue's threshold
-- now.
CREATE OR REPLACE VIEW interactions.queue_intervals WITH (security_invoker = true) AS
SELECT cc.name                                                                AS contact_center,
       e.queue,
       e.interval_start,
       count(*) FILTER (WHERE e.kind = 'created')                             AS created,
       count(*) FILTER (WHERE e.kind = 'answered')                            AS answered,
       count(*) FILTER (WHERE e.kind = 'abandoned')                           AS abandoned,
       count(*) FILTER (WHERE e.kind = 'answered' AND e.wait_seconds <= extract(epoch FROM q.threshold))
                                                                              AS answered_within_threshold,
       round(count(*) FILTER (WHERE e.kind = 'answered' AND e.wait_seconds <= extract(epoch FROM q.threshold))::numeric
             / nullif(count(*) FILTER (WHERE e.kind IN ('answered', 'abandoned')), 0), 4) AS service_level,
       round(avg(e.wait_seconds) FILTER (WHERE e.kind = 'answered'), 3)        AS avg_wait_seconds,
       percentile_disc(0.9) WITHIN GROUP (ORDER BY e.wait_seconds) FILTER (WHERE e.kind = 'answered')
                                                                              AS p90_wait_seconds,
       max(e.wait_seconds) FILTER (WHERE e.kind = 'answered')                 AS max_wait_seconds,
       count(*) FILTER (WHERE e.kind = 'handled')                             AS handled,
       round(avg(e.handle_seconds) FILTER (WHERE e.kind = 'handled'), 3)      AS avg_handle_seconds
  FROM (SELECT ev.*, date_bin('15 minutes', ev.at, timestamptz '2000-01-01 00:00:00+00') AS interval_start
          FROM interactions.queue_events ev) e
  JOIN interactions.contact_centers cc ON cc.id = e.cc_id
  LEFT JOIN LATERAL (SELECT coalesce(max(qq.service_level_threshold), interval '60 seconds') AS threshold
                       FROM interactions.queues qq WHERE qq.cc_id = e.cc_id AND qq.name = e.queue) q ON true
 GROUP BY cc.name, e.queue, e.interval_start;
COMMENT ON VIEW interactions.queue_intervals IS
  'Per queue and 15-minute interval (UTC-aligned): created, answered, abandoned, answered within the queue''s service_level_threshold and the service level, average, 90th-percentile and longest wait to accept, handled and average handle time (interactions.queue_events: the same counts as GET /queues/{name}/statistics). Filter by contact_center, queue and interval_start.';
COMMENT ON COLUMN interactions.queue_intervals.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.queue_intervals.queue IS 'Queue name.';
COMMENT ON COLUMN interactions.queue_intervals.interval_start IS 'Start of the 15-minute interval.';
COMMENT ON COLUMN interactions.queue_intervals.created IS 'Interactions created in the queue.';
COMMENT ON COLUMN interactions.queue_intervals.answered IS 'Offers from the queue accepted.';
COMMENT ON COLUMN interactions.queue_intervals.abandoned IS 'Interactions that left the queue for a final state unaccepted.';
COMMENT ON COLUMN interactions.queue_intervals.answered_within_threshold IS 'Answered within the queue''s service_level_threshold (as set now).';
COMMENT ON COLUMN interactions.queue_intervals.service_level IS 'answered_within_threshold / (answered + abandoned); NULL when both are 0.';
COMMENT ON COLUMN interactions.queue_intervals.avg_wait_seconds IS 'Average wait of the answered, from entering the queue to Accept.';
COMMENT ON COLUMN interactions.queue_intervals.p90_wait_seconds IS 'The smallest wait that at least 90% of the answered did not exceed.';
COMMENT ON COLUMN interactions.queue_intervals.max_wait_seconds IS 'The longest wait of the answered.';
COMMENT ON COLUMN interactions.queue_intervals.handled IS 'Times an agent stopped working on an interaction of the queue.';
COMMENT ON COLUMN interactions.queue_intervals.avg_handle_seconds IS 'Their average handle time (since Accept or Pull).';

-- Per agent, channel and 15 minutes (UTC-aligned): the time in each channel state (from the
-- agent-state history: each change lasts until the next of the same channel, the last one
-- until now), the time spent working on interactions of that media (Processing, owned by
-- the agent: overlaps Ready, since an agent keeps their state while they work), and the
-- offers made to and accepted by the agent.  Time before a channel's first recorded change
-- is not known and not counted.
CREATE OR REPLACE VIEW interactions.agent_intervals WITH (security_invoker = true) AS
WITH spans AS (
    -- channel states
    SELECT h.cc_id, h.audience[1] AS user_id, h.snapshot->'channels'->0->>'channel' AS channel,
           h.to_state AS kind, h.at AS from_at,
           coalesce(lead(h.at) OVER (PARTITION BY h.cc_id, h.audience[1], h.snapshot->'channels'->0->>'channel'
                                     ORDER BY h.at, h.seq), now()) AS to_at
      FROM interactions.history h
     WHERE h.operation = 'ChannelState'
    UNION ALL
    -- work: an interaction Processing by the agent, until its next change
    SELECT w.cc_id, w.to_owner, w.media, 'Handling', w.at, w.until
      FROM (SELECT h.cc_id, h.to_owner, h.to_state, h.snapshot->>'mediaType' AS media, h.at,
                   coalesce(lead(h.at) OVER (PARTITION BY h.cc_id, h.interaction_id ORDER BY h.seq), now()) AS until
              FROM interactions.history h
             WHERE h.interaction_id IS NOT NULL) w
     WHERE w.to_state = 'Processing'),
pieces AS (
    SELECT s.cc_id, s.user_id, s.channel, s.kind, b.start AS interval_start,
           extract(epoch FROM least(s.to_at, b.start + interval '15 minutes') - greatest(s.from_at, b.start)) AS seconds,
           0 AS offers, 0 AS accepts
      FROM spans s
     CROSS JOIN LATERAL generate_series(date_bin('15 minutes', s.from_at, timestamptz '2000-01-01 00:00:00+00'),
                                        s.to_at, interval '15 minutes') AS b(start)
     WHERE least(s.to_at, b.start + interval '15 minutes') > greatest(s.from_at, b.start)
    UNION ALL
    -- offers to the agent (routing, or a transfer to them) and their Accepts
    SELECT h.cc_id, CASE WHEN h.operation = 'Accept' THEN h.to_owner ELSE h.to_invitee END,
           h.snapshot->>'mediaType', 'Event', date_bin('15 minutes', h.at, timestamptz '2000-01-01 00:00:00+00'), 0,
           (h.operation <> 'Accept')::int, (h.operation = 'Accept')::int
      FROM interactions.history h
     WHERE h.interaction_id IS NOT NULL
       AND ((h.to_state = 'Invited' AND h.from_state IS DISTINCT FROM 'Invited') OR h.operation = 'Accept'))
SELECT cc.name                                                            AS contact_center,
       u.login                                                            AS agent,
       p.channel,
       p.interval_start,
       coalesce(sum(p.seconds) FILTER (WHERE p.kind = 'Ready'), 0)::numeric(12, 3)         AS ready_seconds,
       coalesce(sum(p.seconds) FILTER (WHERE p.kind = 'NotReady'), 0)::numeric(12, 3)      AS not_ready_seconds,
       coalesce(sum(p.seconds) FILTER (WHERE p.kind = 'AfterCallWork'), 0)::numeric(12, 3) AS after_call_work_seconds,
       coalesce(sum(p.seconds) FILTER (WHERE p.kind = 'DoNotDisturb'), 0)::numeric(12, 3)  AS do_not_disturb_seconds,
       coalesce(sum(p.seconds) FILTER (WHERE p.kind = 'LoggedOut'), 0)::numeric(12, 3)     AS logged_out_seconds,
       coalesce(sum(p.seconds) FILTER (WHERE p.kind = 'Handling'), 0)::numeric(12, 3)      AS handling_seconds,
       sum(p.offers)::integer                                             AS offers,
       sum(p.accepts)::integer                                            AS accepted
  FROM pieces p
  JOIN interactions.contact_centers cc ON cc.id = p.cc_id
  JOIN interactions.users u ON u.cc_id = p.cc_id AND u.id = p.user_id
 GROUP BY cc.name, u.login, p.channel, p.interval_start;
COMMENT ON VIEW interactions.agent_intervals IS
  'Per agent, channel (media) and 15-minute interval (UTC-aligned): seconds in each channel state (from the agent-state history; the current state counts up to now), seconds working on interactions of that media (Processing; overlaps the state, which an agent keeps while working), offers made to the agent and offers they accepted. Filter by contact_center, agent and interval_start.';
COMMENT ON COLUMN interactions.agent_intervals.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.agent_intervals.agent IS 'Agent login.';
COMMENT ON COLUMN interactions.agent_intervals.channel IS 'Media type of the channel.';
COMMENT ON COLUMN interactions.agent_intervals.interval_start IS 'Start of the 15-minute interval.';
COMMENT ON COLUMN interactions.agent_intervals.ready_seconds IS 'Seconds Ready.';
COMMENT ON COLUMN interactions.agent_intervals.not_ready_seconds IS 'Seconds NotReady (any reason).';
COMMENT ON COLUMN interactions.agent_intervals.after_call_work_seconds IS 'Seconds in AfterCallWork (wrap-up).';
COMMENT ON COLUMN interactions.agent_intervals.do_not_disturb_seconds IS 'Seconds in DoNotDisturb.';
COMMENT ON COLUMN interactions.agent_intervals.logged_out_seconds IS 'Seconds LoggedOut (after a recorded change).';
COMMENT ON COLUMN interactions.agent_intervals.handling_seconds IS 'Seconds spent working on interactions of this media (summed over interactions: two at once count twice).';
COMMENT ON COLUMN interactions.agent_intervals.offers IS 'Offers made to the agent (routing or a transfer to them).';
COMMENT ON COLUMN interactions.agent_intervals.accepted IS 'Offers the agent accepted.';
