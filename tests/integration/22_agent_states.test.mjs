// The agent's channel states (CONTRACT 8.2): Ready, NotReady with provisioned reasons,
// AfterCallWork (chosen, or a queue's wrap-up that ends by itself), DoNotDisturb, the
// contact-center session (LoggedOut), userState with displayName and since; routing offers
// only to Ready agents; every change in the agent-state history, with actor and reason.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, freshContactCenter, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { create, channel, opOk, row, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't25';
let ccId;
before(async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Training', 'In training')`, [cc]);
});
beforeEach(async () => { await freshContactCenter(cc); });
afterEach(async () => { await assertInvariants(ccId, true); });

const stateOf = (me, media = 'email') => me.user.channels.find((c) => c.channel === media)?.userState;
const me = (agent) => ok(agent, 'GET', '/me', { cc });
const setChannel = (agent, body, media = 'email') => api(agent, 'POST', `/me/channels/${media}`, { cc, body });
const meOp = (agent, body) => api(agent, 'POST', '/me', { cc, body });
const history = (agent) => db.query(`SELECT channel, from_state, to_state, reason, from_reason, display_name, cause,
    actor, queue, reference_id FROM interactions.agent_state_history
   WHERE contact_center = $1 AND agent = $2 ORDER BY seq`, [cc, agent]);
const policy = (queue, p) => db.query(`SELECT interactions.set_queue_policy($1, $2, $3)`, [cc, queue, JSON.stringify(p)]);

test('userState: state, displayName, since; NotReady with a provisioned reason; reasons listed', async () => {
  const before = Date.now();
  let m = await me('agent1');
  assert.deepEqual(m.user.notReadyReasons, [{ name: 'Training', displayName: 'In training' },
    { name: 'Lunch', displayName: 'Out to lunch' }].sort((a, b) => a.displayName.localeCompare(b.displayName)));
  assert.equal(stateOf(m).state, 'NotReady');
  assert.equal(stateOf(m).displayName, 'Not ready');
  const r = await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.equal(typeof r.json.referenceId, 'number');
  const s = stateOf(r.json);
  assert.deepEqual([s.state, s.reason, s.displayName], ['NotReady', 'Lunch', 'Out to lunch']);
  assert.ok(Date.parse(s.since) >= before - 1000 && Date.parse(s.since) <= Date.now() + 1000, s.since);
  m = await me('agent1');
  assert.deepEqual(stateOf(m), s);
  // Ready: plain words, and no reason
  const ready = stateOf((await setChannel('agent1', { operationName: 'Ready' })).json);
  assert.deepEqual([ready.state, ready.displayName, ready.reason], ['Ready', 'Ready', undefined]);
  // supervisors and admins have no channels but no reasons menu either
  assert.equal((await me('supervisor')).user.notReadyReasons, undefined);
  // the change is recorded: who, from, to, reason, the request's referenceId
  const h = await history('agent1');
  assert.deepEqual(h.map((x) => [x.from_state, x.to_state, x.reason, x.from_reason, x.cause, x.actor]),
    [['NotReady', 'NotReady', 'Lunch', null, 'Agent', 'agent1'], ['NotReady', 'Ready', null, 'Lunch', 'Agent', 'agent1']]);
  assert.equal(Number(h[0].reference_id), r.json.referenceId);
  assert.equal(h[0].display_name, 'Out to lunch');
});

test('bad channel requests: statusCode 10 (or 2), nothing changed', async () => {
  await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });
  const n = (await history('agent1')).length;
  await fails('agent1', 'POST', '/me/channels/email', 400, 10, { cc, body: { operationName: 'NotReady', reason: 'Nap' } });
  await fails('agent1', 'POST', '/me/channels/email', 400, 10, { cc, body: { operationName: 'NotReady', reason: 'MissedOffers' } });
  await fails('agent1', 'POST', '/me/channels/email', 400, 10, { cc, body: { operationName: 'Ready', reason: 'Lunch' } });
  await fails('agent1', 'POST', '/me/channels/email', 400, 10, { cc, body: { operationName: 'LoggedOut' } });
  await fails('agent1', 'POST', '/me/channels/email', 400, 10, { cc, body: { operationName: 'NotReady', reason: 'Lunch', mood: 1 } });
  await fails('agent1', 'POST', '/me', 400, 10, { cc, body: { operationName: 'Ready' } });
  await fails('agent1', 'POST', '/me', 400, 1, { cc, body: { operationName: 'StartContactCenterSession' } });
  await fails('agent1', 'POST', '/me', 400, 10, { cc, body: { operationName: 'StartContactCenterSession', channels: ['e mail'] } });
  await fails('admin', 'POST', '/me', 403, 5, { cc, body: { operationName: 'DoNotDisturbOn' } });
  await fails('supervisor', 'POST', '/me/channels/email', 403, 5, { cc, body: { operationName: 'AfterCallWork' } });
  assert.equal((await history('agent1')).length, n);
  assert.deepEqual([stateOf(await me('agent1')).state, stateOf(await me('agent1')).reason], ['NotReady', 'Lunch']);
});

