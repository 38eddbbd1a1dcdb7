// The push channel (CometD / Bayeux 1.0) with the real clients: the official CometD
// JavaScript client and Faye, and raw Bayeux where the protocol itself is the subject.
// Contact center t7 (t8 only as "another contact center").
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import pg from 'pg';
import path from 'node:path';
import { api, ok, db, env, freshContactCenter, watchErrorLog, eventually, userId } from '../lib/harness.mjs';
import { channel, opOk, ownedBy, invitedTo } from '../lib/flows.mjs';
import { cometdClient, fayeClient, about, bayeux, rawSession, rawConnect, rawDisconnect, basic,
  notificationsUrl } from '../lib/push.mjs';

watchErrorLog([]);
const cc = 't7';
let ccId;
let open = [];   // clients of the running test, disconnected after it

before(async () => { await freshContactCenter('t8'); });
beforeEach(async () => { ccId = await freshContactCenter(cc); open = []; });
afterEach(async () => {
  for (const c of open) await c.disconnect();
});

async function client(opts) {
  const c = await cometdClient({ cc, ...opts });
  open.push(c);
  return c;
}

const ME = '/v2/me/interactions';
const ALL = '/v2/interactions';
const isState = (id, state) => (m) => about(id)(m) && m.data.interaction.state === state;

// ------------------------------------------------------------------ with the CometD client

test('CometD: an agent hears its offer, then its own Accept with the referenceId of the HTTP response', async () => {
  const a1 = await client({ user: 'agent1' });
  assert.deepEqual(a1.meta.subscribeFailures, []);
  await channel(cc, 'agent1', 'Ready');
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support', subject: 'push 1' } });
  const offer = await a1.waitFor(isState(created.id, 'Invited'));
  assert.equal(offer.channel, ME);
  assert.equal(offer.data.messageType, 'InteractionStateMessage');
  assert.equal(offer.data.notificationType, 'StatusChange');
  // routing offered it inside the create's transaction: the create's referenceId
  assert.equal(offer.data.referenceId, created.referenceId);
  assert.deepEqual(offer.data.interaction.capabilities, ['Accept', 'Reject']);
  assert.equal(offer.data.interaction.uri, created.uri);
  assert.equal(offer.data.interaction.assignedTo, 'agent1');
  assert.equal(offer.data.interaction._invitee, undefined);
  await channel(cc, 'agent1', 'NotReady');

  const acc = await opOk(cc, 'agent1', created.id, 'Accept');
  const mine = await a1.waitFor((m) => about(created.id)(m) && m.data.referenceId === acc.referenceId);
  assert.equal(mine.data.notificationType, 'StatusChange');
  assert.equal(mine.data.interaction.state, 'Processing');
  assert.deepEqual(mine.data.interaction.capabilities, acc.interaction.capabilities);
  // one interaction's messages come in the order of its changes, each once
  assert.deepEqual(a1.messages.filter(about(created.id)).map((m) => m.data.interaction.state), ['Invited', 'Processing']);
  assert.equal(a1.meta.handshakes, 1);
  assert.deepEqual(a1.meta.connectFailures, []);
});

test('user-data changes arrive as PropertiesUpdated with the operation referenceId', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const a1 = await client({ user: 'agent1' });
  const r1 = await opOk(cc, 'agent1', id, 'AttachUserData', { userData: { order: 42 } });
  const r2 = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { order: 43, tier: 'gold' } });
  const r3 = await opOk(cc, 'agent1', id, 'DeleteUserData', { keys: ['tier'] });
  for (const [r, ud] of [[r1, { order: 42 }], [r2, { order: 43, tier: 'gold' }], [r3, { order: 43 }]]) {
    const m = await a1.waitFor((x) => about(id)(x) && x.data.referenceId === r.referenceId);
    assert.equal(m.data.notificationType, 'PropertiesUpdated');
    assert.equal(m.data.interaction.state, 'Processing');
    assert.deepEqual(m.data.interaction.userData, ud);
  }
});

