-- Views for DBAs (and reports).  security_invoker: whoever queries them sees what their own
-- privileges and row-level security allow — a DBA (interactions_dba, BYPASSRLS) sees every
-- contact center, the module's role only the one its transaction is bound to.

CREATE OR REPLACE VIEW interactions.interaction_history WITH (security_invoker = true) AS
SELECT cc.name                          AS contact_center,
       h.interaction_id,
       h.seq,
       h.at,
       h.operation,
       h.actor_login                    AS actor,
       h.reference_id,
       h.from_state,
       h.to_state,
       h.from_queue,
       h.to_queue,
       h.from_workbin,
       h.to_workbin,
       fo.login                         AS from_owner,
       tof.login                        AS to_owner,
       ti.login                         AS offered_to,
       h.user_data_change,
       h.notification
  FROM interactions.history h
  JOIN interactions.contact_centers cc ON cc.id = h.cc_id
  LEFT JOIN interactions.users fo ON fo.cc_id = h.cc_id AND fo.id = h.from_owner
  LEFT JOIN interactions.users tof ON tof.cc_id = h.cc_id AND tof.id = h.to_owner
  LEFT JOIN interactions.users ti ON ti.cc_id = h.cc_id AND ti.id = h.to_invitee
 WHERE h.interaction_id IS NOT NULL;
COMMENT ON VIEW interactions.interaction_history IS
  'Every change to every interaction, in order (seq), with logins instead of ids: who did what, from which state to which, queue/workbin/owner changes, user-data changes and the API request''s referenceId.';
COMMENT ON COLUMN interactions.interaction_history.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.interaction_history.interaction_id IS 'The interaction.';
COMMENT ON COLUMN interactions.interaction_history.seq IS 'Order of the changes.';
COMMENT ON COLUMN interactions.interaction_history.at IS 'When.';
COMMENT ON COLUMN interactions.interaction_history.operation IS 'Create, Route (offered), Accept, Reject, Revoke (offer timed out), Complete, PlaceInQueue, PlaceInWorkbin, Pull, Transfer, Attach/Update/DeleteUserData, Reply, ReplyAll, Cancel, Send, Update (PUT).';
COMMENT ON COLUMN interactions.interaction_history.actor IS 'Login of the user who acted; NULL for routing and timeouts.';
COMMENT ON COLUMN interactions.interaction_history.reference_id IS 'referenceId of the API request that caused the change.';
COMMENT ON COLUMN interactions.interaction_history.from_state IS 'State before.';
COMMENT ON COLUMN interactions.interaction_history.to_state IS 'State after.';
COMMENT ON COLUMN interactions.interaction_history.from_queue IS 'Queue before.';
COMMENT ON COLUMN interactions.interaction_history.to_queue IS 'Queue after.';
COMMENT ON COLUMN interactions.interaction_history.from_workbin IS 'Workbin before.';
COMMENT ON COLUMN interactions.interaction_history.to_workbin IS 'Workbin after.';
COMMENT ON COLUMN interactions.interaction_history.from_owner IS 'Owning agent before.';
COMMENT ON COLUMN interactions.interaction_history.to_owner IS 'Owning agent after.';
COMMENT ON COLUMN interactions.interaction_history.offered_to IS 'Agent it is offered to after the change.';
COMMENT ON COLUMN interactions.interaction_history.user_data_change IS '{"set":{...}} / {"deleted":[...]} / {"cleared":true,"set":{...}}.';
COMMENT ON COLUMN interactions.interaction_history.notification IS 'How agents were told (StatusChange / PropertiesUpdated).';

CREATE OR REPLACE VIEW interactions.agent_activity WITH (security_invoker = true) AS
SELECT cc.name AS contact_center, u.login AS agent, h.at, 'interaction' AS kind, h.operation AS event,
       h.interaction_id, NULL::text AS media, h.reference_id
  FROM interactions.history h
  JOIN interactions.contact_centers cc ON cc.id = h.cc_id
  JOIN interactions.users u ON u.cc_id = h.cc_id AND u.id = h.actor_id
 WHERE h.operation <> 'ChannelState'
UNION ALL
SELECT cc.name, u.login, h.at, 'offer', CASE h.operation WHEN 'Route' THEN 'Offered' ELSE 'OfferTimedOut' END,
       h.interaction_id, NULL, h.reference_id
  FROM interactions.history h
  JOIN interactions.contact_centers cc ON cc.id = h.cc_id
  JOIN interactions.users u ON u.cc_id = h.cc_id
   AND u.id = CASE h.operation WHEN 'Route' THEN h.to_invitee ELSE h.from_invitee END
 WHERE h.operation IN ('Route', 'Revoke')
