// CometD's websocket transport: after the 101 the handler keeps the connection and exchanges
// Bayeux messages as frames; a delivery goes out on the open connection with no new request.
// The official CometD client prefers it and falls back to long-polling where the upgrade is
// refused (InteractionsPushWebSocket Off); the upgrade is authenticated and its Origin
// checked; frames are client input and what RFC 6455 does not allow a client closes the
// connection with the code it names; an open WebSocket counts as a held connect in the
// user's share.  Contact centers t33 (the test server) and t34 (servers of their own).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { env, ok, freshContactCenter, httpdInstance, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { cometdClient, notificationsUrl, basic, about } from '../lib/push.mjs';
import { upgrade, frame, OP } from '../lib/ws.mjs';

const cc = 't33';
const cc2 = 't34';
const ME = '/v2/me/interactions';
watchErrorLog([/AH01617: user agent1: authentication failure .*Password Mismatch/]);
watchErrorLog([], 'httpd-wsoff');
watchErrorLog([], 'httpd-wscap');

let off, cap;

before(async () => {
  await freshContactCenter(cc);
  await freshContactCenter(cc2);
  const extra = path.join(env.varDir, 'push-websocket-off.conf');
  fs.writeFileSync(extra, 'InteractionsPushWebSocket Off\n');
  off = httpdInstance('httpd-wsoff', { CCS: cc2, SERVERS: 1, EXTRA: extra }).start();
  cap = httpdInstance('httpd-wscap', { CCS: cc2, SERVERS: 1, HELD_PER_USER: 1 }).start();
});

after(() => { if (off) off.stop(); if (cap) cap.stop(); });

async function metrics(port = env.port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/interactions-metrics`)).text();
  const values = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+(\{[^}]*\})?) (\d+(\.\d+)?)$/);
    if (m) values[m[1]] = Number(m[3]);
  }
  return values;
}

/** The notifications URL with the credentials in it: CometD's WebSocket (like a browser's)
 *  sends no header of the client's configuration, so Basic comes from the URL. */
function credUrl(c, user, port = env.port) {
  return notificationsUrl(c, port).replace('http://', `http://${user}:password@`);
}

/** An upgrade by @user, opened and handshaken over the WebSocket, subscribed to @channel. */
async function rawWs(user, { c = cc, port = env.port, channel = ME, headers = {} } = {}) {
  const u = await upgrade(notificationsUrl(c, port), { Authorization: basic(user), ...headers });
  assert.equal(u.status, 101, `upgrade: ${u.status} ${u.body}`);
  assert.ok(u.accepted, 'Sec-WebSocket-Accept answers the key');
  const ws = u.ws;
  // a client on the WebSocket may offer only websocket
  ws.text([{ id: '1', channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['websocket'] }]);
  const [hs] = await ws.message();
  assert.equal(hs.successful, true, JSON.stringify(hs));
  ws.clientId = hs.clientId;
  ws.text([{ id: '2', channel: '/meta/subscribe', clientId: hs.clientId, subscription: channel }]);
  const [sub] = await ws.message();
  assert.equal(sub.successful, true, JSON.stringify(sub));
  ws.text([{ id: '3', channel: '/meta/connect', clientId: hs.clientId, connectionType: 'websocket', advice: { timeout: 0 } }]);
  const [first] = await ws.message();
  assert.equal(first.successful, true, JSON.stringify(first));
  return ws;
}

// ------------------------------------------------------------------ the official clients