test('an agent is told when an interaction stops being theirs: transferred, completed, offer withdrawn', async () => {
  const a1 = await client({ user: 'agent1' });
  const a2 = await client({ user: 'agent2' });

  // transferred to agent2: agent1 sees it go, agent2 sees the offer
  const id = await ownedBy(cc, ccId, 'agent1');
  const tr = await opOk(cc, 'agent1', id, 'Transfer', { userId: 'agent2' });
  const gone = await a1.waitFor((m) => about(id)(m) && m.data.referenceId === tr.referenceId);
  assert.equal(gone.data.interaction.state, 'Invited');
  assert.equal(gone.data.interaction.assignedTo, 'agent2');
  assert.deepEqual(gone.data.interaction.capabilities, []);
  const offered = await a2.waitFor((m) => about(id)(m) && m.data.referenceId === tr.referenceId);
  assert.deepEqual(offered.data.interaction.capabilities, ['Accept', 'Reject']);

  // completed
  const id2 = await ownedBy(cc, ccId, 'agent1');
  const done = await opOk(cc, 'agent1', id2, 'Complete');
  const m2 = await a1.waitFor((m) => about(id2)(m) && m.data.referenceId === done.referenceId);
  assert.equal(m2.data.interaction.state, 'Completed');
  assert.deepEqual(m2.data.interaction.capabilities, []);

  // an offer nobody answers is withdrawn (queue "quick": 1 s): Revoked, no capabilities,
  // and no referenceId, since no API call withdrew it
  await channel(cc, 'agent1', 'Ready');
  const q = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'quick' } });
  await channel(cc, 'agent1', 'NotReady');
  await a1.waitFor(isState(q.id, 'Invited'));
  const revoked = await a1.waitFor(isState(q.id, 'Revoked'), 20000);
  assert.deepEqual(revoked.data.interaction.capabilities, []);
  assert.equal(revoked.data.referenceId, undefined);
  assert.equal(a2.messages.filter(about(q.id)).length, 0, 'agent2 was never concerned');
});

test('GetWorkbinContent arrives as WorkbinContent to the caller only', async () => {
  const a3 = await client({ user: 'agent3' });
  const a1 = await client({ user: 'agent1' });
  const id = await ownedBy(cc, ccId, 'agent3', { queueName: 'sales' });
  await opOk(cc, 'agent3', id, 'PlaceInWorkbin', { workbin: 'drafts' });
  const r = await ok('agent3', 'POST', '/me/interactions', { cc, body: { operationName: 'GetWorkbinContent', workbin: 'drafts' } });
  const m = await a3.waitFor((x) => x.data.messageType === 'WorkbinContentMessage');
  assert.equal(m.channel, ME);
  assert.equal(m.data.notificationType, 'WorkbinContent');
  assert.equal(m.data.referenceId, r.referenceId);
  assert.deepEqual(m.data.workbin, r.workbin);
  assert.equal(a1.count((x) => x.data.messageType === 'WorkbinContentMessage'), 0);
});

test('Faye: an agent hears its offer and its Accept', async () => {
  const f = await fayeClient({ cc, user: 'agent2' });
  open.push(f);
  await channel(cc, 'agent2', 'Ready');
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  await channel(cc, 'agent2', 'NotReady');
  const offer = await f.waitFor(isState(created.id, 'Invited'));
  assert.equal(offer.data.referenceId, created.referenceId);
  const acc = await opOk(cc, 'agent2', created.id, 'Accept');
  const m = await f.waitFor((x) => about(created.id)(x) && x.data.referenceId === acc.referenceId);
  assert.equal(m.data.interaction.state, 'Processing');
});

test('supervisors and admins hear every change of their contact center on /v2/interactions; agents may not subscribe', async () => {
  const sup = await client({ user: 'supervisor', channels: [ALL] });
  const admin = await client({ user: 'admin', channels: [ALL, ME] });
  assert.deepEqual(sup.meta.subscribeFailures, []);
  assert.deepEqual(admin.meta.subscribeFailures, []);
  const agent = await client({ user: 'agent1', channels: [ALL] });
  assert.equal(agent.meta.subscribeFailures.length, 1);
  assert.match(agent.meta.subscribeFailures[0].error, /^403:\/v2\/interactions:/);

  const other = await ok('feeder', 'POST', '/interactions', { cc: 't8', body: { mediaType: 'email', queueName: 'support' } });
  const id = await ownedBy(cc, ccId, 'agent1');
  const ud = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { x: 1 } });
  for (const c of [sup, admin]) {
    const queued = await c.waitFor((m) => m.channel === ALL && isState(id, 'Queued')(m));
    assert.equal(queued.data.notificationType, 'StatusChange');
    await c.waitFor((m) => m.channel === ALL && isState(id, 'Invited')(m));
    await c.waitFor((m) => m.channel === ALL && isState(id, 'Processing')(m));
    const props = await c.waitFor((m) => m.channel === ALL && about(id)(m) && m.data.referenceId === ud.referenceId);
    assert.equal(props.data.notificationType, 'PropertiesUpdated');
    // rendered for the supervisor: no agent capabilities
    assert.deepEqual(props.data.interaction.capabilities, []);
    assert.equal(c.count(about(other.id)), 0, 'another contact center never shows');
  }
  // the agent's own channel is unaffected by the refused subscription
  assert.equal(agent.count((m) => m.channel === ALL), 0);
});

