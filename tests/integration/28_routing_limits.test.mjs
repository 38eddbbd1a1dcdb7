// Routing limits and membership (CONTRACT 8.3): a queue's max_wait moves waiting work to its
// overflow queue (maintenance tick; recorded as Overflow with no referenceId, the queue
// change in the history); max_size refuses one more (statusCode 2, nothing changed) or
// overflows; remove_queue_member and disable_user take an agent's offers and work away.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ok, fails, db, freshContactCenter, watchErrorLog, eventually } from '../lib/harness.mjs';
import { create, channel, opOk, row, assertInvariants } from '../lib/flows.mjs';
import { rawSession } from '../lib/push.mjs';

watchErrorLog();
const cc = 't45';
let ccId;
const setup = async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_user($1, 'leaver', 'password', ARRAY['agent'])`, [cc]);
  await db.query(`SELECT interactions.enable_user($1, 'leaver')`, [cc]);
  await db.query(`SELECT interactions.add_queue_member($1, 'support', 'leaver')`, [cc]);
  await db.query(`SELECT interactions.add_queue_member($1, 'support', 'agent3')`, [cc]);
  await db.query(`SELECT interactions.add_queue_member($1, 'sales', 'agent4')`, [cc]);
};
before(setup);
beforeEach(setup);
afterEach(async () => { await assertInvariants(ccId, true); });

const policy = (queue, p) => db.value(`SELECT interactions.set_queue_policy($1, $2, $3)`, [cc, queue, JSON.stringify(p)]);
const tick = () => db.query(`SELECT interactions.maintenance()`);
const waitedFor = (id, interval) => db.query(`UPDATE interactions.interactions SET queued_at = now() - $3::interval
    WHERE cc_id = $1 AND id = $2`, [ccId, id, interval]);

test('max_wait: waiting longer moves the work to the overflow queue, recorded and routed there', async () => {
  await policy('support', { max_wait: '2 minutes', overflow_queue: 'sales' });
  const a = await create(cc, { queueName: 'support' });
  const b = await create(cc, { queueName: 'support' });
  await waitedFor(a, '119 seconds');
  await waitedFor(b, '121 seconds');
  await tick();
  assert.equal((await row(ccId, a)).queue, 'support', 'not yet at max_wait');
  assert.equal((await row(ccId, b)).queue, 'sales');
  const h = await db.one(`SELECT operation, from_queue, to_queue, from_state, to_state, reference_id, actor_id, routing
      FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq DESC LIMIT 1`, [ccId, b]);
  assert.deepEqual([h.operation, h.from_queue, h.to_queue, h.from_state, h.to_state, h.reference_id, h.actor_id],
    ['Overflow', 'support', 'sales', 'Queued', 'Queued', null, null]);
  assert.equal(h.routing.overflow, 'max_wait');
  assert.ok(h.routing.waitedSeconds >= 121);
  // it waits afresh there, and is offered to a member of sales (agent4 only in sales)
  await channel(cc, 'agent4', 'Ready');
  assert.equal((await row(ccId, b)).invitee, 'agent4');
  assert.equal((await row(ccId, a)).state, 'Queued');
  const stat = await db.one(`SELECT overflowed_24h FROM interactions.queue_routing WHERE contact_center = $1 AND queue = 'support'`, [cc]);
  assert.equal(Number(stat.overflowed_24h), 1);
  // max_wait without an overflow queue moves nothing
  await policy('support', { overflow_queue: null });
  await waitedFor(a, '1 hour');
  await tick();
  assert.equal((await row(ccId, a)).queue, 'support');
});

test('max_size: one more is refused (statusCode 2, nothing created), or overflows when set', async () => {
  await policy('support', { max_size: 2 });
  await create(cc, { queueName: 'support' });
  await create(cc, { queueName: 'support' });
  const n0 = await db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1`, [ccId]);
  await fails('feeder', 'POST', '/interactions', 409, 2, { cc, body: { mediaType: 'email', queueName: 'support', subject: 'x' } });
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1`, [ccId]), n0);
  // an offer leaves room: only Queued work counts (agent1 is offered the oldest)
  await channel(cc, 'agent1', 'Ready');
  const c = await create(cc, { queueName: 'support' });
  await opOk(cc, 'agent1', (await db.value(`SELECT id FROM interactions.interactions WHERE cc_id = $1 AND state = 'Invited'`, [ccId])), 'Accept');
  // placing Processing work into the full queue is refused too, and changes nothing
  const owned = await db.value(`SELECT id FROM interactions.interactions WHERE cc_id = $1 AND state = 'Processing'`, [ccId]);
  await channel(cc, 'agent1', 'NotReady');
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1 AND state = 'Queued'`, [ccId]), 2);
  await fails('agent1', 'POST', `/me/interactions/${owned}`, 409, 2, { cc, body: { operationName: 'PlaceInQueue', queueName: 'support' } });
  const again = await row(ccId, owned);
  assert.deepEqual([again.state, again.owner], ['Processing', 'agent1']);
  // with an overflow queue: the next one waits in sales, and the Create row says why
  await policy('support', { overflow_queue: 'sales' });
  const e = await create(cc, { queueName: 'support' });
  assert.equal((await row(ccId, e)).queue, 'sales');
  const h = await db.one(`SELECT operation, to_queue, routing FROM interactions.history
      WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq LIMIT 1`, [ccId, e]);
  assert.deepEqual([h.operation, h.to_queue, h.routing], ['Create', 'sales', { overflow: 'max_size', from: 'support', to: 'sales' }]);
  // ... unless sales is full as well
  await policy('sales', { max_size: 1 });
  await fails('feeder', 'POST', '/interactions', 409, 2, { cc, body: { mediaType: 'email', queueName: 'support', subject: 'x' } });
  assert.ok(c);
});

