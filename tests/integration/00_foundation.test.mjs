// The foundation: authentication, the read API, create, the envelope, and bad input that
// changes nothing.  Runs against the demo data and the test contact center t1.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';

// mod_auth_basic logs the refused logins of the 401 test
watchErrorLog([/AH01617: user agent1: authentication failure/, /AH01618: user (nobody|agent2) not found/]);
const cc = 't1';
const count = (sql, p) => db.value(`SELECT count(*)::int FROM ${sql}`, p);
let ccId;

before(async () => { ccId = await freshContactCenter(cc); });

test('GET /me describes the caller, roles and channels', async () => {
  const r = await ok('agent1', 'GET', '/me');
  assert.equal(r.status, 'ok');
  assert.equal(r.user.userName, 'agent1');
  assert.deepEqual(r.user.roles, ['agent']);
  assert.match(r.user.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual(r.user.channels.map((c) => [c.channel, c.userState.state]), [['email', 'NotReady']]);
  const admin = await ok('admin', 'GET', '/me');
  assert.deepEqual(admin.user.roles, ['admin']);
  assert.deepEqual(admin.user.channels, []);
});

test('missing credentials, a wrong password and an unknown user get 401 with statusCode 20', async () => {
  const none = await fails(null, 'GET', '/me', 401, 20);
  assert.match(none.headers.get('www-authenticate'), /^Basic realm="demo contact center"/);
  await fails('agent1', 'GET', '/me', 401, 20, { password: 'wrong' });
  await fails('nobody', 'GET', '/me', 401, 20);
  // a demo user who does not exist in acme
  await fails('agent2', 'GET', '/me', 401, 20, { cc: 'acme' });
});

test('feeder creates an interaction that admin sees with fields=*', async () => {
  const created = await ok('feeder', 'POST', '/interactions', {
    cc, body: { mediaType: 'email', queueName: 'support', subject: 'Order 42', from: 'c@example.com',
      to: ['support@example.com'], priority: 5, userData: { orderId: 42, nested: { a: [1, 2] } } },
  });
  assert.match(created.id, /^[0-9a-f-]{36}$/);
  assert.equal(created.uri, `http://127.0.0.1:${process.env.MI_PORT}/${cc}/api/v2/interactions/${created.id}`);
  assert.equal(typeof created.referenceId, 'number');

  const list = await ok('admin', 'GET', '/interactions?fields=*', { cc });
  const it = list.interactions.find((i) => i.id === created.id);
  assert.ok(it, 'admin sees the new interaction');
  assert.deepEqual(Object.keys(it), ['id', 'uri', 'mediaType', 'state', 'capabilities', 'queue', 'workbin',
    'assignedTo', 'parentId', 'userData', 'subject', 'from', 'to', 'receivedDate', 'updatedDate', 'priority']);
  assert.equal(it.state, 'Queued');
  assert.equal(it.queue, 'support');
  assert.deepEqual(it.capabilities, []);
  assert.deepEqual(it.userData, { orderId: 42, nested: { a: [1, 2] } });
  assert.deepEqual(it.to, ['support@example.com']);
  assert.match(it.receivedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

  // the database holds exactly that, user data one row per key, and a history row
  const row = await db.one(`SELECT state, media_type, priority, subject FROM interactions.interactions
                            WHERE cc_id = $1 AND id = $2`, [ccId, created.id]);
  assert.deepEqual(row, { state: 'Queued', media_type: 'email', priority: 5, subject: 'Order 42' });
  const ud = await db.query(`SELECT key, value FROM interactions.user_data WHERE cc_id = $1 AND interaction_id = $2
                             ORDER BY key`, [ccId, created.id]);
  assert.deepEqual(ud, [{ key: 'nested', value: { a: [1, 2] } }, { key: 'orderId', value: 42 }]);
  const h = await db.one(`SELECT operation, to_state, actor_login, reference_id FROM interactions.history
                          WHERE cc_id = $1 AND interaction_id = $2`, [ccId, created.id]);
  assert.deepEqual(h, { operation: 'Create', to_state: 'Queued', actor_login: 'feeder',
    reference_id: String(created.referenceId) });

  // without fields=* the list is uris
  const uris = await ok('supervisor', 'GET', '/interactions', { cc });
  assert.ok(uris.uris.includes(created.uri));
  assert.equal(uris.interactions, undefined);

  // the single resource adds cc and body
  const one = await ok('admin', 'GET', `/interactions/${created.id}`, { cc });
  assert.equal(one.interaction.id, created.id);
  assert.deepEqual(one.interaction.cc, []);
  assert.equal(one.interaction.body, null);
});

test('externalId makes create idempotent, also under concurrency', async () => {
  const body = { mediaType: 'email', queueName: 'sales', externalId: 'gateway-123' };
  const results = await Promise.all(Array.from({ length: 8 }, () =>
    api('feeder', 'POST', '/interactions', { cc, body })));
  for (const r of results) assert.equal(r.json.statusCode, 0, r.text);
  const ids = new Set(results.map((r) => r.json.id));
  assert.equal(ids.size, 1);
  assert.equal(results.filter((r) => r.json.created).length, 1);
  assert.equal(await count(`interactions.interactions WHERE cc_id = $1 AND external_id = 'gateway-123'`, [ccId]), 1);
  const again = await ok('feeder', 'POST', '/interactions', { cc, body });
  assert.equal(again.id, [...ids][0]);
  assert.equal(again.created, false);
});

test('only admin and apiuser create; agents and supervisors get 403/5', async () => {
  const body = { mediaType: 'email', queueName: 'support' };
  await ok('admin', 'POST', '/interactions', { cc, body });
  await fails('agent1', 'POST', '/interactions', 403, 5, { cc, body });
  await fails('supervisor', 'POST', '/interactions', 403, 5, { cc, body });
});

test('another contact center never sees these interactions', async () => {
  const created = await ok('feeder', 'POST', '/interactions', { body: { mediaType: 'email', queueName: 'support' } });
  const acme = await ok('admin', 'GET', '/interactions?fields=*', { cc: 'acme' });
  assert.ok(!acme.interactions.some((i) => i.id === created.id));
  await fails('admin', 'GET', `/interactions/${created.id}`, 404, 6, { cc: 'acme' });
  // and demo's admin sees it
  await ok('admin', 'GET', `/interactions/${created.id}`);
});

test('an agent reads only interactions of their queues, or offered to, owned by or handled by them', async () => {
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  // waiting in support: its members may read it (CONTRACT 8.1b), agent3 (sales only) not
  await fails('agent3', 'GET', `/interactions/${created.id}`, 403, 5, { cc });
  await ok('agent1', 'GET', `/interactions/${created.id}`, { cc });
  await ok('supervisor', 'GET', `/interactions/${created.id}`, { cc });
  await ok('feeder', 'GET', `/interactions/${created.id}`, { cc });
  await fails('admin', 'GET', '/interactions/not-an-id', 404, 6, { cc });
  await fails('admin', 'GET', '/interactions/00000000-0000-0000-0000-000000000000', 404, 6, { cc });
});

test('GET /me/interactions is for agents', async () => {
  const mine = await ok('agent1', 'GET', '/me/interactions', { cc });
  assert.deepEqual(mine.uris, []);
  const full = await ok('agent1', 'GET', '/me/interactions?fields=*', { cc });
  assert.deepEqual(full.interactions, []);
  await fails('admin', 'GET', '/me/interactions', 403, 5, { cc });
});

test('filters and paging', async () => {
  const all = await ok('admin', 'GET', '/interactions?fields=*&limit=500', { cc });
  const sales = await ok('admin', 'GET', '/interactions?fields=*&queue=sales', { cc });
  assert.ok(sales.interactions.length >= 1);
  assert.ok(sales.interactions.every((i) => i.queue === 'sales'));
  const none = await ok('admin', 'GET', '/interactions?queue=nosuchqueue', { cc });
  assert.deepEqual(none.uris, []);
  const queued = await ok('admin', 'GET', '/interactions?state=Queued&fields=*', { cc });
  assert.equal(queued.interactions.length, all.interactions.length);
  const completed = await ok('admin', 'GET', '/interactions?state=Completed', { cc });
  assert.deepEqual(completed.uris, []);
  const page1 = await ok('admin', 'GET', '/interactions?limit=2&offset=0', { cc });
  const page2 = await ok('admin', 'GET', '/interactions?limit=2&offset=2', { cc });
  assert.equal(page1.uris.length, 2);
  assert.deepEqual(page1.uris.concat(page2.uris), all.interactions.slice(0, 2 + page2.uris.length).map((i) => i.uri));
  assert.equal(page1.totalCount, all.interactions.length);
  await fails('admin', 'GET', '/interactions?limit=501', 400, 10, { cc });
  await fails('admin', 'GET', '/interactions?limit=0', 400, 10, { cc });
  await fails('admin', 'GET', '/interactions?state=Lost', 400, 10, { cc });
  await fails('admin', 'GET', '/interactions?offset=-3', 400, 10, { cc });
});

test('unknown paths get 404/6 and wrong methods 405 with Allow, in the envelope', async () => {
  await fails('admin', 'GET', '/nothing/here', 404, 6, { cc });
  await fails('admin', 'GET', '/interactions/a/b', 404, 6, { cc });
  const r = await fails('admin', 'DELETE', '/interactions', 405, 3, { cc });
  assert.equal(r.headers.get('allow'), 'GET, POST');
  // GET /me reads, POST /me changes the agent's state (sessions, Do Not Disturb)
  const r2 = await fails('agent1', 'PUT', '/me', 405, 3, { cc, body: {} });
  assert.equal(r2.headers.get('allow'), 'GET, POST');
});

test('bad input gets a clear error and changes nothing', async () => {
  const before = await count('interactions.interactions WHERE cc_id = $1', [ccId]);
  const historyBefore = await count('interactions.history WHERE cc_id = $1', [ccId]);
  const good = { mediaType: 'email', queueName: 'support' };

  const malformed = await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: '{"mediaType": "email",\n "queueName": support}' });
  assert.match(malformed.json.statusMessage, /line 2, column 15/);
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: '{"mediaType": "email"' });
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: '' });
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: '[]' });
  await fails('feeder', 'POST', '/interactions', 415, 10,
    { cc, body: JSON.stringify(good), headers: { 'Content-Type': 'text/plain' } });
  await fails('feeder', 'POST', '/interactions', 415, 10,
    { cc, body: 'mediaType=email&queueName=support', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  const big = JSON.stringify({ ...good, body: 'x'.repeat(70 * 1024) });
  await fails('feeder', 'POST', '/interactions', 413, 10, { cc, body: big });
  const deep = '{"mediaType":"email","queueName":"support","userData":{"a":' + '['.repeat(40) + ']'.repeat(40) + '}}';
  const d = await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: deep });
  assert.match(d.json.statusMessage, /nesting too deep/);
  const badUtf8 = Buffer.concat([Buffer.from('{"mediaType":"email","queueName":"support","subject":"'),
    Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  const u = await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: badUtf8 });
  assert.match(u.json.statusMessage, /UTF-8/);
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: { ...good, priority: 'high' } });
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: { ...good, userData: [1] } });
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: { ...good, subject: 's'.repeat(1025) } });
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: { ...good, state: 'Completed' } });
  await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body: { ...good, queueName: 'nosuch' } });
  await fails('feeder', 'POST', '/interactions', 400, 1, { cc, body: { queueName: 'support' } });
  await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: { ...good, userData: { ['k'.repeat(256)]: 1 } } });
  await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: { ...good, userData: { big: 'x'.repeat(33 * 1024) } } });

  assert.equal(await count('interactions.interactions WHERE cc_id = $1', [ccId]), before);
  assert.equal(await count('interactions.history WHERE cc_id = $1', [ccId]), historyBefore);
});

test('errors never show SQL or internals', async () => {
  const r = await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: { mediaType: 'email', queueName: "x'; DROP TABLE interactions.users; --" } });
  assert.doesNotMatch(r.text, /SELECT|ERROR:|interactions\.|\.c:|plpgsql/i);
  assert.equal(await db.value(`SELECT to_regclass('interactions.users') IS NOT NULL`), true);
});
