// Webhooks (interactions.create_webhook): a contact center's changes POSTed by the worker
// that each httpd server elects among its processes, in stream order, at least once, with
// retries and backoff, an HMAC-SHA256 signature, the delivery state in the database, a
// dead letter after InteractionsWebhookAttempts failures (4 in the tests), and only to hosts
// InteractionsWebhookAllow allows (127.0.0.1 in the tests).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import { db, eventually, freshContactCenter, watchErrorLog, sleep } from '../lib/harness.mjs';
import { channel, create, opOk } from '../lib/flows.mjs';

// dead letters are reported on purpose, and so is the worker's connection that a test ends
watchErrorLog([/MI00802: webhook/,
  /MI00801: webhook worker: the database failed: FATAL:  terminating connection due to administrator command/]);

const cc = 't31';
let ccId;

/** A receiver on @host: answers the n-th request it gets with plan(n, req) (a status, or
 *  {status, headers}); keeps every request. */
function receiver(host, plan = () => 200) {
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const r = { at: Date.now(), path: req.url, headers: req.headers, body, json: JSON.parse(body) };
      got.push(r);
      const a = plan(got.length, r);
      const { status, headers } = typeof a === 'number' ? { status: a, headers: {} } : a;
      res.writeHead(status, headers);
      res.end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve({
    got, url: (p = '/hook') => `http://${host}:${server.address().port}${p}`,
    close: () => new Promise((r) => server.close(r)),
  })));
}

async function webhook(url, events = ['*']) {
  const r = await db.value(`SELECT interactions.create_webhook($1, $2, $3)`, [cc, url, events]);
  return r;   // {id, secret}
}

async function deliveries(id) {
  return db.query(`SELECT id::text, state, attempts, first_seq::text, last_seq::text, events, last_status, last_error
                     FROM interactions.webhook_deliveries WHERE cc_id = $1 AND webhook_id = $2 ORDER BY id`, [ccId, id]);
}

/** The contact center's history in stream order after seq @after (what the feed gives). */
async function stream(afterSeq) {
  return (await db.query(`SELECT h.seq::text AS s FROM interactions.history h WHERE h.cc_id = $1 AND h.seq > $2
                           ORDER BY h.xid, h.seq`, [ccId, afterSeq])).map((r) => r.s);
}

const servers = [];
before(async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`DELETE FROM interactions.webhooks WHERE cc_id = $1`, [ccId]);
});
after(async () => {
  await db.query(`DELETE FROM interactions.webhooks WHERE cc_id = $1`, [ccId]);
  for (const s of servers) await s.close();
});

test('one process of the server is its webhook worker, elected through an advisory lock', async () => {
  const holders = async () => db.query(`SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.objsubid = 2 AND l.granted
        AND l.classid::bigint = (hashtext('interactions-webhooks')::bigint & 4294967295)`);
  const [first] = await eventually(async () => { const h = await holders(); return h.length === 1 && h; }, 10000, 100);
  assert.equal(first.application_name, 'mod_interactions');
  // its connection dies: a process of the server takes over
  await db.query(`SELECT pg_terminate_backend($1)`, [first.pid]);
  const [next] = await eventually(async () => {
    const h = await holders();
    return h.length === 1 && h[0].pid !== first.pid && h;
  }, 15000, 100);
  assert.ok(next.pid);
});