test('remove_queue_member: the offers of that queue are withdrawn and routed to others', async () => {
  await channel(cc, 'agent1', 'Ready');
  const a = await create(cc, { queueName: 'support' });
  assert.equal((await row(ccId, a)).invitee, 'agent1');
  await channel(cc, 'agent2', 'Ready');
  assert.equal(await db.value(`SELECT interactions.remove_queue_member($1, 'support', 'agent1')`, [cc]), true);
  assert.equal((await row(ccId, a)).invitee, 'agent2');
  assert.equal(await db.value(`SELECT interactions.remove_queue_member($1, 'support', 'agent1')`, [cc]), false);
  // agent1 is offered nothing of support any more
  await opOk(cc, 'agent2', a, 'Accept');
  const b = await create(cc, { queueName: 'support' });
  assert.equal((await row(ccId, b)).state, 'Queued');
  const audit = await db.one(`SELECT function, target, change FROM interactions.config_history WHERE cc_id = $1 ORDER BY seq DESC LIMIT 1`, [ccId]);
  assert.deepEqual(audit, { function: 'remove_queue_member', target: 'queue:support', change: { removed: 'agent1' } });
  await db.query(`SELECT interactions.add_queue_member($1, 'support', 'agent1')`, [cc]);
});

test('disable_user mid-offer: offers withdrawn, owned work back to its queue, push sessions end', async () => {
  await channel(cc, 'leaver', 'Ready');
  await db.query(`SELECT interactions.set_agent_capacity($1, 'leaver', 'email', 2)`, [cc]);
  const owned = await create(cc, { queueName: 'support' });
  await opOk(cc, 'leaver', owned, 'Accept');
  const offered = await create(cc, { queueName: 'support' });
  assert.equal((await row(ccId, offered)).invitee, 'leaver');
  await rawSession('leaver', { cc });
  const sessions = () => db.value(`SELECT count(*)::int FROM interactions.push_sessions s JOIN interactions.users u
      ON u.cc_id = s.cc_id AND u.id = s.user_id WHERE s.cc_id = $1 AND u.login = 'leaver'`, [ccId]);
  assert.equal(await sessions(), 1);
  await channel(cc, 'agent3', 'Ready');
  await db.query(`SELECT interactions.disable_user($1, 'leaver')`, [cc]);
  // the offer went to agent3; the owned work waits in support again, as nobody's
  assert.equal((await row(ccId, offered)).invitee, 'agent3');
  const back = await row(ccId, owned);
  assert.deepEqual([back.state, back.queue, back.owner], ['Queued', 'support', null]);
  const h = await db.one(`SELECT operation, actor_id, from_owner IS NOT NULL AS had_owner FROM interactions.history
      WHERE cc_id = $1 AND interaction_id = $2 AND operation = 'Release'`, [ccId, owned]);
  assert.deepEqual(h, { operation: 'Release', actor_id: null, had_owner: true });
  assert.equal(await sessions(), 0);
  const audit = await db.one(`SELECT function, target FROM interactions.config_history WHERE cc_id = $1 ORDER BY seq DESC LIMIT 1`, [ccId]);
  assert.deepEqual(audit, { function: 'disable_user', target: 'user:leaver' });
  // the next agent free takes it
  await channel(cc, 'agent1', 'Ready');
  await eventually(async () => (await row(ccId, owned)).invitee === 'agent1', 3000);
});