test('the CometD client prefers websocket and is pushed to over it, with and without ack', async () => {
  const m0 = await metrics();
  const hs = await ok('agent1', 'GET', '/me', { cc });   // the user exists and the password is right
  assert.ok(hs);
  // one agent each: an offered interaction takes the agent's capacity
  for (const [user, ack] of [['agent1', false], ['agent2', true]]) {
    const c = await cometdClient({ cc, user, websocket: true, ack, url: credUrl(cc, user) });
    try {
      assert.equal(c.meta.transports[0], 'websocket');
      const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
      await ok(user, 'POST', '/me/channels/email', { cc, body: { operationName: 'Ready' } });
      await c.waitFor((m) => about(created.id)(m) && m.data.interaction.state === 'Invited');
      await ok(user, 'POST', '/me/channels/email', { cc, body: { operationName: 'NotReady' } });
      assert.equal(c.meta.connectFailures.length, 0, c.meta.connectFailures.join());
      if (ack) assert.ok(c.meta.acks.length >= 1, 'the ack extension works over websocket');
      assert.equal(c.cometd.getTransport().type, 'websocket');
    } finally {
      await c.disconnect();
    }
  }
  const m1 = await metrics();
  assert.ok(m1.interactions_push_websocket_connections_total - (m0.interactions_push_websocket_connections_total || 0) >= 2);
  assert.ok(m1.interactions_push_websocket_messages_sent_total - (m0.interactions_push_websocket_messages_sent_total || 0) >= 4);
  assert.ok(m1.interactions_push_websocket_messages_received_total - (m0.interactions_push_websocket_messages_received_total || 0) >= 4);
  // closed connections are no longer open
  await eventually(async () => (await metrics()).interactions_push_websockets_open === 0, 10000, 200);
});

test('where the upgrade is refused (InteractionsPushWebSocket Off) the CometD client falls back to long-polling', async () => {
  const refused = await upgrade(notificationsUrl(cc2, off.port), { Authorization: basic('agent1') });
  assert.equal(refused.status, 400);
  assert.match(JSON.parse(refused.body).statusMessage || refused.body, /WebSocket/);
  const hs = await fetch(notificationsUrl(cc2, off.port), { method: 'POST', headers: { Authorization: basic('agent1'),
    'Content-Type': 'application/json' }, body: JSON.stringify([{ channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['websocket', 'long-polling'] }]) });
  const [reply] = await hs.json();
  assert.equal(reply.supportedConnectionTypes.includes('websocket'), false);
  const c = await cometdClient({ cc: cc2, user: 'agent2', websocket: true, port: off.port, url: credUrl(cc2, 'agent2', off.port) });
  try {
    assert.equal(c.cometd.getTransport().type, 'long-polling');
    const created = await ok('feeder', 'POST', '/interactions', { cc: cc2, port: off.port, body: { mediaType: 'email', queueName: 'support' } });
    await ok('agent2', 'POST', '/me/channels/email', { cc: cc2, port: off.port, body: { operationName: 'Ready' } });
    await c.waitFor((m) => about(created.id)(m) && m.data.interaction.state === 'Invited');
    await ok('agent2', 'POST', '/me/channels/email', { cc: cc2, port: off.port, body: { operationName: 'NotReady' } });
  } finally {
    await c.disconnect();
  }
  // on the test server the handshake names websocket first
  const on = await fetch(notificationsUrl(cc), { method: 'POST', headers: { Authorization: basic('agent1'),
    'Content-Type': 'application/json' }, body: JSON.stringify([{ channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['long-polling'] }]) });
  const [onReply] = await on.json();
  assert.equal(onReply.supportedConnectionTypes[0], 'websocket');
});

// ------------------------------------------------------------------ Bayeux over frames

