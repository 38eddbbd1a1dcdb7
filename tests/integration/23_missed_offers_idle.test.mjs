// Missed offers and longest idle (CONTRACT 8.2).  A queue's max_no_answer (default 3)
// consecutive offers that expire unanswered put the agent's channel NotReady with the
// server's reason MissedOffers (recorded with no actor; the agent sees it in GET /me);
// answering an offer ends the run.  Routing offers to the Ready agent whose last
// interaction on the channel ended (or who became Ready) longest ago, not to whoever was
// offered work least recently.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ok, db, freshContactCenter, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { create, channel, opOk, row, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't27';
const idle = 't28';
let ccId;
let idleId;
before(async () => {
  ccId = await freshContactCenter(cc);
  idleId = await freshContactCenter(idle);
});
beforeEach(async () => {
  await freshContactCenter(cc);
  await freshContactCenter(idle);
});
afterEach(async () => {
  await assertInvariants(ccId, true);
  await assertInvariants(idleId, true);
});

const stateOf = async (c, agent, media = 'email') =>
  (await ok(agent, 'GET', '/me', { cc: c })).user.channels.find((x) => x.channel === media).userState;
const capacity = (c, agent, n) => db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', $3)`, [c, agent, n]);
const missed = (agent) => db.value(`SELECT ch.missed_offers FROM interactions.agent_channels ch
    JOIN interactions.users u ON u.cc_id = ch.cc_id AND u.id = ch.user_id
   WHERE ch.cc_id = $1 AND u.login = $2 AND ch.media = 'email'`, [ccId, agent]);
const policy = (queue, p) => db.query(`SELECT interactions.set_queue_policy($1, $2, $3)`, [cc, queue, JSON.stringify(p)]);

test('max_no_answer (3) offers expiring in a row put the channel NotReady, reason MissedOffers', async () => {
  await capacity(cc, 'agent1', 3);
  await channel(cc, 'agent1', 'Ready');
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push(await create(cc, { queueName: 'quick' }));   // offer timeout 1 s
  for (const id of ids) assert.equal((await row(ccId, id)).invitee, 'agent1');
  await eventually(async () => (await stateOf(cc, 'agent1')).state === 'NotReady', 5000);
  const s = await stateOf(cc, 'agent1');
  assert.deepEqual([s.state, s.reason, s.displayName], ['NotReady', 'MissedOffers', 'Missed offers']);
  // the interactions wait again (nobody else is Ready), nothing is offered to agent1 now
  await sleep(1200);
  for (const id of ids) assert.equal((await row(ccId, id)).state, 'Queued');
  assert.equal(Number(await missed('agent1')), 0);
  const h = await db.one(`SELECT from_state, to_state, reason, cause, actor, queue FROM interactions.agent_state_history
      WHERE contact_center = $1 AND agent = 'agent1' ORDER BY seq DESC LIMIT 1`, [cc]);
  assert.deepEqual(h, { from_state: 'Ready', to_state: 'NotReady', reason: 'MissedOffers', cause: 'MissedOffers', actor: null, queue: 'quick' });
  // the agent is told: the history row is theirs (its audience), and Ready again ends it
  const aud = await db.value(`SELECT h.audience = ARRAY[u.id] FROM interactions.history h JOIN interactions.users u
      ON u.cc_id = h.cc_id AND u.login = 'agent1' WHERE h.cc_id = $1 AND h.operation = 'ChannelState' ORDER BY h.seq DESC LIMIT 1`, [ccId]);
  assert.equal(aud, true);
  await channel(cc, 'agent1', 'Ready');
  await eventually(async () => (await row(ccId, ids[0])).invitee === 'agent1', 3000);
});

test('an answered offer ends the run; max_no_answer 0 never, 1 at the first expiry', async () => {
  await channel(cc, 'agent1', 'Ready');
  const a = await create(cc, { queueName: 'quick' });
  await eventually(async () => Number(await missed('agent1')) === 1, 5000);     // expired once
  // offered again after its one offer timeout of being skipped: Accept ends the run
  await eventually(async () => (await row(ccId, a)).invitee === 'agent1', 5000);
  await opOk(cc, 'agent1', a, 'Accept');
  assert.equal(Number(await missed('agent1')), 0);
  await opOk(cc, 'agent1', a, 'Complete');
  // Reject is an answer too
  const b = await create(cc, { queueName: 'quick' });
  await eventually(async () => Number(await missed('agent1')) === 1, 5000);
  await eventually(async () => (await row(ccId, b)).invitee === 'agent1', 5000);
  await opOk(cc, 'agent1', b, 'Reject');
  assert.equal(Number(await missed('agent1')), 0);
  // max_no_answer 0: expiries are counted but never change the state
  await policy('quick', { max_no_answer: 0 });
  await capacity(cc, 'agent1', 4);
  for (let i = 0; i < 3; i++) await create(cc, { queueName: 'quick' });
  await eventually(async () => Number(await missed('agent1')) >= 4, 5000);
  assert.equal((await stateOf(cc, 'agent1')).state, 'Ready');
  // 1: the next expiry does
  await policy('quick', { max_no_answer: 1 });
  await eventually(async () => (await stateOf(cc, 'agent1')).reason === 'MissedOffers', 6000);
});

test('longest idle: whose last interaction ended longest ago, not who was offered least recently', async () => {
  await channel(idle, 'agent1', 'Ready');
  const x = await create(idle);
  assert.equal((await row(idleId, x)).invitee, 'agent1');
  await channel(idle, 'agent2', 'Ready');
  const y = await create(idle);
  assert.equal((await row(idleId, y)).invitee, 'agent2');
  await opOk(idle, 'agent1', x, 'Accept');
  await opOk(idle, 'agent2', y, 'Accept');
  // agent2's interaction ends first; agent1 works on a long one and ends later
  await opOk(idle, 'agent2', y, 'Complete');
  await sleep(50);
  await opOk(idle, 'agent1', x, 'Complete');
  // agent1 was offered work least recently, but agent2 has been idle longer
  const z = await create(idle);
  assert.equal((await row(idleId, z)).invitee, 'agent2');
});

test('longest idle: who became Ready first; one holding nothing before one working with room', async () => {
  await channel(idle, 'agent2', 'Ready');
  await sleep(20);
  await channel(idle, 'agent1', 'Ready');
  const a = await create(idle);
  assert.equal((await row(idleId, a)).invitee, 'agent2');
  // capacity 2 each: agent2 works on a, agent1 holds nothing; agent2's idle time is older,
  // but the next goes to agent1, and only the third to agent2 (room for one more)
  await freshContactCenter(idle);
  await capacity(idle, 'agent1', 2);
  await capacity(idle, 'agent2', 2);
  await channel(idle, 'agent2', 'Ready');
  await sleep(20);
  await channel(idle, 'agent1', 'Ready');
  const b = await create(idle);
  assert.equal((await row(idleId, b)).invitee, 'agent2');
  await opOk(idle, 'agent2', b, 'Accept');
  const c = await create(idle);
  assert.equal((await row(idleId, c)).invitee, 'agent1');
  await opOk(idle, 'agent1', c, 'Accept');
  const d = await create(idle);
  assert.equal((await row(idleId, d)).invitee, 'agent2');
});
