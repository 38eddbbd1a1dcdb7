// Every agent operation of CONTRACT section 5 through HTTP against the real database: the
// success path, the state after it, the history row, and each failure case of the issue.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, freshContactCenter, watchErrorLog, userId } from '../lib/harness.mjs';
import { create, channel, op, opOk, row, invitedTo, ownedBy, assertInvariants, allNotReady } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't2';
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
// every test starts from an empty contact center: nothing queued, every agent NotReady;
// capacities are raised so that one agent can hold several interactions (routing tests
// exercise the capacity itself)
beforeEach(async () => {
  await freshContactCenter(cc);
  for (const a of ['agent1', 'agent2', 'agent3', 'agent4']) {
    for (const m of ['email', 'chat']) {
      await db.query(`SELECT interactions.set_agent_capacity($1, $2, $3, 100)`, [cc, a, m]);
    }
  }
});

const lastHistory = (id) => db.one(`SELECT operation, from_state, to_state, actor_login, reference_id,
    from_queue, to_queue, from_workbin, to_workbin, user_data_change FROM interactions.history
    WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq DESC LIMIT 1`, [ccId, id]);

test('Accept: Invited to me -> Processing, mine; success answers referenceId and the interaction', async () => {
  const id = await invitedTo(cc, ccId, 'agent1');
  const r = await opOk(cc, 'agent1', id, 'Accept');
  assert.equal(r.status, 'ok');
  assert.equal(typeof r.referenceId, 'number');
  assert.equal(r.interaction.id, id);
  assert.equal(r.interaction.state, 'Processing');
  assert.equal(r.interaction.assignedTo, 'agent1');
  assert.deepEqual(r.interaction.capabilities, ['Complete', 'PlaceInQueue', 'PlaceInWorkbin', 'Transfer',
    'AttachUserData', 'UpdateUserData', 'DeleteUserData', 'Reply', 'ReplyAll']);
  assert.deepEqual(await row(ccId, id), { state: 'Processing', queue_id: (await row(ccId, id)).queue_id,
    queue: 'support', workbin: null, owner: 'agent1', invitee: null, parent_id: null });
  const h = await lastHistory(id);
  assert.equal(h.operation, 'Accept');
  assert.equal(h.from_state, 'Invited');
  assert.equal(h.to_state, 'Processing');
  assert.equal(h.actor_login, 'agent1');
  assert.equal(h.reference_id, String(r.referenceId));
  // the agent now sees it in /me/interactions
  const mine = await ok('agent1', 'GET', '/me/interactions?fields=*', { cc });
  assert.ok(mine.interactions.some((i) => i.id === id && i.state === 'Processing'));
});

test('Reject: Invited -> Queued, offered to another member, not back to me', async () => {
  const id = await invitedTo(cc, ccId, 'agent1');
  await channel(cc, 'agent2', 'Ready');
  const r = await opOk(cc, 'agent1', id, 'Reject');
  // routing gave it to agent2 in the same transaction
  assert.equal(r.interaction.state, 'Invited');
  assert.equal((await row(ccId, id)).invitee, 'agent2');
  assert.deepEqual(r.interaction.capabilities, []);
  const ops = await db.query(`SELECT operation, to_state FROM interactions.history WHERE cc_id = $1
                              AND interaction_id = $2 ORDER BY seq`, [ccId, id]);
  assert.deepEqual(ops.map((o) => `${o.operation}:${o.to_state}`),
    ['Create:Queued', 'Route:Invited', 'Reject:Queued', 'Route:Invited']);
});

test('Reject with nobody else free: stays Queued and is not offered straight back', async () => {
  const id = await invitedTo(cc, ccId, 'agent1');
  await channel(cc, 'agent1', 'Ready');
  await opOk(cc, 'agent1', id, 'Reject');
  assert.equal((await row(ccId, id)).state, 'Queued');
  await channel(cc, 'agent1', 'NotReady');
});

test('Complete: Processing -> Completed, and with queueName -> Queued there', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const r = await opOk(cc, 'agent1', id, 'Complete');
  assert.equal(r.interaction.state, 'Completed');
  assert.deepEqual(r.interaction.capabilities, []);
  assert.equal((await row(ccId, id)).owner, null);
  await fails('agent1', 'POST', `/me/interactions/${id}`, 409, 2, { cc, body: { operationName: 'Complete' } });

  const id2 = await ownedBy(cc, ccId, 'agent1');
  const r2 = await opOk(cc, 'agent1', id2, 'Complete', { queueName: 'sales' });
  assert.equal(r2.interaction.state, 'Queued');
  assert.equal(r2.interaction.queue, 'sales');
  const bad = await ownedBy(cc, ccId, 'agent1');
  await fails('agent1', 'POST', `/me/interactions/${bad}`, 400, 10, { cc, body: { operationName: 'Complete', queueName: 'nosuch' } });
  assert.equal((await row(ccId, bad)).state, 'Processing');
});

