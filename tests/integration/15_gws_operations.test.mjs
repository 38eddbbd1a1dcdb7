// GWS clients' operation bodies (CONTRACT 8.1): the seed's SingleStepTransfer, the fields GWS
// sends beside ours (docs/api.md "GWS clients": used or ignored, each from a source), queues
// by uri — of this location only — and that anything else is still refused and changes
// nothing.  Contact center t36; t35 is "another location" of the same server.
import { test, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, env, basePath, freshContactCenter, watchErrorLog, userId } from '../lib/harness.mjs';
import { op, opOk, row, ownedBy } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't36';
const other = 't35';
let ccId;

before(async () => {
  await freshContactCenter(other);
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_queue($1, 'post processing')`, [cc]);
});
// agents may hold several interactions at once (routing's capacity is not the subject)
beforeEach(async () => {
  await freshContactCenter(cc);
  for (const a of ['agent1', 'agent2']) {
    await db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', 100)`, [cc, a]);
  }
});

const lastHistory = (id) => db.one(`SELECT operation, from_state, to_state, from_queue, to_queue,
    user_data_change FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2
    ORDER BY seq DESC LIMIT 1`, [ccId, id]);

/** The API base as the server writes it: the start of an interaction's uri. */
async function serverBase(id) {
  const r = await ok('agent1', 'GET', `/interactions/${id}`, { cc });
  return r.interaction.uri.slice(0, r.interaction.uri.indexOf('/interactions/'));
}

/** A refusal that changed nothing: same row, no new history. */
async function refusedAndUnchanged(id, body, statusCode = 10, status = 400) {
  const before = await row(ccId, id);
  const hist = await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [ccId]);
  const r = await fails('agent1', 'POST', `/me/interactions/${id}`, status, statusCode, { cc, body });
  assert.deepEqual(await row(ccId, id), before, `${JSON.stringify(body)} changed the interaction`);
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [ccId]), hist);
  return r.json;
}

test('SingleStepTransfer is Transfer: to a user, to a queue; recorded and offered as Transfer', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const caps = (await ok('agent1', 'GET', `/interactions/${id}`, { cc })).interaction.capabilities;
  assert.ok(caps.includes('Transfer') && !caps.includes('SingleStepTransfer'), caps.join());
  const r = await opOk(cc, 'agent1', id, 'SingleStepTransfer', { userId: 'agent2' });
  assert.equal(r.interaction.state, 'Invited');
  assert.equal(r.interaction.assignedTo, 'agent2');
  assert.equal((await lastHistory(id)).operation, 'Transfer');
  await opOk(cc, 'agent2', id, 'Accept');
  const q = await opOk(cc, 'agent2', id, 'SingleStepTransfer', { queueName: 'sales' });
  assert.deepEqual([q.interaction.state, q.interaction.queue], ['Queued', 'sales']);
  // the name is matched exactly, like every operationName
  const x = await ownedBy(cc, ccId, 'agent1');
  await refusedAndUnchanged(x, { operationName: 'singleStepTransfer', userId: 'agent2' });
});

test('GWS fields of the list are accepted and ignored; their types are checked; others still refused', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  // wrong types of listed fields, and near misses of their names: 10, nothing changed
  for (const body of [
    { operationName: 'Complete', saveLAR: 'true' },
    { operationName: 'Complete', reason: 7 },
    { operationName: 'Complete', savelar: true },
    { operationName: 'Complete', saveLAR: true, color: 'red' },
    { operationName: 'UpdateUserData', userData: { a: 1 }, saveLAR: true },   // not a field of UpdateUserData
  ]) {
    const e = await refusedAndUnchanged(id, body);
    assert.match(e.statusMessage, /saveLAR|reason|savelar|color/);
  }
  const r = await opOk(cc, 'agent1', id, 'Complete', { saveLAR: true, reason: 'Resolved', disposition: 'Sale',
    dispositionKey: 'DispositionCode' });
  assert.equal(r.interaction.state, 'Completed');
  const h = await lastHistory(id);
  assert.deepEqual([h.operation, h.to_state, h.user_data_change], ['Complete', 'Completed', null]);
  // the others of the list, each on its operation
  const a = await ownedBy(cc, ccId, 'agent1');
  await opOk(cc, 'agent1', a, 'UpdateUserData', { userData: { k: 1 }, reason: 'x', disposition: 'y' });
  const w = await opOk(cc, 'agent1', a, 'PlaceInWorkbin', { workbin: 'team', saveLAR: false });
  assert.equal(w.interaction.state, 'InWorkbin');
  const p = await opOk(cc, 'agent1', a, 'Pull', { nickname: 'Ann' });
  assert.equal(p.interaction.state, 'Processing');
});

test('queueUri names a queue of this location: whole uri, base path, relative, percent-encoded', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const base = await serverBase(id);
  assert.ok(base.startsWith('http://') && base.endsWith(basePath(cc)), base);
  const moves = [
    ['PlaceInQueue', `${base}/queues/sales`, 'sales'],
    ['Complete', `${basePath(cc)}/queues/post%20processing`, 'post processing'],
    ['Transfer', '/queues/sales', 'sales'],
  ];
  for (const [operationName, queueUri, queue] of moves) {
    const x = await ownedBy(cc, ccId, 'agent1');
    const r = await opOk(cc, 'agent1', x, operationName, { queueUri });
    assert.deepEqual([r.interaction.state, r.interaction.queue], ['Queued', queue], `${operationName} ${queueUri}`);
    const h = await lastHistory(x);
    assert.deepEqual([h.operation, h.to_queue], [operationName, queue]);
  }
});

