// The event feed (GET /events?after=N&limit=M&wait=S, CONTRACT 8.5): the contact center's
// history in stream order (the push channel's stable cut), each event with its seq; a client
// that stores the last seq gets every change exactly once — under concurrent writers, a
// transaction that commits late, and a restart of PostgreSQL — and can replay any point still
// retained; long-polls are held like push connects, within the same per-user shares.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import pg from 'pg';
import { api, ok, fails, db, env, stack, freshContactCenter, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { channel, create, opOk } from '../lib/flows.mjs';

// the restart of PostgreSQL makes the module say what it says in 50_db_outage
watchErrorLog([
  /MI00102: cannot connect to PostgreSQL/,
  /MI00110: setting statement_timeout failed: FATAL: +terminating connection due to administrator command/,
  /MI00112: database connection lost/,
  /MI00113: database call .* failed \(SQLSTATE 57P0[1-3]\)/,
  /MI00601: maintenance cannot run/,
  /MI005\d\d: /,
  /MI00801: webhook worker: the database failed/,
]);

const cc = 't29';
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
after(() => stack('pg-start', env.varDir));

/** The contact center's history after seq @from in the stream's order (what the feed must give). */
async function stream(from = 0) {
  return (await db.query(`SELECT h.seq::text AS s FROM interactions.history h WHERE h.cc_id = $1 AND h.seq > $2
                           ORDER BY h.xid, h.seq`, [ccId, from])).map((r) => r.s);
}

/** The cursor after every event there is now. */
async function head(user = 'feeder') {
  let cursor = 0;
  for (;;) {
    const r = await ok(user, 'GET', `/events?after=${cursor}&limit=500`, { cc });
    cursor = r.next;
    if (!r.more) return cursor;
  }
}

test('apiusers and admins read the feed; agents and supervisors may not', async () => {
  await create(cc, { subject: 'feed' });
  for (const who of ['feeder', 'admin']) {
    const r = await ok(who, 'GET', '/events?limit=500', { cc });
    assert.ok(r.events.length >= 1);
    assert.equal(typeof r.next, 'number');
    assert.equal(r.more, false);
  }
  for (const who of ['agent1', 'supervisor']) {
    await fails(who, 'GET', '/events', 403, 5, { cc });
  }
  await fails('feeder', 'GET', '/events?wait=31', 400, 10, { cc });
  await fails('feeder', 'GET', '/events?after=x', 400, 10, { cc });
  await fails('feeder', 'GET', '/events?from=3', 400, 10, { cc });
  await fails('feeder', 'POST', '/events', 405, 3, { cc, body: {} });
});

test('an event is a history row: seq, operation, who, from and to, the interaction after it', async () => {
  ccId = await freshContactCenter(cc);
  const start = await head();
  await channel(cc, 'agent1', 'Ready');
  const id = await create(cc, { subject: 'shape', userData: { order: 7 } });
  await opOk(cc, 'agent1', id, 'Accept');
  const r = await ok('feeder', 'GET', `/events?after=${start}`, { cc });
  assert.deepEqual(r.events.map((e) => e.operation), ['Create', 'Route', 'Accept']);
  const [c, , a] = r.events;
  assert.equal(c.actor, 'feeder');
  assert.deepEqual(c.userDataChange, { set: { order: 7 } });
  assert.equal(c.interaction.subject, 'shape');
  assert.equal(a.fromState, 'Invited');
  assert.equal(a.toState, 'Processing');
  assert.equal(a.toOwner, 'agent1');
  assert.equal(a.actor, 'agent1');
  assert.equal(a.interactionId, id);
  assert.equal(a.interaction.assignedTo, 'agent1');
  assert.equal(a.interaction._owner, undefined);
  assert.ok(a.referenceId > 0 && /^\d{4}-\d\d-\d\dT/.test(a.at));
  assert.ok(r.events.every((e, i) => i === 0 || e.seq > 0));
  assert.equal(r.next, a.seq);
  // a page: limit events, "more", and the next page from "next"
  const p1 = await ok('feeder', 'GET', `/events?after=${start}&limit=2`, { cc });
  assert.equal(p1.events.length, 2);
  assert.equal(p1.more, true);
  const p2 = await ok('feeder', 'GET', `/events?after=${p1.next}&limit=2`, { cc });
  assert.deepEqual(p2.events.map((e) => e.seq), [a.seq]);
  assert.equal(p2.more, false);
});

test('a long-poll answers when news commits, or after wait seconds with nothing', async () => {
  const now = await head();
  let t0 = Date.now();
  const empty = await ok('feeder', 'GET', `/events?after=${now}&wait=2`, { cc });
  assert.deepEqual(empty.events, []);
  assert.equal(empty.next, now);
  assert.ok(Date.now() - t0 >= 1900, `answered after ${Date.now() - t0} ms`);
  t0 = Date.now();
  const held = ok('feeder', 'GET', `/events?after=${now}&wait=20`, { cc });
  await sleep(500);
  const id = await create(cc, { subject: 'wakes the poll' });
  const r = await held;
  assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms`);
  assert.equal(r.events[0].interactionId, id);
});

test('a client storing its cursor gets every change exactly once: concurrent writers, a late commit, a PostgreSQL restart', { timeout: 120000 }, async () => {
  await channel(cc, 'agent2', 'Ready');
  const start = await head();
  // the client: keeps its cursor "on disk" and resumes from it, whatever happened to it
  const stored = { cursor: start };
  const got = [];
  let stop = false, errors = 0;
  const client = async (name) => {
    while (!stop) {
      const r = await api('feeder', 'GET', `/events?after=${stored.cursor}&limit=7&wait=1`, { cc }).catch(() => null);
      if (r === null || r.status !== 200) { errors++; await sleep(100); continue; }
      for (const e of r.json.events) got.push(String(e.seq));
      stored.cursor = r.json.next;
      void name;
    }
  };
  // writers: creations and agents' work, through HTTP, all the while
  let writing = true;
  const writer = async () => {
    while (writing) {
      const r = await api('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'sales', subject: 'load' } })
        .catch(() => null);
      if (r?.json?.statusCode === 0) {
        const inv = await db.query(`SELECT u.login, i.id FROM interactions.interactions i JOIN interactions.users u
            ON u.cc_id = i.cc_id AND u.id = i.invitee_id WHERE i.cc_id = $1 AND i.state = 'Invited'`, [ccId]).catch(() => []);
        for (const x of inv) {
          await api(x.login, 'POST', `/me/interactions/${x.id}`, { cc, body: { operationName: 'Accept' } }).catch(() => null);
          await api(x.login, 'POST', `/me/interactions/${x.id}`, { cc, body: { operationName: 'Complete' } }).catch(() => null);
        }
      }
      await sleep(20);
    }
  };
  let run = client('first');
  const writers = [writer(), writer(), writer()];
  await sleep(1500);

  // a transaction that writes early and commits late: its row comes before later commits in
  // the stream, so nothing after it may be delivered before it is
  const late = new pg.Client({ host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres', database: 'interactions' });
  await late.connect();
  await late.query('BEGIN');
  await late.query(`SELECT interactions.api($1, 'feeder', 'create', '{"mediaType":"email","queueName":"support","subject":"late"}')`, [ccId]);
  await sleep(1500);
  await late.query('COMMIT');
  await late.end();

  // the client stops, and a new one resumes from the stored cursor
  stop = true;
  await run;
  stop = false;
  run = client('second');
  await sleep(1000);

  // PostgreSQL restarts under all of it
  stack('pg-stop', env.varDir, 'fast');
  await sleep(1500);
  stack('pg-start', env.varDir);
  await eventually(async () => (await api('feeder', 'GET', '/me', { cc })).status === 200, 20000, 100);
  await sleep(2000);
  writing = false;
  await Promise.all(writers);
  // let the client catch up with everything committed, then compare
  const all = await eventually(async () => {
    const s = await stream(start);
    return got.length >= s.length && s;
  }, 30000, 200);
  stop = true;
  await run;
  assert.ok(all.length > 50, `only ${all.length} changes were made`);
  assert.equal(new Set(got).size, got.length, 'nothing delivered twice');
  assert.deepEqual(got, all, 'every change, in stream order, none skipped');
  assert.ok(errors > 0, 'the restart was seen by the client');
});

test('replay from any retained point; a cursor retention removed is refused with the oldest retained seq', async () => {
  const all = await stream(0);
  const mid = all[Math.floor(all.length / 2)];
  const replay = [];
  let cursor = mid;
  for (;;) {
    const r = await ok('feeder', 'GET', `/events?after=${cursor}&limit=100`, { cc });
    replay.push(...r.events.map((e) => String(e.seq)));
    if (!r.more) break;
    cursor = r.next;
  }
  assert.deepEqual(replay, all.slice(all.indexOf(mid) + 1));
  // the first rows go, as retention would take them
  const first = all.slice(0, 3);
  await db.query(`BEGIN; SELECT set_config('interactions.purging', 'on', true);
                  DELETE FROM interactions.history WHERE cc_id = ${ccId} AND seq IN (${first.join(',')}); COMMIT`);
  const r = await fails('feeder', 'GET', `/events?after=${first[1]}`, 409, 2, { cc });
  assert.match(r.json.statusMessage, /restart with after=0, the oldest retained event is seq \d+/);
  assert.equal(r.json.statusMessage.match(/seq (\d+)/)[1], all[3]);
  // a seq of another contact center is no cursor here either
  const other = await db.value(`SELECT max(seq)::text FROM interactions.history WHERE cc_id <> $1`, [ccId]);
  await fails('feeder', 'GET', `/events?after=${other}`, 409, 2, { cc });
  // from the start again
  const again = await ok('feeder', 'GET', '/events?after=0&limit=1', { cc });
  assert.equal(String(again.events[0].seq), all[3]);
});

test('long-polls are held within the user\'s share of held connects; others are answered meanwhile', async () => {
  await sleep(500);   // the earlier test's writers are done
  const now = await head();
  // far more than InteractionsPushHeldPerUser (4) per child of the two
  const t0 = Date.now();
  const polls = Array.from({ length: 14 }, () => api('feeder', 'GET', `/events?after=${now}&wait=6`, { cc })
    .then((r) => ({ r, ms: Date.now() - t0 })));
  await sleep(300);
  // another user is answered at once meanwhile
  const t1 = Date.now();
  await ok('admin', 'GET', '/me', { cc });
  const adminPoll = await ok('admin', 'GET', `/events?after=${now}&wait=1`, { cc });
  assert.deepEqual(adminPoll.events, []);
  assert.ok(Date.now() - t1 < 3000);
  const done = await Promise.all(polls);
  const atOnce = done.filter((d) => d.ms < 2000);
  assert.ok(atOnce.length >= 14 - 8, `${atOnce.length} of 14 answered at once`);
  for (const d of atOnce) {
    assert.equal(d.r.status, 200);
    assert.deepEqual(d.r.json.events, []);
    assert.equal(d.r.json.retryAfterMs, 2000);
  }
  assert.ok(done.filter((d) => d.ms >= 5500).length >= 2, 'some were held');
});