test('a held connect on the WebSocket is answered on the open connection when news comes, with no request', async () => {
  const ws = await rawWs('agent3');
  try {
    ws.text([{ id: '4', channel: '/meta/connect', clientId: ws.clientId, connectionType: 'websocket' }]);
    await sleep(500);
    assert.equal(ws.frames.filter((f) => f.op === OP.TEXT).length, 3, 'the connect is held');
    // a ping while the connect is held is answered at once, with its payload
    ws.send(frame(OP.PING, 'are you there'));
    const pong = await ws.next();
    assert.equal(pong.op, OP.PONG);
    assert.equal(pong.payload.toString(), 'are you there');
    const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'sales' } });
    await ok('agent3', 'POST', '/me/channels/email', { cc, body: { operationName: 'Ready' } });
    let delivered = null, connectReply = null;
    while (!delivered || !connectReply) {
      const msgs = await ws.message(15000);
      for (const m of msgs) {
        if (m.channel === ME && about(created.id)(m)) delivered = m;
        if (m.channel === '/meta/connect') connectReply = m;
      }
    }
    assert.equal(connectReply.successful, true);
    await ok('agent3', 'POST', '/me/channels/email', { cc, body: { operationName: 'NotReady' } });
    // the close handshake: the server answers with the client's code and ends the connection
    ws.send(frame(OP.CLOSE, Buffer.from([0x03, 0xe8])));
    const cl = await ws.closeFrame();
    assert.equal(cl.code, 1000);
    assert.equal(await ws.closed, true);
  } finally {
    ws.end();
  }
});

test('frames RFC 6455 does not allow a client close the connection with the code it names', async () => {
  const big = Buffer.alloc(8);
  const cases = [
    ['an unmasked frame', frame(OP.TEXT, '[]', { mask: false }), 1002],
    ['reserved bits', frame(OP.TEXT, '[]', { rsv: 4 }), 1002],
    ['a reserved opcode', frame(3, 'x'), 1002],
    ['a binary message', frame(OP.BINARY, Buffer.from([1, 2, 3])), 1003],
    ['a fragmented ping', frame(OP.PING, 'x', { fin: false }), 1002],
    ['a continuation with no message', frame(OP.CONT, 'x'), 1002],
    ['text that is not UTF-8', frame(OP.TEXT, Buffer.from([0x5b, 0xff, 0x5d])), 1007],
    ['a message above InteractionsMaxBodySize', Buffer.concat([frame(OP.TEXT, big, { len: 2 ** 40 }).subarray(0, 14)]), 1009],
    ['a close code a client may not send', frame(OP.CLOSE, Buffer.from([0x03, 0xed])), 1002],
    ['malformed JSON', frame(OP.TEXT, '[{"channel":'), 1007],
  ];
  for (const [what, bytes, code] of cases) {
    const u = await upgrade(notificationsUrl(cc), { Authorization: basic('agent4') });
    assert.equal(u.status, 101);
    u.ws.send(bytes);
    const cl = await u.ws.closeFrame();
    assert.ok(cl, `${what}: no close frame`);
    assert.equal(cl.code, code, `${what}: ${cl.reason}`);
    assert.equal(await u.ws.closed, true, `${what}: the connection stays open`);
    u.ws.end();
  }
  // a message in fragments, with a ping between them, is one message
  const ws = (await upgrade(notificationsUrl(cc), { Authorization: basic('agent4') })).ws;
  const hs = JSON.stringify([{ id: '1', channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['websocket', 'long-polling'] }]);
  ws.send(frame(OP.TEXT, hs.slice(0, 10), { fin: false }));
  ws.send(frame(OP.PING, 'p'));
  ws.send(frame(OP.CONT, hs.slice(10, 30), { fin: false }));
  ws.send(frame(OP.CONT, hs.slice(30)));
  assert.equal((await ws.next()).op, OP.PONG);
  const [reply] = await ws.message();
  assert.equal(reply.successful, true);
  ws.end();
});

// ------------------------------------------------------------------ the upgrade