test('changes are POSTed in stream order, at least once, retried with backoff, signed, and their state recorded', async () => {
  // the receiver fails the first three requests, then accepts
  const rx = await receiver('127.0.0.1', (n) => (n <= 3 ? 500 : 200));
  servers.push(rx);
  const startSeq = await db.value(`SELECT coalesce(max(seq), 0)::text FROM interactions.history`);
  const hook = await webhook(rx.url());
  assert.match(hook.secret, /^[0-9a-f]{64}$/);
  const t0 = Date.now();

  // concurrent writers: creations and agents at work
  await channel(cc, 'agent1', 'Ready');
  await channel(cc, 'agent2', 'Ready');
  await Promise.all([1, 2, 3, 4, 5, 6].map((i) => create(cc, { subject: `w${i}` })));
  // the two offered to the agents are accepted and completed (which offers two more)
  const offered = await db.query(`SELECT i.id, u.login FROM interactions.interactions i JOIN interactions.users u
      ON u.cc_id = i.cc_id AND u.id = i.invitee_id WHERE i.cc_id = $1 AND i.state = 'Invited'`, [ccId]);
  assert.equal(offered.length, 2);
  for (const { id, login } of offered) {
    await opOk(cc, login, id, 'Accept');
    await opOk(cc, login, id, 'Complete');
  }
  const expected = await eventually(async () => {
    const s = await stream(startSeq);
    return s.length >= 6 + 2 * 4 && s;
  });

  // every event arrives, in stream order; a delivery that failed arrives again, the same
  const delivered = await eventually(async () => {
    const accepted = rx.got.slice(3);
    const seqs = [...new Set(accepted.flatMap((r) => r.json.events.map((e) => String(e.seq))))];
    return seqs.length >= expected.length && seqs;
  }, 30000, 100);
  assert.deepEqual(delivered, expected, 'every event once, in stream order');
  // the first delivery was tried four times: the same delivery id and body each time
  const first = rx.got.filter((r) => r.headers['x-interactions-delivery'] === rx.got[0].headers['x-interactions-delivery']);
  assert.equal(first.length, 4);
  assert.deepEqual(first.map((r) => r.headers['x-interactions-attempt']), ['1', '2', '3', '4']);
  assert.ok(first.every((r) => r.body === first[0].body));
  // backoff: about 1, 2, 4 s between attempts
  const gaps = first.slice(1).map((r, i) => r.at - first[i].at);
  assert.ok(gaps[0] >= 800 && gaps[1] >= 1700 && gaps[2] >= 3500, `gaps ${gaps}`);
  assert.ok(Date.now() - t0 < 30000);

  // every request is signed with the webhook's secret over "<t>.<body>"
  for (const r of rx.got) {
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-interactions-webhook'], hook.id);
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(r.headers['x-interactions-signature']);
    assert.ok(m, r.headers['x-interactions-signature']);
    const mac = crypto.createHmac('sha256', hook.secret).update(`${m[1]}.${r.body}`).digest('hex');
    assert.equal(m[2], mac);
    assert.ok(Math.abs(Number(m[1]) - r.at / 1000) < 60);
  }
  // a payload: the webhook, the contact center, the events as the event feed shows them
  const p = rx.got.at(-1).json;
  assert.equal(p.webhookId, hook.id);
  assert.equal(p.contactCenter, cc);
  const ev = rx.got.flatMap((r) => r.json.events).find((e) => e.operation === 'Accept');
  assert.ok(ev.interactionId && ev.actor && ev.interaction.state === 'Processing' && ev.referenceId > 0, JSON.stringify(ev));
  assert.equal(ev.interaction._owner, undefined);

  // the state for DBAs
  const ds = await deliveries(hook.id);
  assert.ok(ds.every((d) => d.state === 'delivered' && d.last_status === 200), JSON.stringify(ds));
  assert.equal(ds[0].attempts, 4);
  assert.equal(ds.reduce((n, d) => n + d.events, 0), expected.length);
  const st = await db.one(`SELECT enabled, pending_delivery, dead, delivered_24h FROM interactions.webhook_status WHERE webhook_id = $1`, [hook.id]);
  assert.deepEqual(st, { enabled: true, pending_delivery: null, dead: '0', delivered_24h: String(ds.length) });
});