test('PlaceInQueue: queueName required and must exist', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 1, { cc, body: { operationName: 'PlaceInQueue' } });
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'PlaceInQueue', queueName: 'x' } });
  const r = await opOk(cc, 'agent1', id, 'PlaceInQueue', { queueName: 'sales' });
  assert.equal(r.interaction.state, 'Queued');
  const h = await lastHistory(id);
  assert.deepEqual([h.operation, h.from_queue, h.to_queue], ['PlaceInQueue', 'support', 'sales']);
});

test('PlaceInWorkbin and Pull: personal and shared workbins', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 1, { cc, body: { operationName: 'PlaceInWorkbin' } });
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'PlaceInWorkbin', workbin: 'nosuch' } });
  const r = await opOk(cc, 'agent1', id, 'PlaceInWorkbin', { workbin: 'drafts' });
  assert.equal(r.interaction.state, 'InWorkbin');
  assert.equal(r.interaction.workbin, 'drafts');
  assert.deepEqual(r.interaction.capabilities, ['Pull']);
  // agent2's "drafts" is a different workbin; agent1's is not theirs
  await fails('agent2', 'POST', `/me/interactions/${id}`, 403, 5, { cc, body: { operationName: 'Pull' } });
  const wb = await ok('agent1', 'GET', '/me/workbins/drafts', { cc });
  assert.equal(wb.workbin.type, 'personal');
  assert.deepEqual(wb.workbin.interactions.map((i) => i.id), [id]);
  const other = await ok('agent2', 'GET', '/me/workbins/drafts', { cc });
  assert.deepEqual(other.workbin.interactions, []);
  const pulled = await opOk(cc, 'agent1', id, 'Pull');
  assert.equal(pulled.interaction.state, 'Processing');
  assert.equal(pulled.interaction.assignedTo, 'agent1');

  // shared: any agent may pull
  await opOk(cc, 'agent1', id, 'PlaceInWorkbin', { workbin: 'team' });
  const list = await ok('agent2', 'GET', '/me/workbins', { cc });
  assert.deepEqual(list.workbins.map((w) => [w.name, w.type]), [['drafts', 'personal'], ['team', 'shared']]);
  assert.equal(list.workbins.find((w) => w.name === 'team').count, 1);
  const p2 = await opOk(cc, 'agent2', id, 'Pull');
  assert.equal(p2.interaction.assignedTo, 'agent2');
  await fails('agent1', 'GET', '/me/workbins/nosuch', 404, 6, { cc });
  await fails('supervisor', 'GET', '/me/workbins', 403, 5, { cc });
});

test('GetWorkbinContent on an interaction and on /me/interactions', async () => {
  const id = await ownedBy(cc, ccId, 'agent3', { queueName: 'sales' });
  await opOk(cc, 'agent3', id, 'PlaceInWorkbin', { workbin: 'drafts' });
  const r = await ok('agent3', 'POST', '/me/interactions', { cc, body: { operationName: 'GetWorkbinContent', workbin: 'drafts' } });
  assert.equal(typeof r.referenceId, 'number');
  assert.equal(r.workbin.name, 'drafts');
  assert.equal(r.workbin.type, 'personal');
  assert.deepEqual(r.workbin.interactions.map((i) => [i.id, i.state]), [[id, 'InWorkbin']]);
  assert.deepEqual(r.workbin.interactions[0].capabilities, ['Pull']);
  await fails('agent3', 'POST', '/me/interactions', 400, 1, { cc, body: { operationName: 'GetWorkbinContent' } });
  await fails('agent3', 'POST', '/me/interactions', 400, 10, { cc, body: { operationName: 'GetWorkbinContent', workbin: 'none' } });
  await fails('agent3', 'POST', '/me/interactions', 400, 1, { cc, body: { operationName: 'Accept' } });
  const hist = await db.one(`SELECT notification, audience FROM interactions.history WHERE cc_id = $1
                             AND reference_id = $2`, [ccId, r.referenceId]);
  assert.equal(hist.notification, 'WorkbinContent');
  assert.deepEqual(hist.audience, [await userId(cc, 'agent3')]);
});