test('a WebSocket upgrade without credentials gets a fast 401, and CometD then falls back to long-polling', async () => {
  const upgrade = (headers) => new Promise((resolve, reject) => {
    const req = http.request(notificationsUrl(cc), {
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(101); });
    req.on('error', reject);
    req.end();
  });
  assert.equal(await upgrade({ Authorization: basic('agent1') }), 101);
  assert.equal(await upgrade({}), 401);
  const c = await client({ user: 'agent1', websocket: true });
  assert.equal(c.meta.transports[0], 'long-polling');
  await channel(cc, 'agent1', 'Ready');
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  await channel(cc, 'agent1', 'NotReady');
  await c.waitFor(isState(created.id, 'Invited'));
});

// ------------------------------------------------------------------ the protocol, raw

test('a clientId presented by another user, or in another contact center, is unknown (402)', async () => {
  const s = await rawSession('agent1', { cc });
  const theirs = await rawConnect(s, { user: 'agent2', timeout: 0 });
  assert.equal(theirs.status, 200);
  assert.equal(theirs.reply.successful, false);
  assert.equal(theirs.reply.error, '402::Unknown client');
  assert.deepEqual(theirs.reply.advice, { reconnect: 'handshake', interval: 0 });
  const sub = await bayeux('agent2', [{ id: '1', channel: '/meta/subscribe', clientId: s.clientId, subscription: ALL }], { cc });
  assert.equal(sub.json[0].error, '402::Unknown client');
  const foreign = await bayeux('agent1', [{ id: '2', channel: '/meta/connect', clientId: s.clientId,
    connectionType: 'long-polling', advice: { timeout: 0 } }], { cc: 't8' });
  assert.equal(foreign.json[0].error, '402::Unknown client');
  assert.equal(foreign.json[0].id, '2');
  const bye = await bayeux('agent2', [{ id: '3', channel: '/meta/disconnect', clientId: s.clientId }], { cc });
  assert.equal(bye.json[0].error, '402::Unknown client');
  // the owner's session is untouched by all that
  const mine = await rawConnect(s, { timeout: 0 });
  assert.equal(mine.reply.successful, true);
  assert.equal(mine.reply.clientId, s.clientId);
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.push_sessions WHERE cc_id = $1`, [ccId]), 1);
});

test('every request gets HTTP 200, JSON, no caching and a reply per message; writes must be application/json', async () => {
  const s = await rawSession('agent1', { cc });
  const r = await bayeux('agent1', [
    { id: 'a', channel: '/meta/connect', clientId: s.clientId, connectionType: 'long-polling' },
    { id: 'b', channel: '/meta/subscribe', clientId: s.clientId, subscription: ['/meta/connect'] },
    { id: 'c', channel: '/meta/subscribe', clientId: s.clientId, subscription: '/v2/other' },
    { id: 'd', channel: '/meta/subscribe', clientId: s.clientId, subscription: '/service/x' },
    { id: 'e', channel: '/v2/me/interactions', clientId: s.clientId, data: { forged: true } },
    { id: 'f', channel: '/meta/unsubscribe', clientId: s.clientId, subscription: ME },
  ], { cc });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/json;charset=UTF-8');
  assert.equal(r.headers.get('cache-control'), 'no-cache, no-store');
  assert.deepEqual(r.json.map((m) => [m.id, m.successful]),
    [['a', true], ['b', false], ['c', false], ['d', true], ['e', false], ['f', true]]);
  assert.match(r.json[1].error, /^403:/);
  assert.match(r.json[2].error, /^403:\/v2\/other:/);
  assert.equal(r.json[4].error, '403::publish_denied');
  assert.equal(r.json.filter((m) => m.data).length, 0, 'nothing forged was delivered');
  // the subscription echo is exactly what was sent
  assert.deepEqual(r.json[1].subscription, ['/meta/connect']);
  assert.equal(await db.value(`SELECT array_length(channels, 1) IS NULL FROM interactions.push_sessions
                                WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]), true);

  const form = await bayeux('agent1', null, { cc, headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `message=${encodeURIComponent(JSON.stringify([{ channel: '/meta/connect', clientId: s.clientId }]))}` });
  assert.equal(form.status, 415);
  assert.equal(form.json.statusCode, 10);
  for (const body of ['[', '[]', '[1]', '{"x":1}']) {
    const bad = await bayeux('agent1', null, { cc, body });
    assert.equal(bad.status, 400, body);
    assert.equal(bad.json.statusCode, 10);
  }
  const anon = await bayeux(null, [{ channel: '/meta/handshake' }], { cc });
  assert.equal(anon.status, 401);
});

