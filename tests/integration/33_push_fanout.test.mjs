// One read of the history stream, fanned out in memory: the held connects of one process are
// answered from the listener's read, their cursors written in one call for all of them
// (push_advance), none reading the database itself; what they were given is what
// push_connect would have given (nothing twice, nothing lost, with and without the ack
// extension), the session goes on from the database on another server, and the rights of
// the moment still decide.  Contact center t32, on a one-child server (all its held
// connects in one process) beside the test server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { db, ok, env, freshContactCenter, httpdInstance, watchErrorLog, eventually, sleep }
  from '../lib/harness.mjs';
import { rawSession, rawConnect, rawDisconnect } from '../lib/push.mjs';

const cc = 't32';
const ALL = '/v2/interactions';
const ME = '/v2/me/interactions';
const sups = ['sup1', 'sup2', 'sup3', 'sup4', 'sup5'];
watchErrorLog([]);
watchErrorLog([], 'httpd-fanout');

let ccId, one;

before(async () => {
  ccId = await freshContactCenter(cc);
  await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  for (const s of sups) {
    if (!(await db.value(`SELECT count(*)::int FROM interactions.users WHERE cc_id = $1 AND login = $2`, [ccId, s]))) {
      await db.query(`SELECT interactions.create_user($1, $2, 'password', ARRAY['supervisor'])`, [cc, s]);
    }
  }
  one = httpdInstance('httpd-fanout', { SERVERS: 1, THREADS: 64, CCS: cc }).start();
  // the password checks happen now, not while connects are held
  for (const u of [...sups, 'feeder', 'agent1']) await ok(u, 'GET', '/me', { cc, port: one.port });
});

after(() => { if (one) one.stop(); });

/** Calls of push functions so far (pg_stat_statements counts each statement as it ends). */
async function calls() {
  const rows = await db.query(`SELECT substring(query FROM 'interactions\\.(push_[a-z_]+)\\(') AS f, sum(calls)::int AS n
                                 FROM pg_stat_statements
                                WHERE query ~ 'interactions\\.push_(connect|advance|stream|snapshots)\\('
                                GROUP BY 1`);
  return Object.fromEntries(rows.map((r) => [r.f, r.n]));
}

/** Hold a connect of each session (after a first one answered at once) and wait until every
 *  session is held in the database and its waiter had time to take its place. */
async function holdAll(sessions) {
  const pending = sessions.map((s) => rawConnect(s, s.ack !== undefined ? { ack: s.ack } : {}));
  await eventually(async () => (await db.value(`SELECT count(*)::int FROM interactions.push_sessions
                                                  WHERE cc_id = $1 AND held_until > now()
                                                    AND client_id = ANY ($2)`,
    [ccId, sessions.map((s) => s.clientId)])) === sessions.length, 10000);
  await sleep(300);
  return pending;
}

async function open(user, channels, ack) {
  const s = await rawSession(user, { cc, channels, ack, port: one.port });
  const first = await rawConnect(s, ack ? { timeout: 0, ack: 0 } : { timeout: 0 });
  assert.equal(first.reply.successful, true);
  if (ack) s.ack = first.reply.ext.ack;
  return s;
}

/** The StatusChange/PropertiesUpdated rows of t32 after seq @from. */
async function contactCenterRows(from) {
  return (await db.query(`SELECT seq FROM interactions.history WHERE cc_id = $1 AND seq > $2
                            AND notification IN ('StatusChange', 'PropertiesUpdated') ORDER BY xid, seq`,
  [ccId, from])).map((r) => Number(r.seq));
}

