// Database outage: with PostgreSQL stopped, requests fail fast with 503 + Retry-After
// (statusCode 4) and no worker hangs; when it returns, the pools recover by themselves; a
// client retrying a create with the same externalId never creates a duplicate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, db, env, stack, freshContactCenter, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';

// what an outage makes the module and httpd say, on purpose
watchErrorLog([
  /MI00102: cannot connect to PostgreSQL/,
  // a connection opened just as the server shuts down dies while it is being set up
  /MI00110: setting statement_timeout failed: FATAL: +terminating connection due to administrator command/,
  /MI00112: database connection lost/,
  /MI00113: database call .* failed \(SQLSTATE 57P0[1-3]\)/,
  /MI00601: maintenance cannot run/,
  /MI00801: webhook worker: the database failed/,   // so does the webhook worker
  /MI005\d\d: /,                   // the push listener reports its lost connection
]);
const cc = 't14';
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
after(() => stack('pg-start', env.varDir));   // whatever happened, leave the database up

const pgStop = () => stack('pg-stop', env.varDir, 'fast');
const pgStart = () => stack('pg-start', env.varDir);

async function timed(fn) {
  const t0 = Date.now();
  const r = await fn();
  return { r, ms: Date.now() - t0 };
}

test('with the database down requests fail fast with 503, statusCode 4 and Retry-After; then recover', async () => {
  const ok0 = await api('agent1', 'GET', '/me', { cc });
  assert.equal(ok0.json.statusCode, 0);
  pgStop();
  try {
    // cached credentials: the handler answers; uncached ones: the authn provider does
    await db.query(`SELECT 1`).catch(() => {});
    const calls = [
      () => api('agent1', 'GET', '/me', { cc }),
      () => api('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } }),
      () => api('agent3', 'GET', '/me', { cc }),      // never logged in before: not cached
    ];
    for (const call of calls) {
      const { r, ms } = await timed(call);
      assert.equal(r.status, 503, r.text);
      assert.equal(r.json.statusCode, 4);
      assert.equal(r.json.status, 'error');
      assert.match(r.headers.get('retry-after') || '', /^\d+$/);
      assert.ok(ms < 5000, `a request took ${ms} ms while the database was down`);
    }
    // many at once: every one answered, none hangs
    const many = await timed(() => Promise.all(Array.from({ length: 60 }, () => api('agent1', 'GET', '/me', { cc }))));
    assert.ok(many.r.every((r) => r.status === 503));
    assert.ok(many.ms < 10000, `60 concurrent requests took ${many.ms} ms`);
  } finally {
    pgStart();
  }
  const back = await eventually(async () => {
    const r = await api('agent1', 'GET', '/me', { cc });
    return r.status === 200 ? r : null;
  }, 10000, 100);
  assert.equal(back.json.statusCode, 0);
  // every child process recovers, not just one: a burst of requests all succeed
  await eventually(async () => {
    const rs = await Promise.all(Array.from({ length: 40 }, () => api('agent2', 'GET', '/me', { cc })));
    return rs.every((r) => r.status === 200);
  }, 10000, 100);
});

test('a client retrying a create with the same externalId across an outage creates it once', async () => {
  const body = { mediaType: 'email', queueName: 'support', externalId: 'outage-1' };
  // a client that retries until it gets an answer, as a gateway would
  const createUntilAnswered = async () => {
    for (;;) {
      const r = await api('feeder', 'POST', '/interactions', { cc, body });
      if (r.status === 200) return r.json;
      assert.equal(r.status, 503, r.text);
      await sleep(50);
    }
  };
  const client = createUntilAnswered();
  pgStop();
  await sleep(1500);
  pgStart();
  const created = await client;
  // retrying after the success (another child may still be reconnecting): same interaction
  const again = await createUntilAnswered();
  assert.equal(again.id, created.id);
  assert.equal(again.created, false);
  assert.equal(await db.value(`SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1
                               AND external_id = 'outage-1'`, [ccId]), 1);
});

test('the server starts while the database is down and serves once it is up', async () => {
  const { httpdInstance } = await import('../lib/harness.mjs');
  pgStop();
  const inst = httpdInstance('httpd-nodb');
  try {
    inst.start();
    const r = await api('agent1', 'GET', '/me', { cc, port: inst.port });
    assert.equal(r.status, 503);
    pgStart();
    await eventually(async () => (await api('agent1', 'GET', '/me', { cc, port: inst.port })).status === 200, 10000, 100);
  } finally {
    pgStart();
    inst.stop();
  }
});