test('the ack extension: batches are numbered, and an unacknowledged batch is sent again', async () => {
  const s = await rawSession('supervisor', { cc, channels: [ALL], ack: true });
  assert.deepEqual(s.handshake.json[0].ext, { ack: true });
  // a reply without events keeps the number the client holds (0 at first)
  const first = await rawConnect(s, { timeout: 0, ack: 0 });
  assert.deepEqual(first.reply.ext, { ack: 0 });
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  // the next batch carries the create (held until it is stable, if need be)
  let b = 0, before, got;
  got = await eventually(async () => {
    before = b;
    const r = await rawConnect(s, { timeout: 0, ack: b });
    b = r.reply.ext.ack;
    return r.events.some(about(created.id)) ? r : null;
  });
  const lost = got.reply.ext.ack;
  assert.notEqual(lost, before, 'a batch with events has a number of its own');
  // the client says it only received the batch before: the same messages come again
  const again = await rawConnect(s, { timeout: 0, ack: before });
  assert.equal(again.reply.ext.ack, lost);
  assert.deepEqual(again.events, got.events);
  // acknowledged: never again
  const after = await rawConnect(s, { timeout: 0, ack: lost });
  assert.equal(after.events.length, 0);
});

test('without the ack extension delivery moves on as replies are sent', async () => {
  const s = await rawSession('supervisor', { cc, channels: [ALL] });
  await rawConnect(s, { timeout: 0 });
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  await eventually(async () => (await rawConnect(s, { timeout: 0 })).events.some(about(created.id)));
  const next = await rawConnect(s, { timeout: 0 });
  assert.equal(next.events.length, 0);
  assert.equal(next.reply.ext, undefined);
});

test('a held connect is answered when news for its user commits, also news written with psql', async () => {
  const s = await rawSession('supervisor', { cc, channels: [ALL] });
  await rawConnect(s, { timeout: 0 });
  // through the API: the handler pokes the listener
  let held = rawConnect(s);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  let r = await held;
  assert.ok(r.events.some(about(created.id)));
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
  // written by another program: nobody pokes, the listener's fallback read finds it
  held = rawConnect(s);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
  const res = await db.value(`SELECT interactions.api($1, 'feeder', 'create', $2)::text`,
    [ccId, JSON.stringify({ mediaType: 'email', queueName: 'support', subject: 'from psql' })]);
  const psqlId = JSON.parse(res).id;
  r = await held;
  assert.ok(r.events.some(about(psqlId)));
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
});

test('a subscription made while a connect is held takes effect for that connect', async () => {
  // CometD sends its subscriptions while its connect is already held
  const s = await rawSession('supervisor', { cc, channels: [] });
  await rawConnect(s, { timeout: 0 });
  const pending = rawConnect(s);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
  const sub = await bayeux('supervisor', [{ id: '1', channel: '/meta/subscribe', clientId: s.clientId,
    subscription: ALL }], { cc, cookie: s.cookie });
  assert.equal(sub.json[0].successful, true);
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  const r = await pending;
  assert.ok(r.events.some(about(created.id)));
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
});

