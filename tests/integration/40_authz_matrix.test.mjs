// The authorization matrix (OWASP API1/API5): every endpoint and operation, called by the
// owner, another agent of the same contact center, a supervisor, an admin, an apiuser, an
// agent of another contact center, nobody, and a wrong password.  Expected status and
// statusCode each time, and the database unchanged whenever the call was refused.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, db, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';
import { create, opOk, invitedTo, ownedBy, assertInvariants } from '../lib/flows.mjs';

// mod_auth_basic logs the anonymous, wrong-password and foreign logins this file makes
// (after ten failures the provider refuses outsider without a check, which mod_auth_basic
// logs as a mismatch, and logs the lock)
watchErrorLog([/AH01617: user (guesser|outsider): authentication failure/, /AH01618: user outsider not found/,
  /MI00211: \d+ failed logins of user and address \(user "(guesser|outsider)"/]);
const cc = 't10';
const other = 't11';
let ccId;

// The callers.  "owner" is the agent the interaction belongs to; "outsider" exists only in t11.
const callers = {
  owner: { user: 'agent1' },
  otherAgent: { user: 'agent2' },
  supervisor: { user: 'supervisor' },
  admin: { user: 'admin' },
  apiuser: { user: 'feeder' },
  foreignAgent: { user: 'outsider' },
  anonymous: { user: null },
  // a user of its own: the authn provider locks a user out at an address after ten failures
  wrongPassword: { user: 'guesser', password: 'nope' },
};

before(async () => {
  ccId = await freshContactCenter(cc);
  await freshContactCenter(other);
  await db.query(`SELECT interactions.create_user($1, 'outsider', 'password', ARRAY['agent'])`, [other]);
  await db.query(`SELECT interactions.create_user($1, 'guesser', 'password', ARRAY['agent'])`, [cc]);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  for (const a of ['agent1', 'agent2']) await db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', 1000)`, [cc, a]);
});

// Everything a refused call could have touched, as one comparable value.
async function fingerprint() {
  return db.value(`SELECT md5(concat(
      (SELECT string_agg(concat_ws('|', id, state, owner_id, invitee_id, queue_id, workbin_id, subject, body, updated_at), ',' ORDER BY id)
         FROM interactions.interactions WHERE cc_id = $1),
      (SELECT string_agg(concat_ws('|', interaction_id, key, value), ',' ORDER BY interaction_id, key)
         FROM interactions.user_data WHERE cc_id = $1),
      (SELECT count(*) FROM interactions.history WHERE cc_id = $1),
      (SELECT string_agg(concat_ws('|', user_id, media, state), ',' ORDER BY user_id, media)
         FROM interactions.agent_channels WHERE cc_id = $1)))`, [ccId]);
}

const ANON = [401, 20];
const PERM = [403, 5];

// [name, method, path(ctx), body, expectations per caller: 'ok' or [status, statusCode]]
function cases(ctx) {
  const all = (ok) => ({ owner: ok, otherAgent: ok, supervisor: ok, admin: ok, apiuser: ok });
  const only = (allowed) => Object.fromEntries(Object.keys(callers).filter((c) => !['foreignAgent', 'anonymous', 'wrongPassword'].includes(c))
    .map((c) => [c, allowed.includes(c) ? 'ok' : PERM]));
  return [
    ['GET /me', 'GET', '/me', undefined, all('ok')],
    ['GET /interactions', 'GET', '/interactions', undefined, all('ok')],
    ['POST /interactions', 'POST', '/interactions', { mediaType: 'email', queueName: 'sales' }, only(['admin', 'apiuser'])],
    ['GET /interactions/{id}', 'GET', `/interactions/${ctx.owned}`, undefined, only(['owner', 'supervisor', 'admin', 'apiuser'])],
    ['PUT /interactions/{id}', 'PUT', `/interactions/${ctx.owned}`, { userData: { by: 'x' } }, only(['owner', 'admin'])],
    ['GET /me/interactions', 'GET', '/me/interactions', undefined, only(['owner', 'otherAgent'])],
    ['POST /me/channels/email', 'POST', '/me/channels/email', { operationName: 'NotReady' }, only(['owner', 'otherAgent'])],
    ['GET /me/workbins', 'GET', '/me/workbins', undefined, only(['owner', 'otherAgent'])],
    ['GET /events', 'GET', '/events?limit=5', undefined, only(['admin', 'apiuser'])],
    ['GET /me/workbins/team', 'GET', '/me/workbins/team', undefined, only(['owner', 'otherAgent'])],
    ['GET /queues', 'GET', '/queues', undefined, only(['supervisor', 'admin'])],
    ['GET /queues/{name}/statistics', 'GET', '/queues/sales/statistics', undefined, only(['supervisor', 'admin'])],
    ['GetWorkbinContent', 'POST', '/me/interactions', { operationName: 'GetWorkbinContent', workbin: 'team' }, only(['owner', 'otherAgent'])],
    ['Accept', 'POST', `/me/interactions/${ctx.invited}`, { operationName: 'Accept' }, only(['owner'])],
    ['Reject', 'POST', `/me/interactions/${ctx.invited2}`, { operationName: 'Reject' }, only(['owner'])],
    ['Complete', 'POST', `/me/interactions/${ctx.owned}`, { operationName: 'Complete' }, only(['owner'])],
    ['PlaceInQueue', 'POST', `/me/interactions/${ctx.owned2}`, { operationName: 'PlaceInQueue', queueName: 'sales' }, only(['owner'])],
    ['PlaceInWorkbin', 'POST', `/me/interactions/${ctx.owned3}`, { operationName: 'PlaceInWorkbin', workbin: 'drafts' }, only(['owner'])],
    ['Pull (personal workbin)', 'POST', `/me/interactions/${ctx.parked}`, { operationName: 'Pull' }, only(['owner'])],
    ['Transfer', 'POST', `/me/interactions/${ctx.owned4}`, { operationName: 'Transfer', queueName: 'sales' }, only(['owner'])],
    ['AttachUserData', 'POST', `/me/interactions/${ctx.owned5}`, { operationName: 'AttachUserData', userData: { a: 1 } }, only(['owner'])],
    ['UpdateUserData', 'POST', `/me/interactions/${ctx.owned5}`, { operationName: 'UpdateUserData', userData: { b: 1 } }, only(['owner'])],
    ['DeleteUserData', 'POST', `/me/interactions/${ctx.owned5}`, { operationName: 'DeleteUserData', keys: ['b'] }, only(['owner'])],
    ['Reply', 'POST', `/me/interactions/${ctx.owned6}`, { operationName: 'Reply' }, only(['owner'])],
    ['ReplyAll', 'POST', `/me/interactions/${ctx.owned6}`, { operationName: 'ReplyAll' }, only(['owner'])],
    ['Cancel', 'POST', `/me/interactions/${ctx.draft}`, { operationName: 'Cancel' }, only(['owner'])],
    ['Send', 'POST', `/me/interactions/${ctx.draft2}`, { operationName: 'Send' }, only(['owner'])],
    // the agent's own channel states (CONTRACT 8.2): any agent, for themselves
    ['NotReady with a reason', 'POST', '/me/channels/email', { operationName: 'NotReady', reason: 'Lunch' }, only(['owner', 'otherAgent'])],
    ['AfterCallWork', 'POST', '/me/channels/email', { operationName: 'AfterCallWork' }, only(['owner', 'otherAgent'])],
    ['DoNotDisturbOn', 'POST', '/me', { operationName: 'DoNotDisturbOn' }, only(['owner', 'otherAgent'])],
    ['DoNotDisturbOff', 'POST', '/me', { operationName: 'DoNotDisturbOff' }, only(['owner', 'otherAgent'])],
    ['StartContactCenterSession', 'POST', '/me', { operationName: 'StartContactCenterSession', channels: ['email'] }, only(['owner', 'otherAgent'])],
    // supervisors act (CONTRACT 8.2): list agents, force an agent's channel state, move anyone's
    // interaction with the agent's bodies
    ['GET /agents', 'GET', '/agents', undefined, only(['supervisor', 'admin'])],
    ['GET /agents with filters', 'GET', '/agents?state=NotReady&media=email&queue=sales', undefined, only(['supervisor', 'admin'])],
    ['force NotReady with a reason', 'POST', '/agents/agent2/channels/email', { operationName: 'NotReady', reason: 'Lunch' }, only(['supervisor', 'admin'])],
    ['force AfterCallWork', 'POST', '/agents/agent2/channels/email', { operationName: 'AfterCallWork' }, only(['supervisor', 'admin'])],
    ['force Ready', 'POST', '/agents/agent2/channels/email', { operationName: 'Ready' }, only(['supervisor', 'admin'])],
    ['supervisor Transfer to a queue', 'POST', `/interactions/${ctx.owned7}`, { operationName: 'Transfer', queueName: 'sales' }, only(['supervisor', 'admin'])],
    ['supervisor Transfer to an agent', 'POST', `/interactions/${ctx.owned8}`, { operationName: 'Transfer', userId: 'agent2' }, only(['supervisor', 'admin'])],
    ['supervisor PlaceInQueue', 'POST', `/interactions/${ctx.owned9}`, { operationName: 'PlaceInQueue', queueName: 'sales' }, only(['supervisor', 'admin'])],
    ['supervisor PlaceInWorkbin', 'POST', `/interactions/${ctx.owned10}`, { operationName: 'PlaceInWorkbin', workbin: 'team' }, only(['supervisor', 'admin'])],
    // the owner is working on interactions: not while they are Processing (statusCode 2)
    ['EndContactCenterSession', 'POST', '/me', { operationName: 'EndContactCenterSession' },
      { ...only(['otherAgent']), owner: [409, 2] }],
  ];
}

async function setup() {
  await freshContactCenter(cc);
  for (const a of ['agent1', 'agent2']) await db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', 1000)`, [cc, a]);
  const ctx = {};
  ctx.invited = await invitedTo(cc, ccId, 'agent1');
  ctx.invited2 = await invitedTo(cc, ccId, 'agent1');
  for (const k of ['owned', 'owned2', 'owned3', 'owned4', 'owned5', 'owned6', 'owned7', 'owned8', 'owned9', 'owned10']) {
    ctx[k] = await ownedBy(cc, ccId, 'agent1');
  }
  const p = await ownedBy(cc, ccId, 'agent1');
  await opOk(cc, 'agent1', p, 'PlaceInWorkbin', { workbin: 'drafts' });
  ctx.parked = p;
  const d = await ownedBy(cc, ccId, 'agent1');
  ctx.draft = (await opOk(cc, 'agent1', d, 'Reply')).interaction.id;
  ctx.draft2 = (await opOk(cc, 'agent1', d, 'Reply')).interaction.id;
  return ctx;
}

for (const who of Object.keys(callers)) {
  test(`authorization matrix: ${who}`, async () => {
    const ctx = await setup();
    const { user, password } = callers[who];
    for (const [name, method, path, body, expect] of cases(ctx)) {
      const exp = ['anonymous', 'wrongPassword', 'foreignAgent'].includes(who) ? ANON : expect[who];
      const before = await fingerprint();
      const r = await api(user, method, path, { cc, body, password });
      if (exp === 'ok') {
        assert.equal(r.json?.statusCode, 0, `${who} ${name}: expected success, got ${r.status} ${r.text}`);
      } else {
        assert.deepEqual([r.status, r.json?.statusCode], exp, `${who} ${name}: ${r.text}`);
        assert.equal(await fingerprint(), before, `${who} ${name} was refused but changed the database`);
      }
    }
    await assertInvariants(ccId);
  });
}

test('another contact center\'s ids behave exactly like unknown ids, for every caller and endpoint', async () => {
  const foreign = await create(other);
  const unknown = '00000000-0000-4000-8000-000000000000';
  for (const who of ['owner', 'supervisor', 'admin', 'apiuser']) {
    const { user } = callers[who];
    for (const [method, path, body] of [
      ['GET', (id) => `/interactions/${id}`, undefined],
      ['PUT', (id) => `/interactions/${id}`, { userData: {} }],
      ['POST', (id) => `/me/interactions/${id}`, { operationName: 'Accept' }],
      ['POST', (id) => `/me/interactions/${id}`, { operationName: 'UpdateUserData', userData: { x: 1 } }],
    ]) {
      const a = await api(user, method, path(foreign), { cc, body });
      const b = await api(user, method, path(unknown), { cc, body });
      assert.deepEqual([a.status, a.json.statusCode, a.json.statusMessage], [b.status, b.json.statusCode, b.json.statusMessage],
        `${who} ${method}: foreign ${a.text} vs unknown ${b.text}`);
      if (['GET', 'PUT'].includes(method) || who === 'owner') assert.deepEqual([a.status, a.json.statusCode], [404, 6]);
    }
  }
  const untouched = await db.one(`SELECT state, (SELECT count(*)::int FROM interactions.history h WHERE h.cc_id = i.cc_id
      AND h.interaction_id = i.id) AS n FROM interactions.interactions i WHERE id = $1`, [foreign]);
  assert.deepEqual(untouched, { state: 'Queued', n: 1 });
});

test('the same user, queue and workbin names in two contact centers stay apart', async () => {
  await freshContactCenter(cc);
  const here = await invitedTo(cc, ccId, 'agent1');
  const otherId = await freshContactCenter(other);
  const there = await invitedTo(other, otherId, 'agent1');
  const mineHere = await api('agent1', 'GET', '/me/interactions', { cc });
  const mineThere = await api('agent1', 'GET', '/me/interactions', { cc: other });
  assert.equal(mineHere.json.uris.length, 1);
  assert.ok(mineHere.json.uris[0].endsWith(here));
  assert.equal(mineThere.json.uris.length, 1);
  assert.ok(mineThere.json.uris[0].endsWith(there));
  await opOk(other, 'agent1', there, 'Accept');
  await opOk(other, 'agent1', there, 'PlaceInWorkbin', { workbin: 'team' });
  assert.equal((await api('agent1', 'GET', '/me/workbins/team', { cc: other })).json.workbin.interactions.length, 1);
  assert.equal((await api('agent1', 'GET', '/me/workbins/team', { cc })).json.workbin.interactions.length, 0);
});