test('only the operations asked for; a receiver that keeps failing gets a dead letter and the webhook moves on', async () => {
  let failing = true;
  const rx = await receiver('127.0.0.1', () => (failing ? 503 : 200));
  servers.push(rx);
  const hook = await webhook(rx.url('/down'), ['Create']);
  const a = await create(cc, { subject: 'dead letter' });
  const dead = await eventually(async () => {
    const ds = await deliveries(hook.id);
    return ds.length >= 1 && ds[0].state === 'dead' && ds[0];
  }, 20000, 100);
  assert.equal(dead.attempts, 4);
  assert.equal(dead.last_status, 503);
  assert.equal(dead.last_error, 'HTTP 503');
  assert.equal(rx.got.length, 4);
  assert.deepEqual(rx.got[0].json.events.map((e) => [e.operation, e.interactionId]), [['Create', a]]);

  // the webhook goes on with later events
  failing = false;
  const b = await create(cc, { subject: 'after the dead letter' });
  await eventually(() => rx.got.some((r) => r.json.events.some((e) => e.interactionId === b)), 10000, 50);
  // and a DBA sends the dead one again, once nothing is pending (the answer to the last
  // delivery is recorded just after the receiver gave it)
  await eventually(async () => (await deliveries(hook.id)).every((d) => d.state !== 'pending'), 10000, 50);
  await db.query(`SELECT interactions.webhook_retry($1, $2)`, [cc, dead.id]);
  await eventually(async () => (await deliveries(hook.id)).every((d) => d.state === 'delivered'), 10000, 100);
  assert.ok(rx.got.filter((r) => r.json.events.some((e) => e.interactionId === a)).length >= 5);
  // nothing but Create was sent
  assert.deepEqual([...new Set(rx.got.flatMap((r) => r.json.events.map((e) => e.operation)))], ['Create']);
});

test('hosts InteractionsWebhookAllow does not allow are never contacted, and redirects are not followed', async () => {
  // 127.0.0.2 is this machine too, but not on the list
  const other = await receiver('127.0.0.2');
  servers.push(other);
  const refused = await webhook(other.url('/internal'), ['Create']);
  const redirector = await receiver('127.0.0.1', () => ({ status: 302, headers: { Location: other.url('/internal') } }));
  servers.push(redirector);
  const redirected = await webhook(redirector.url('/redirect'), ['Create']);
  await create(cc, { subject: 'to nowhere' });
  const [r1, r2] = await eventually(async () => {
    const a = (await deliveries(refused.id))[0];
    const b = (await deliveries(redirected.id))[0];
    return a && b && a.state === 'dead' && b.state === 'dead' && [a, b];
  }, 20000, 100);
  assert.match(r1.last_error, /^not requested: host 127\.0\.0\.2 \(127\.0\.0\.2\) is not allowed by InteractionsWebhookAllow/);
  assert.equal(r1.last_status, null);
  assert.equal(r2.last_status, 302);
  assert.match(r2.last_error, /redirects are not followed/);
  assert.equal(redirector.got.length, 4);
  assert.equal(other.got.length, 0, 'the host that is not allowed got nothing, directly or by redirect');
  await sleep(100);
});

test('a disabled webhook gets nothing new and holds back no retention; enabled again it starts from then', async () => {
  const rx = await receiver('127.0.0.1');
  servers.push(rx);
  await db.query(`DELETE FROM interactions.webhooks WHERE cc_id = $1`, [ccId]);
  const hook = await webhook(rx.url('/toggle'), ['Create']);
  await db.query(`SELECT interactions.set_webhook_enabled($1, $2, false)`, [cc, hook.id]);
  const pinnedAtCut = async () => db.value(`SELECT (interactions.history_pinned($1)).pin_xid
                                                 = pg_snapshot_xmin(pg_current_snapshot())`, [ccId]);
  const off = await create(cc, { subject: 'while off' });
  await sleep(1500);
  assert.equal(rx.got.length, 0);
  // the disabled webhook's cursor holds back nothing: the pin is the stable cut
  assert.equal(await pinnedAtCut(), true);
  await db.query(`SELECT interactions.set_webhook_enabled($1, $2, true)`, [cc, hook.id]);
  const on = await create(cc, { subject: 'after' });
  await eventually(() => rx.got.some((r) => r.json.events.some((e) => e.interactionId === on)), 10000, 50);
  assert.ok(!rx.got.some((r) => r.json.events.some((e) => e.interactionId === off)));
  await db.query(`SELECT interactions.drop_webhook($1, $2)`, [cc, hook.id]);
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.webhook_deliveries WHERE webhook_id = $1`, [hook.id])), 0);
});