UNION ALL
SELECT cc.name, u.login, h.at, 'channel', h.to_state, NULL, h.snapshot->'channels'->0->>'channel',
       h.reference_id
  FROM interactions.history h
  JOIN interactions.contact_centers cc ON cc.id = h.cc_id
  JOIN interactions.users u ON u.cc_id = h.cc_id AND u.id = h.audience[1]
 WHERE h.operation = 'ChannelState';
COMMENT ON VIEW interactions.agent_activity IS
  'What each agent did and was offered, over time: their operations on interactions, offers made to them and offers that timed out, and the changes of their channels'' states (interactions.agent_state_history has the details).';
COMMENT ON COLUMN interactions.agent_activity.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.agent_activity.agent IS 'Agent login.';
COMMENT ON COLUMN interactions.agent_activity.at IS 'When.';
COMMENT ON COLUMN interactions.agent_activity.kind IS 'interaction (the agent acted), offer (routing offered or withdrew), channel (a channel''s state changed).';
COMMENT ON COLUMN interactions.agent_activity.event IS 'The operation, Offered / OfferTimedOut, or the channel''s new state (Ready, NotReady, AfterCallWork, DoNotDisturb, LoggedOut).';
COMMENT ON COLUMN interactions.agent_activity.interaction_id IS 'The interaction, if any.';
COMMENT ON COLUMN interactions.agent_activity.media IS 'The channel''s media for channel events.';
COMMENT ON COLUMN interactions.agent_activity.reference_id IS 'referenceId of the API request, if any.';

CREATE OR REPLACE VIEW interactions.queue_statistics WITH (security_invoker = true) AS
SELECT cc.name AS contact_center,
       q.name  AS queue,
       q.offer_timeout,
       (SELECT count(*) FROM interactions.interactions i
         WHERE i.cc_id = q.cc_id AND i.queue_id = q.id AND i.state = 'Queued')     AS waiting,
       (SELECT count(*) FROM interactions.interactions i
         WHERE i.cc_id = q.cc_id AND i.queue_id = q.id AND i.state = 'Invited')    AS offered_now,
       (SELECT extract(epoch FROM now() - min(i.queued_at)) FROM interactions.interactions i
         WHERE i.cc_id = q.cc_id AND i.queue_id = q.id AND i.state = 'Queued')     AS oldest_waiting_seconds,
       (SELECT count(*) FROM interactions.queue_members m
          JOIN interactions.agent_channels ch ON ch.cc_id = m.cc_id AND ch.user_id = m.user_id
         WHERE m.cc_id = q.cc_id AND m.queue_id = q.id AND ch.state = 'Ready')     AS ready_agent_channels,
       s.entered_24h,
       s.offers_24h,
       s.accepted_24h,
       s.rejected_24h,
       s.timed_out_24h,
       s.avg_seconds_to_accept_24h
  FROM interactions.queues q
  JOIN interactions.contact_centers cc ON cc.id = q.cc_id
  LEFT JOIN LATERAL (
       SELECT count(*) FILTER (WHERE h.to_state = 'Queued' AND h.from_state IS DISTINCT FROM 'Queued') AS entered_24h,
              count(*) FILTER (WHERE h.operation IN ('Route', 'Transfer') AND h.to_state = 'Invited')  AS offers_24h,
              count(*) FILTER (WHERE h.operation = 'Accept')                                            AS accepted_24h,
              count(*) FILTER (WHERE h.operation = 'Reject')                                            AS rejected_24h,
              count(*) FILTER (WHERE h.operation = 'Revoke')                                            AS timed_out_24h,
              avg(extract(epoch FROM h.at - (SELECT max(o.at) FROM interactions.history o
                                               WHERE o.cc_id = h.cc_id AND o.interaction_id = h.interaction_id
                                                 AND o.seq < h.seq AND o.to_state = 'Queued')))
                  FILTER (WHERE h.operation = 'Accept')                                                 AS avg_seconds_to_accept_24h
         FROM interactions.history h
        WHERE h.cc_id = q.cc_id AND h.at > now() - interval '24 hours'
          AND (h.to_queue = q.name OR h.from_queue = q.name)
          AND h.interaction_id IS NOT NULL) s ON true;
COMMENT ON VIEW interactions.queue_statistics IS
  'Per queue: what waits now (and for how long), what is offered, how many Ready agent channels could take it, and the last 24 hours: arrivals, offers, accepts, rejects, timed-out offers and the average time from entering the queue to Accept.';
