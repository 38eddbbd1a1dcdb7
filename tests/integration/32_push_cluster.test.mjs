// Two httpd servers on one database: a Bayeux session handshaken on one works on the other,
// a held connect on one is woken by writes made through the other (the doorbell), and a
// disconnect on one answers the connect held on the other.  The second server also lets
// one origin use the channel cross-site; a third holds no connects at all (its cap).
// Contact center t9.
import { test, before, beforeEach, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ok, db, env, basePath, freshContactCenter, httpdInstance, watchErrorLog, eventually } from '../lib/harness.mjs';
import { channel, opOk } from '../lib/flows.mjs';
import { cometdClient, about, basic, bayeux, notificationsUrl, rawSession, rawConnect, rawDisconnect } from '../lib/push.mjs';

const NAME = 'httpd2';
const DESK = 'https://desk.example';
watchErrorLog([]);
watchErrorLog([], NAME);
watchErrorLog([], 'httpd-nowait');
const cc = 't9';
let ccId, two;
let open = [];

beforeEach(async () => { ccId = await freshContactCenter(cc); });
before(async () => {
  const extra = path.join(env.varDir, 'push-origin.conf');
  fs.writeFileSync(extra, `<Location ${basePath(cc)}>\n    InteractionsAllowOrigin ${DESK}\n</Location>\n`);
  two = httpdInstance(NAME, { CCS: 't7 t8 t9', EXTRA: extra }).start();
});
after(() => two.stop());
afterEach(async () => {
  for (const c of open) await c.disconnect();
  open = [];
});

const held = (s) => eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                                WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
const create = (port) => ok('feeder', 'POST', '/interactions', { cc, port, body: { mediaType: 'email', queueName: 'support' } });

test('a session handshaken on one server works on the other, and each wakes the other\'s held connects', async () => {
  const s = await rawSession('supervisor', { cc, channels: [], port: env.port });
  const sub = await bayeux('supervisor', [{ id: '1', channel: '/meta/subscribe', clientId: s.clientId,
    subscription: '/v2/interactions' }], { cc, port: two.port, cookie: s.cookie });
  assert.equal(sub.json[0].successful, true);
  await rawConnect(s, { timeout: 0, port: two.port });

  // held on the first server, written through the second
  let pending = rawConnect(s, { port: env.port });
  await held(s);
  const a = await create(two.port);
  let r = await pending;
  assert.ok(r.events.some(about(a.id)));
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);

  // held on the second server, written through the first
  pending = rawConnect(s, { port: two.port });
  await held(s);
  const b = await create(env.port);
  r = await pending;
  assert.ok(r.events.some(about(b.id)));
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
});

test('CometD on the second server, operations through the first', async () => {
  const c = await cometdClient({ cc, user: 'agent1', port: two.port });
  open.push(c);
  await channel(cc, 'agent1', 'Ready');
  const created = await create(env.port);
  await channel(cc, 'agent1', 'NotReady');
  const offer = await c.waitFor((m) => about(created.id)(m) && m.data.interaction.state === 'Invited');
  assert.equal(offer.data.referenceId, created.referenceId);
  const acc = await opOk(cc, 'agent1', created.id, 'Accept');
  const m = await c.waitFor((x) => about(created.id)(x) && x.data.referenceId === acc.referenceId);
  assert.equal(m.data.interaction.state, 'Processing');
  // uris name the server the client talks to
  assert.equal(m.data.interaction.uri, `http://127.0.0.1:${two.port}${basePath(cc)}/interactions/${created.id}`);
});

test('a subscription made on one server takes effect for the connect held on the other', async () => {
  const s = await rawSession('supervisor', { cc, channels: [], port: two.port });
  await rawConnect(s, { timeout: 0 });
  const pending = rawConnect(s);
  await held(s);
  const sub = await bayeux('supervisor', [{ id: '1', channel: '/meta/subscribe', clientId: s.clientId,
    subscription: '/v2/interactions' }], { cc, port: env.port, cookie: s.cookie });
  assert.equal(sub.json[0].successful, true);
  const created = await create(env.port);
  const r = await pending;
  assert.ok(r.events.some(about(created.id)));
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
});

test('a disconnect on one server answers the connect held on the other', async () => {
  const s = await rawSession('agent2', { cc, port: two.port });
  await rawConnect(s, { timeout: 0 });
  const pending = rawConnect(s);
  await held(s);
  const bye = await rawDisconnect({ ...s, port: env.port });
  assert.equal(bye.json[0].successful, true);
  const r = await pending;
  assert.equal(r.reply.successful, true);
  assert.deepEqual(r.reply.advice, { reconnect: 'none' });
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
});

test('an allowed origin may use JSONP and CORS cross-site; others may not', async () => {
  const url = notificationsUrl(cc, two.port);
  const msg = encodeURIComponent(JSON.stringify([{ id: '1', channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['callback-polling'] }]));
  const get = (headers) => fetch(`${url}/handshake?jsonp=_cb&message=${msg}`,
    { headers: { Authorization: basic('agent1'), 'Sec-Fetch-Site': 'cross-site', ...headers } });
  const allowed = await get({ Referer: `${DESK}/agent/` });
  assert.equal(allowed.status, 200);
  assert.match(await allowed.text(), /^\/\*\*\/_cb\(\[\{"id":"1","channel":"\/meta\/handshake","successful":true/);
  assert.equal((await get({ Origin: DESK })).status, 200);
  assert.equal((await get({ Referer: 'https://elsewhere.example/' })).status, 403);
  // the first server has no such permission
  const first = await fetch(`${notificationsUrl(cc)}/handshake?jsonp=_cb&message=${msg}`,
    { headers: { Authorization: basic('agent1'), 'Sec-Fetch-Site': 'cross-site', Referer: `${DESK}/agent/` } });
  assert.equal(first.status, 403);

  const post = await bayeux('agent1', [{ id: '2', channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['long-polling'] }], { cc, port: two.port, suffix: '/handshake', headers: { Origin: DESK } });
  assert.equal(post.headers.get('access-control-allow-origin'), DESK);
  assert.equal(post.headers.get('access-control-allow-credentials'), 'true');
  const foreign = await bayeux('agent1', [{ id: '3', channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['long-polling'] }], { cc, port: two.port, headers: { Origin: 'https://elsewhere.example' } });
  assert.equal(foreign.headers.get('access-control-allow-origin'), null);
  const pre = await fetch(url, { method: 'OPTIONS', headers: { Authorization: basic('agent1'), Origin: DESK,
    'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' } });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), DESK);
  assert.match(pre.headers.get('access-control-allow-headers'), /Content-Type/);
  for (const m of [post, foreign]) {
    await rawDisconnect({ clientId: m.json[0].clientId, user: 'agent1', cc, port: two.port });
  }
});

test('a server whose processes hold their maximum answers connects at once and says when to come back', async () => {
  // InteractionsPushMaxWaiters 0: no connect may be held here, every one is answered at once
  const busy = httpdInstance('httpd-nowait', { CCS: cc, MAXWAITERS: 0, SERVERS: 1 }).start();
  try {
    const s = await rawSession('supervisor', { cc, channels: ['/v2/interactions'], port: busy.port });
    await rawConnect(s, { timeout: 0 });
    const r = await rawConnect(s);
    assert.equal(r.reply.successful, true);
    assert.deepEqual(r.reply.advice, { reconnect: 'retry', interval: 1500, timeout: 25000 });
    assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
    // news still arrives, on the next poll
    const created = await create(env.port);
    await eventually(async () => (await rawConnect(s)).events.some(about(created.id)));
  } finally {
    busy.stop();
  }
});
