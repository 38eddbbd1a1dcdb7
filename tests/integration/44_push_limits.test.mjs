// The push channel's limits: held connects per BAYEUX_BROWSER counted per user; JSONP
// answered only to pages that say where they are, with callback names that cannot reach into
// the page, and no clientId in the access log or server-status.  Contact center t18.
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

let ccId;

before(async () => { ccId = await freshContactCenter(cc); });
beforeEach(async () => {
  await db.query(`DELETE FROM interactions.push_sessions WHERE cc_id = $1`, [ccId]);
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
