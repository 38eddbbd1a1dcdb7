// Rights on every push delivery, and interaction uris that no request header chooses.
//
// A DBA changes a user in SQL (roles, disabled, credential_version) and the push channel
// follows at the next delivery: a supervisor demoted to agent gets no more /v2/interactions,
// not even messages this process has already rendered for other supervisors; the roles of
// the moment decide what /v2/me/interactions shows; a disabled user's session ends, held
// connect or not, and it cannot open a new one.  Interaction uris (REST and push) start with
// the server's name or a configured origin, never the Host header, so the per-process cache
// of rendered messages holds one copy per row whatever clients send, within its bounds.
// Contact center t22; its own httpd with one child process (so that every session shares
// the cache), a second location with InteractionsPublicOrigin, loopback as a trusted proxy
// and a small InteractionsPushCacheSize.
import { test, before, beforeEach, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { ok, db, env, freshContactCenter, httpdInstance, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { create, opOk, ownedBy } from '../lib/flows.mjs';
import { cometdClient, about, basic, rawSession, rawConnect } from '../lib/push.mjs';

const NAME = 'httpd-rights';
// a disabled user's new handshake may also be refused by authentication, which logs it
const refused = [/AH0161[78]: user agent[12]\b/];
watchErrorLog(refused);
watchErrorLog(refused, NAME);
const cc = 't22';
const ALL = '/v2/interactions';
const ME = '/v2/me/interactions';
const CACHE_BYTES = 65536;
let ccId, inst;
let open = [];

before(async () => {
  ccId = await freshContactCenter(cc);
  const extra = path.join(env.varDir, `${NAME}.extra.conf`);
  fs.writeFileSync(extra, `InteractionsPushCacheSize ${CACHE_BYTES}
InteractionsTrustedProxy 127.0.0.1
<Location /pub/api/v2>
    SetHandler interactions
    InteractionsContactCenter ${cc}
    InteractionsPublicOrigin https://cc.example.com/
    AuthType Basic
    AuthName "${cc} contact center"
    AuthBasicProvider interactions
    Require valid-user
</Location>
`);
  inst = httpdInstance(NAME, { CCS: cc, SERVERS: 1, EXTRA: extra }).start();
});
after(() => inst?.stop());

// every test starts from the cast as provisioned: roles and enabled, as a DBA would reset them
async function resetUsers() {
  if (await db.value(`SELECT count(*)::int FROM interactions.users WHERE cc_id = $1 AND login = 'sup2'`, [ccId]) === 0) {
    await db.query(`SELECT interactions.create_user($1, 'sup2', 'password', ARRAY['supervisor'])`, [cc]);
  }
  for (const [login, roles] of [['admin', ['admin']], ['supervisor', ['supervisor']], ['sup2', ['supervisor']],
    ['agent1', ['agent']], ['agent2', ['agent']], ['agent3', ['agent']], ['agent4', ['agent']], ['feeder', ['apiuser']]]) {
    await db.query(`UPDATE interactions.users SET roles = $3, disabled = false,
                      credential_version = credential_version + 1
                    WHERE cc_id = $1 AND login = $2 AND (roles <> $3 OR disabled)`, [ccId, login, roles]);
  }
}
beforeEach(async () => {
  ccId = await freshContactCenter(cc);
  await resetUsers();
  open = [];
});
afterEach(async () => {
  for (const c of open) await c.disconnect();
  await resetUsers();
});

async function client(opts) {
  const c = await cometdClient({ cc, port: inst.port, ...opts });
  open.push(c);
  return c;
}

// as a DBA changes a user: in SQL, the credential version moved on
async function dba(login, set) {
  await db.query(`UPDATE interactions.users SET ${set}, credential_version = credential_version + 1
                  WHERE cc_id = $1 AND login = $2`, [ccId, login]);
}

const sessionsOf = (login) => db.value(`SELECT count(*)::int FROM interactions.push_sessions s
  JOIN interactions.users u ON u.cc_id = s.cc_id AND u.id = s.user_id WHERE s.cc_id = $1 AND u.login = $2`, [ccId, login]);

// ------------------------------------------------------------------ roles and disablement

test('a supervisor demoted to agent gets no more /v2/interactions, not even messages the process has cached', async () => {
  const stays = await rawSession('supervisor', { cc, channels: [ALL], port: inst.port });
  const demoted = await rawSession('sup2', { cc, channels: [ALL], port: inst.port });
  await rawConnect(stays, { timeout: 0 });
  await rawConnect(demoted, { timeout: 0 });

  // both get a change while supervisors; the first delivery renders it for the process
  const id1 = await create(cc);
  await eventually(async () => (await rawConnect(stays, { timeout: 0 })).events.some(about(id1)), 10000);
  await eventually(async () => (await rawConnect(demoted, { timeout: 0 })).events.some(about(id1)), 10000);

  // the next change is rendered (and cached) for the one who stays; then sup2 is demoted
  const id2 = await create(cc);
  await eventually(async () => (await rawConnect(stays, { timeout: 0 })).events.some(about(id2)), 10000);
  await dba('sup2', `roles = ARRAY['agent']`);
  const after = await rawConnect(demoted, { timeout: 0 });
  assert.equal(after.reply.successful, true);
  assert.deepEqual(after.events.filter((m) => m.channel === ALL).map((m) => m.data.interaction.id), [],
    'a demoted supervisor was sent /v2/interactions');
  // nor later changes, held connect or not
  const id3 = await create(cc);
  await eventually(async () => (await rawConnect(stays, { timeout: 0 })).events.some(about(id3)), 10000);
  const later = await rawConnect(demoted, { timeout: 1000 });
  assert.deepEqual(later.events, []);

  // the subscription outlived the demotion; its deliveries come back with the role, from then on
  await dba('sup2', `roles = ARRAY['supervisor']`);
  const id4 = await create(cc);
  const back = await eventually(async () => {
    const r = await rawConnect(demoted, { timeout: 0 });
    return r.events.some(about(id4)) ? r : null;
  }, 10000);
  assert.deepEqual(back.events.filter((m) => [id2, id3].includes(m.data.interaction.id)), []);
});

test('CometD: a demoted supervisor\'s held connect stays silent while the others hear every change', async () => {
  const stays = await client({ user: 'supervisor', channels: [ALL], ack: true });
  const demoted = await client({ user: 'sup2', channels: [ALL], ack: true });
  const first = await create(cc);
  await stays.waitFor(about(first));
  await demoted.waitFor(about(first));
  await dba('sup2', `roles = ARRAY['agent']`);
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push(await create(cc));
  for (const id of ids) await stays.waitFor(about(id));
  await sleep(1000);
  assert.deepEqual(demoted.messages.filter((m) => ids.includes(m.data.interaction?.id)), []);
  assert.equal(demoted.meta.handshakes, 1);
  assert.deepEqual(demoted.meta.connectFailures, []);
});

test('/v2/me/interactions shows the interaction as the user\'s roles are now', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const c = await client({ user: 'agent1', ack: true });
  const r1 = await ok('admin', 'PUT', `/interactions/${id}`, { cc, port: inst.port, body: { userData: { n: 1 } } });
  const m1 = await c.waitFor((m) => about(id)(m) && m.data.referenceId === r1.referenceId);
  assert.equal(m1.channel, ME);
  assert.ok(m1.data.interaction.capabilities.includes('Complete'), JSON.stringify(m1.data.interaction.capabilities));
  // no longer an agent: still told about its interaction, without an agent's operations
  await dba('agent1', `roles = ARRAY['supervisor']`);
  const r2 = await ok('admin', 'PUT', `/interactions/${id}`, { cc, port: inst.port, body: { userData: { n: 2 } } });
  const m2 = await c.waitFor((m) => about(id)(m) && m.data.referenceId === r2.referenceId);
  assert.deepEqual(m2.data.interaction.capabilities, []);
  await dba('agent1', `roles = ARRAY['agent']`);
  const r3 = await ok('admin', 'PUT', `/interactions/${id}`, { cc, port: inst.port, body: { userData: { n: 3 } } });
  const m3 = await c.waitFor((m) => about(id)(m) && m.data.referenceId === r3.referenceId);
  assert.ok(m3.data.interaction.capabilities.includes('Complete'));
});

test('a disabled user\'s held connect ends at its next delivery: 402, the session is gone, no new handshake', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const c = await client({ user: 'agent1', ack: true });
  const r1 = await ok('admin', 'PUT', `/interactions/${id}`, { cc, port: inst.port, body: { userData: { n: 1 } } });
  await c.waitFor((m) => about(id)(m) && m.data.referenceId === r1.referenceId);
  assert.equal(await sessionsOf('agent1'), 1);
  await dba('agent1', 'disabled = true');
  // news for agent1 wakes its held connect: it must not be delivered
  const r2 = await ok('admin', 'PUT', `/interactions/${id}`, { cc, port: inst.port, body: { userData: { n: 2 } } });
  await eventually(() => c.meta.connectFailures.includes('402::Unknown client'), 15000, 50);
  await eventually(async () => (await sessionsOf('agent1')) === 0, 5000);
  await sleep(1500);   // the client's attempt to handshake again
  assert.deepEqual(c.messages.filter((m) => about(id)(m) && m.data.referenceId === r2.referenceId), []);
  assert.equal(c.meta.handshakes, 1, 'a disabled user opened a session again');
  assert.equal(await sessionsOf('agent1'), 0);
});