test('a row of an older transaction that commits late is delivered, never skipped', async () => {
  const s = await rawSession('supervisor', { cc, channels: [ALL] });
  await rawConnect(s, { timeout: 0 });
  const conn = new pg.Client({ host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres', database: 'interactions' });
  await conn.connect();
  let oldId, newId;
  try {
    await conn.query('BEGIN');
    oldId = (await conn.query(`SELECT interactions.api($1, 'feeder', 'create', $2) AS r`,
      [ccId, JSON.stringify({ mediaType: 'email', queueName: 'support', subject: 'old' })])).rows[0].r.id;
    // a younger transaction commits first
    newId = (await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support', subject: 'new' } })).id;
    // while the old one runs, the younger row waits above the stable cut
    for (let i = 0; i < 5; i++) {
      const r = await rawConnect(s, { timeout: 0 });
      assert.equal(r.events.length, 0, 'nothing may pass the running transaction');
    }
    await conn.query('COMMIT');
  } finally {
    await conn.end();
  }
  const seen = [];
  await eventually(async () => {
    seen.push(...(await rawConnect(s, { timeout: 0 })).events.map((e) => e.data.interaction.id));
    return seen.includes(oldId) && seen.includes(newId);
  });
  // in commit-stream order: the old transaction's row first
  assert.deepEqual(seen.filter((id) => id === oldId || id === newId), [oldId, newId]);
});

test('multiple clients in one browser: one held connect per browser, the others are told to poll', async () => {
  const s1 = await rawSession('supervisor', { cc, channels: [ALL] });
  assert.match(s1.cookie || '', /^BAYEUX_BROWSER=[0-9a-f]{32}$/);
  assert.match(s1.handshake.headers.get('set-cookie'), /HttpOnly/);
  // a second tab of the same user in the same browser (44_push_limits: another user with
  // the same cookie is not counted with this one)
  const s2 = await rawSession('supervisor', { cc, channels: [ALL], cookie: s1.cookie });
  assert.equal(s2.handshake.headers.get('set-cookie'), null, 'the browser keeps its cookie');
  await rawConnect(s1, { timeout: 0 });
  await rawConnect(s2, { timeout: 0 });
  const held = rawConnect(s1);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s1.clientId]));
  const second = await rawConnect(s2);
  assert.equal(second.reply.successful, true);
  assert.deepEqual(second.reply.advice, { reconnect: 'retry', interval: 2000, timeout: 25000, 'multiple-clients': true });
  // another browser is held as usual
  const s3 = await rawSession('admin', { cc, channels: [ALL] });
  await rawConnect(s3, { timeout: 0 });
  const third = rawConnect(s3);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s3.clientId]));
  // news ends both holds
  await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  for (const r of await Promise.all([held, third])) {
    assert.equal(r.reply.successful, true);
    assert.equal(r.reply.advice['multiple-clients'], undefined);
    assert.equal(r.events.length, 1);
  }
});

test('sessions expire when their client stops polling, never while a connect is held', async () => {
  const s = await rawSession('supervisor', { cc, channels: [ALL] });
  await rawConnect(s, { timeout: 0 });
  const life = () => db.one(`SELECT extract(epoch FROM expires_at - now()) AS left, held_until
                               FROM interactions.push_sessions WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]);
  let l = await life();
  assert.ok(l.left > 5 && l.left <= 10, `maxInterval after the connect ended (${l.left} s)`);
  const held = rawConnect(s);
  l = await eventually(async () => { const x = await life(); return x.held_until ? x : null; });
  assert.ok(l.left > 30, `a held connect keeps its session for the hold plus maxInterval (${l.left} s)`);
  await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  await held;
  // the client went away: once expired, its clientId is unknown, and the sweeper removes it
  await db.query(`UPDATE interactions.push_sessions SET expires_at = now() - interval '1 second'
                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]);
  const r = await rawConnect(s, { timeout: 0 });
  assert.equal(r.reply.error, '402::Unknown client');
  // the maintenance tick calls interactions.push_sweep(); tests/sql checks what it returns
  await eventually(async () => await db.value(`SELECT count(*)::int FROM interactions.push_sessions
                                               WHERE cc_id = $1`, [ccId]) === 0);
});

