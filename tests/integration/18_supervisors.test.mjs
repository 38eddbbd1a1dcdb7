// Supervisors act (CONTRACT 8.2): GET /agents with its filters, forcing an agent's channel
// state (POST /agents/{userName}/channels/{media}), and moving any active interaction
// (POST /interactions/{id}: Transfer, PlaceInQueue, PlaceInWorkbin) with the supervisor
// recorded as actor.  Refusals change nothing.
import { test, before, beforeEach, afterEach, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';
import { create, channel, opOk, row, invitedTo, ownedBy, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't48';
const other = 't49';
let ccId;
before(async () => {
  ccId = await freshContactCenter(cc);
  await freshContactCenter(other);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  await db.query(`SELECT interactions.create_user($1, 'outsider', 'password', ARRAY['agent'])`, [other]);
});
beforeEach(async () => { await freshContactCenter(cc); });
afterEach(async () => { await assertInvariants(ccId, true); });

const agents = (who, query = '') => api(who, 'GET', `/agents${query}`, { cc });
const force = (who, agent, body, media = 'email') => api(who, 'POST', `/agents/${agent}/channels/${media}`, { cc, body });
const move = (who, id, body) => api(who, 'POST', `/interactions/${id}`, { cc, body });
const stateOf = (agent, media = 'email') => db.one(`SELECT ch.state, ch.reason, ch.wrap_up_until, ch.dnd_state
    FROM interactions.agent_channels ch JOIN interactions.users u ON u.cc_id = ch.cc_id AND u.id = ch.user_id
   WHERE ch.cc_id = $1 AND u.login = $2 AND ch.media = $3`, [ccId, agent, media]);
const lastChange = (agent) => db.one(`SELECT from_state, to_state, reason, cause, actor, reference_id
    FROM interactions.agent_state_history WHERE contact_center = $1 AND agent = $2 ORDER BY seq DESC LIMIT 1`, [cc, agent]);
const countRows = () => db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [ccId]);

test('GET /agents: every enabled agent with channels and userState; filters media, state, queue; paging', async () => {
  await channel(cc, 'agent1', 'Ready');
  await ok('agent2', 'POST', '/me/channels/email', { cc, body: { operationName: 'NotReady', reason: 'Lunch' } });
  await channel(cc, 'agent3', 'Ready', 'chat');
  // a disabled agent is not listed
  await db.query(`SELECT interactions.disable_user($1, 'agent4')`, [cc]);
  after(() => db.query(`UPDATE interactions.users SET disabled = false WHERE cc_id = $1 AND login = 'agent4'`, [ccId]));
  let r = await ok('supervisor', 'GET', '/agents', { cc });
  assert.deepEqual(r.agents.map((a) => a.userName), ['agent1', 'agent2', 'agent3']);
  assert.equal(r.totalCount, 3);
  const a1 = r.agents[0];
  assert.match(a1.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(a1.channels.map((c) => [c.channel, c.userState.state, c.userState.displayName]), [['email', 'Ready', 'Ready']]);
  assert.ok(Date.parse(a1.channels[0].userState.since) > 0);
  assert.deepEqual(r.agents[1].channels[0].userState.reason, 'Lunch');
  assert.equal(r.agents[1].channels[0].userState.displayName, 'Out to lunch');
  // state=: agents with such a channel, only those channels
  r = await ok('admin', 'GET', '/agents?state=Ready', { cc });
  assert.deepEqual(r.agents.map((a) => [a.userName, a.channels.map((c) => c.channel)]), [['agent1', ['email']], ['agent3', ['chat']]]);
  r = await ok('supervisor', 'GET', '/agents?state=Ready&media=email', { cc });
  assert.deepEqual(r.agents.map((a) => a.userName), ['agent1']);
  r = await ok('supervisor', 'GET', '/agents?media=chat', { cc });
  assert.deepEqual(r.agents.map((a) => [a.userName, a.channels.map((c) => c.userState.state)]), [['agent3', ['Ready']]]);
  // queue=: its members
  r = await ok('supervisor', 'GET', '/agents?queue=support', { cc });
  assert.deepEqual(r.agents.map((a) => a.userName), ['agent1', 'agent2']);
  r = await ok('supervisor', 'GET', '/agents?queue=support&state=NotReady', { cc });
  assert.deepEqual(r.agents.map((a) => a.userName), ['agent2']);
  assert.deepEqual((await ok('supervisor', 'GET', '/agents?queue=nowhere', { cc })).agents, []);
  // paging
  r = await ok('supervisor', 'GET', '/agents?limit=1&offset=1', { cc });
  assert.deepEqual([r.agents.map((a) => a.userName), r.totalCount], [['agent2'], 3]);
  // bad filters: statusCode 10
  for (const q of ['?state=Busy', '?media=e%20mail', '?limit=0', '?queue=', '?stat=Ready']) {
    await fails('supervisor', 'GET', `/agents${q}`, 400, 10, { cc });
  }
  // agents and integrations may not list agents
  for (const who of ['agent1', 'feeder']) await fails(who, 'GET', '/agents', 403, 5, { cc });
  await fails('supervisor', 'POST', '/agents', 405, 3, { cc, body: {} });
});

test('forcing NotReady with a reason, Ready and AfterCallWork; recorded with the supervisor as actor', async () => {
  await channel(cc, 'agent1', 'Ready');
  let r = await force('supervisor', 'agent1', { operationName: 'NotReady', reason: 'Lunch' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.equal(typeof r.json.referenceId, 'number');
  assert.equal(r.json.agent.userName, 'agent1');
  assert.deepEqual([r.json.agent.channels[0].userState.state, r.json.agent.channels[0].userState.reason], ['NotReady', 'Lunch']);
  let h = await lastChange('agent1');
  assert.deepEqual([h.from_state, h.to_state, h.reason, h.cause, h.actor], ['Ready', 'NotReady', 'Lunch', 'Supervisor', 'supervisor']);
  assert.equal(Number(h.reference_id), r.json.referenceId);
  // the agent sees it
  const me = await ok('agent1', 'GET', '/me', { cc });
  assert.equal(me.user.channels[0].userState.reason, 'Lunch');
  // nothing is offered while NotReady; forced Ready offers at once
  const id = await create(cc);
  assert.equal((await row(ccId, id)).state, 'Queued');
  r = await force('admin', 'agent1', { operationName: 'Ready' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.deepEqual([(await row(ccId, id)).state, (await row(ccId, id)).invitee], ['Invited', 'agent1']);
  assert.deepEqual([(await lastChange('agent1')).cause, (await lastChange('agent1')).actor], ['Supervisor', 'admin']);
  r = await force('supervisor', 'agent1', { operationName: 'AfterCallWork' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.deepEqual(await stateOf('agent1'), { state: 'AfterCallWork', reason: null, wrap_up_until: null, dnd_state: null });
});

test('a forced state ends a timed wrap-up and Do Not Disturb on that channel', async () => {
  await db.query(`SELECT interactions.set_queue_policy($1, 'support', '{"wrap_up": 600}')`, [cc]);
  const id = await ownedBy(cc, ccId, 'agent1');
  await channel(cc, 'agent1', 'Ready');
  await opOk(cc, 'agent1', id, 'Complete');
  let s = await stateOf('agent1');
  assert.equal(s.state, 'AfterCallWork');
  assert.ok(s.wrap_up_until !== null);
  assert.equal((await force('supervisor', 'agent1', { operationName: 'NotReady' })).json.statusCode, 0);
  s = await stateOf('agent1');
  assert.deepEqual(s, { state: 'NotReady', reason: null, wrap_up_until: null, dnd_state: null });
  // Do Not Disturb
  await ok('agent1', 'POST', '/me', { cc, body: { operationName: 'DoNotDisturbOn' } });
  assert.equal((await stateOf('agent1')).state, 'DoNotDisturb');
  assert.equal((await force('supervisor', 'agent1', { operationName: 'Ready' })).json.statusCode, 0);
  assert.deepEqual(await stateOf('agent1'), { state: 'Ready', reason: null, wrap_up_until: null, dnd_state: null });
});

test('forcing: refusals (unknown agent, another contact center, logged out, bad body) change nothing', async () => {
  await channel(cc, 'agent1', 'Ready');
  await ok('agent2', 'POST', '/me', { cc, body: { operationName: 'EndContactCenterSession' } });
  const n = await countRows();
  await fails('supervisor', 'POST', '/agents/nobody/channels/email', 404, 6, { cc, body: { operationName: 'NotReady' } });
  await fails('supervisor', 'POST', '/agents/outsider/channels/email', 404, 6, { cc, body: { operationName: 'NotReady' } });
  await fails('supervisor', 'POST', '/agents/supervisor/channels/email', 404, 6, { cc, body: { operationName: 'NotReady' } });
  // logging in is the agent's own act; a channel never used is not logged in either
  await fails('supervisor', 'POST', '/agents/agent2/channels/email', 409, 2, { cc, body: { operationName: 'Ready' } });
  await fails('supervisor', 'POST', '/agents/agent1/channels/chat', 409, 2, { cc, body: { operationName: 'Ready' } });
  await fails('supervisor', 'POST', '/agents/agent1/channels/email', 400, 10, { cc, body: { operationName: 'NotReady', reason: 'Nap' } });
  await fails('supervisor', 'POST', '/agents/agent1/channels/email', 400, 10, { cc, body: { operationName: 'NotReady', reason: 'MissedOffers' } });
  await fails('supervisor', 'POST', '/agents/agent1/channels/email', 400, 10, { cc, body: { operationName: 'LoggedOut' } });
  await fails('supervisor', 'POST', '/agents/agent1/channels/email', 400, 10, { cc, body: { operationName: 'Ready', extra: 1 } });
  await fails('supervisor', 'POST', '/agents/agent1/channels/e%20mail', 400, 10, { cc, body: { operationName: 'Ready' } });
  await fails('agent2', 'POST', '/agents/agent1/channels/email', 403, 5, { cc, body: { operationName: 'NotReady' } });
  await fails('feeder', 'POST', '/agents/agent1/channels/email', 403, 5, { cc, body: { operationName: 'NotReady' } });
  await fails('supervisor', 'GET', '/agents/agent1/channels/email', 405, 3, { cc });
  assert.equal(await countRows(), n);
  assert.equal((await stateOf('agent1')).state, 'Ready');
  assert.equal((await stateOf('agent2')).state, 'LoggedOut');
});

test('moving a Processing interaction: PlaceInQueue, the owner told and their work ended, supervisor as actor', async () => {
  await db.query(`SELECT interactions.set_queue_policy($1, 'support', '{"wrap_up": 600}')`, [cc]);
  const id = await ownedBy(cc, ccId, 'agent1');
  await channel(cc, 'agent1', 'Ready');
  const r = await move('supervisor', id, { operationName: 'PlaceInQueue', queueName: 'sales' });
  assert.equal(r.json.statusCode, 0, r.text);
  assert.equal(typeof r.json.referenceId, 'number');
  assert.equal(r.json.interaction.queue, 'sales');
  const x = await row(ccId, id);
  assert.deepEqual([x.state, x.queue, x.owner], ['Queued', 'sales', null]);
  const h = await db.one(`SELECT operation, actor_login, reference_id, from_state, to_state, audience, revoked
      FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq DESC LIMIT 1`, [ccId, id]);
  assert.deepEqual([h.operation, h.actor_login, Number(h.reference_id), h.from_state, h.to_state],
    ['PlaceInQueue', 'supervisor', r.json.referenceId, 'Processing', 'Queued']);
  const a1 = await db.value(`SELECT id FROM interactions.users WHERE cc_id = $1 AND login = 'agent1'`, [ccId]);
  assert.ok(h.audience.includes(a1), 'the owner is told');
  // the owner's work ended: the queue's wrap-up
  assert.equal((await stateOf('agent1')).state, 'AfterCallWork');
  assert.deepEqual([(await lastChange('agent1')).cause, (await lastChange('agent1')).actor], ['WrapUp', 'supervisor']);
});

test('moving: Transfer to an agent or a queue, PlaceInWorkbin; an offer withdrawn is Revoked', async () => {
  // an Invited interaction transferred to another agent: the first invitee is revoked
  const inv = await invitedTo(cc, ccId, 'agent1');
  let r = await move('supervisor', inv, { operationName: 'Transfer', userId: 'agent3' });
  assert.equal(r.json.statusCode, 0, r.text);
  let x = await row(ccId, inv);
  assert.deepEqual([x.state, x.invitee], ['Invited', 'agent3']);
  let h = await db.one(`SELECT h.revoked, h.actor_login FROM interactions.history h
      WHERE h.cc_id = $1 AND h.interaction_id = $2 ORDER BY seq DESC LIMIT 1`, [ccId, inv]);
  const a1 = await db.value(`SELECT id FROM interactions.users WHERE cc_id = $1 AND login = 'agent1'`, [ccId]);
  assert.deepEqual([h.revoked, h.actor_login], [[a1], 'supervisor']);
  // agent3 may accept it
  await opOk(cc, 'agent3', inv, 'Accept');
  // Processing -> another queue by Transfer
  r = await move('admin', inv, { operationName: 'Transfer', queueName: 'support' });
  assert.equal(r.json.statusCode, 0, r.text);
  x = await row(ccId, inv);
  assert.deepEqual([x.state, x.queue, x.owner], ['Queued', 'support', null]);
  // Queued -> shared workbin; then out of it to an agent
  r = await move('supervisor', inv, { operationName: 'PlaceInWorkbin', workbin: 'team' });
  assert.equal(r.json.statusCode, 0, r.text);
  x = await row(ccId, inv);
  assert.deepEqual([x.state, x.workbin], ['InWorkbin', 'team']);
  r = await move('supervisor', inv, { operationName: 'Transfer', userId: 'agent2' });
  assert.equal(r.json.statusCode, 0, r.text);
  x = await row(ccId, inv);
  assert.deepEqual([x.state, x.invitee, x.workbin], ['Invited', 'agent2', null]);
  h = await db.one(`SELECT operation, actor_login FROM interactions.history
      WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq DESC LIMIT 1`, [ccId, inv]);
  assert.deepEqual([h.operation, h.actor_login], ['Transfer', 'supervisor']);
});

test('moving: refusals change nothing (roles, states, targets, agent-only operations, other contact centers)', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const draft = (await opOk(cc, 'agent1', id, 'Reply')).interaction.id;
  const foreign = await create(other);
  const n = await countRows();
  const before = await row(ccId, id);
  await fails('agent1', 'POST', `/interactions/${id}`, 403, 5, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
  await fails('feeder', 'POST', `/interactions/${id}`, 403, 5, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'Complete' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'Accept' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'PlaceInQueue', queueName: 'nowhere' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 1, { cc, body: { operationName: 'PlaceInQueue' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'PlaceInWorkbin', workbin: 'drafts' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'Transfer', userId: 'agent1' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'Transfer', userId: 'admin' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'Transfer', userId: 'outsider' } });
  await fails('supervisor', 'POST', `/interactions/${id}`, 400, 10, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales', x: 1 } });
  // a draft is its author's
  await fails('supervisor', 'POST', `/interactions/${draft}`, 409, 2, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
  // another contact center's interaction: exactly as an unknown id
  const a = await api('supervisor', 'POST', `/interactions/${foreign}`, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
  const b = await api('supervisor', 'POST', '/interactions/00000000-0000-4000-8000-000000000000', { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
  assert.deepEqual([a.status, a.json.statusCode, a.json.statusMessage], [b.status, b.json.statusCode, b.json.statusMessage]);
  assert.deepEqual([a.status, a.json.statusCode], [404, 6]);
  assert.equal(await countRows(), n);
  assert.deepEqual(await row(ccId, id), before);
  // a full queue (max_size) is full for supervisors too
  await db.query(`SELECT interactions.set_queue_policy($1, 'sales', '{"max_size": 1}')`, [cc]);
  try {
    await create(cc, { queueName: 'sales' });
    const before2 = await countRows();
    await fails('supervisor', 'POST', `/interactions/${id}`, 409, 2, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
    assert.equal(await countRows(), before2);
    assert.equal((await row(ccId, id)).state, 'Processing');
  } finally {
    await db.query(`SELECT interactions.set_queue_policy($1, 'sales', '{"max_size": null}')`, [cc]);
  }
  // a finished one
  await opOk(cc, 'agent1', id, 'Complete');
  await fails('supervisor', 'POST', `/interactions/${id}`, 409, 2, { cc, body: { operationName: 'PlaceInQueue', queueName: 'sales' } });
});
