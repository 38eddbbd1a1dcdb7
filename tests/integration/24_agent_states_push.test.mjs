// Channel-state changes are rows of the push channel's history stream (operation
// ChannelState, the agent as audience) written with the change.  They are delivered on
// /v2/me/channels and /v2/agents only (19_push_channel_state); a session on the interaction
// channels passes them by: its cursor moves past them, it is sent nothing for them, and the
// interaction messages around them arrive each once, in order, with and without the ack
// extension, held connects and reconnects alike.  Contact center t26.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, db, freshContactCenter, watchErrorLog, eventually } from '../lib/harness.mjs';
import { channel, opOk, assertInvariants } from '../lib/flows.mjs';
import { cometdClient, about } from '../lib/push.mjs';

watchErrorLog();
const cc = 't26';
const ME = '/v2/me/interactions';
const ALL = '/v2/interactions';
let ccId;
let open = [];
before(async () => { ccId = await freshContactCenter(cc); });
beforeEach(async () => { await freshContactCenter(cc); open = []; });
afterEach(async () => {
  for (const c of open) await c.disconnect();
  await assertInvariants(ccId, true);
});

async function client(opts) {
  const c = await cometdClient({ cc, ...opts });
  open.push(c);
  return c;
}

const meOp = (agent, body) => api(agent, 'POST', '/me', { cc, body });
const stateRows = () => db.value(`SELECT count(*)::int FROM interactions.history
    WHERE cc_id = $1 AND operation = 'ChannelState'`, [ccId]);
/** How many of the sessions @clientIds have their cursor (or, with ack, what they were last
 *  sent) at or past the contact center's last history row. */
const passed = (clientIds) => db.value(`SELECT count(*)::int FROM interactions.push_sessions s,
      (SELECT xid, seq FROM interactions.history WHERE cc_id = $1 ORDER BY xid DESC, seq DESC LIMIT 1) h
    WHERE s.cc_id = $1 AND s.client_id = ANY ($2)
      AND ((s.cursor_xid, s.cursor_seq) >= (h.xid, h.seq) OR (s.sent_xid, s.sent_seq) >= (h.xid, h.seq))`,
[ccId, clientIds]);

/** A day's worth of state changes of @agent: every kind the agent can make. */
async function day(agent) {
  await channel(cc, agent, 'NotReady');
  await channel(cc, agent, 'AfterCallWork');
  await channel(cc, agent, 'Ready');
  for (const operationName of ['DoNotDisturbOn', 'DoNotDisturbOff']) {
    const r = await meOp(agent, { operationName });
    assert.equal(r.json.statusCode, 0, r.text);
  }
  const r = await meOp(agent, { operationName: 'StartContactCenterSession', channels: ['email', 'chat'] });
  assert.equal(r.json.statusCode, 0, r.text);
  await channel(cc, agent, 'Ready');
}

for (const ack of [false, true]) {
  test(`channel-state rows pass a push session by: interaction messages each once, in order (ack ${ack})`, async () => {
    const a1 = await client({ user: 'agent1', channels: [ME], ack });
    const sup = await client({ user: 'supervisor', channels: [ALL], ack });
    const rows0 = await stateRows();
    const ids = [];
    for (let i = 0; i < 3; i++) {
      await day('agent1');
      const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
      ids.push(created.id);
      await a1.waitFor((m) => about(created.id)(m) && m.data.interaction.state === 'Invited');
      await opOk(cc, 'agent1', created.id, 'Accept');
      await opOk(cc, 'agent1', created.id, 'Complete');
      await a1.waitFor((m) => about(created.id)(m) && m.data.interaction.state === 'Completed');
    }
    await day('agent2');
    const rows = (await stateRows()) - rows0;
    // at least AfterCallWork, Ready, Do Not Disturb on and off, the session, four days over
    assert.ok(rows >= 4 * 5, `channel-state rows written: ${rows}`);
    // the supervisor has seen the last change; both sessions' cursors passed every row
    await sup.waitFor((m) => about(ids[2])(m) && m.data.interaction.state === 'Completed');
    await eventually(async () => (await passed([a1.clientId(), sup.clientId()])) === 2, 15000, 100);
    // nothing but interaction messages, each interaction's in the order of its changes, once
    for (const c of [a1, sup]) {
      const strays = c.messages.filter((m) => !ids.includes(m.data?.interaction?.id));
      assert.deepEqual(strays, [], 'messages about no interaction of the test');
      assert.ok(c.messages.every((m) => m.data.messageType === 'InteractionStateMessage'));
      // the supervisor also sees the interaction created (Queued) before it is offered
      const states = c === a1 ? ['Invited', 'Processing', 'Completed'] : ['Queued', 'Invited', 'Processing', 'Completed'];
      assert.equal(c.messages.length, states.length * ids.length);
      for (const id of ids) {
        assert.deepEqual(c.messages.filter(about(id)).map((m) => m.data.interaction.state),
          states, `${id} on ${c === a1 ? ME : ALL}`);
      }
      assert.equal(c.meta.handshakes, 1);
      assert.deepEqual(c.meta.connectFailures, []);
    }
  });
}

test('a session whose connect is held while only channel states change is sent nothing, then the next offer', async () => {
  const a1 = await client({ user: 'agent1', channels: [ME], ack: true });
  await day('agent1');
  await day('agent1');
  await channel(cc, 'agent1', 'NotReady');
  // the held connect has been woken by nothing it may receive: no message so far
  await eventually(async () => (await passed([a1.clientId()])) === 1, 15000, 100);
  assert.deepEqual(a1.messages, []);
  await channel(cc, 'agent1', 'Ready');
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  const offer = await a1.waitFor(about(created.id));
  assert.equal(offer.data.interaction.state, 'Invited');
  assert.equal(a1.messages.length, 1);
});
