// The push channel across restarts of the httpd that serves it: sessions live in
// PostgreSQL, so a client keeps its session over a restart; one whose session is gone is
// told 402 and handshakes again; with the ack extension nothing is lost even when httpd is
// killed mid-stream; a graceful restart answers held connects at once.
// Its own httpd (so that restarting it disturbs no other test); the REST calls that make
// the events go to the main test server.  Contact center t8.
import { test, before, beforeEach, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { ok, db, freshContactCenter, httpdInstance, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { opOk, ownedBy } from '../lib/flows.mjs';
import { cometdClient, about, dropProxy, rawSession, rawConnect } from '../lib/push.mjs';

const NAME = 'httpd-push';
watchErrorLog([]);
watchErrorLog([], NAME);
const cc = 't8';
let ccId, inst;
let open = [];

before(() => { inst = httpdInstance(NAME, { CCS: cc }).start(); });
beforeEach(async () => { ccId = await freshContactCenter(cc); });
after(() => inst.stop());
afterEach(async () => {
  for (const c of open) await c.disconnect();
  open = [];
});

async function client(opts) {
  const c = await cometdClient({ cc, port: inst.port, ...opts });
  open.push(c);
  return c;
}

const sessionRow = (clientId) => db.query(`SELECT client_id FROM interactions.push_sessions
                                          WHERE cc_id = $1 AND client_id = $2`, [ccId, clientId]);

test('after an httpd restart the CometD client keeps receiving, on the same session', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const c = await client({ user: 'agent1' });
  const r1 = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { step: 1 } });
  await c.waitFor((m) => about(id)(m) && m.data.referenceId === r1.referenceId);
  const clientId = c.clientId();

  inst.stop();
  // changes while the push server is down are kept in the history
  const r2 = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { step: 2 } });
  inst.start();
  const r3 = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { step: 3 } });
  for (const r of [r2, r3]) {
    await c.waitFor((m) => about(id)(m) && m.data.referenceId === r.referenceId, 30000);
  }
  assert.equal(c.meta.handshakes, 1, 'no new handshake was needed');
  assert.equal(c.clientId(), clientId);
});

test('a client whose session is gone is told 402, handshakes again, resubscribes and receives', async () => {
  const id = await ownedBy(cc, ccId, 'agent2');
  const c = await client({ user: 'agent2' });
  const first = c.clientId();
  // the session expired (say, while the client was away): remove it
  await db.query(`DELETE FROM interactions.push_sessions WHERE cc_id = $1 AND client_id = $2`, [ccId, first]);
  // news for agent2 wakes the held connect, which finds its session gone
  await opOk(cc, 'agent2', id, 'UpdateUserData', { userData: { wake: 1 } });
  await eventually(() => c.meta.handshakes === 2 && c.meta.subscribeFailures.length === 0, 30000);
  assert.ok(c.meta.connectFailures.includes('402::Unknown client'), JSON.stringify(c.meta.connectFailures));
  assert.notEqual(c.clientId(), first);
  assert.equal((await sessionRow(c.clientId())).length, 1);
  // the new session's subscription works
  await eventually(async () => (await db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                                WHERE cc_id = $1 AND client_id = $2`, [ccId, c.clientId()])) === true);
  const r = await opOk(cc, 'agent2', id, 'UpdateUserData', { userData: { after: 1 } });
  await c.waitFor((m) => about(id)(m) && m.data.referenceId === r.referenceId);
});

test('with the ack extension nothing is lost when httpd is killed mid-stream', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const c = await client({ user: 'agent1', ack: true });
  const N = 30;
  const sent = [];
  for (let n = 1; n <= N; n++) {
    const r = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { n } });
    sent.push(r.referenceId);
    if (n === 10) {
      // every connection dropped at once, whatever was in flight
      inst.kill();
    }
    if (n === 20) {
      inst.start();
    }
    if (n % 5 === 0) await sleep(50);
  }
  const got = () => new Set(c.messages.filter(about(id)).map((m) => m.data.referenceId));
  await eventually(() => sent.every((ref) => got().has(ref)), 60000, 50);
  assert.equal(c.meta.handshakes, 1, 'the session survived the kill');
  assert.ok(c.meta.acks.length > 0, 'the server numbered its batches');
  // the user data arrived in order: the last message has the last value
  const last = c.messages.filter(about(id)).at(-1);
  assert.deepEqual(last.data.interaction.userData, { n: N });
});

test('with the ack extension a reply lost with its connection is sent again; without it, it is lost', async () => {
  // agent1 with the ack extension and agent2 without, each through a proxy that cuts the
  // connection carrying the first reply with a message in it
  const id1 = await ownedBy(cc, ccId, 'agent1');
  const id2 = await ownedBy(cc, ccId, 'agent2');
  const p1 = await dropProxy(inst.port);
  const p2 = await dropProxy(inst.port);
  try {
    const withAck = await client({ user: 'agent1', ack: true, port: p1.port });
    const without = await client({ user: 'agent2', port: p2.port });
    p1.arm();
    p2.arm();
    const lost1 = await opOk(cc, 'agent1', id1, 'UpdateUserData', { userData: { n: 1 } });
    const lost2 = await opOk(cc, 'agent2', id2, 'UpdateUserData', { userData: { n: 1 } });
    await eventually(() => p1.drops === 1 && p2.drops === 1, 30000);
    const next1 = await opOk(cc, 'agent1', id1, 'UpdateUserData', { userData: { n: 2 } });
    const next2 = await opOk(cc, 'agent2', id2, 'UpdateUserData', { userData: { n: 2 } });
    await withAck.waitFor((m) => about(id1)(m) && m.data.referenceId === next1.referenceId, 30000);
    await without.waitFor((m) => about(id2)(m) && m.data.referenceId === next2.referenceId, 30000);
    // the acknowledged session got the dropped message again, in order; the other never will
    assert.deepEqual(withAck.messages.filter(about(id1)).map((m) => m.data.referenceId),
      [lost1.referenceId, next1.referenceId]);
    assert.deepEqual(without.messages.filter(about(id2)).map((m) => m.data.referenceId), [next2.referenceId]);
    assert.equal(lost2.statusCode, 0);
    assert.equal(withAck.meta.handshakes, 1);
  } finally {
    for (const c of open) await c.disconnect();
    open = [];
    await p1.close();
    await p2.close();
  }
});

test('a graceful restart answers held connects at once; the session carries on', async () => {
  const s = await rawSession('supervisor', { cc, channels: ['/v2/interactions'], port: inst.port });
  await rawConnect(s, { timeout: 0 });
  const held = rawConnect(s);
  await eventually(() => db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                   WHERE cc_id = $1 AND client_id = $2`, [ccId, s.clientId]));
  inst.graceful();
  const r = await held;
  assert.equal(r.status, 200);
  assert.equal(r.reply.successful, true);
  assert.equal(r.reply.advice.reconnect, 'retry');
  assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  await eventually(async () => {
    const x = await rawConnect(s, { timeout: 0 }).catch(() => null);
    return x && x.reply && x.reply.successful && x.events.some(about(created.id));
  }, 20000, 200);
});
