-- More users for the push benchmark: psql -v agents=N -v supervisors=M -f bench/push-setup.sql
-- (after bench/setup.sql).  Agents agent1..agentN, each alone in queue qi and Ready as in
-- setup.sql, and supervisors sup1..supM.  Users added here get a bcrypt hash of cost 4
-- instead of create_user's 10: a thousand first logins would otherwise cost a minute of
-- CPU before anything is measured (once verified, httpd's credential cache answers either
-- the same way).
SELECT interactions.create_user('bench', 'agent' || i, NULL, ARRAY['agent']),
       interactions.create_queue('bench', 'q' || i),
       interactions.add_queue_member('bench', 'q' || i, 'agent' || i)
  FROM generate_series(1, :agents) i
 WHERE NOT EXISTS (SELECT 1 FROM interactions.users u
                    WHERE u.cc_id = interactions.contact_center_id('bench') AND u.login = 'agent' || i);
SELECT interactions.create_user('bench', 'sup' || i, NULL, ARRAY['supervisor'])
  FROM generate_series(1, :supervisors) i
 WHERE NOT EXISTS (SELECT 1 FROM interactions.users u
                    WHERE u.cc_id = interactions.contact_center_id('bench') AND u.login = 'sup' || i);
UPDATE interactions.users
   SET password_hash = (SELECT interactions_ext.crypt('password', interactions_ext.gen_salt('bf', 4)))
 WHERE cc_id = interactions.contact_center_id('bench') AND password_hash IS NULL;
-- Ready again whatever the runs before left (a reason, a wrap-up, Do Not Disturb, missed
-- offers), and missed offers not counted in the new queues (see setup.sql)
UPDATE interactions.agent_channels
   SET state = 'Ready', reason = NULL, wrap_up_until = NULL, dnd_state = NULL, dnd_reason = NULL,
       missed_offers = 0, capacity = 1000000
 WHERE cc_id = interactions.contact_center_id('bench');
SELECT interactions.set_queue_policy('bench', 'q' || i, '{"wrap_up": 0, "max_no_answer": 0}')
  FROM generate_series(1, :agents) i;
-- an offer left by an interrupted cycle is withdrawn (Revoked) only after a day: within a run,
-- every message an agent receives is one a measured request caused
UPDATE interactions.queues SET offer_timeout = '1 day'
 WHERE cc_id = interactions.contact_center_id('bench');
