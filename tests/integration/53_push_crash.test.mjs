// Exactly once across a crash of PostgreSQL.  The push session functions commit without
// waiting for the WAL flush, so a crash (or a failover to a standby that had not yet received
// the last commits) can set a session row back by its last moment of bookkeeping: the batch
// just delivered and the client's acknowledgement of it.  With the ack extension nothing may
// come of it: the batch id a client acknowledges names the position it reached, and the next
// connect restores the cursor from it.  This test makes the loss certain — PostgreSQL is
// stopped in immediate mode right after every client acknowledged a delivery, with the WAL
// writer slowed so that those asynchronous commits are still in memory — and checks that the
// real CometD clients (ack extension) then get every change exactly once, in order, on the
// same session.
//
// Contact center t23; its own httpd (the changes are written in SQL, durably, so that the
// main server plays no part); PostgreSQL is the shared one, restarted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { db, env, stack, freshContactCenter, httpdInstance, watchErrorLog, eventually } from '../lib/harness.mjs';
import { ownedBy } from '../lib/flows.mjs';
import { cometdClient, about } from '../lib/push.mjs';

const NAME = 'httpd-pushcrash';
// what the crash makes the module say, on purpose (as in 50_db_outage and 52_push_outage)
const outage = [
  /MI00102: cannot connect to PostgreSQL/,
  /MI00112: database connection lost/,
  /MI00113: database call .* failed \(SQLSTATE 57P0[1-3]\)/,
  /MI00601: maintenance cannot run/,
  /MI00801: webhook worker: the database failed/,   // so does the webhook worker
  /MI005\d\d: /,
];
watchErrorLog(outage);
watchErrorLog(outage, NAME);
const cc = 't23';
const ALL = '/v2/interactions';
let ccId, inst;

async function setting(sql) {
  await db.query(sql);
  await db.query('SELECT pg_reload_conf()');
}

before(async () => {
  ccId = await freshContactCenter(cc);
  // An asynchronous commit normally reaches the disk within a few hundred milliseconds (the
  // WAL writer, or anybody's synchronous commit); slowed to ten seconds, the crash below
  // surely finds the bookkeeping of the delivery and its ack still in memory.
  await setting(`ALTER SYSTEM SET wal_writer_delay = '10s'`);
  inst = httpdInstance(NAME, { CCS: cc }).start();
});
after(async () => {
  stack('pg-start', env.varDir);
  await eventually(async () => { try { await setting('ALTER SYSTEM RESET wal_writer_delay'); return true; } catch { return false; } }, 20000, 200);
  inst?.stop();
});

async function sessions() {
  return eventually(async () => {
    try {
      return await db.query(`SELECT client_id, hold_gen::int AS gen, held_until IS NOT NULL AS held,
                                    sent_batch::text AS batch
                               FROM interactions.push_sessions WHERE cc_id = $1 ORDER BY client_id`, [ccId]);
    } catch { return null; }   // the pool's connections died with the server: the next one is new
  }, 30000, 200);
}

test('with the ack extension, a crash of PostgreSQL right after a delivery repeats nothing and loses nothing', { timeout: 240000 }, async (t) => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const clients = {
    agent1: await cometdClient({ cc, user: 'agent1', ack: true, port: inst.port }),
    supervisor: await cometdClient({ cc, user: 'supervisor', channels: [ALL], ack: true, port: inst.port }),
    admin: await cometdClient({ cc, user: 'admin', channels: [ALL], ack: true, port: inst.port }),
  };
  const all = Object.values(clients);
  const sent = [];
  let n = 0;
  // A change of the interaction, committed durably: in SQL like a DBA's script, with
  // synchronous_commit on for its transaction (the test cluster runs with it off), which also
  // flushes everything committed before it.  The main server plays no part.
  const change = async () => {
    const r = JSON.parse((await db.one(`SELECT set_config('synchronous_commit', 'on', true) AS s,
                                               interactions.api($1, 'admin', 'update', $2)::text AS r`,
    [ccId, JSON.stringify({ id, userData: { n: ++n }, _maxUserData: 32768 })])).r);
    assert.equal(r.statusCode, 0, JSON.stringify(r));
    sent.push(r.referenceId);
    return r.referenceId;
  };
  const got = (c, ref) => c.messages.some((m) => about(id)(m) && m.data.referenceId === ref);
  const everyone = async (ref, ms = 30000) => {
    await eventually(() => all.every((c) => got(c, ref)), ms, 10);
  };
  try {
    for (let i = 0; i < 3; i++) await everyone(await change());

    let lost = 0, crashes = 0;
    for (let attempt = 0; attempt < 3 && lost === 0; attempt++) {
      // every session's connect is held: the next change is delivered by waking it
      const held = await eventually(async () => {
        const rows = await sessions();
        return rows.length === all.length && rows.every((r) => r.held) ? rows : null;
      }, 30000, 50);
      const ref = await change();
      await everyone(ref);
      // each client acknowledged the batch on its next connect, which is held again: that
      // bookkeeping is committed, not yet on disk
      const acked = await eventually(async () => {
        const rows = await sessions();
        return rows.every((r, i) => r.held && r.gen > held[i].gen) ? rows : null;
      }, 10000, 5);
      stack('pg-stop', env.varDir, 'immediate');
      crashes++;
      stack('pg-start', env.varDir);
      const back = await sessions();
      const forgot = back.filter((r, i) => r.gen < acked[i].gen || r.batch !== acked[i].batch);
      lost += forgot.length;
      t.diagnostic(`crash ${crashes}: sessions before ${JSON.stringify(acked)}, after ${JSON.stringify(back)}`);
      // after the restart the channel carries on
      for (let i = 0; i < 2; i++) await everyone(await change(), 60000);
    }
    assert.ok(lost > 0, 'no crash lost any session bookkeeping: nothing was tested');
    for (const [user, c] of Object.entries(clients)) {
      const refs = c.messages.filter(about(id)).map((m) => m.data.referenceId);
      assert.deepEqual(refs, sent, `${user} received ${JSON.stringify(refs)}, the changes were ${JSON.stringify(sent)}`);
      assert.equal(c.meta.handshakes, 1, `${user} had to handshake again`);
    }
  } finally {
    for (const c of all) await c.disconnect();
  }
});
