// Contact centers on two PostgreSQL clusters served by one httpd: t40 in the first cluster
// (the server-wide InteractionsDatabase), t41 in the second (its <Location> names its own).
// Both work (requests, routing, push) and their rows stay in their own cluster; a push
// session works through another front end as with one database; one child
// keeps a pool, a listener and a maintenance thread per database, labelled in the metrics;
// users of two tenants with the same contact center id never share a cached password; with
// the second cluster down t40 keeps working while t41 answers 503 with Retry-After, and t41
// recovers by itself; a configuration that maps one contact center to two databases is
// refused at start.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, ok, db, env, stack, freshContactCenter, httpdInstance, watchErrorLog, eventually } from '../lib/harness.mjs';
import { cometdClient, about, rawSession, rawConnect } from '../lib/push.mjs';
import { cluster2, sql2, location, extraConf, conninfo } from '../lib/multidb.mjs';

const NAME = 'httpd-multidb';
// registered before the error-log checks, so that it runs even when one of them fails
after(async () => {
  for (const c of open) await c.disconnect();
  cluster2.start();
  srv?.stop();
});
// what the second cluster's outage makes the module say, on purpose
watchErrorLog([
  /MI00102: cannot connect to PostgreSQL/,
  /MI00110: setting statement_timeout failed: FATAL: +terminating connection due to administrator command/,
  /MI00112: database connection lost/,
  /MI00113: database call .* failed \(SQLSTATE 57P0[1-3]\)/,
  /MI00601: maintenance cannot run/,
  /MI005\d\d: /,
  /MI00801: webhook worker: the database failed/,   // so does the webhook worker
  /AH01617: user twin: authentication failure for "\/t41\/api\/v2\/me": Password Mismatch/,
], NAME);
watchErrorLog([], `${NAME}-2`);
const A = 't40';   // first cluster
const B = 't41';   // second cluster
let idA, idB, srv;
const open = [];

before(async () => {
  idA = await freshContactCenter(A);
  // the same contact center id in both clusters: ids are per database, the module must not
  // mix the two tenants anywhere (the password cache is keyed by them)
  if (await sql2.db.value(`SELECT count(*)::int FROM interactions.contact_centers WHERE name = $1`, [B]) === 0) {
    await sql2.db.query(`SELECT setval(pg_get_serial_sequence('interactions.contact_centers', 'id'), $1::bigint - 1, true)`, [idA]);
  }
  idB = await freshContactCenter(B, sql2);
  await db.query(`SELECT interactions.create_user($1, 'twin', 'first-secret', '{agent}')`, [A]);
  await sql2.db.query(`SELECT interactions.create_user($1, 'twin', 'second-secret', '{agent}')`, [B]);
  srv = httpdInstance(NAME, { CCS: A, NOLOC: 1, EXTRA: extraConf('multidb.conf', location(B, cluster2.port)) }).start();
});

const at = (cc) => ({ cc, port: srv.port });
const createIn = (cc) => ok('feeder', 'POST', '/interactions', {
  ...at(cc), body: { mediaType: 'email', queueName: 'support', subject: 'two clusters', from: 'c@example.com', to: ['s@example.com'] },
});
const ready = (cc, agent, state = 'Ready') => ok(agent, 'POST', '/me/channels/email', { ...at(cc), body: { operationName: state } });

// An interaction created in @cc reaches agent1 (routing), whose CometD client hears the offer.
async function routedAndPushed(cc, client) {
  await ready(cc, 'agent1');
  const created = await createIn(cc);
  const offer = await client.waitFor((m) => about(created.id)(m) && m.data.interaction.state === 'Invited', 10000);
  assert.equal(offer.data.interaction.id, created.id);
  await ready(cc, 'agent1', 'NotReady');
  // done with: nothing of it waits in the queue or takes agent1's capacity (1) later
  for (const operationName of ['Accept', 'Complete']) {
    await ok('agent1', 'POST', `/me/interactions/${created.id}`, { ...at(cc), body: { operationName } });
  }
  return created.id;
}

