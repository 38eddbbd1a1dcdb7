// "capabilities lists exactly the operations this user may perform now": for every state an
// interaction can be in (and every relation of the caller to it), every operation is tried
// on a fresh interaction in that state; it must succeed exactly when it was a capability.
import { test, before, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, db, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';
import { create, op, opOk, invitedTo, ownedBy, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't4';
let ccId;
before(async () => {
  ccId = await freshContactCenter(cc);
  for (const a of ['agent1', 'agent2', 'agent3']) {
    for (const m of ['email', 'chat']) await db.query(`SELECT interactions.set_agent_capacity($1, $2, $3, 10000)`, [cc, a, m]);
  }
});
afterEach(async () => { await assertInvariants(ccId); });

const inWorkbin = async (agent, workbin) => {
  const id = await ownedBy(cc, ccId, agent);
  await opOk(cc, agent, id, 'PlaceInWorkbin', { workbin });
  return id;
};
const draft = async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  return (await opOk(cc, 'agent1', id, 'Reply')).interaction.id;
};

// The caller is always agent1.
const states = {
  'Queued': () => create(cc),
  'Invited to me': () => invitedTo(cc, ccId, 'agent1'),
  'Invited to another agent': () => invitedTo(cc, ccId, 'agent2'),
  'Processing, mine (email)': () => ownedBy(cc, ccId, 'agent1'),
  'Processing, mine (chat)': () => ownedBy(cc, ccId, 'agent1', { mediaType: 'chat' }),
  'Processing, another agent\'s': () => ownedBy(cc, ccId, 'agent2'),
  'InWorkbin, shared': () => inWorkbin('agent2', 'team'),
  'InWorkbin, my personal': () => inWorkbin('agent1', 'drafts'),
  'InWorkbin, another agent\'s personal': () => inWorkbin('agent2', 'drafts'),
  'Composing, mine': draft,
  'Completed': async () => { const id = await ownedBy(cc, ccId, 'agent1'); await opOk(cc, 'agent1', id, 'Complete'); return id; },
  'Canceled': async () => { const id = await draft(); await opOk(cc, 'agent1', id, 'Cancel'); return id; },
  'Sent': async () => { const id = await draft(); await opOk(cc, 'agent1', id, 'Send'); return id; },
};
const operations = {
  Accept: {}, Reject: {}, Complete: {}, PlaceInQueue: { queueName: 'sales' },
  PlaceInWorkbin: { workbin: 'team' }, Pull: {}, Transfer: { userId: 'agent3' },
  AttachUserData: { userData: { fresh: 1 } }, UpdateUserData: { userData: { x: 1 } },
  DeleteUserData: { keys: ['x'] }, Reply: {}, ReplyAll: {}, Cancel: {}, Send: {},
};

for (const [state, setup] of Object.entries(states)) {
  test(`capabilities are exactly the operations that succeed: ${state}`, async () => {
    const seen = {};
    for (const [name, args] of Object.entries(operations)) {
      await freshContactCenter(cc);
      const id = await setup();
      const got = await api('agent1', 'GET', `/interactions/${id}`, { cc });
      const caps = got.status === 200 ? got.json.interaction.capabilities : [];
      if (got.status !== 200) assert.equal(got.json.statusCode, 5, got.text);
      // the same capabilities appear in the agent's own list, when it is there
      const mine = await api('agent1', 'GET', '/me/interactions?fields=*', { cc });
      const listed = mine.json.interactions.find((i) => i.id === id);
      if (listed) assert.deepEqual(listed.capabilities, caps);
      const r = await op(cc, 'agent1', id, name, args);
      const allowed = caps.includes(name);
      seen[name] = allowed;
      assert.equal(r.json.statusCode === 0, allowed,
        `${state}: ${name} ${allowed ? 'was a capability but failed' : 'succeeded without being a capability'}: ${r.text}`);
      if (!allowed) assert.ok([2, 5].includes(r.json.statusCode), `${state}: ${name}: ${r.text}`);
    }
    // each state offers what the contract's table says
    const expected = {
      'Invited to me': ['Accept', 'Reject'],
      'Processing, mine (email)': ['Complete', 'PlaceInQueue', 'PlaceInWorkbin', 'Transfer', 'AttachUserData',
        'UpdateUserData', 'DeleteUserData', 'Reply', 'ReplyAll'],
      'Processing, mine (chat)': ['Complete', 'PlaceInQueue', 'PlaceInWorkbin', 'Transfer', 'AttachUserData',
        'UpdateUserData', 'DeleteUserData'],
      'InWorkbin, shared': ['Pull'],
      'InWorkbin, my personal': ['Pull'],
      'Composing, mine': ['AttachUserData', 'UpdateUserData', 'DeleteUserData', 'Cancel', 'Send'],
    }[state] || [];
    assert.deepEqual(Object.keys(seen).filter((k) => seen[k]).sort(), [...expected].sort());
  });
}
