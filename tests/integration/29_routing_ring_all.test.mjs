// ring-all (CONTRACT 8.3): an interaction is offered to every free Ready member of its queue
// at once; the first Accept wins and every other agent it rang for is told Revoked at once
// (push), their capacity free again.  A Reject drops only that agent; an expiry withdraws
// it from all.  Racing Accepts: tests/isolation/specs/ring-all-accept.spec.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ok, db, freshContactCenter, watchErrorLog, userId } from '../lib/harness.mjs';
import { create, channel, op, opOk, row, assertInvariants } from '../lib/flows.mjs';
import { cometdClient, about } from '../lib/push.mjs';

watchErrorLog();
const cc = 't46';
const agents = ['agent1', 'agent2', 'agent3', 'agent4'];
let ccId;
const setup = async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_queue($1, 'ring', '2 seconds')`, [cc]);
  for (const a of agents) await db.query(`SELECT interactions.add_queue_member($1, 'ring', $2)`, [cc, a]);
  await db.query(`SELECT interactions.set_queue_policy($1, 'ring', '{"strategy": "ring-all"}')`, [cc]);
  await db.query(`SELECT interactions.set_queue_policy($1, 'ring', '{"offer_timeout": 30}')`, [cc]);
};
before(setup);
beforeEach(setup);
afterEach(async () => { await assertInvariants(ccId, true); });

const ringing = (id) => db.value(`SELECT coalesce(array_agg(u.login ORDER BY u.login), '{}') FROM (
    SELECT invitee_id AS user_id FROM interactions.interactions WHERE cc_id = $1 AND id = $2 AND state = 'Invited'
    UNION ALL SELECT user_id FROM interactions.ring_offers WHERE cc_id = $1 AND interaction_id = $2) r
    JOIN interactions.users u ON u.cc_id = $1 AND u.id = r.user_id`, [ccId, id]);
const mine = async (agent) => (await ok(agent, 'GET', '/me/interactions?fields=*', { cc })).interactions;

test('ring-all: offered to every free Ready member at once; the first Accept wins, the others are told Revoked', async () => {
  for (const a of ['agent1', 'agent2', 'agent3']) await channel(cc, a, 'Ready');
  const pushed = await cometdClient({ cc, user: 'agent3' });
  try {
    const id = await create(cc, { queueName: 'ring' });
    assert.deepEqual(await ringing(id), ['agent1', 'agent2', 'agent3']);
    // each of them has it, may Accept it, and is told of it; agent4 (NotReady) is not
    for (const a of ['agent1', 'agent2', 'agent3']) {
      const list = await mine(a);
      assert.equal(list.length, 1, a);
      assert.deepEqual(list[0].capabilities, ['Accept', 'Reject'], a);
    }
    assert.equal((await mine('agent4')).length, 0);
    const route = await db.one(`SELECT audience, routing FROM interactions.history WHERE cc_id = $1
        AND interaction_id = $2 AND operation = 'Route'`, [ccId, id]);
    assert.equal(route.audience.length, 3);
    assert.deepEqual([route.routing.strategy, route.routing.ringing, route.routing.candidates], ['ring-all', 3, 3]);
    await pushed.waitFor((m) => about(id)(m) && m.data.interaction.state === 'Invited'
      && m.data.interaction.capabilities.includes('Accept'));
    // ringing counts against capacity: nothing else is offered to them meanwhile
    const other = await create(cc, { queueName: 'ring' });
    assert.equal((await row(ccId, other)).state, 'Queued');
    // agent2 answers first
    await opOk(cc, 'agent2', id, 'Accept');
    const r = await row(ccId, id);
    assert.deepEqual([r.state, r.owner], ['Processing', 'agent2']);
    assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.ring_offers WHERE cc_id = $1 AND interaction_id = $2`, [ccId, id])), 0);
    const accept = await db.one(`SELECT revoked FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2
        AND operation = 'Accept'`, [ccId, id]);
    assert.deepEqual([...accept.revoked].sort(), [await userId(cc, 'agent1'), await userId(cc, 'agent3')].sort());
    await pushed.waitFor((m) => about(id)(m) && m.data.interaction.state === 'Revoked');
    // too late for the others
    for (const a of ['agent1', 'agent3']) {
      const late = await op(cc, a, id, 'Accept');
      assert.equal(late.json.statusCode, 5, a);
    }
    // the others were free again at once: the second interaction rings for both of them
    assert.deepEqual(await ringing(other), ['agent1', 'agent3']);
  } finally {
    await pushed.disconnect();
  }
});

test('ring-all: a Reject drops only that agent; an expiry withdraws it from everyone', async () => {
  await db.query(`SELECT interactions.set_queue_policy($1, 'ring', '{"offer_timeout": 1, "max_no_answer": 0}')`, [cc]);
  for (const a of ['agent1', 'agent2']) await channel(cc, a, 'Ready');
  const id = await create(cc, { queueName: 'ring' });
  assert.deepEqual(await ringing(id), ['agent1', 'agent2']);
  const invitee = (await row(ccId, id)).invitee;
  await opOk(cc, invitee, id, 'Reject');
  const other = invitee === 'agent1' ? 'agent2' : 'agent1';
  let r = await row(ccId, id);
  assert.deepEqual([r.state, r.invitee], ['Invited', other]);
  assert.deepEqual(await ringing(id), [other]);
  assert.equal((await mine(invitee)).length, 0);
  // nobody answers: withdrawn from the last one too, both skipped for one offer timeout
  await db.query(`UPDATE interactions.interactions SET offer_expires_at = now() WHERE cc_id = $1 AND id = $2`, [ccId, id]);
  await db.query(`SELECT interactions.maintenance()`);
  r = await row(ccId, id);
  assert.equal(r.state, 'Queued');
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.ring_offers WHERE cc_id = $1`, [ccId])), 0);
  // an agent leaving while it rings for them drops out of it
  await db.query(`UPDATE interactions.interactions SET declined_by = '{}', declined_until = NULL WHERE cc_id = $1`, [ccId]);
  await channel(cc, 'agent3', 'Ready');      // free: it rings for all three again
  assert.deepEqual(await ringing(id), ['agent1', 'agent2', 'agent3']);
  await ok('agent3', 'POST', '/me', { cc, body: { operationName: 'EndContactCenterSession' } });
  assert.deepEqual(await ringing(id), ['agent1', 'agent2']);
  await db.query(`SELECT interactions.disable_user($1, 'agent2')`, [cc]);
  await db.query(`SELECT interactions.enable_user($1, 'agent2')`, [cc]);
  assert.deepEqual(await ringing(id), ['agent1']);
  await opOk(cc, 'agent1', id, 'Accept');
});
