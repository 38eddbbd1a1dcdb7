// Channel states on the push channel (CONTRACT 8.2): ChannelStateChangeMessage on
// /v2/me/channels to the agent and on /v2/agents to supervisors and admins, from the same
// history rows and with the same cursors as the interactions' messages: referenceId when a
// request caused the change, none when the server did (wrap-up ending); the ack extension
// loses nothing and repeats nothing; rights checked on every delivery.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ok, db, freshContactCenter, watchErrorLog, eventually, sleep, userId } from '../lib/harness.mjs';
import { opOk, ownedBy } from '../lib/flows.mjs';
import { cometdClient, fayeClient, bayeux, rawSession, rawConnect, rawDisconnect } from '../lib/push.mjs';

watchErrorLog([]);
const cc = 't50';
let ccId;
let open = [];

const ME = '/v2/me/interactions';
const MYCH = '/v2/me/channels';
const AGENTS = '/v2/agents';
const ALL = '/v2/interactions';

before(async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  await db.query(`SELECT interactions.create_user($1, 'sup2', 'password', ARRAY['supervisor'])`, [cc]).catch(() => {});
});
beforeEach(async () => { await freshContactCenter(cc); open = []; });
afterEach(async () => { for (const c of open) await c.disconnect(); });

async function client(opts) {
  const c = await cometdClient({ cc, ...opts });
  open.push(c);
  return c;
}
const setChannel = (agent, body, media = 'email') => ok(agent, 'POST', `/me/channels/${media}`, { cc, body });
const isState = (state, ref) => (m) => m.data && m.data.messageType === 'ChannelStateChangeMessage'
  && m.data.channels[0].userState.state === state && (ref === undefined || m.data.referenceId === ref);

test('CometD: the agent hears their own channel state on /v2/me/channels with the request\'s referenceId', async () => {
  const a1 = await client({ user: 'agent1', channels: [MYCH, ME] });
  const a2 = await client({ user: 'agent2', channels: [MYCH] });
  assert.deepEqual(a1.meta.subscribeFailures, []);
  const r = await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });
  const m = await a1.waitFor(isState('NotReady', r.referenceId));
  assert.equal(m.channel, MYCH);
  assert.deepEqual(m.data.channels, [{ channel: 'email', userState: r.user.channels[0].userState }]);
  assert.equal(m.data.channels[0].userState.displayName, 'Out to lunch');
  assert.equal(m.data.user, undefined);
  const r2 = await setChannel('agent1', { operationName: 'Ready' });
  await a1.waitFor(isState('Ready', r2.referenceId));
  // in order, each once; never on /v2/me/interactions, never to another agent
  await sleep(300);
  assert.deepEqual(a1.messages.filter((x) => x.channel === MYCH).map((x) => x.data.referenceId),
    [r.referenceId, r2.referenceId]);
  assert.equal(a1.messages.filter((x) => x.channel === ME).length, 0);
  assert.equal(a2.messages.length, 0);
});

test('CometD: supervisors and admins hear every agent on /v2/agents, with the agent named; agents may not subscribe', async () => {
  const sup = await client({ user: 'supervisor', channels: [AGENTS] });
  const adm = await client({ user: 'admin', channels: [AGENTS, ALL] });
  const r = await setChannel('agent2', { operationName: 'AfterCallWork' });
  for (const c of [sup, adm]) {
    const m = await c.waitFor(isState('AfterCallWork', r.referenceId));
    assert.equal(m.channel, AGENTS);
    assert.deepEqual(m.data.user, { id: await userId(cc, 'agent2'), userName: 'agent2' });
    assert.equal(m.data.channels[0].channel, 'email');
  }
  // a state forced by a supervisor: its referenceId, to the agent too
  const a1 = await client({ user: 'agent1', channels: [MYCH] });
  await setChannel('agent1', { operationName: 'Ready' });
  const f = await ok('supervisor', 'POST', '/agents/agent1/channels/email', { cc, body: { operationName: 'NotReady', reason: 'Lunch' } });
  await a1.waitFor(isState('NotReady', f.referenceId));
  const seen = await sup.waitFor(isState('NotReady', f.referenceId));
  assert.equal(seen.data.user.userName, 'agent1');
  // agents and integrations cannot follow other agents
  const r403 = await client({ user: 'agent3', channels: [AGENTS] });
  assert.equal(r403.meta.subscribeFailures.length, 1);
  assert.match(r403.meta.subscribeFailures[0].error, /^403:\/v2\/agents:/);
});

test('Faye: /v2/me/channels; a wrap-up that ends by itself arrives without a referenceId', async () => {
  await db.query(`SELECT interactions.set_queue_policy($1, 'support', '{"wrap_up": 1}')`, [cc]);
  const id = await ownedBy(cc, ccId, 'agent1');
  await setChannel('agent1', { operationName: 'Ready' });
  const f = await fayeClient({ cc, user: 'agent1', channel: MYCH });
  open.push(f);
  const done = await opOk(cc, 'agent1', id, 'Complete');
  const wrap = (await f.waitFor(isState('AfterCallWork'))).data;
  assert.equal(wrap.referenceId, done.referenceId);
  assert.ok(wrap.channels[0].userState.until);
  // ended by the maintenance tick: no request caused it
  const back = (await f.waitFor(isState('Ready'), 15000)).data;
  assert.equal(back.referenceId, undefined);
});