test("another location's queueUri is told exactly like an unknown queue, and changes nothing", async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const base = await serverBase(id);
  const unknown = await refusedAndUnchanged(id, { operationName: 'PlaceInQueue', queueName: 'nosuch' });
  // t35 is served by this very server and has a queue named sales
  const elsewhere = [
    base.replace(basePath(cc), basePath(other)) + '/queues/sales',
    `${basePath(other)}/queues/sales`,
    base.replace(/^http:\/\/[^/]+/, `http://other.example:${env.port}`) + '/queues/sales',   // another host
    `${base}/queues/nosuch`,
  ];
  for (const queueUri of elsewhere) {
    for (const operationName of ['PlaceInQueue', 'Complete', 'Transfer']) {
      const e = await refusedAndUnchanged(id, { operationName, queueUri });
      assert.deepEqual(e, unknown, `${operationName} ${queueUri}`);
    }
  }
  // not a queue uri at all, or both forms: 10 with its reason
  for (const body of [
    { operationName: 'PlaceInQueue', queueUri: `${base}/users/agent2` },
    { operationName: 'PlaceInQueue', queueUri: 'sales' },
    { operationName: 'PlaceInQueue', queueUri: '/queues/sales/x' },
    { operationName: 'PlaceInQueue', queueUri: '/queues/sales', queueName: 'sales' },
    { operationName: 'PlaceInQueue', queueUri: '' },
  ]) {
    const e = await refusedAndUnchanged(id, body);
    assert.notEqual(e.statusMessage, 'unknown queue', JSON.stringify(body));
  }
});

test('Transfer by targetPath: /users/{id or name} and /queues/{name}', async () => {
  const agent2 = await userId(cc, 'agent2');
  for (const target of ['agent2', agent2]) {
    const id = await ownedBy(cc, ccId, 'agent1');
    const r = await opOk(cc, 'agent1', id, 'Transfer', { targetPath: `/users/${target}` });
    assert.deepEqual([r.interaction.state, r.interaction.assignedTo], ['Invited', 'agent2']);
  }
  const id = await ownedBy(cc, ccId, 'agent1');
  const q = await opOk(cc, 'agent1', id, 'Transfer', { targetPath: '/queues/sales' });
  assert.deepEqual([q.interaction.state, q.interaction.queue], ['Queued', 'sales']);
  const x = await ownedBy(cc, ccId, 'agent1');
  for (const body of [
    { operationName: 'Transfer', targetPath: '/contacts/0008Va76MGEC000Q' },
    { operationName: 'Transfer', targetPath: '/users/agent2', userId: 'agent2' },
    { operationName: 'Transfer', targetPath: '/queues/sales', queueName: 'sales' },
    { operationName: 'Transfer', targetPath: '/users/nobody' },
    { operationName: 'Transfer', targetPath: '/queues/nosuch' },
  ]) {
    await refusedAndUnchanged(x, body);
  }
});

test("Reply with GWS's body: the draft's queue, body and user data are used, the quoting fields ignored", async () => {
  const id = await ownedBy(cc, ccId, 'agent1', { subject: 'Order 42', userData: { orderId: 42 } });
  const r = await opOk(cc, 'agent1', id, 'Reply', {
    queueName: 'sales', body: '<p>Hello</p>', userData: { template: 'greeting' }, mime: 'text/html',
    bodyAsPlainText: 'Hello', subjectPrefix: 'AW: ', replyToStartLine: 'On <date>, <sender> wrote:',
    quoteOriginal: true, indentCharacter: '>',
  });
  const draft = r.interaction;
  assert.deepEqual([draft.state, draft.parentId, draft.queue, draft.subject], ['Composing', id, 'sales', 'Re: Order 42']);
  assert.deepEqual(draft.userData, { template: 'greeting' });
  const full = await ok('agent1', 'GET', `/interactions/${draft.id}`, { cc });
  assert.equal(full.interaction.body, '<p>Hello</p>');
  // ReplyAll by queueUri; without them the draft takes the original's queue, as before
  const all = await opOk(cc, 'agent1', id, 'ReplyAll', { queueUri: '/queues/post%20processing' });
  assert.equal(all.interaction.queue, 'post processing');
  const plain = await opOk(cc, 'agent1', id, 'Reply');
  assert.deepEqual([plain.interaction.queue, plain.interaction.userData], ['support', {}]);
  // refusals create no draft
  const drafts = () => db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1
                                   AND parent_id = $2`, [ccId, id]);
  const n = await drafts();
  for (const body of [
    { operationName: 'Reply', queueName: 'nosuch' },
    { operationName: 'Reply', queueUri: `${basePath(other)}/queues/sales` },
    { operationName: 'Reply', quoteOriginal: 'yes' },
    { operationName: 'Reply', userData: { '': 1 } },
    { operationName: 'Reply', body: 5 },
    { operationName: 'Reply', attachments: [] },
  ]) {
    await refusedAndUnchanged(id, body);
  }
  assert.equal(await drafts(), n);
});

test('a GWS body posted to the wrong operation is still refused: the list is per operation', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  for (const body of [
    { operationName: 'Accept', saveLAR: true },
    { operationName: 'Complete', nickname: 'Ann' },
    { operationName: 'Send', body: 'x' },
    { operationName: 'PlaceInWorkbin', workbin: 'team', queueUri: '/queues/sales' },
  ]) {
    await refusedAndUnchanged(id, body);
  }
  const r = await op(cc, 'agent1', id, 'Complete', { queueUri: '/queues/sales' });
  assert.equal(r.json.statusCode, 0);
});