COMMENT ON COLUMN interactions.queue_statistics.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.queue_statistics.queue IS 'Queue name.';
COMMENT ON COLUMN interactions.queue_statistics.offer_timeout IS 'The queue''s offer timeout.';
COMMENT ON COLUMN interactions.queue_statistics.waiting IS 'Interactions Queued now.';
COMMENT ON COLUMN interactions.queue_statistics.offered_now IS 'Interactions Invited (offered) now.';
COMMENT ON COLUMN interactions.queue_statistics.oldest_waiting_seconds IS 'How long the longest-waiting interaction has been queued.';
COMMENT ON COLUMN interactions.queue_statistics.ready_agent_channels IS 'Members Ready on some media.';
COMMENT ON COLUMN interactions.queue_statistics.entered_24h IS 'Times an interaction entered the queue in the last 24 hours.';
COMMENT ON COLUMN interactions.queue_statistics.offers_24h IS 'Offers made from the queue in the last 24 hours.';
COMMENT ON COLUMN interactions.queue_statistics.accepted_24h IS 'Offers accepted in the last 24 hours.';
COMMENT ON COLUMN interactions.queue_statistics.rejected_24h IS 'Offers rejected in the last 24 hours.';
COMMENT ON COLUMN interactions.queue_statistics.timed_out_24h IS 'Offers withdrawn unanswered in the last 24 hours.';
COMMENT ON COLUMN interactions.queue_statistics.avg_seconds_to_accept_24h IS 'Average seconds from entering the queue to Accept, last 24 hours.';

-- The agent-state history: every change of an agent's channel state, from the history
-- stream (ChannelState rows, sql/functions/045_agent_states.sql).
CREATE OR REPLACE VIEW interactions.agent_state_history WITH (security_invoker = true) AS
SELECT cc.name                                                AS contact_center,
       u.login                                                AS agent,
       h.snapshot->'channels'->0->>'channel'                  AS channel,
       h.seq,
       h.at,
       h.from_state,
       h.snapshot->'previous'->>'reason'                      AS from_reason,
       h.to_state,
       h.snapshot->'channels'->0->'userState'->>'reason'      AS reason,
       h.snapshot->'channels'->0->'userState'->>'displayName' AS display_name,
       h.snapshot->>'cause'                                   AS cause,
       h.actor_login                                          AS actor,
       h.to_queue                                             AS queue,
       h.reference_id
  FROM interactions.history h
  JOIN interactions.contact_centers cc ON cc.id = h.cc_id
  JOIN interactions.users u ON u.cc_id = h.cc_id AND u.id = h.audience[1]
 WHERE h.operation = 'ChannelState';
COMMENT ON VIEW interactions.agent_state_history IS
  'Every change of an agent''s channel state, in order (seq), append-only like the history it reads: from and to which state and reason, why (cause), who (actor; NULL when the server did it) and the API request''s referenceId.';
COMMENT ON COLUMN interactions.agent_state_history.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.agent_state_history.agent IS 'The agent whose channel changed.';
COMMENT ON COLUMN interactions.agent_state_history.channel IS 'The channel''s media type (email, chat, ...).';
COMMENT ON COLUMN interactions.agent_state_history.seq IS 'Order of the changes (the history''s seq).';
COMMENT ON COLUMN interactions.agent_state_history.at IS 'When.';
COMMENT ON COLUMN interactions.agent_state_history.from_state IS 'State before (NULL for changes recorded before V012, which knew only the new state).';
COMMENT ON COLUMN interactions.agent_state_history.from_reason IS 'NotReady reason before, if any.';
COMMENT ON COLUMN interactions.agent_state_history.to_state IS 'State after: Ready, NotReady, AfterCallWork, DoNotDisturb, LoggedOut.';
COMMENT ON COLUMN interactions.agent_state_history.reason IS 'NotReady reason after: a provisioned reason''s name, or MissedOffers.';
COMMENT ON COLUMN interactions.agent_state_history.display_name IS 'The state as the agent''s desktop showed it (the reason''s display name for NotReady).';
COMMENT ON COLUMN interactions.agent_state_history.cause IS 'Agent (the agent chose it), Session (Start/EndContactCenterSession), DoNotDisturb (on/off), WrapUp (an interaction of a queue with wrap_up ended), WrapUpEnd (the wrap-up ran out), MissedOffers (max_no_answer offers expired in a row), Disabled (the user was disabled).';
COMMENT ON COLUMN interactions.agent_state_history.actor IS 'Login of the user whose request made the change; NULL when the server did (wrap-up end, missed offers, disablement).';
COMMENT ON COLUMN interactions.agent_state_history.queue IS 'The queue whose wrap_up or max_no_answer caused the change, if any.';
COMMENT ON COLUMN interactions.agent_state_history.reference_id IS 'referenceId of the API request that caused the change, if any.';