test('the upgrade is authenticated, its Origin checked, and its headers those of RFC 6455', async () => {
  const url = notificationsUrl(cc);
  assert.equal((await upgrade(url, {})).status, 401);
  assert.equal((await upgrade(url, { Authorization: basic('agent1', 'wrong') })).status, 401);
  const foreign = await upgrade(url, { Authorization: basic('agent1'), Origin: 'https://evil.example' });
  assert.equal(foreign.status, 403);
  assert.equal(JSON.parse(foreign.body).statusCode, 5);
  const own = await upgrade(url, { Authorization: basic('agent1'), Origin: `http://127.0.0.1:${env.port}` });
  assert.equal(own.status, 101);
  own.ws.end();
  const v8 = await upgrade(url, { Authorization: basic('agent1'), 'Sec-WebSocket-Version': '8' });
  assert.equal(v8.status, 426);
  assert.equal(v8.headers['sec-websocket-version'], '13');
  assert.equal((await upgrade(url, { Authorization: basic('agent1'), 'Sec-WebSocket-Key': 'short' })).status, 400);
  assert.equal((await upgrade(url, { Authorization: basic('agent1'), Connection: 'keep-alive' })).status, 400);
});

test('an open WebSocket takes a held connect of the user\'s share, and gives it back when it closes, even mid-hold', async () => {
  const first = await rawWs('agent1', { c: cc2, port: cap.port });
  const second = await upgrade(notificationsUrl(cc2, cap.port), { Authorization: basic('agent1') });
  assert.equal(second.status, 429);
  assert.ok(second.headers['retry-after']);
  // another user is not counted against this one
  const other = await rawWs('agent2', { c: cc2, port: cap.port });
  other.end();
  // the user's long-polling connect is not held either: answered at once
  const hs = await (await fetch(notificationsUrl(cc2, cap.port), { method: 'POST', headers: { Authorization: basic('agent1'),
    'Content-Type': 'application/json' }, body: JSON.stringify([{ channel: '/meta/handshake', version: '1.0',
    supportedConnectionTypes: ['long-polling'] }]) })).json();
  const t0 = Date.now();
  const held = await (await fetch(notificationsUrl(cc2, cap.port), { method: 'POST', headers: { Authorization: basic('agent1'),
    'Content-Type': 'application/json' }, body: JSON.stringify([{ channel: '/meta/connect', clientId: hs[0].clientId,
    connectionType: 'long-polling' }]) })).json();
  assert.ok(Date.now() - t0 < 5000, 'a connect beyond the user\'s share is not held');
  assert.ok(held[0].advice, JSON.stringify(held));
  // the client vanishes while its connect is held: the thread notices at once
  first.text([{ id: '4', channel: '/meta/connect', clientId: first.clientId, connectionType: 'websocket' }]);
  await sleep(300);
  first.end();
  await eventually(async () => {
    const u = await upgrade(notificationsUrl(cc2, cap.port), { Authorization: basic('agent1') });
    if (u.ws) u.ws.end();
    return u.status === 101;
  }, 10000, 200);
});

test('a graceful restart closes open WebSockets with 1001, held connect or not, and clients reconnect', async () => {
  const held = await rawWs('agent3', { c: cc2, port: cap.port });
  held.text([{ id: '4', channel: '/meta/connect', clientId: held.clientId, connectionType: 'websocket' }]);
  const idle = await rawWs('agent4', { c: cc2, port: cap.port });
  await sleep(300);
  cap.graceful();
  // the held connect is answered (its session lives on), then the connection closes
  const [reply] = await held.message(10000);
  assert.equal(reply.channel, '/meta/connect');
  assert.equal(reply.successful, true);
  for (const ws of [held, idle]) {
    const cl = await ws.closeFrame(10000);
    assert.equal(cl && cl.code, 1001);
    assert.equal(await ws.closed, true);
    ws.end();
  }
  // the same session goes on over a new connection
  const again = await eventually(async () => {
    const u = await upgrade(notificationsUrl(cc2, cap.port), { Authorization: basic('agent3') });
    return u.status === 101 ? u.ws : null;
  }, 15000, 200);
  again.text([{ id: '5', channel: '/meta/connect', clientId: held.clientId, connectionType: 'websocket', advice: { timeout: 0 } }]);
  const [cont] = await again.message();
  assert.equal(cont.successful, true, JSON.stringify(cont));
  again.end();
});