test('Transfer to a user (id or userName or uri) and to a queue', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const r = await opOk(cc, 'agent1', id, 'Transfer', { userId: 'agent2' });
  assert.equal(r.interaction.state, 'Invited');
  assert.equal(r.interaction.assignedTo, 'agent2');
  assert.deepEqual(r.interaction.capabilities, []);
  const acc = await opOk(cc, 'agent2', id, 'Accept');
  assert.equal(acc.interaction.assignedTo, 'agent2');
  const a1 = await userId(cc, 'agent1');
  await opOk(cc, 'agent2', id, 'Transfer', { userUri: `http://x/${cc}/api/v2/users/${a1}` });
  await opOk(cc, 'agent1', id, 'Accept');
  await opOk(cc, 'agent1', id, 'Transfer', { targetUri: 'agent3' });
  // a refused transfer goes back to the interaction's queue
  const rej = await opOk(cc, 'agent3', id, 'Reject');
  assert.equal(rej.interaction.state, 'Queued');
  assert.equal(rej.interaction.queue, 'support');

  const id2 = await ownedBy(cc, ccId, 'agent1');
  const q = await opOk(cc, 'agent1', id2, 'Transfer', { queueName: 'sales' });
  assert.equal(q.interaction.state, 'Queued');
  assert.equal(q.interaction.queue, 'sales');
  const id3 = await ownedBy(cc, ccId, 'agent1');
  await fails('agent1', 'POST', `/me/interactions/${id3}`, 400, 1, { cc, body: { operationName: 'Transfer' } });
  await fails('agent1', 'POST', `/me/interactions/${id3}`, 400, 10, { cc, body: { operationName: 'Transfer', userId: 'nobody' } });
  await fails('agent1', 'POST', `/me/interactions/${id3}`, 400, 10, { cc, body: { operationName: 'Transfer', userId: 'supervisor' } });
  await fails('agent1', 'POST', `/me/interactions/${id3}`, 400, 10, { cc, body: { operationName: 'Transfer', userId: 'agent1' } });
  await fails('agent1', 'POST', `/me/interactions/${id3}`, 400, 10, { cc, body: { operationName: 'Transfer', queueName: 'nope' } });
  assert.equal((await row(ccId, id3)).state, 'Processing');
});

test('user data: Attach, Update, Delete (keys and userData forms), limits', async () => {
  const id = await ownedBy(cc, ccId, 'agent1', { userData: { a: 1 } });
  const r = await opOk(cc, 'agent1', id, 'AttachUserData', { userData: { b: { deep: [1, { x: 'y' }] }, c: 'z' } });
  assert.deepEqual(r.interaction.userData, { a: 1, b: { deep: [1, { x: 'y' }] }, c: 'z' });
  const dup = await fails('agent1', 'POST', `/me/interactions/${id}`, 409, 18, { cc, body: { operationName: 'AttachUserData', userData: { new: 1, a: 2 } } });
  assert.match(dup.json.statusMessage, /a/);
  // the whole call failed: "new" was not added
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.user_data WHERE cc_id = $1 AND interaction_id = $2 AND key = 'new'`, [ccId, id]), 0);
  const u = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { a: 2, d: null } });
  assert.deepEqual(u.interaction.userData, { a: 2, b: { deep: [1, { x: 'y' }] }, c: 'z', d: null });
  const d1 = await opOk(cc, 'agent1', id, 'DeleteUserData', { keys: ['b', 'missing'] });
  assert.deepEqual(Object.keys(d1.interaction.userData).sort(), ['a', 'c', 'd']);
  const d2 = await opOk(cc, 'agent1', id, 'DeleteUserData', { userData: { c: 'anything', d: 0 } });
  assert.deepEqual(d2.interaction.userData, { a: 2 });
  const h = await lastHistory(id);
  assert.deepEqual(h.user_data_change, { deleted: ['c', 'd'] });
  // DBAs find interactions by key
  assert.equal(await db.value(`SELECT value FROM interactions.user_data WHERE cc_id = $1 AND interaction_id = $2 AND key = 'a'`, [ccId, id]), 2);
  // limits: 32 KiB serialized per interaction, keys of 1..255 characters; nothing changes on failure
  const before = await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [ccId]);
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'UpdateUserData', userData: { big: 'x'.repeat(20000), big2: 'y'.repeat(15000) } } });
  for (let i = 0; i < 2; i++) await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { [`part${i}`]: 'x'.repeat(15000) } });
  const over = await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'UpdateUserData', userData: { part2: 'x'.repeat(5000) } } });
  assert.match(over.json.statusMessage, /exceed/);
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.user_data WHERE cc_id = $1 AND interaction_id = $2 AND key = 'part2'`, [ccId, id]), 0);
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'UpdateUserData', userData: { ['k'.repeat(256)]: 1 } } });
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'UpdateUserData', userData: { '': 1 } } });
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 1, { cc, body: { operationName: 'UpdateUserData' } });
  await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10, { cc, body: { operationName: 'UpdateUserData', userData: 'a=1' } });
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [ccId]), before + 2);
});

