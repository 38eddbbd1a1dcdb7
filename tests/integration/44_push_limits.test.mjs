// What one user may make the push channel hold, and that the server stays everybody's:
// held connects per user and per contact center (each pins a worker thread), a child never
// holding more than its threads allow, live sessions and handshakes per user, one database
// look-up for a Bayeux request of many messages, the BAYEUX_BROWSER count kept per user,
// JSONP only for pages that say where they are and with harmless callback names, and no
// clientId in the access log.  Contact centers t18 (the test server and a one-child server
// with the default limits) and t19 (a server with small limits).
import { test, before, after, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, ok, db, env, freshContactCenter, httpdInstance, watchErrorLog, errorLogPath, eventually, sleep }
  from '../lib/harness.mjs';
import { cometdClient, fayeClient, about, basic, bayeux, notificationsUrl, rawSession, rawConnect, rawDisconnect }
  from '../lib/push.mjs';

const cc = 't18';
const small = 't19';
const ALL = '/v2/interactions';
const ME = '/v2/me/interactions';
// refused JSONP is logged at info (MI00404, MI00414); nothing of this file may warn
watchErrorLog([]);
watchErrorLog([], 'httpd-hog');
watchErrorLog([], 'httpd-small');
// on purpose: more held connects than a child's threads allow, and a user's share above half
watchErrorLog([/MI00410: InteractionsPushMaxWaiters 200 exceeds what a child can hold: it has 16 threads/,
  /MI00412: InteractionsPushHeldPerUser 6 lets one user take more than half of the 8 connects/], 'httpd-warn');

let ccId, smallId, hog, limited;
const clients = [];

before(async () => {
  ccId = await freshContactCenter(cc);
  smallId = await freshContactCenter(small);
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  // one child of 24 threads and the default limits
  hog = httpdInstance('httpd-hog', { SERVERS: 1, THREADS: 24, CCS: cc }).start();
  // one child with small limits; sessions live 3 s without a connect
  const extra = path.join(env.varDir, 'push-limits-small.conf');
  fs.writeFileSync(extra, ['InteractionsPushHeldPerUser 1', 'InteractionsPushHeldPerContactCenter 2',
    'InteractionsPushSessionsPerContactCenter 4', 'InteractionsPushMaxInterval 3000', ''].join('\n'));
  limited = httpdInstance('httpd-small', { SERVERS: 1, THREADS: 24, CCS: small, EXTRA: extra }).start();
});
after(() => {
  hog.stop();
  limited.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect();
});
beforeEach(async () => {
  await db.query(`DELETE FROM interactions.push_sessions WHERE cc_id IN ($1, $2)`, [ccId, smallId]);
  await db.query(`DELETE FROM interactions.push_handshake_budget WHERE cc_id IN ($1, $2)`, [ccId, smallId]);
});

let seq = 0;
const handshakeMsg = () => ({ id: String(++seq), channel: '/meta/handshake', version: '1.0',
  supportedConnectionTypes: ['long-polling'] });

/** A handshake that may be refused: -> {reply, clientId, cookie}. */
async function handshake(user, { cc: c = cc, port = env.port, cookie } = {}) {
  const r = await bayeux(user, [handshakeMsg()], { cc: c, port, cookie, suffix: '/handshake' });
  assert.equal(r.status, 200, r.text);
  const reply = r.json[0];
  const set = r.headers.get('set-cookie');
  return { reply, clientId: reply.clientId, cookie: cookie || (set ? set.split(';')[0] : undefined),
    user, cc: c, port };
}

const heldCount = (cid, login) => db.value(`SELECT count(*)::int FROM interactions.push_sessions s
    JOIN interactions.users u ON u.cc_id = s.cc_id AND u.id = s.user_id
   WHERE s.cc_id = $1 AND u.login = $2 AND s.held_until > now()`, [cid, login]);
const isHeld = (cid, s) => db.value(`SELECT coalesce(bool_or(held_until > now()), false) FROM interactions.push_sessions
   WHERE cc_id = $1 AND client_id = $2`, [cid, s.clientId]);

/** GET /me as @user on @port, given up after @ms: -> milliseconds, or Infinity. */
async function latency(user, port, ms = 5000) {
  const t0 = Date.now();
  try {
    const r = await fetch(`http://127.0.0.1:${port}/${cc}/api/v2/me`,
      { headers: { Authorization: basic(user) }, signal: AbortSignal.timeout(ms) });
    await r.text();
    return r.status === 200 ? Date.now() - t0 : Infinity;
  } catch {
    return Infinity;
  }
}

