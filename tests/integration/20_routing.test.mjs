// Routing: readiness, capacity, priorities, longest idle first, media and membership, offer
// timeouts withdrawn by the maintenance thread, and transfers through the same offers.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ok, db, freshContactCenter, watchErrorLog, eventually, sleep, userId } from '../lib/harness.mjs';
import { create, channel, op, opOk, row, ownedBy, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't5';
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
beforeEach(async () => { await freshContactCenter(cc); });
afterEach(async () => { await assertInvariants(ccId, true); });

const capacity = (agent, n, media = 'email') =>
  db.query(`SELECT interactions.set_agent_capacity($1, $2, $3, $4)`, [cc, agent, media, n]);
const invitee = async (id) => (await row(ccId, id)).invitee;

test('nothing is offered while all agents are NotReady; becoming Ready pulls waiting work', async () => {
  const a = await create(cc);
  const b = await create(cc);
  await sleep(700);   // a maintenance tick passes: still nobody Ready
  assert.equal((await row(ccId, a)).state, 'Queued');
  assert.equal((await row(ccId, b)).state, 'Queued');
  const me = await channel(cc, 'agent1', 'Ready');
  assert.equal(me.user.channels.find((c) => c.channel === 'email').userState.state, 'Ready');
  assert.equal(await invitee(a), 'agent1');          // the oldest first
  assert.equal((await row(ccId, b)).state, 'Queued'); // capacity 1
});

test('highest priority first, then oldest', async () => {
  const low = await create(cc, { priority: 0 });
  const high = await create(cc, { priority: 10 });
  const high2 = await create(cc, { priority: 10 });
  await capacity('agent1', 2);
  await channel(cc, 'agent1', 'Ready');
  assert.equal(await invitee(high), 'agent1');
  assert.equal(await invitee(high2), 'agent1');
  assert.equal((await row(ccId, low)).state, 'Queued');
});

test('capacity: an agent holds at most their capacity (Invited + Processing) per media', async () => {
  await capacity('agent1', 2);
  await channel(cc, 'agent1', 'Ready');
  const ids = [await create(cc), await create(cc), await create(cc)];
  assert.deepEqual(await Promise.all(ids.map(invitee)), ['agent1', 'agent1', null]);
  await opOk(cc, 'agent1', ids[0], 'Accept');
  assert.equal(await invitee(ids[2]), null);          // Processing still counts
  await opOk(cc, 'agent1', ids[0], 'Complete');       // frees capacity: the waiting one comes
  assert.equal(await invitee(ids[2]), 'agent1');
  // other media is counted separately
  await capacity('agent1', 1, 'chat');
  await channel(cc, 'agent1', 'Ready', 'chat');
  const chat = await create(cc, { mediaType: 'chat' });
  assert.equal(await invitee(chat), 'agent1');
});

test('longest idle first: the agent offered work least recently gets the next one', async () => {
  await channel(cc, 'agent1', 'Ready');
  const first = await create(cc);
  assert.equal(await invitee(first), 'agent1');
  await channel(cc, 'agent2', 'Ready');                // never offered anything: longest idle
  await opOk(cc, 'agent1', first, 'Accept');
  await opOk(cc, 'agent1', first, 'Complete');          // agent1 free again, but offered recently
  const second = await create(cc);
  assert.equal(await invitee(second), 'agent2');
  const third = await create(cc);
  assert.equal(await invitee(third), 'agent1');
});

test('only Ready members of the queue, on the interaction\'s media, are offered it', async () => {
  await channel(cc, 'agent3', 'Ready');                // not a member of support
  await channel(cc, 'agent1', 'Ready', 'chat');        // Ready on chat only
  const email = await create(cc);
  await sleep(600);
  assert.equal((await row(ccId, email)).state, 'Queued');
  const sales = await create(cc, { queueName: 'sales' });
  assert.equal(await invitee(sales), 'agent3');
  const chat = await create(cc, { mediaType: 'chat' });
  assert.equal(await invitee(chat), 'agent1');
});

test('NotReady keeps current work and gets nothing new', async () => {
  await capacity('agent1', 5);
  await channel(cc, 'agent1', 'Ready');
  const held = await create(cc);
  await opOk(cc, 'agent1', held, 'Accept');
  await channel(cc, 'agent1', 'NotReady');
  const next = await create(cc);
  await sleep(600);
  assert.equal((await row(ccId, next)).state, 'Queued');
  assert.deepEqual([(await row(ccId, held)).state, (await row(ccId, held)).owner], ['Processing', 'agent1']);
  await opOk(cc, 'agent1', held, 'Complete');
  assert.equal((await row(ccId, next)).state, 'Queued');
});

test('an unanswered offer is withdrawn (Revoked) and routed again, not straight back', async () => {
  await channel(cc, 'agent1', 'Ready');
  const id = await create(cc, { queueName: 'quick' });   // offer timeout 1 s
  assert.equal(await invitee(id), 'agent1');
  await channel(cc, 'agent2', 'Ready');
  const a1 = await userId(cc, 'agent1');
  await eventually(async () => (await invitee(id)) === 'agent2', 4000);
  const revoke = await db.one(`SELECT operation, from_state, to_state, revoked, actor_id FROM interactions.history
      WHERE cc_id = $1 AND interaction_id = $2 AND operation = 'Revoke'`, [ccId, id]);
  assert.deepEqual(revoke, { operation: 'Revoke', from_state: 'Invited', to_state: 'Queued', revoked: [a1], actor_id: null });
  // agent2 lets it expire too; agent1 was skipped for one offer timeout and gets it again later
  await eventually(async () => (await invitee(id)) === 'agent1', 5000);
  assert.ok(await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2
                            AND operation = 'Revoke'`, [ccId, id]) >= 2);
  const acc = await op(cc, 'agent1', id, 'Accept');
  if (acc.json.statusCode !== 0) assert.ok([2, 5].includes(acc.json.statusCode));   // a tick may have won
});

test('an agent who accepts after the timeout withdrew the offer is refused', async () => {
  await channel(cc, 'agent1', 'Ready');
  const id = await create(cc, { queueName: 'quick' });
  await channel(cc, 'agent1', 'NotReady');
  await eventually(async () => (await row(ccId, id)).state === 'Queued', 4000);
  const r = await op(cc, 'agent1', id, 'Accept');
  assert.equal(r.json.statusCode, 2);
});

test('a transfer to a user is an offer: it may be rejected or expire, then it returns to the queue', async () => {
  await capacity('agent1', 5);
  const id = await ownedBy(cc, ccId, 'agent1', { queueName: 'quick' });
  await opOk(cc, 'agent1', id, 'Transfer', { userId: 'agent2' });
  assert.equal(await invitee(id), 'agent2');
  await eventually(async () => (await row(ccId, id)).state === 'Queued', 4000);
  assert.equal((await row(ccId, id)).queue, 'quick');
  // with agent2 Ready, the returned interaction is routed again (agent1 is NotReady)
  await channel(cc, 'agent2', 'Ready');
  await eventually(async () => (await invitee(id)) === 'agent2', 4000);
});

test('the background sweep routes work that racing transactions left behind', async () => {
  // simulate the rare miss: an interaction Queued while its agent is Ready and free
  await channel(cc, 'agent1', 'Ready');
  const id = await create(cc);
  await opOk(cc, 'agent1', id, 'Accept');
  await opOk(cc, 'agent1', id, 'Complete');
  const other = await create(cc);
  assert.equal(await invitee(other), 'agent1');
  await opOk(cc, 'agent1', other, 'Reject');     // declined: skipped for 30 s by routing...
  await db.query(`UPDATE interactions.interactions SET declined_until = now() WHERE cc_id = $1 AND id = $2`, [ccId, other]);
  // ...until the sweep notices the decline has lapsed and agent1 is still free
  await eventually(async () => (await invitee(other)) === 'agent1', 3000);
});
