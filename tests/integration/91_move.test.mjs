// Moving a contact center to another cluster with scripts/move-contact-center: t42 lives in
// the first cluster with live history and a CometD client, while a feeder keeps creating
// interactions (retrying with the same externalId on 503, as a gateway would); the script
// freezes it, copies it to the second cluster, checks counts and invariants, switches its
// <Location> there and restarts httpd gracefully.  Afterwards every interaction any client
// was told about is in the second cluster with its history, the push client has handshaken
// again and hears new offers, and the invariant checker finds nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { api, ok, db, env, freshContactCenter, httpdInstance, watchErrorLog, sleep, basePath } from '../lib/harness.mjs';
import { cometdClient, about } from '../lib/push.mjs';
import { cluster2, sql2, conninfo, extraConf } from '../lib/multidb.mjs';

const NAME = 'httpd-move';
// registered before the error-log checks, so that it runs even when one of them fails
after(async () => {
  for (const c of open) await c.disconnect();
  srv?.stop();
});
// writes wait while the contact center is frozen and give up at the statement timeout; the
// old children's connections end with the restart
watchErrorLog([
  /MI00113: database call .* failed \(SQLSTATE 57014\)/,
  /MI00112: database connection lost/,
  /MI005\d\d: /,
  /MI00801: webhook worker: the database failed/,   // so does the webhook worker
], NAME);
const cc = 't42';
const switchFile = path.join(env.varDir, 't42-database.conf');
let srv, ccId;
const open = [];

before(async () => {
  ccId = await freshContactCenter(cc);
  fs.writeFileSync(switchFile, `InteractionsDatabase "${conninfo(env.pgPort)}"\n`);
  const extra = extraConf('move.conf', `<Location ${basePath(cc)}>
    SetHandler interactions
    InteractionsContactCenter ${cc}
    Include "${switchFile}"
    AuthType Basic
    AuthName "${cc} contact center"
    AuthBasicProvider interactions
    Require valid-user
</Location>
`);
  srv = httpdInstance(NAME, { NOLOC: 1, CCS: '', EXTRA: extra }).start();
});

const call = (user, method, p, body) => api(user, method, p, { cc, port: srv.port, body });
const okAt = (user, method, p, body) => ok(user, method, p, { cc, port: srv.port, body });
const superuser = (dir, port) => `host=${path.join(dir, 'pg/run')} port=${port} user=postgres dbname=interactions`;