// ------------------------------------------------------------------ threads

test('one user holding every connect allowed leaves the server answering everybody else at once', async () => {
  const port = hog.port;
  await ok('agent2', 'GET', '/me', { cc, port });   // its password checked before, not during
  // agent1 opens as many sessions as it can, each with a connect held, and reconnects as a
  // client does (after the advice's interval)
  const sessions = [];
  let refused;
  for (let i = 0; i < 40 && !refused; i++) {
    const h = await handshake('agent1', { port });
    if (h.reply.successful) sessions.push(h);
    else refused = h.reply;
  }
  let stop = false;
  const excess = [];
  const loops = sessions.map(async (s) => {
    while (!stop) {
      const r = await rawConnect(s).catch(() => null);
      if (!r || !r.reply || stop) return;
      if (r.reply.advice && r.reply.advice.interval > 0) {
        excess.push({ ms: r.ms, advice: r.reply.advice });
        await sleep(r.reply.advice.interval);
      }
    }
  });
  try {
    await sleep(1500);
    // everybody else is answered at once, again and again
    for (let i = 0; i < 10; i++) {
      const ms = await latency('agent2', port);
      assert.ok(ms < 2000, `agent2's GET /me took ${ms} ms while agent1 held its connects`);
    }

    // what agent1 was allowed: 16 sessions (the 17th handshake refused, with when to retry),
    // 4 of them held in the one child, the others told at once to poll every 2 s
    assert.equal(sessions.length, 16);
    assert.match(refused.error, /^429::too_many_sessions: this user/);
    assert.equal(refused.advice.reconnect, 'handshake');
    assert.ok(refused.advice.interval >= 1000 && refused.advice.interval <= 60000, JSON.stringify(refused.advice));
    await eventually(async () => (await heldCount(ccId, 'agent1')) === 4, 5000);
    assert.ok(excess.length >= 12, `${excess.length} connects answered at once`);
    for (const e of excess) {
      assert.deepEqual(e.advice, { reconnect: 'retry', interval: 2000, timeout: 25000 });
      // at once, not held: a held connect would take the 25 s timeout; 5 s leaves room for
      // a loaded machine without making the check unable to fail
      assert.ok(e.ms < 5000, `an excess connect took ${e.ms} ms`);
    }
    // another user is held as usual
    const s2 = await rawSession('agent2', { cc, port });
    const pending = rawConnect(s2);
    await eventually(() => isHeld(ccId, s2), 5000);
    await rawDisconnect(s2);
    await pending;
  } finally {
    stop = true;
    await Promise.race([Promise.all(sessions.map((s) => rawDisconnect(s).catch(() => {}))), sleep(5000)]);
    await Promise.race([Promise.all(loops), sleep(5000)]);
  }
});

test('a child never holds more connects than its threads allow, and says so at start', async () => {
  // 16 threads: 8 kept for other requests, so 8 held at most, whatever the directive says
  const warn = httpdInstance('httpd-warn', { SERVERS: 1, THREADS: 16, MAXWAITERS: 200, HELD_PER_USER: 6, CCS: cc }).start();
  try {
    const log = fs.readFileSync(errorLogPath('httpd-warn'), 'utf8');
    assert.match(log, /\[interactions:warn\].*MI00410: InteractionsPushMaxWaiters 200 exceeds what a child can hold: it has 16 threads \(ThreadsPerChild\) and keeps 8 for other requests, so at most 8 connects are held per child/);
    assert.match(log, /MI00412: InteractionsPushHeldPerUser 6 lets one user take more than half of the 8 connects a child holds/);
    const sessions = [];
    for (const [user, n] of [['agent1', 6], ['agent2', 3]]) {
      for (let i = 0; i < n; i++) sessions.push(await rawSession(user, { cc, port: warn.port }));
    }
    const held = sessions.slice(0, 8).map((s) => rawConnect(s));
    await eventually(async () => (await heldCount(ccId, 'agent1')) + (await heldCount(ccId, 'agent2')) === 8, 5000);
    const ninth = await rawConnect(sessions[8]);
    assert.deepEqual(ninth.reply.advice, { reconnect: 'retry', interval: 1500, timeout: 25000 });
    assert.ok(await latency('agent3', warn.port) < 2000);
    for (const s of sessions) await rawDisconnect(s);
    await Promise.all(held);
  } finally {
    warn.stop();
  }
  // the test server and the one-child servers above have the default: no warning (watchErrorLog)
});