test('both contact centers work, each from its own cluster', async () => {
  const ca = await cometdClient({ cc: A, user: 'agent1', port: srv.port });
  const cb = await cometdClient({ cc: B, user: 'agent1', port: srv.port });
  open.push(ca, cb);
  const a = await routedAndPushed(A, ca);
  const b = await routedAndPushed(B, cb);
  // the rows are where their contact center lives, and only there
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1 AND id = $2`, [idA, a]), 1);
  assert.equal(await sql2.db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1 AND id = $2`, [idB, b]), 1);
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.interactions WHERE id = $1`, [b]), 0);
  assert.equal(await sql2.db.value(`SELECT count(*)::int FROM interactions.interactions WHERE id = $1`, [a]), 0);
  // each push session is in its contact center's database
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.push_sessions WHERE client_id = $1`, [ca.clientId()]), 1);
  assert.equal(await sql2.db.value(`SELECT count(*)::int FROM interactions.push_sessions WHERE client_id = $1`, [cb.clientId()]), 1);
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.push_sessions WHERE client_id = $1`, [cb.clientId()]), 0);
  // a session is bound to its database: B's clientId means nothing at A's address
  const r = await api('agent1', 'POST', '/notifications', { ...at(A), body: [{ channel: '/meta/connect', clientId: cb.clientId(), connectionType: 'long-polling' }] });
  assert.equal(r.status, 200);
  assert.equal(r.json[0].successful, false, r.text);
  assert.match(r.json[0].error, /^402::/);
});

test('a session of the second cluster\'s contact center works through another front end', async () => {
  const other = httpdInstance(`${NAME}-2`, { CCS: A, NOLOC: 1, EXTRA: extraConf('multidb.conf', location(B, cluster2.port)) }).start();
  try {
    const s = await rawSession('agent3', { cc: B, port: srv.port });
    await rawConnect(s, { timeout: 0 });
    // held by the other front end, woken by an offer made through the first
    const pending = rawConnect(s, { port: other.port });
    await eventually(() => sql2.db.value(`SELECT held_until IS NOT NULL FROM interactions.push_sessions
                                           WHERE cc_id = $1 AND client_id = $2`, [idB, s.clientId]));
    await ok('agent3', 'POST', '/me/channels/email', { ...at(B), body: { operationName: 'Ready' } });
    const created = await ok('feeder', 'POST', '/interactions', { ...at(B), body: { mediaType: 'email', queueName: 'sales' } });
    const r = await pending;
    assert.equal(r.reply.successful, true, r.raw.text);
    assert.ok(r.events.some(about(created.id)), r.raw.text);
    assert.ok(r.ms < 15000, `answered after ${r.ms} ms (the hold is 25 s)`);
    await ok('agent3', 'POST', '/me/channels/email', { ...at(B), body: { operationName: 'NotReady' } });
    for (const operationName of ['Accept', 'Complete']) {
      await ok('agent3', 'POST', `/me/interactions/${created.id}`, { ...at(B), body: { operationName } });
    }
  } finally {
    other.stop();
  }
});

test('two tenants with the same contact center id never share a cached password', async () => {
  assert.equal(idA, idB, 'the test needs the same id in both clusters');
  await ok('twin', 'GET', '/me', { ...at(A), password: 'first-secret' });
  await ok('twin', 'GET', '/me', { ...at(A), password: 'first-secret' });   // now cached
  const wrong = await api('twin', 'GET', '/me', { ...at(B), password: 'first-secret' });
  assert.equal(wrong.status, 401, wrong.text);
  await ok('twin', 'GET', '/me', { ...at(B), password: 'second-secret' });
});

test('the metrics and server-status show each database', async () => {
  const metrics = await (await fetch(`http://127.0.0.1:${srv.port}/interactions-metrics`)).text();
  for (const port of [env.pgPort, cluster2.port]) {
    assert.match(metrics, new RegExp(`interactions_database_pool_max\\{database="interactions@127\\.0\\.0\\.1:${port}"\\} [1-9]`));
    assert.match(metrics, new RegExp(`interactions_database_push_listeners_connected\\{database="interactions@127\\.0\\.0\\.1:${port}"\\} [1-9]`));
  }
  assert.doesNotMatch(metrics, /password/);
  const status = await (await fetch(`http://127.0.0.1:${srv.port}/server-status?auto`)).text();
  assert.match(status, new RegExp(`InteractionsDatabase1: interactions@127\\.0\\.0\\.1:${cluster2.port} `));
});