test('Reply, ReplyAll, Cancel, Send', async () => {
  const id = await ownedBy(cc, ccId, 'agent1', { subject: 'Where is my order?', from: 'c@example.com',
    to: ['support@example.com', 'sales@example.com'] });
  await db.query(`UPDATE interactions.interactions SET cc_addresses = '{boss@example.com}' WHERE cc_id = $1 AND id = $2`, [ccId, id]);
  const reply = await opOk(cc, 'agent1', id, 'Reply');
  const draft = reply.interaction;
  assert.notEqual(draft.id, id);
  assert.equal(draft.state, 'Composing');
  assert.equal(draft.parentId, id);
  assert.equal(draft.subject, 'Re: Where is my order?');
  assert.deepEqual(draft.to, ['c@example.com']);
  assert.equal(draft.from, 'support@example.com');
  assert.deepEqual(draft.capabilities, ['AttachUserData', 'UpdateUserData', 'DeleteUserData', 'Cancel', 'Send']);
  assert.equal((await row(ccId, id)).state, 'Processing');
  const all = await opOk(cc, 'agent1', id, 'ReplyAll');
  const full = await ok('agent1', 'GET', `/interactions/${all.interaction.id}`, { cc });
  assert.deepEqual(full.interaction.cc, ['sales@example.com', 'boss@example.com']);
  const cancelled = await opOk(cc, 'agent1', all.interaction.id, 'Cancel');
  assert.equal(cancelled.interaction.state, 'Canceled');
  // edit the draft (PUT) and send it
  const put = await ok('agent1', 'PUT', `/interactions/${draft.id}`, { cc, body: { body: 'It ships today.', subject: 'Re: order 42' } });
  assert.equal(put.interaction.body, 'It ships today.');
  const sent = await opOk(cc, 'agent1', draft.id, 'Send');
  assert.equal(sent.interaction.state, 'Sent');
  // the gateway (apiuser) finds it
  const outbound = await ok('feeder', 'GET', '/interactions?state=Sent&fields=*', { cc });
  assert.ok(outbound.interactions.some((i) => i.id === draft.id));
  const gw = await ok('feeder', 'GET', `/interactions/${draft.id}`, { cc });
  assert.equal(gw.interaction.body, 'It ships today.');
  // chat cannot be replied to
  await channel(cc, 'agent1', 'Ready', 'chat');
  const chat = await create(cc, { mediaType: 'chat' });
  await opOk(cc, 'agent1', chat, 'Accept');
  await fails('agent1', 'POST', `/me/interactions/${chat}`, 409, 2, { cc, body: { operationName: 'Reply' } });
  await channel(cc, 'agent1', 'NotReady', 'chat');
  // a draft without recipients cannot be sent
  const r2 = await opOk(cc, 'agent1', id, 'Reply');
  await ok('agent1', 'PUT', `/interactions/${r2.interaction.id}`, { cc, body: { to: [] } });
  await fails('agent1', 'POST', `/me/interactions/${r2.interaction.id}`, 400, 10, { cc, body: { operationName: 'Send' } });
});

test('PUT /interactions/{id}: writable and read-only properties, owner or admin', async () => {
  const id = await ownedBy(cc, ccId, 'agent1', { userData: { a: 1, b: 2 } });
  const r = await ok('agent1', 'PUT', `/interactions/${id}`, { cc, body: { userData: { c: 3 } } });
  assert.deepEqual(r.interaction.userData, { c: 3 });
  const h = await lastHistory(id);
  assert.deepEqual(h.user_data_change, { cleared: true, set: { c: 3 } });
  await fails('agent1', 'PUT', `/interactions/${id}`, 400, 11, { cc, body: { state: 'Completed' } });
  await fails('agent1', 'PUT', `/interactions/${id}`, 400, 11, { cc, body: { subject: 'not a draft' } });
  await fails('agent2', 'PUT', `/interactions/${id}`, 403, 5, { cc, body: { userData: {} } });
  await fails('supervisor', 'PUT', `/interactions/${id}`, 403, 5, { cc, body: { userData: {} } });
  await ok('admin', 'PUT', `/interactions/${id}`, { cc, body: { userData: { by: 'admin' } } });
  await fails('admin', 'PUT', '/interactions/00000000-0000-0000-0000-000000000000', 404, 6, { cc, body: { userData: {} } });
  await opOk(cc, 'agent1', id, 'Complete');
  await fails('admin', 'PUT', `/interactions/${id}`, 409, 2, { cc, body: { userData: {} } });
  await fails('agent1', 'PUT', `/interactions/${id}`, 415, 10, { cc, body: '{}', headers: { 'Content-Type': 'text/plain' } });
});

