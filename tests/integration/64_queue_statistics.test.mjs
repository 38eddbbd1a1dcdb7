// Queue statistics (CONTRACT 8.4): GET /queues and GET /queues/{name}/statistics for
// supervisors and admins — waiting, oldest wait, offered, member agents by channel state,
// and for today and the last 15 minutes created, answered, abandoned, wait to accept
// (average, 90th percentile), handle time and the service level against the queue's
// service_level_threshold.  The figures follow what the API did, exactly; other contact
// centers' queues are invisible; agents and integrations are refused.
import { test, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, freshContactCenter, watchErrorLog, sleep, eventually } from '../lib/harness.mjs';
import { create, channel, opOk, row } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't52';
const other = 't53';
let ccId;

before(async () => {
  ccId = await freshContactCenter(cc);
  await freshContactCenter(other);
  await db.query(`SELECT interactions.create_queue($1, 'elsewhere')`, [other]);
});
beforeEach(async () => {
  await freshContactCenter(cc);
  await db.query(`UPDATE interactions.queues SET service_level_threshold = '60 seconds' WHERE cc_id = $1`, [ccId]);
});

const stats = async (user, queue = 'support') => (await ok(user, 'GET', `/queues/${queue}/statistics`, { cc })).statistics;
const NO_AGENTS = { Ready: 0, NotReady: 0, AfterCallWork: 0, DoNotDisturb: 0, LoggedOut: 0 };

test('GET /queues: every queue of the contact center now, by name; supervisors and admins only', async () => {
  const a = await create(cc, { queueName: 'sales' });
  await sleep(50);
  await create(cc, { queueName: 'sales' });
  const r = await ok('supervisor', 'GET', '/queues', { cc });
  assert.deepEqual(r.queues.map((q) => q.name), ['quick', 'sales', 'support']);
  const sales = r.queues.find((q) => q.name === 'sales');
  assert.equal(sales.waiting, 2);
  assert.equal(sales.offered, 0);
  assert.equal(sales.serviceLevelThresholdSeconds, 60);
  const received = (await db.one(`SELECT queued_at FROM interactions.interactions WHERE cc_id = $1 AND id = $2`,
    [ccId, a])).queued_at;
  assert.equal(Date.parse(sales.oldestWaitingSince), received.getTime());
  assert.ok(sales.oldestWaitSeconds >= 0.05, JSON.stringify(sales));
  // agent1..agent3 are members of sales, all NotReady (freshContactCenter)
  assert.deepEqual(sales.agents, { ...NO_AGENTS, NotReady: 3 });
  assert.deepEqual(r.queues.find((q) => q.name === 'support').waiting, 0);
  assert.equal(r.queues.find((q) => q.name === 'support').oldestWaitingSince, null);
  // admins too; agents and integrations are refused (statusCode 5)
  assert.equal((await ok('admin', 'GET', '/queues', { cc })).queues.length, 3);
  await fails('agent1', 'GET', '/queues', 403, 5, { cc });
  await fails('feeder', 'GET', '/queues', 403, 5, { cc });
  await fails('agent1', 'GET', '/queues/sales/statistics', 403, 5, { cc });
  await fails('feeder', 'GET', '/queues/sales/statistics', 403, 5, { cc });
  // read-only resources
  const post = await api('supervisor', 'POST', '/queues', { cc, body: {} });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET');
});

test('another contact center\'s queue is unknown: 404, statusCode 6, like a name that does not exist', async () => {
  await fails('supervisor', 'GET', '/queues/elsewhere/statistics', 404, 6, { cc });
  await fails('supervisor', 'GET', '/queues/nosuchqueue/statistics', 404, 6, { cc });
  await fails('supervisor', 'GET', `/queues/${'x'.repeat(300)}/statistics`, 404, 6, { cc });
  assert.deepEqual((await ok('supervisor', 'GET', '/queues', { cc: other })).queues.map((q) => q.name),
    ['elsewhere', 'quick', 'sales', 'support']);
  assert.ok(!(await ok('supervisor', 'GET', '/queues', { cc })).queues.some((q) => q.name === 'elsewhere'));
});