test('routing offers only to Ready agents: not NotReady, AfterCallWork, DoNotDisturb or LoggedOut', async () => {
  // agent2 (support) is in each non-Ready state in turn: nothing is offered
  for (const step of [
    () => setChannel('agent2', { operationName: 'NotReady', reason: 'Training' }),
    () => setChannel('agent2', { operationName: 'AfterCallWork' }),
    async () => { await setChannel('agent2', { operationName: 'Ready' }); return meOp('agent2', { operationName: 'DoNotDisturbOn' }); },
    () => meOp('agent2', { operationName: 'EndContactCenterSession' }),
  ]) {
    const r = await step();
    assert.equal(r.json.statusCode, 0, r.text);
    const id = await create(cc);
    await sleep(600);   // a maintenance tick: still not offered
    assert.equal((await row(ccId, id)).state, 'Queued', JSON.stringify(stateOf(r.json)));
    await freshContactCenter(cc);
  }
});

test('AfterCallWork chosen: no offers until the agent chooses Ready, which routes at once', async () => {
  const r = await setChannel('agent1', { operationName: 'AfterCallWork' });
  assert.deepEqual([stateOf(r.json).state, stateOf(r.json).displayName, stateOf(r.json).until],
    ['AfterCallWork', 'After call work', undefined]);
  const id = await create(cc);
  await sleep(1200);  // no end of its own
  assert.equal(stateOf(await me('agent1')).state, 'AfterCallWork');
  assert.equal((await row(ccId, id)).state, 'Queued');
  await channel(cc, 'agent1', 'Ready');
  assert.equal((await row(ccId, id)).invitee, 'agent1');
});

test('wrap-up: a queue\'s wrap_up makes the channel AfterCallWork, then Ready by itself', async () => {
  await policy('support', { wrap_up: 1.5 });
  await channel(cc, 'agent1', 'Ready');
  const a = await create(cc);
  await opOk(cc, 'agent1', a, 'Accept');
  const b = await create(cc);                     // waits: agent1 is at capacity
  const done = await opOk(cc, 'agent1', a, 'Complete');
  assert.equal(done.interaction.state, 'Completed');
  const s = stateOf(await me('agent1'));
  assert.equal(s.state, 'AfterCallWork');
  assert.ok(Date.parse(s.until) > Date.now() + 500, s.until);
  assert.equal((await row(ccId, b)).state, 'Queued');   // never offered during wrap-up
  await sleep(600);
  assert.equal((await row(ccId, b)).state, 'Queued');
  // the maintenance tick ends it: Ready, and b is offered at once
  await eventually(async () => (await row(ccId, b)).invitee === 'agent1', 5000);
  assert.equal(stateOf(await me('agent1')).state, 'Ready');
  const h = await history('agent1');
  assert.deepEqual(h.map((x) => [x.from_state, x.to_state, x.cause, x.actor, x.queue]), [
    ['NotReady', 'Ready', 'Agent', 'agent1', null],
    ['Ready', 'AfterCallWork', 'WrapUp', 'agent1', 'support'],
    ['AfterCallWork', 'Ready', 'WrapUpEnd', null, null]]);
  assert.equal(Number(h[1].reference_id), done.referenceId);
});