test('failure cases: wrong state 409/2, not mine 403/5, unknown or foreign 404/6, bad arguments', async () => {
  const queued = await create(cc);
  await fails('agent1', 'POST', `/me/interactions/${queued}`, 409, 2, { cc, body: { operationName: 'Accept' } });
  await fails('agent1', 'POST', `/me/interactions/${queued}`, 409, 2, { cc, body: { operationName: 'Complete' } });
  const mine = await ownedBy(cc, ccId, 'agent1');
  await fails('agent2', 'POST', `/me/interactions/${mine}`, 403, 5, { cc, body: { operationName: 'Complete' } });
  await fails('agent2', 'POST', `/me/interactions/${mine}`, 403, 5, { cc, body: { operationName: 'UpdateUserData', userData: { x: 1 } } });
  await fails('agent1', 'POST', `/me/interactions/${mine}`, 409, 2, { cc, body: { operationName: 'Accept' } });
  await fails('supervisor', 'POST', `/me/interactions/${mine}`, 403, 5, { cc, body: { operationName: 'Complete' } });
  await fails('agent1', 'POST', '/me/interactions/00000000-0000-0000-0000-000000000000', 404, 6, { cc, body: { operationName: 'Complete' } });
  await fails('agent1', 'POST', '/me/interactions/garbage', 404, 6, { cc, body: { operationName: 'Complete' } });
  await fails('agent1', 'POST', `/me/interactions/${mine}`, 400, 10, { cc, body: { operationName: 'Fly' } });
  await fails('agent1', 'POST', `/me/interactions/${mine}`, 400, 1, { cc, body: {} });
  await fails('agent1', 'POST', `/me/interactions/${mine}`, 400, 10, { cc, body: { operationName: 'Complete', extra: true } });
  await fails('agent1', 'POST', `/me/interactions/${mine}`, 400, 10, { cc, body: '{"operationName":' });
  // another contact center's interaction behaves exactly like an unknown one
  const acmeItem = await ok('feeder', 'POST', '/interactions', { cc: 'acme', body: { mediaType: 'email', queueName: 'support' } });
  await fails('agent1', 'POST', `/me/interactions/${acmeItem.id}`, 404, 6, { cc, body: { operationName: 'Accept' } });
  await fails('agent1', 'GET', `/interactions/${acmeItem.id}`, 404, 6, { cc });
  assert.equal((await row(ccId, mine)).state, 'Processing');
  await assertInvariants(ccId);
});

test('channels: Ready/NotReady per media, shown by /me; NotReady keeps current work', async () => {
  const r = await channel(cc, 'agent4', 'Ready', 'chat');
  assert.deepEqual(r.user.channels.map((c) => [c.channel, c.userState.state]),
    [['chat', 'Ready'], ['email', 'NotReady']]);
  await channel(cc, 'agent4', 'NotReady', 'chat');
  await fails('agent4', 'POST', '/me/channels/chat', 400, 10, { cc, body: { operationName: 'Busy' } });
  await fails('agent4', 'POST', '/me/channels/c%20h', 400, 10, { cc, body: { operationName: 'Ready' } });
  await fails('admin', 'POST', '/me/channels/email', 403, 5, { cc, body: { operationName: 'Ready' } });
  // recorded in the agent-state history (the history stream's ChannelState rows)
  const events = await db.query(`SELECT s.to_state AS event FROM interactions.agent_state_history s
      JOIN interactions.contact_centers c ON c.name = s.contact_center
      WHERE c.id = $1 AND s.agent = 'agent4' AND s.channel = 'chat' ORDER BY s.seq`, [ccId]);
  assert.deepEqual(events.map((e) => e.event), ['Ready', 'NotReady']);
  const id = await ownedBy(cc, ccId, 'agent1');
  assert.equal((await row(ccId, id)).owner, 'agent1');   // ownedBy left agent1 NotReady
  await opOk(cc, 'agent1', id, 'Complete');
});

afterEach(async () => { await assertInvariants(ccId); });