test('disconnect ends the session and answers its held connect, whichever process holds it', async () => {
  const s = await rawSession('agent1', { cc });
  await rawConnect(s, { timeout: 0 });
  // the test server has two child processes, so the disconnect may reach the process
  // holding the connect or the other one (32_push_cluster.test.mjs makes sure of the
  // other-server case)
  for (let i = 0; i < 4; i++) {
    const held = rawConnect(s);
    await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                     WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
    const bye = await rawDisconnect(s);
    assert.equal(bye.json[0].successful, true);
    const r = await held;
    assert.equal(r.reply.successful, true);
    assert.deepEqual(r.reply.advice, { reconnect: 'none' });
    assert.ok(r.ms < 15000, `the held connect was answered after ${r.ms} ms (the hold is 25 s)`);
    if (i < 3) {
      const again = await rawSession('agent1', { cc });
      s.clientId = again.clientId;
      s.cookie = again.cookie;
      await rawConnect(s, { timeout: 0 });
    }
  }
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.push_sessions WHERE cc_id = $1`, [ccId]), 0);
  const r = await rawConnect(s, { timeout: 0 });
  assert.equal(r.reply.error, '402::Unknown client');
});

test('JSONP (callback-polling): a round trip, refused cross-site, callback names checked', async () => {
  const url = notificationsUrl(cc);
  // what a browser sends with a <script src> of its own page (44_push_limits: without it)
  const page = { 'Sec-Fetch-Site': 'same-origin' };
  const jsonp = async (suffix, messages, headers = page, callback = '_cometd_jsonp_3') => {
    const q = `?jsonp=${encodeURIComponent(callback)}&message=${encodeURIComponent(JSON.stringify(messages))}`;
    const res = await fetch(url + suffix + q, { headers: { Authorization: basic('supervisor'), ...headers } });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), headers: res.headers };
  };
  const unwrap = (r) => {
    const m = /^\/\*\*\/_cometd_jsonp_3\((.*)\);$/s.exec(r.text);
    assert.ok(m, r.text);
    return JSON.parse(m[1]);
  };
  const hs = await jsonp('/handshake', [{ id: '1', channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['callback-polling'] }]);
  assert.equal(hs.status, 200);
  assert.equal(hs.type, 'text/javascript;charset=UTF-8');
  assert.equal(hs.headers.get('cache-control'), 'no-cache, no-store');
  const [h] = unwrap(hs);
  assert.equal(h.successful, true);
  assert.ok(h.supportedConnectionTypes.includes('callback-polling'));
  const cid = h.clientId;
  const [sub] = unwrap(await jsonp('', [{ id: '2', channel: '/meta/subscribe', clientId: cid, subscription: ALL }]));
  assert.equal(sub.successful, true);
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  const ev = await eventually(async () => {
    const replies = unwrap(await jsonp('/connect', [{ id: '3', channel: '/meta/connect', clientId: cid,
      connectionType: 'callback-polling', advice: { timeout: 0 } }]));
    return replies.find((m) => m.data && about(created.id)(m));
  });
  assert.equal(ev.channel, ALL);

  // the same page (its own origin) may; other sites' pages may not
  const same = await jsonp('/connect', [{ id: '4', channel: '/meta/connect', clientId: cid, advice: { timeout: 0 } }],
    { 'Sec-Fetch-Site': 'same-origin', Referer: `http://127.0.0.1:${env.port}/desk/` });
  assert.equal(same.status, 200);
  for (const headers of [{ 'Sec-Fetch-Site': 'cross-site', Referer: 'https://evil.example/x' },
    { 'Sec-Fetch-Site': 'same-site' }, { Referer: 'https://evil.example/page' }, { Origin: 'https://evil.example' },
    { Origin: 'null' }]) {
    const r = await jsonp('/connect', [{ id: '5', channel: '/meta/connect', clientId: cid, advice: { timeout: 0 } }], headers);
    assert.equal(r.status, 403, JSON.stringify(headers));
    assert.match(r.type, /^application\/json/);
    assert.doesNotMatch(r.text, /_cometd_jsonp_3/);
  }
  for (const bad of ['alert(1)', 'a;b', '1x', '', 'document.write', 'alert']) {
    const r = await jsonp('/connect', [{ channel: '/meta/connect', clientId: cid }], page, bad);
    assert.equal(r.status, 400, bad);
  }
  const noMessage = await fetch(`${url}?jsonp=_cb`, { headers: { Authorization: basic('supervisor'), ...page } });
  assert.equal(noMessage.status, 400);
});

test('an agent subscribed to its own channel hears nothing about other agents', async () => {
  const a1 = await client({ user: 'agent1' });
  const a2id = await invitedTo(cc, ccId, 'agent2');
  await opOk(cc, 'agent2', a2id, 'Accept');
  const mine = await ownedBy(cc, ccId, 'agent1');
  await a1.waitFor(isState(mine, 'Processing'));
  assert.equal(a1.count(about(a2id)), 0);
  assert.ok(await userId(cc, 'agent1'));
});