-- Time in each state per agent, channel and day (UTC): each change of state lasts until
-- the next one of the same channel (the last one until now), cut at midnight.  Time before
-- the first recorded change of a channel is not known and not counted.
CREATE OR REPLACE VIEW interactions.agent_time_in_state WITH (security_invoker = true) AS
WITH spans AS (
    SELECT h.cc_id, h.audience[1] AS user_id, h.snapshot->'channels'->0->>'channel' AS channel,
           h.to_state AS state, h.snapshot->'channels'->0->'userState'->>'reason' AS reason,
           h.at AS from_at,
           coalesce(lead(h.at) OVER (PARTITION BY h.cc_id, h.audience[1], h.snapshot->'channels'->0->>'channel'
                                     ORDER BY h.at, h.seq), now()) AS to_at
      FROM interactions.history h
     WHERE h.operation = 'ChannelState')
SELECT cc.name                                   AS contact_center,
       u.login                                   AS agent,
       s.channel,
       (d.day_start AT TIME ZONE 'UTC')::date    AS day,
       s.state,
       s.reason,
       sum(extract(epoch FROM least(s.to_at, d.day_start + interval '1 day')
                              - greatest(s.from_at, d.day_start)))::numeric(12, 3) AS seconds
  FROM spans s
  JOIN interactions.contact_centers cc ON cc.id = s.cc_id
  JOIN interactions.users u ON u.cc_id = s.cc_id AND u.id = s.user_id
  CROSS JOIN LATERAL (
      SELECT g AT TIME ZONE 'UTC' AS day_start
        FROM generate_series(date_trunc('day', s.from_at AT TIME ZONE 'UTC'),
                             date_trunc('day', s.to_at AT TIME ZONE 'UTC'), interval '1 day') g) d
 WHERE least(s.to_at, d.day_start + interval '1 day') > greatest(s.from_at, d.day_start)
 GROUP BY cc.name, u.login, s.channel, d.day_start, s.state, s.reason;
COMMENT ON VIEW interactions.agent_time_in_state IS
  'Seconds each agent spent in each channel state (and NotReady reason) per day (UTC), from the agent-state history; the current state counts up to now. Filter by contact_center and day: the view reads the ChannelState rows of the history.';
COMMENT ON COLUMN interactions.agent_time_in_state.contact_center IS 'Contact center name.';
COMMENT ON COLUMN interactions.agent_time_in_state.agent IS 'Agent login.';
COMMENT ON COLUMN interactions.agent_time_in_state.channel IS 'Media type of the channel.';
COMMENT ON COLUMN interactions.agent_time_in_state.day IS 'The day (UTC).';
COMMENT ON COLUMN interactions.agent_time_in_state.state IS 'Ready, NotReady, AfterCallWork, DoNotDisturb or LoggedOut.';
COMMENT ON COLUMN interactions.agent_time_in_state.reason IS 'The NotReady reason (NULL for other states or none given).';
COMMENT ON COLUMN interactions.agent_time_in_state.seconds IS 'Seconds in that state and reason on that day.';

-- Retention: the history is append-only; only this function removes old rows, and only of
-- interactions that reached a final state before the cutoff.
CREATE OR REPLACE FUNCTION interactions.purge_history(p_before timestamptz)
RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_n bigint;
BEGIN
    PERFORM set_config('interactions.purging', 'on', true);
    DELETE FROM interactions.history h
     WHERE h.at < p_before
       AND (h.interaction_id IS NULL
            OR EXISTS (SELECT 1 FROM interactions.interactions i
                        WHERE i.cc_id = h.cc_id AND i.id = h.interaction_id
                          AND i.state IN ('Completed', 'Canceled', 'Sent') AND i.updated_at < p_before));
    GET DIAGNOSTICS v_n = ROW_COUNT;
    DELETE FROM interactions.agent_events WHERE at < p_before;
    PERFORM set_config('interactions.purging', 'off', true);
    RETURN v_n;
END $$;
COMMENT ON FUNCTION interactions.purge_history(timestamptz) IS
  'Retention: deletes history rows older than p_before of interactions that were final before it (and agent events older than it). Returns the number of history rows removed. For interactions_dba.';