test('a held connect is answered with the channel state at once (no wait for the hold to end)', async () => {
  const s = await rawSession('supervisor', { cc, channels: [AGENTS] });
  await rawConnect(s, { timeout: 0 });
  const held = rawConnect(s);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
  const r = await setChannel('agent3', { operationName: 'Ready' });
  const got = await held;
  assert.ok(got.ms < 15000, `answered after ${got.ms} ms (the hold is 25 s)`);
  assert.deepEqual(got.events.map((e) => [e.channel, e.data.messageType, e.data.referenceId, e.data.user.userName]),
    [[AGENTS, 'ChannelStateChangeMessage', r.referenceId, 'agent3']]);
  await rawDisconnect(s);
});

test('ack extension: an unacknowledged batch comes again, an acknowledged one never', async () => {
  const s = await rawSession('agent1', { cc, channels: [MYCH], ack: true });
  let c = await rawConnect(s, { timeout: 0, ack: 0 });
  const r1 = await setChannel('agent1', { operationName: 'Ready' });
  const r2 = await setChannel('agent1', { operationName: 'NotReady', reason: 'Lunch' });
  const refs = (x) => x.events.map((e) => e.data.referenceId);
  await eventually(async () => {
    c = await rawConnect(s, { timeout: 0, ack: 0 });
    return c.events.length === 2;
  });
  assert.deepEqual(refs(c), [r1.referenceId, r2.referenceId]);
  const batch = c.reply.ext.ack;
  assert.equal(typeof batch, 'number');
  // the reply was "lost": the client still acknowledges the batch before it — sent again
  const again = await rawConnect(s, { timeout: 0, ack: 0 });
  assert.deepEqual(refs(again), [r1.referenceId, r2.referenceId]);
  // acknowledged: never again; what follows comes once
  const acked = await rawConnect(s, { timeout: 0, ack: again.reply.ext.ack });
  assert.deepEqual(refs(acked), []);
  const r3 = await setChannel('agent1', { operationName: 'Ready' });
  let next;
  await eventually(async () => {
    next = await rawConnect(s, { timeout: 0, ack: acked.reply.ext.ack });
    return next.events.length > 0;
  });
  assert.deepEqual(refs(next), [r3.referenceId]);
  const after = await rawConnect(s, { timeout: 0, ack: next.reply.ext.ack });
  assert.deepEqual(refs(after), []);
  await rawDisconnect(s);
});

test('a supervisor demoted to agent gets no more /v2/agents at the next delivery; promoted, only what follows', async () => {
  const s = await rawSession('sup2', { cc, channels: [AGENTS] });
  await rawConnect(s, { timeout: 0 });
  try {
    const before = await setChannel('agent1', { operationName: 'Ready' });
    await eventually(async () => (await rawConnect(s, { timeout: 0 })).events.some((e) => e.data.referenceId === before.referenceId));
    await db.query(`SELECT interactions.set_user_roles($1, 'sup2', ARRAY['agent'])`, [cc]);
    const hidden = await setChannel('agent1', { operationName: 'NotReady' });
    await sleep(300);
    assert.deepEqual((await rawConnect(s, { timeout: 0 })).events, []);
    // a held connect of the demoted user is not answered with it either
    const held = rawConnect(s, { timeout: 1500 });
    await setChannel('agent2', { operationName: 'Ready' });
    assert.deepEqual((await held).events, []);
    await db.query(`SELECT interactions.set_user_roles($1, 'sup2', ARRAY['supervisor'])`, [cc]);
    const shown = await setChannel('agent1', { operationName: 'Ready' });
    let got = [];
    await eventually(async () => {
      got = got.concat((await rawConnect(s, { timeout: 0 })).events);
      return got.some((e) => e.data.referenceId === shown.referenceId);
    });
    assert.ok(!got.some((e) => e.data.referenceId === hidden.referenceId));
  } finally {
    await db.query(`SELECT interactions.set_user_roles($1, 'sup2', ARRAY['supervisor'])`, [cc]);
    await rawDisconnect(s);
  }
});

test('an agent\'s own subscription: only their channels, and a disabled agent\'s session ends', async () => {
  const s = await rawSession('agent4', { cc, channels: [MYCH] });
  await rawConnect(s, { timeout: 0 });
  await setChannel('agent3', { operationName: 'Ready' });
  const mine = await setChannel('agent4', { operationName: 'Ready' });
  let got = [];
  await eventually(async () => {
    got = got.concat((await rawConnect(s, { timeout: 0 })).events);
    return got.length > 0;
  });
  assert.deepEqual(got.map((e) => e.data.referenceId), [mine.referenceId]);
  // subscribing /v2/agents as an agent is refused, the rest of the session unchanged
  const sub = await bayeux('agent4', [{ channel: '/meta/subscribe', clientId: s.clientId, subscription: AGENTS, id: 's1' }],
    { cc, cookie: s.cookie });
  assert.equal(sub.json[0].successful, false);
  assert.match(sub.json[0].error, /^403:/);
  await rawDisconnect(s);
});