test('a contact center with live history moves to the second cluster; nothing is lost', async () => {
  // live history: an accepted interaction with user data, one offered, one waiting
  const agent2 = await cometdClient({ cc, user: 'agent2', port: srv.port });
  open.push(agent2);
  await okAt('agent1', 'POST', '/me/channels/email', { operationName: 'Ready' });
  const first = await okAt('feeder', 'POST', '/interactions', { mediaType: 'email', queueName: 'sales' });
  await okAt('agent1', 'POST', `/me/interactions/${first.id}`, { operationName: 'Accept' });
  await okAt('agent1', 'POST', `/me/interactions/${first.id}`, { operationName: 'AttachUserData', userData: { order: 'A-1' } });
  await okAt('agent2', 'POST', '/me/channels/email', { operationName: 'Ready' });
  const second = await okAt('feeder', 'POST', '/interactions', { mediaType: 'email', queueName: 'support' });
  await agent2.waitFor((m) => about(second.id)(m) && m.data.interaction.state === 'Invited');
  const third = await okAt('feeder', 'POST', '/interactions', { mediaType: 'email', queueName: 'support' });
  // a webhook (disabled: nothing to deliver here) keeps a stream position, which moves too
  const hook = (await db.value(`SELECT interactions.create_webhook($1, 'https://hooks.example/t42', '{*}')`, [cc])).id;
  await db.query(`SELECT interactions.set_webhook_enabled($1, $2, false)`, [cc, hook]);

  // a feeder creating all along, retrying each create until it gets an answer
  const told = [first.id, second.id, third.id];
  let feeding = true;
  const feeder = (async () => {
    for (let i = 0; feeding; i++) {
      for (;;) {
        const r = await call('feeder', 'POST', '/interactions', { mediaType: 'email', queueName: 'support', externalId: `move-${i}` });
        if (r.status === 200) { told.push(r.json.id); break; }
        assert.equal(r.status, 503, r.text);
        await sleep(100);
      }
      await sleep(50);
    }
  })();
  await sleep(500);

  const { stderr } = await promisify(execFile)(path.join(env.top, 'scripts/move-contact-center'), [
    '--cc', cc, '--from', superuser(env.varDir, env.pgPort), '--to', superuser(cluster2.dir, cluster2.port),
    '--switch-file', switchFile, '--app-conninfo', conninfo(cluster2.port),
    '--graceful', `${path.join(env.top, 'scripts/lib/stack')} httpd-graceful ${env.varDir} ${NAME}`, '--hold', '2',
  ], { encoding: 'utf8' });
  assert.match(stderr, /counts and invariant checks agree \(0 violations on both sides\)/);
  assert.match(fs.readFileSync(switchFile, 'utf8'), new RegExp(`port=${cluster2.port} `));
  await sleep(1000);
  feeding = false;
  await feeder;
  assert.ok(told.length > 5, `the feeder made ${told.length - 3} creates`);

  // everything a client was told about is in the second cluster, with its history
  const idB = await sql2.db.value(`SELECT id FROM interactions.contact_centers WHERE name = $1`, [cc]);
  const there = new Set((await sql2.db.query(`SELECT id FROM interactions.interactions WHERE cc_id = $1`, [idB])).map((r) => r.id));
  for (const id of told) assert.ok(there.has(id), `interaction ${id} is missing in the second cluster`);
  const before1 = await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [ccId]);
  const after2 = await sql2.db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1`, [idB]);
  assert.ok(after2 >= before1, `history: ${before1} rows in the first cluster, ${after2} in the second`);
  assert.deepEqual(await sql2.db.query(`SELECT * FROM interactions.invariant_violations($1, true)`, [idB]), []);
  // every externalId once
  assert.equal(await sql2.db.value(`SELECT count(*) - count(DISTINCT external_id) FROM interactions.interactions
                                     WHERE cc_id = $1 AND external_id IS NOT NULL`, [idB]), '0');
  // the webhook's position: the import's transaction (every moved row has it, later ones a newer one)
  const w = await sql2.db.one(`SELECT w.cursor_xid = (SELECT min(h.xid) FROM interactions.history h WHERE h.cc_id = w.cc_id) AS at_import,
                                      w.cursor_seq, (SELECT max(seq) FROM interactions.history h WHERE h.cc_id = w.cc_id) AS last
                                 FROM interactions.webhooks w WHERE w.cc_id = $1 AND w.id = $2`, [idB, hook]);
  assert.equal(w.at_import, true);
  assert.ok(Number(w.cursor_seq) <= Number(w.last));
  // served from the second cluster now, the moved rows as they were
  const got = await okAt('agent1', 'GET', `/interactions/${first.id}`);
  assert.equal(got.interaction.state, 'Processing');
  assert.equal(got.interaction.userData.order, 'A-1');

  // the push client handshook again (its session stayed behind) and hears new offers: done
  // with the one it holds, agent2 is offered the oldest waiting interaction
  const seen = agent2.messages.length;
  await okAt('agent2', 'POST', `/me/interactions/${second.id}`, { operationName: 'Accept' });
  await okAt('agent2', 'POST', `/me/interactions/${second.id}`, { operationName: 'Complete' });
  const offer = await agent2.waitFor((m) => agent2.messages.indexOf(m) >= seen
    && m.data.interaction?.state === 'Invited' && m.data.interaction.id !== second.id, 20000);
  assert.ok(told.includes(offer.data.interaction.id));
  assert.ok(agent2.meta.handshakes >= 2, `handshakes: ${agent2.meta.handshakes}`);
  assert.equal(await sql2.db.value(`SELECT count(*)::int FROM interactions.push_sessions WHERE client_id = $1`, [agent2.clientId()]), 1);
});