test('wrap-up: Ready ends it early; another state chosen meanwhile is kept', async () => {
  await policy('support', { wrap_up: 60 });
  await channel(cc, 'agent1', 'Ready');
  const a = await create(cc);
  await opOk(cc, 'agent1', a, 'Accept');
  await opOk(cc, 'agent1', a, 'PlaceInWorkbin', { workbin: 'drafts' });  // placed elsewhere: wrap-up too
  assert.equal(stateOf(await me('agent1')).state, 'AfterCallWork');
  const b = await create(cc);
  await channel(cc, 'agent1', 'Ready');                                  // early end
  assert.equal((await row(ccId, b)).invitee, 'agent1');
  await opOk(cc, 'agent1', b, 'Accept');
  await policy('support', { wrap_up: 1 });
  await opOk(cc, 'agent1', b, 'Transfer', { queueName: 'support' });      // transferred: wrap-up
  assert.equal(stateOf(await me('agent1')).state, 'AfterCallWork');
  await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });  // chosen meanwhile
  await sleep(1600);                                                      // past the wrap-up's end
  assert.deepEqual([stateOf(await me('agent1')).state, stateOf(await me('agent1')).reason], ['NotReady', 'Lunch']);
  // an agent NotReady when the work ends stays NotReady (no wrap-up that would make them Ready)
  await channel(cc, 'agent1', 'Ready');
  assert.equal((await row(ccId, b)).invitee, 'agent1');
  await opOk(cc, 'agent1', b, 'Accept');
  await setChannel('agent1', { operationName: 'NotReady', reason: 'Training' });
  await opOk(cc, 'agent1', b, 'Complete');
  await sleep(1600);
  assert.deepEqual([stateOf(await me('agent1')).state, stateOf(await me('agent1')).reason], ['NotReady', 'Training']);
});