test('ten connects held in one process are answered from one read: one cursor write for all, no read of their own', async () => {
  const sessions = [];
  for (let i = 0; i < 10; i++) sessions.push(await open(sups[i % 5], [ALL], i % 2 === 0));
  const mark = Number(await db.value(`SELECT coalesce(max(seq), 0) FROM interactions.history WHERE cc_id = $1`, [ccId]));
  const pending = await holdAll(sessions);
  const before = await calls();
  const created = await ok('feeder', 'POST', '/interactions', { cc, port: one.port,
    body: { mediaType: 'email', queueName: 'support', subject: 'fan-out', from: 'c@example.com', to: ['s@example.com'] } });
  const got = await Promise.all(pending);
  const afterCalls = await calls();
  const rows = await contactCenterRows(mark);
  assert.ok(rows.length >= 1);
  for (const [i, r] of got.entries()) {
    assert.equal(r.reply.successful, true, JSON.stringify(r.reply));
    const seen = r.events.map((e) => e.data.interaction.id);
    assert.ok(seen.includes(created.id), `session ${i}: ${JSON.stringify(r.events)}`);
    // every event once, in order, on /v2/interactions, with the referenceId of the create
    assert.ok(r.events.every((e) => e.channel === ALL));
    assert.equal(r.events[0].data.referenceId, created.referenceId);
    if (sessions[i].ack !== undefined) {
      // the batch names the last row it carries
      assert.equal(r.reply.ext.ack, rows[r.events.length - 1]);
      sessions[i].ack = r.reply.ext.ack;
    }
  }
  // The ten held connects were answered without a push_connect of their own (before, each
  // woken connect read its session: ten calls); their cursors were written together.  (A
  // held connect of another file's leftover session may look at its session meanwhile.)
  const d = (k) => (afterCalls[k] || 0) - (before[k] || 0);
  assert.ok(d('push_connect') <= 1, JSON.stringify({ before, afterCalls }));
  assert.ok(d('push_advance') >= 1 && d('push_advance') <= 3, JSON.stringify({ before, afterCalls }));
  assert.equal(d('push_snapshots'), 0);

  // The sessions go on from the database, here on another server: nothing again, and what
  // comes next arrives once.
  for (const s of sessions) s.port = env.port;
  const again = await Promise.all(sessions.map((s) => rawConnect(s, s.ack !== undefined ? { timeout: 0, ack: s.ack } : { timeout: 0 })));
  for (const [i, r] of again.entries()) {
    assert.equal(r.reply.successful, true);
    assert.ok(!r.events.some((e) => e.data.referenceId === created.referenceId),
      `session ${i} got the create again: ${JSON.stringify(r.events)}`);
  }
  for (const s of sessions) await rawDisconnect(s);
});

test('an agent held in the same process gets its own interaction from the same read, rendered for it', async () => {
  await freshContactCenter(cc);
  await ok('agent1', 'POST', '/me/channels/email', { cc, port: one.port, body: { operationName: 'Ready' } });
  const agent = await open('agent1', [ME], true);
  const sup = await open('sup1', [ALL], false);
  const pending = await holdAll([agent, sup]);
  const before = await calls();
  const created = await ok('feeder', 'POST', '/interactions', { cc, port: one.port,
    body: { mediaType: 'email', queueName: 'support', subject: 'offer', from: 'c@example.com', to: ['s@example.com'] } });
  const [a, s] = await Promise.all(pending);
  const afterCalls = await calls();
  const offer = a.events.find((e) => e.data.interaction.id === created.id && e.data.interaction.state === 'Invited');
  assert.ok(offer, JSON.stringify(a.events));
  assert.equal(offer.channel, ME);
  assert.ok(offer.data.interaction.capabilities.includes('Accept'));
  assert.ok(s.events.every((e) => e.channel === ALL));
  assert.ok((afterCalls.push_connect || 0) - (before.push_connect || 0) <= 1,
    JSON.stringify({ before, afterCalls, a: a.events, s: s.events }));
  // acknowledged: the next connect, held or not, gives nothing again
  const next = await rawConnect(agent, { timeout: 0, ack: a.reply.ext.ack });
  assert.deepEqual(next.events, []);
  assert.equal(next.reply.ext.ack, a.reply.ext.ack);
  // not acknowledged (the reply was lost): the same batch again, from the database
  const lostAgent = await open('agent1', [ME], true);
  const p2 = await holdAll([lostAgent]);
  await api2('agent1', created.id, 'Accept');
  const r2 = (await Promise.all(p2))[0];
  assert.ok(r2.events.length >= 1);
  const resent = await rawConnect(lostAgent, { timeout: 0, ack: lostAgent.ack });
  assert.deepEqual(resent.events.map((e) => e.data), r2.events.map((e) => e.data));
  assert.equal(resent.reply.ext.ack, r2.reply.ext.ack);
  for (const x of [agent, sup, lostAgent]) await rawDisconnect(x);
});

async function api2(user, id, operationName) {
  return ok(user, 'POST', `/me/interactions/${id}`, { cc, port: one.port, body: { operationName } });
}

test('a supervisor demoted while held is given nothing of /v2/interactions from memory, and keeps holding', async () => {
  await freshContactCenter(cc);
  const s = await open('sup5', [ALL], false);
  const [pending] = await holdAll([s]);
  let answered = false;
  pending.then(() => { answered = true; });
  try {
    await db.query(`SELECT interactions.set_user_roles($1, 'sup5', ARRAY['agent'])`, [cc]);
    await ok('feeder', 'POST', '/interactions', { cc, port: one.port,
      body: { mediaType: 'email', queueName: 'sales', subject: 'hidden', from: 'c@example.com', to: ['s@example.com'] } });
    await sleep(1500);
    assert.equal(answered, false);
    await rawDisconnect(s);
    const r = await pending;
    assert.deepEqual(r.events, []);
  } finally {
    await db.query(`SELECT interactions.set_user_roles($1, 'sup5', ARRAY['supervisor'])`, [cc]);
  }
});
