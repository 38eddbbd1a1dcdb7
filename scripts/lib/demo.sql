-- The demo data of CONTRACT section 1, provisioned by scripts/serve and the tests.
-- Idempotent: every provisioning function may be called again.
SELECT interactions.create_contact_center('demo');
SELECT interactions.create_user('demo', 'admin', 'password', ARRAY['admin']);
SELECT interactions.create_user('demo', 'supervisor', 'password', ARRAY['supervisor']);
SELECT interactions.create_user('demo', 'agent1', 'password', ARRAY['agent']);
SELECT interactions.create_user('demo', 'agent2', 'password', ARRAY['agent']);
SELECT interactions.create_user('demo', 'agent3', 'password', ARRAY['agent']);
SELECT interactions.create_user('demo', 'feeder', 'password', ARRAY['apiuser']);
SELECT interactions.create_queue('demo', 'support');
SELECT interactions.create_queue('demo', 'sales');
SELECT interactions.add_queue_member('demo', 'support', 'agent1');
SELECT interactions.add_queue_member('demo', 'support', 'agent2');
SELECT interactions.add_queue_member('demo', 'sales', 'agent1');
SELECT interactions.add_queue_member('demo', 'sales', 'agent2');
SELECT interactions.add_queue_member('demo', 'sales', 'agent3');
SELECT interactions.create_workbin('demo', 'drafts', 'agent1');
SELECT interactions.create_workbin('demo', 'drafts', 'agent2');
SELECT interactions.create_workbin('demo', 'drafts', 'agent3');
SELECT interactions.create_workbin('demo', 'team');

SELECT interactions.create_contact_center('acme');
SELECT interactions.create_user('acme', 'admin', 'password', ARRAY['admin']);
SELECT interactions.create_user('acme', 'agent1', 'password', ARRAY['agent']);
SELECT interactions.create_user('acme', 'feeder', 'password', ARRAY['apiuser']);
SELECT interactions.create_queue('acme', 'support');
SELECT interactions.add_queue_member('acme', 'support', 'agent1');
SELECT interactions.create_workbin('acme', 'drafts', 'agent1');