test('Do Not Disturb: every logged-in channel, the state kept and given back', async () => {
  await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });
  await channel(cc, 'agent1', 'Ready', 'chat');
  let r = await meOp('agent1', { operationName: 'DoNotDisturbOn' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.deepEqual(r.json.user.channels.map((c) => [c.channel, c.userState.state, c.userState.displayName]),
    [['chat', 'DoNotDisturb', 'Do not disturb'], ['email', 'DoNotDisturb', 'Do not disturb']]);
  // nothing offered on chat, and no channel state may be chosen while it is on
  const id = await create(cc, { mediaType: 'chat' });
  await sleep(600);
  assert.equal((await row(ccId, id)).state, 'Queued');
  await fails('agent1', 'POST', '/me/channels/chat', 409, 2, { cc, body: { operationName: 'Ready' } });
  r = await meOp('agent1', { operationName: 'DoNotDisturbOff' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.deepEqual(r.json.user.channels.map((c) => [c.channel, c.userState.state, c.userState.reason]),
    [['chat', 'Ready', undefined], ['email', 'NotReady', 'Lunch']]);
  assert.equal((await row(ccId, id)).invitee, 'agent1');     // Ready again: offered at once
  const h = (await history('agent1')).filter((x) => x.cause === 'DoNotDisturb');
  assert.deepEqual(h.map((x) => [x.channel, x.from_state, x.to_state, x.reason]), [
    ['chat', 'Ready', 'DoNotDisturb', null], ['email', 'NotReady', 'DoNotDisturb', null],
    ['chat', 'DoNotDisturb', 'Ready', null], ['email', 'DoNotDisturb', 'NotReady', 'Lunch']]);
});

test('contact-center session: Start (named NotReady, others LoggedOut) and End (all LoggedOut)', async () => {
  await channel(cc, 'agent1', 'Ready', 'chat');
  let r = await meOp('agent1', { operationName: 'StartContactCenterSession', channels: ['email', 'workitem'] });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.deepEqual(r.json.user.channels.map((c) => [c.channel, c.userState.state, c.userState.displayName]),
    [['chat', 'LoggedOut', 'Logged out'], ['email', 'NotReady', 'Not ready'], ['workitem', 'NotReady', 'Not ready']]);
  // a logged-out channel is offered nothing; choosing a state logs it in again
  const chat = await create(cc, { mediaType: 'chat' });
  await sleep(600);
  assert.equal((await row(ccId, chat)).state, 'Queued');
  // End: refused while the agent works on something, nothing changed
  await channel(cc, 'agent1', 'Ready');
  const a = await create(cc);
  await opOk(cc, 'agent1', a, 'Accept');
  const n = (await history('agent1')).length;
  await fails('agent1', 'POST', '/me', 409, 2, { cc, body: { operationName: 'EndContactCenterSession' } });
  // Start naming only chat would log email out: refused too
  await fails('agent1', 'POST', '/me', 409, 2, { cc, body: { operationName: 'StartContactCenterSession', channels: ['chat'] } });
  assert.equal((await history('agent1')).length, n);
  assert.equal(stateOf(await me('agent1')).state, 'Ready');
  await opOk(cc, 'agent1', a, 'Complete');
  // an offer outstanding at the end is withdrawn (Revoked) and goes to someone else
  const b = await create(cc);
  assert.equal((await row(ccId, b)).invitee, 'agent1');
  await channel(cc, 'agent2', 'Ready');
  r = await meOp('agent1', { operationName: 'EndContactCenterSession' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.ok(r.json.user.channels.every((c) => c.userState.state === 'LoggedOut'), r.text);
  assert.equal((await row(ccId, b)).invitee, 'agent2');
  const revoke = await db.one(`SELECT operation, from_invitee IS NOT NULL AS had FROM interactions.history
      WHERE cc_id = $1 AND interaction_id = $2 AND operation = 'Revoke'`, [ccId, b]);
  assert.ok(revoke.had);
  // Ready logs a channel in again
  assert.equal(stateOf((await setChannel('agent1', { operationName: 'Ready' }, 'chat')).json, 'chat').state, 'Ready');
  assert.equal((await row(ccId, chat)).invitee, 'agent1');
  const causes = (await history('agent1')).map((x) => x.cause);
  assert.ok(causes.includes('Session'));
});

test('an agent may have InteractionsMaxAgentChannels (16) channels; one more is refused', async () => {
  for (let i = 0; i < 15; i++) await channel(cc, 'agent3', 'NotReady', `m${i}`);   // with email: 16
  await fails('agent3', 'POST', '/me/channels/m15', 400, 10, { cc, body: { operationName: 'Ready' } });
  await fails('agent3', 'POST', '/me', 400, 10, { cc, body: { operationName: 'StartContactCenterSession', channels: ['email', 'extra'] } });
  await fails('agent3', 'POST', '/me', 400, 10, { cc, body: { operationName: 'StartContactCenterSession',
    channels: Array.from({ length: 17 }, (_, i) => `c${i}`) } });
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.agent_channels ch JOIN interactions.users u
      ON u.cc_id = ch.cc_id AND u.id = ch.user_id WHERE ch.cc_id = $1 AND u.login = 'agent3'`, [ccId])), 16);
  // a channel that exists can still change
  await channel(cc, 'agent3', 'Ready', 'm3');
});

test('a disabled agent\'s channels end LoggedOut and their offers are withdrawn', async () => {
  await channel(cc, 'agent4', 'Ready');
  await db.query(`SELECT interactions.add_queue_member($1, 'support', 'agent4')`, [cc]);
  await channel(cc, 'agent2', 'Ready');
  await setChannel('agent2', { operationName: 'NotReady' });
  const id = await create(cc);
  assert.equal((await row(ccId, id)).invitee, 'agent4');
  await channel(cc, 'agent2', 'Ready');
  try {
    await db.query(`SELECT interactions.disable_user($1, 'agent4')`, [cc]);
    assert.equal((await row(ccId, id)).invitee, 'agent2');
    const ch = await db.one(`SELECT ch.state FROM interactions.agent_channels ch JOIN interactions.users u
        ON u.cc_id = ch.cc_id AND u.id = ch.user_id WHERE ch.cc_id = $1 AND u.login = 'agent4' AND ch.media = 'email'`, [ccId]);
    assert.equal(ch.state, 'LoggedOut');
    const h = (await history('agent4')).pop();
    assert.deepEqual([h.from_state, h.to_state, h.cause, h.actor], ['Ready', 'LoggedOut', 'Disabled', null]);
  } finally {
    await db.query(`SELECT interactions.enable_user($1, 'agent4')`, [cc]);
    await db.query(`DELETE FROM interactions.queue_members m USING interactions.users u
        WHERE m.cc_id = $1 AND u.cc_id = m.cc_id AND u.id = m.user_id AND u.login = 'agent4'`, [ccId]);
  }
});

test('for DBAs: the agent-state history is append-only, and time in state per day', async () => {
  await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });
  await sleep(300);
  await channel(cc, 'agent1', 'Ready');
  await sleep(300);
  const t = await db.query(`SELECT state, reason, seconds::float AS s FROM interactions.agent_time_in_state
      WHERE contact_center = $1 AND agent = 'agent1' AND channel = 'email' AND day = (now() AT TIME ZONE 'UTC')::date
      ORDER BY state`, [cc]);
  const lunch = t.find((x) => x.state === 'NotReady' && x.reason === 'Lunch');
  const ready = t.find((x) => x.state === 'Ready');
  assert.ok(lunch && lunch.s >= 0.25 && lunch.s < 5, JSON.stringify(t));
  assert.ok(ready && ready.s >= 0.25, JSON.stringify(t));
  // the rows are the history's: not even the owner may rewrite them
  await assert.rejects(db.query(`UPDATE interactions.history SET to_state = 'Ready' WHERE cc_id = $1 AND operation = 'ChannelState'`, [ccId]),
    /append-only/);
  await assert.rejects(db.query(`DELETE FROM interactions.history WHERE cc_id = $1 AND operation = 'ChannelState'`, [ccId]),
    /append-only/);
});