test('the figures follow the API exactly: waiting, offered, agents, created, answered, waits, handle time, service level', async () => {
  let s = await stats('supervisor');
  assert.equal(s.waiting, 0);
  assert.equal(s.offered, 0);
  assert.equal(s.today.created, 0);
  assert.equal(s.today.answered, 0);
  assert.equal(s.today.averageWaitSeconds, null);
  assert.equal(s.today.serviceLevel, null);
  assert.deepEqual(s.agents, { ...NO_AGENTS, NotReady: 2 });

  const a = await create(cc);
  const b = await create(cc);
  const c = await create(cc);
  s = await stats('supervisor');
  assert.equal(s.waiting, 3);
  assert.equal(s.today.created, 3);
  assert.equal(s.last15Minutes.created, 3);

  await sleep(300);
  await channel(cc, 'agent1', 'Ready');               // routing offers a to agent1 at once
  assert.equal((await row(ccId, a)).invitee, 'agent1');
  s = await stats('admin');
  assert.equal(s.waiting, 2);
  assert.equal(s.offered, 1);
  assert.deepEqual(s.agents, { ...NO_AGENTS, Ready: 1, NotReady: 1 });

  await opOk(cc, 'agent1', a, 'Reject');             // a Reject does not restart the wait
  assert.equal((await row(ccId, b)).invitee, 'agent1');
  await opOk(cc, 'agent1', b, 'Accept');
  await channel(cc, 'agent2', 'Ready');               // a, declined by agent1, goes to agent2
  assert.equal((await row(ccId, a)).invitee, 'agent2');
  await opOk(cc, 'agent2', a, 'Accept');
  await sleep(200);
  await opOk(cc, 'agent1', b, 'Complete');            // agent1 is free: c is offered
  assert.equal((await row(ccId, c)).invitee, 'agent1');
  await opOk(cc, 'agent2', a, 'PlaceInWorkbin', { workbin: 'drafts' });
  await channel(cc, 'agent2', 'NotReady');

  // the expected figures, from the history the operations wrote
  const w = await db.query(`SELECT h.operation, extract(epoch FROM h.at - e.at)::float8 AS wait, h.interaction_id
      FROM interactions.history h
      JOIN interactions.history e ON e.cc_id = h.cc_id AND e.interaction_id = h.interaction_id AND e.operation = 'Create'
     WHERE h.cc_id = $1 AND h.operation = 'Accept' ORDER BY h.seq`, [ccId]);
  assert.deepEqual(w.map((x) => x.interaction_id), [b, a]);
  const hd = await db.query(`SELECT extract(epoch FROM h.at - s.at)::float8 AS handle
      FROM interactions.history h
      JOIN interactions.history s ON s.cc_id = h.cc_id AND s.interaction_id = h.interaction_id AND s.operation = 'Accept'
     WHERE h.cc_id = $1 AND h.operation IN ('Complete', 'PlaceInWorkbin') ORDER BY h.seq`, [ccId]);
  s = await stats('supervisor');
  assert.equal(s.waiting, 0);
  assert.equal(s.offered, 1);                         // c, offered to agent1
  assert.deepEqual(s.agents, { ...NO_AGENTS, Ready: 1, NotReady: 1 });
  for (const period of [s.today, s.last15Minutes]) {
    assert.equal(period.created, 3);
    assert.equal(period.answered, 2);
    assert.equal(period.abandoned, 0);
    assert.equal(period.handled, 2);
    assert.equal(period.answeredWithinThreshold, 2);
    assert.equal(period.serviceLevel, 1);
    const avg = (w[0].wait + w[1].wait) / 2;
    assert.ok(Math.abs(period.averageWaitSeconds - avg) < 0.0015, `${period.averageWaitSeconds} vs ${avg}`);
    // with two waits the 90th percentile is the longer one: a's, which the Reject did not restart
    assert.ok(Math.abs(period.p90WaitSeconds - w[1].wait) < 0.0015, `${period.p90WaitSeconds} vs ${w[1].wait}`);
    assert.ok(w[1].wait > w[0].wait && w[0].wait >= 0.3, JSON.stringify(w));
    const aht = (hd[0].handle + hd[1].handle) / 2;
    assert.ok(Math.abs(period.averageHandleSeconds - aht) < 0.0015, `${period.averageHandleSeconds} vs ${aht}`);
    assert.ok(hd[0].handle >= 0.2);
  }
  assert.equal(s.today.from.slice(11), '00:00:00.000Z');
  // the last 15 minutes: the current minute and the 14 before it (the rollups are per minute)
  assert.equal(Date.parse(s.last15Minutes.from), Math.floor(Date.parse(s.at) / 60000) * 60000 - 14 * 60000);

  // the maintenance tick folds the history into per-minute rollups; the figures read from
  // them are the same
  await eventually(async () => 0 === await db.value(`SELECT count(*)::int FROM interactions.history h
        JOIN interactions.queue_rollup_cursors k ON k.cc_id = h.cc_id
       WHERE h.cc_id = $1 AND (h.xid, h.seq) > (k.cursor_xid, k.cursor_seq)`, [ccId]));
  assert.equal(await db.value(`SELECT sum(answered)::int FROM interactions.queue_rollups WHERE cc_id = $1 AND queue = 'support'`, [ccId]), 2);
  const folded = await stats('supervisor');
  assert.deepEqual(folded.today, s.today);
  const noFrom = ({ from, ...rest }) => rest;   // the minute may have turned in between
  assert.deepEqual(noFrom(folded.last15Minutes), noFrom(s.last15Minutes));

  // the service level is measured against the queue's threshold (set_queue_policy)
  await db.query(`SELECT interactions.set_queue_policy($1, 'support', '{"service_level_threshold": 0.001}')`, [cc]);
  s = await stats('supervisor');
  assert.equal(s.serviceLevelThresholdSeconds, 0.001);
  assert.equal(s.today.answeredWithinThreshold, 0);
  assert.equal(s.today.serviceLevel, 0);
  // the other queues saw nothing
  const sales = await stats('supervisor', 'sales');
  assert.deepEqual([sales.waiting, sales.today.created, sales.today.answered, sales.today.handled], [0, 0, 0, 0]);
});

test('an interaction that leaves the queue for a final state unanswered is abandoned', async () => {
  const a = await create(cc);
  await create(cc);
  // nothing in the API ends a Queued interaction; a DBA or an integration's cleanup does, in SQL
  await db.query(`DO $$
    DECLARE v interactions.interactions;
    BEGIN
      PERFORM set_config('interactions.cc', '${ccId}', true);
      SELECT * INTO v FROM interactions.interactions WHERE id = '${a}';
      UPDATE interactions.interactions SET state = 'Canceled', updated_at = now() WHERE cc_id = v.cc_id AND id = v.id;
      PERFORM interactions.record('Cancel', v, v.id, NULL, 'StatusChange', '{}', true);
    END $$`);
  const s = await stats('supervisor');
  assert.equal(s.waiting, 1);
  assert.equal(s.today.created, 2);
  assert.equal(s.today.abandoned, 1);
  assert.equal(s.today.answered, 0);
  assert.equal(s.today.serviceLevel, 0);               // answered within threshold / (answered + abandoned)
});