// ------------------------------------------------------------------ sessions and handshakes

test('a user has at most 16 live sessions; a handshake beyond is refused with when to come back', async () => {
  const mine = [];
  for (let i = 0; i < 16; i++) {
    const h = await handshake('agent3');
    assert.equal(h.reply.successful, true, JSON.stringify(h.reply));
    mine.push(h);
  }
  const over = await handshake('agent3');
  assert.equal(over.reply.successful, false);
  assert.equal(over.reply.clientId, undefined);
  assert.match(over.reply.error, /^429::too_many_sessions: this user has the most sessions allowed/);
  assert.equal(over.reply.advice.reconnect, 'handshake');
  assert.ok(over.reply.advice.interval >= 1000 && over.reply.advice.interval <= 10000, JSON.stringify(over.reply.advice));
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.push_sessions s JOIN interactions.users u
                                 ON u.cc_id = s.cc_id AND u.id = s.user_id WHERE s.cc_id = $1 AND u.login = 'agent3'`, [ccId]), 16);
  // others are not affected
  assert.equal((await handshake('agent2')).reply.successful, true);
  // a session ended makes room
  await rawDisconnect(mine.pop());
  assert.equal((await handshake('agent3')).reply.successful, true);
});

test('a user handshakes at most 30 times a minute: a loop of handshakes and disconnects is refused at once', async () => {
  for (let i = 0; i < 30; i++) {
    const h = await handshake('agent4');
    assert.equal(h.reply.successful, true, `handshake ${i + 1}: ${JSON.stringify(h.reply)}`);
    await rawDisconnect(h);
  }
  const t0 = Date.now();
  const over = await handshake('agent4');
  assert.ok(Date.now() - t0 < 5000);
  assert.equal(over.reply.successful, false);
  assert.match(over.reply.error, /^429::too_many_handshakes:/);
  assert.equal(over.reply.advice.reconnect, 'handshake');
  assert.ok(over.reply.advice.interval > 0 && over.reply.advice.interval <= 2000, JSON.stringify(over.reply.advice));
  // the official client follows the advice: it handshakes again after the interval, and works
  const c = await cometdClient({ cc, user: 'agent4' });
  clients.push(c);
  assert.equal(c.meta.handshakes, 1);
  assert.deepEqual(c.meta.subscribeFailures, []);
  // and another user was never concerned
  assert.equal((await handshake('agent2')).reply.successful, true);
});

// ------------------------------------------------------------------ the shares, with real clients

test('over its share a user is told to poll, its clients keep receiving, and it is held again when room frees', async () => {
  const port = limited.port;
  // agent1 holds its one connect of the child (InteractionsPushHeldPerUser 1)
  const first = await rawSession('agent1', { cc: small, port });
  const pending = rawConnect(first);
  await eventually(() => isHeld(smallId, first), 5000);
  // its CometD desktop is told to poll every 2 s, and still hears its news
  const desk = await cometdClient({ cc: small, user: 'agent1', port });
  clients.push(desk);
  await eventually(() => desk.meta.connectAdvice.some((a) => a.interval === 2000), 10000);
  assert.deepEqual(desk.meta.connectFailures, []);
  await ok('agent1', 'POST', '/me/channels/email', { cc: small, body: { operationName: 'Ready' } });
  const created = await ok('feeder', 'POST', '/interactions', { cc: small, body: { mediaType: 'email', queueName: 'support' } });
  await desk.waitFor(about(created.id), 10000);
  await ok('agent1', 'POST', '/me/channels/email', { cc: small, body: { operationName: 'NotReady' } });
  // the raw session goes: the desktop's next connect is held again
  await rawDisconnect(first);
  await pending;
  await eventually(async () => (await heldCount(smallId, 'agent1')) === 1
    && isHeld(smallId, { clientId: desk.clientId() }), 10000);
});

test('a contact center over its share of held connects or sessions: the excess is answered at once', async () => {
  const port = limited.port;
  // InteractionsPushHeldPerContactCenter 2: a Faye client of agent2 and a raw session of
  // agent3 hold; the supervisor's connect is answered at once
  const faye = await fayeClient({ cc: small, user: 'agent2', port });
  clients.push(faye);
  const a3 = await rawSession('agent3', { cc: small, port });
  const pending = rawConnect(a3);
  await eventually(async () => (await heldCount(smallId, 'agent2')) === 1 && (await heldCount(smallId, 'agent3')) === 1, 10000);
  const sup = await rawSession('supervisor', { cc: small, port, channels: [ALL] });
  const r = await rawConnect(sup);
  assert.equal(r.reply.successful, true);
  assert.deepEqual(r.reply.advice, { reconnect: 'retry', interval: 2000, timeout: 25000 });
  assert.ok(r.ms < 5000, `answered after ${r.ms} ms (held would be 25 s)`);
  // ... and still gets its news, by polling
  const created = await ok('feeder', 'POST', '/interactions', { cc: small, body: { mediaType: 'email', queueName: 'support' } });
  await eventually(async () => (await rawConnect(sup)).events.some(about(created.id)), 10000);
  // InteractionsPushSessionsPerContactCenter 4: agent2, agent3, supervisor, and one more
  assert.equal((await handshake('admin', { cc: small, port })).reply.successful, true);
  const over = await handshake('admin', { cc: small, port });
  assert.match(over.reply.error, /^429::too_many_sessions: this contact center/);
  assert.deepEqual(over.reply.advice, { reconnect: 'handshake', interval: 3000 });
  await rawDisconnect(a3);
  await pending;
});

// ------------------------------------------------------------------ BAYEUX_BROWSER

test('held connects per browser are counted per user: another user with the same cookie is still held', async () => {
  const a1 = await rawSession('agent1', { cc });
  const pending = [rawConnect(a1)];
  await eventually(() => isHeld(ccId, a1), 5000);
  // agent2 presents agent1's BAYEUX_BROWSER value
  const a2 = await rawSession('agent2', { cc, cookie: a1.cookie });
  pending.push(rawConnect(a2));
  await eventually(() => isHeld(ccId, a2), 5000);
  // agent1's own second tab in that browser polls, as before
  const tab = await rawSession('agent1', { cc, cookie: a1.cookie });
  const r = await rawConnect(tab);
  assert.deepEqual(r.reply.advice, { reconnect: 'retry', interval: 2000, timeout: 25000, 'multiple-clients': true });
  for (const s of [a1, a2, tab]) await rawDisconnect(s);
  for (const p of await Promise.all(pending)) assert.equal(p.reply.successful, true);
});

// ------------------------------------------------------------------ database calls per request

/** Calls of the session functions so far, by function (pg_stat_statements). */
async function calls() {
  const rows = await db.query(`SELECT substring(query FROM 'interactions\\.(push_[a-z_]+)\\(') AS f, sum(calls)::int AS n
                                 FROM pg_stat_statements
                                WHERE query ~ 'interactions\\.push_(handshake|session|session_batch|subscribe|disconnect)\\('
                                GROUP BY 1`);
  return Object.fromEntries(rows.map((r) => [r.f, r.n]));
}
function delta(a, b) {
  const out = {};
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if ((b[k] || 0) !== (a[k] || 0)) out[k] = (b[k] || 0) - (a[k] || 0);
  }
  return out;
}

test('a Bayeux request of 100 messages costs one look-up and one call per session, not one per message', async () => {
  const s = await rawSession('supervisor', { cc, channels: [] });
  const msgs = Array.from({ length: 100 }, (_, i) => ({ id: `m${i}`, channel: i % 2 ? '/meta/unsubscribe' : '/meta/subscribe',
    clientId: s.clientId, subscription: i % 4 < 2 ? ALL : ME }));
  msgs[99] = { id: 'last', channel: '/meta/subscribe', clientId: s.clientId, subscription: [ALL, ME] };
  let before = await calls();
  const r = await bayeux('supervisor', msgs, { cc });
  assert.equal(r.json.length, 100);
  assert.ok(r.json.every((m) => m.successful), r.text);
  assert.deepEqual(delta(before, await calls()), { push_session_batch: 1, push_subscribe: 1 });
  // the outcome is that of the messages one by one: the last one subscribed both
  assert.deepEqual(await db.value(`SELECT channels FROM interactions.push_sessions WHERE cc_id = $1 AND client_id = $2`,
    [ccId, s.clientId]), [ALL, ME]);

  // 100 messages naming 100 sessions that do not exist: one look-up
  const strangers = Array.from({ length: 100 }, (_, i) => ({ id: `x${i}`, channel: '/meta/subscribe',
    clientId: String(i).padStart(32, 'f'), subscription: ME }));
  before = await calls();
  const u = await bayeux('supervisor', strangers, { cc });
  assert.ok(u.json.every((m) => m.error === '402::Unknown client'), u.text);
  assert.deepEqual(delta(before, await calls()), { push_session_batch: 1 });
  await rawDisconnect(s);
});

// ------------------------------------------------------------------ JSONP

const jsonpUrl = (suffix, messages, callback = '_cometd_jsonp_1') => `${notificationsUrl(cc)}${suffix}`
  + `?jsonp=${encodeURIComponent(callback)}&message=${encodeURIComponent(JSON.stringify(messages))}`;

test('JSONP only for a page that says where it is, with a callback that cannot reach into the page', async () => {
  const hs = [handshakeMsg()];
  hs[0].supportedConnectionTypes = ['callback-polling'];
  const get = (headers, callback) => fetch(jsonpUrl('/handshake', hs, callback),
    { headers: { Authorization: basic('agent2'), ...headers } });
  // none of Sec-Fetch-Site, Origin, Referer: it could be any site's <script src>
  const bare = await get({});
  assert.equal(bare.status, 403);
  assert.match(bare.headers.get('content-type'), /^application\/json/);
  const body = await bare.json();
  assert.equal(body.statusCode, 5);
  assert.match(body.statusMessage, /Sec-Fetch-Site, Origin or Referer/);
  // a page of our own origin, as a browser says it
  for (const headers of [{ 'Sec-Fetch-Site': 'same-origin' }, { Referer: `http://127.0.0.1:${env.port}/desktop/` }]) {
    const r = await get(headers);
    assert.equal(r.status, 200, JSON.stringify(headers));
    const text = await r.text();
    assert.match(text, /^\/\*\*\/_cometd_jsonp_1\(\[\{"id":"\d+","channel":"\/meta\/handshake","successful":true/);
    const cid = /"clientId":"([0-9a-f]{32})"/.exec(text)[1];
    await rawDisconnect({ clientId: cid, user: 'agent2', cc, port: env.port });
  }
  // callbacks: what CometD and Faye send passes; names reaching into the page do not
  for (const good of ['_cometd_jsonp_12', '__jsonp3__']) {
    assert.equal((await get({ 'Sec-Fetch-Site': 'same-origin' }, good)).status, 200, good);
  }
  for (const bad of ['document.write', 'opener.location.assign', 'alert', 'eval', '__proto__', '_a.b', 'jsonp_cb', '_x(1)']) {
    const r = await get({ 'Sec-Fetch-Site': 'same-origin' }, bad);
    assert.equal(r.status, 400, bad);
    assert.doesNotMatch(await r.text(), /successful/);
  }
});

test('a JSONP clientId stays out of the access log and server-status', async () => {
  const s = await rawSession('agent2', { cc });
  const page = { Authorization: basic('agent2'), 'Sec-Fetch-Site': 'same-origin' };
  await rawConnect(s, { timeout: 0 });
  // held while we look at server-status
  const held = fetch(jsonpUrl('/connect', [{ id: '1', channel: '/meta/connect', clientId: s.clientId,
    connectionType: 'callback-polling' }]), { headers: page }).then((r) => r.text());
  await eventually(() => isHeld(ccId, s), 5000);
  const status = await (await fetch(`http://127.0.0.1:${env.port}/server-status`)).text();
  assert.match(status, /notifications\/connect\?\(hidden\)/);
  assert.ok(!status.includes(s.clientId), 'server-status shows the clientId');
  // refused requests too: one without credentials, one with a bad callback
  const stranger = await fetch(jsonpUrl('/connect', [{ channel: '/meta/connect', clientId: s.clientId }]));
  assert.equal(stranger.status, 401);
  const bad = await fetch(jsonpUrl('/connect', [{ channel: '/meta/connect', clientId: s.clientId }], 'document.write'),
    { headers: page });
  assert.equal(bad.status, 400);
  await rawDisconnect(s);
  assert.match(await held, /"reconnect":"none"/);
  const log = path.join(env.varDir, 'httpd/logs/access.log');
  const line = `GET /${cc}/api/v2/notifications/connect?(hidden) HTTP/1.1"`;
  const lines = await eventually(() => {
    const l = fs.readFileSync(log, 'utf8').split('\n').filter((x) => x.includes(`/${cc}/api/v2/notifications/connect`));
    return [200, 400, 401].every((st) => l.some((x) => x.includes(`${line} ${st} `))) ? l : null;
  });
  for (const l of lines) assert.ok(!l.includes(s.clientId) && !l.includes('message='), l);
  // a POST carries the clientId in its body, never in the line: unchanged
  assert.ok(fs.readFileSync(log, 'utf8').includes(`POST /${cc}/api/v2/notifications/connect HTTP/1.1`));
});