test('with the second cluster down the first contact center works fully; the second answers 503 and recovers', async () => {
  const ca = await cometdClient({ cc: A, user: 'agent1', port: srv.port });
  const cb = await cometdClient({ cc: B, user: 'agent2', port: srv.port });
  open.push(ca, cb);
  cluster2.stop();
  try {
    const r = await api('feeder', 'GET', '/interactions', at(B));
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.statusCode, 4);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    // the other tenant: requests, routing and push, within a few seconds each
    const t0 = Date.now();
    await routedAndPushed(A, ca);
    assert.ok(Date.now() - t0 < 10000, `t40 took ${Date.now() - t0} ms while t41's cluster was down`);
    const m = await fetch(`http://127.0.0.1:${srv.port}/interactions-metrics`).then((x) => x.text());
    assert.match(m, new RegExp(`interactions_database_unavailable_total\\{database="interactions@127\\.0\\.0\\.1:${cluster2.port}"\\} [1-9]`));
    assert.match(m, new RegExp(`interactions_database_unavailable_total\\{database="interactions@127\\.0\\.0\\.1:${env.pgPort}"\\} 0\\n`));
  } finally {
    cluster2.start();
  }
  // back by itself: requests, routing and the push session (which may re-handshake)
  // (every child's pool finds out on its own: several answers in a row, over both children)
  await eventually(async () => {
    for (let i = 0; i < 8; i++) {
      if ((await api('feeder', 'GET', '/interactions', at(B))).status !== 200) return false;
    }
    return true;
  }, 20000, 200);
  await ok('agent2', 'POST', '/me/channels/email', { ...at(B), body: { operationName: 'Ready' } });
  const created = await createIn(B);
  const offer = await cb.waitFor((x) => about(created.id)(x) && x.data.interaction.state === 'Invited', 20000);
  assert.equal(offer.data.interaction.id, created.id);
  await ready(B, 'agent2', 'NotReady');
});

test('a contact center mapped to two databases is refused at start, with a clear message', () => {
  const name = 'httpd-multidb-conflict';
  const extra = extraConf('multidb-conflict.conf', location(B, cluster2.port)
    + `<VirtualHost 127.0.0.1:*>\n    ServerName other.example\n    <Location /other/api/v2>\n        SetHandler interactions\n`
    + `        InteractionsContactCenter ${B}\n        InteractionsDatabase "${conninfo(env.pgPort)}"\n    </Location>\n</VirtualHost>\n`);
  const port = Number(stack('free-port').trim());
  stack('httpd-conf', env.varDir, name, String(port), env.module, 'NOLOC=1', `EXTRA=${extra}`);
  let out = '';
  try {
    stack('httpd-start', env.varDir, name);   // its configuration test refuses
    stack('httpd-stop', env.varDir, name);
    assert.fail('httpd accepted the configuration');
  } catch (e) {
    out = String(e.stderr || '') + String(e.stdout || '');
  }
  assert.match(out, /InteractionsContactCenter t41 is mapped to two databases: interactions@127\.0\.0\.1:\d+ \(<Location \/t41\/api\/v2> of the main server\) and interactions@127\.0\.0\.1:\d+ \(<Location \/other\/api\/v2> of <VirtualHost>/);
  assert.ok(!fs.existsSync(path.join(env.varDir, name, 'run/httpd.pid')));
});