test('a disabled user\'s held connect ends within seconds even without news', { timeout: 60000 }, async () => {
  const c = await client({ user: 'agent2', ack: true });
  await eventually(async () => db.value(`SELECT bool_or(held_until IS NOT NULL) FROM interactions.push_sessions s
    JOIN interactions.users u ON u.cc_id = s.cc_id AND u.id = s.user_id WHERE s.cc_id = $1 AND u.login = 'agent2'`, [ccId]), 10000);
  const t0 = Date.now();
  await dba('agent2', 'disabled = true');
  // a held connect looks at its session every 8 s of its own accord (the hold is 25 s)
  await eventually(() => c.meta.connectFailures.includes('402::Unknown client'), 20000, 50);
  assert.ok(Date.now() - t0 < 15000, `answered after ${Date.now() - t0} ms`);
  await eventually(async () => (await sessionsOf('agent2')) === 0, 5000);
  assert.equal(c.meta.handshakes, 1);
});

// ------------------------------------------------------------------ the origin of uris

/** A request with a Host header of our choosing (fetch() will not send one). */
function request(method, p, { host, user = 'admin', headers = {}, body } = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const h = { Host: host || `127.0.0.1:${inst.port}`, Authorization: basic(user), ...headers };
  if (payload !== undefined) {
    h['Content-Type'] = 'application/json';
    h['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: inst.port, method, path: p, headers: h, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, json, text });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function handshakeVia(user, host, channels = [ALL], basePath = `/${cc}/api/v2`) {
  const hs = await request('POST', `${basePath}/notifications/handshake`, { host, user,
    body: [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }] });
  assert.equal(hs.json?.[0]?.successful, true, hs.text);
  const clientId = hs.json[0].clientId;
  const sub = await request('POST', `${basePath}/notifications`, { host, user,
    body: [{ channel: '/meta/subscribe', clientId, subscription: channels }] });
  assert.equal(sub.json?.[0]?.successful, true, sub.text);
  const connect = () => request('POST', `${basePath}/notifications/connect`, { host, user,
    body: [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }] })
    .then((r) => (r.json || []).filter((m) => m.data));
  await connect();
  return { clientId, connect };
}

test('interaction uris start with the server\'s name, never the Host header, in REST and push alike', async () => {
  const own = `http://127.0.0.1:${inst.port}/${cc}/api/v2/interactions/`;
  const s = await handshakeVia('supervisor', 'evil.example:666');
  const created = await request('POST', `/${cc}/api/v2/interactions`, { host: 'evil.example', user: 'feeder',
    body: { mediaType: 'email', queueName: 'support' } });
  assert.equal(created.status, 200, created.text);
  assert.equal(created.json.uri, own + created.json.id);
  const got = await request('GET', `/${cc}/api/v2/interactions/${created.json.id}`, { host: 'other.example' });
  assert.equal(got.json.interaction.uri, own + created.json.id);
  const pushed = await eventually(async () => (await s.connect()).find(about(created.json.id)), 10000);
  assert.equal(pushed.data.interaction.uri, own + created.json.id);
  // without InteractionsTrustedProxy for the peer, X-Forwarded-* choose nothing: on the main server
  const r = await fetch(`${env.base}/${cc}/api/v2/interactions/${created.json.id}`, {
    headers: { Authorization: basic('admin'), 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' } });
  assert.equal((await r.json()).interaction.uri, `http://127.0.0.1:${env.port}/${cc}/api/v2/interactions/${created.json.id}`);
});

test('InteractionsPublicOrigin names the origin; a trusted proxy may name it in X-Forwarded-Host/-Proto', async () => {
  const id = await create(cc);
  const pub = await request('GET', `/pub/api/v2/interactions/${id}`, { host: 'evil.example',
    headers: { 'X-Forwarded-Host': 'proxy.example' } });
  assert.equal(pub.json.interaction.uri, `https://cc.example.com/pub/api/v2/interactions/${id}`);
  // loopback is a trusted proxy of this server
  const fwd = await request('GET', `/${cc}/api/v2/interactions/${id}`, { host: 'evil.example',
    headers: { 'X-Forwarded-Host': 'public.example, internal.example', 'X-Forwarded-Proto': 'https' } });
  assert.equal(fwd.json.interaction.uri, `https://public.example/${cc}/api/v2/interactions/${id}`);
  for (const bad of ['evil.example/x', 'a"b', 'user@evil.example', '']) {
    const r = await request('GET', `/${cc}/api/v2/interactions/${id}`, { headers: { 'X-Forwarded-Host': bad } });
    assert.equal(r.json.interaction.uri, `http://127.0.0.1:${inst.port}/${cc}/api/v2/interactions/${id}`, bad);
  }
  const s = await handshakeVia('supervisor', 'evil.example', [ALL], '/pub/api/v2');
  const id2 = await create(cc);
  const m = await eventually(async () => (await s.connect()).find(about(id2)), 10000);
  assert.equal(m.data.interaction.uri, `https://cc.example.com/pub/api/v2/interactions/${id2}`);
});

async function metrics() {
  const text = await (await fetch(`http://127.0.0.1:${inst.port}/interactions-metrics`)).text();
  const out = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+) (\d+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

test('the rendered-message cache keeps one copy whatever Host headers clients send, within InteractionsPushCacheSize', async () => {
  // twenty supervisor sessions, each with a Host of its own, follow the contact center
  const sessions = [];
  for (let i = 0; i < 20; i++) sessions.push(await handshakeVia(i % 2 ? 'supervisor' : 'admin', `h${i}.example`));
  const ids = [];
  for (let i = 0; i < 40; i++) ids.push(await create(cc, { userData: { pad: 'x'.repeat(1500) } }));
  for (const s of sessions) {
    const seen = new Set();
    await eventually(async () => {
      for (const m of await s.connect()) if (m.data.interaction) seen.add(m.data.interaction.id);
      return ids.every((id) => seen.has(id));
    }, 20000, 50);
  }
  // published by the maintenance tick (every 500 ms): two ticks later it shows all of the above
  await sleep(1200);
  const m = await metrics();
  assert.ok(m.interactions_push_cache_rows > 0, JSON.stringify(m));
  assert.ok(m.interactions_push_cache_bytes <= CACHE_BYTES, `the cache holds ${m.interactions_push_cache_bytes} bytes`);
  // 40 changes of ~2.5 KB with the admins' and supervisors' messages do not fit in 64 KiB:
  // the oldest rows went; what stays is one row per change, not one per Host
  assert.ok(m.interactions_push_cache_rows < 40, `${m.interactions_push_cache_rows} rows`);
  assert.ok(m.interactions_push_cache_bytes > CACHE_BYTES / 2, `${m.interactions_push_cache_bytes} bytes`);
});
