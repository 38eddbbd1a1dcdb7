// The history partitioned by month (V013): the migration of a history with data, what every
// partition keeps (append-only, row-level security, seq given by the server), retention per
// contact center enforced by the maintenance tick — whole months dropped where every contact
// center in them allows it, rows deleted otherwise, never what a push session still needs —
// and a one-day report on a year of history reading one partition.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { db, env, eventually, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';
import { create } from '../lib/flows.mjs';

watchErrorLog();

const pgHost = path.join(env.varDir, 'pg/run');

/** Run the maintenance tick's retention now: its clock says the last run is long past. */
async function retentionRuns() {
  await db.query(`SELECT setval('interactions.history_retention_clock', 0)`);
  await eventually(async () => Number(await db.value(
    `SELECT coalesce(pg_sequence_last_value('interactions.history_retention_clock'), 0)`)) > 0, 10000, 50);
}

async function partitions() {
  return (await db.query(`SELECT partition::text AS name, month_from FROM interactions.history_partitions()`))
    .map((r) => r.name);
}

/** The name of the partition of the month @monthsAgo months before this one. */
async function partitionAgo(monthsAgo) {
  return db.value(`SELECT 'interactions.history_' || to_char(date_trunc('month', now() AT TIME ZONE 'UTC')
                    - $1 * interval '1 month', 'YYYYMM')`, [monthsAgo]);
}

/** Old rows for contact center @ccId: @n rows, each day back from @daysAgo, in partitions made for them. */
async function oldRows(ccId, daysAgo, n) {
  const client = await new pg.Client({ host: pgHost, port: env.pgPort, user: 'postgres', database: 'interactions' });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT interactions.history_partition_create(now() - ($1 + g) * interval '1 day')
                          FROM generate_series(0, $2 - 1) g`, [daysAgo, n]);
    // the trigger that dates rows now is what this goes around
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`INSERT INTO interactions.history (cc_id, seq, xid, at, interaction_id, operation, to_state)
                        SELECT $1, nextval('interactions.history_seq'), pg_current_xact_id(),
                               now() - ($2 + g) * interval '1 day', gen_random_uuid(), 'Create', 'Queued'
                          FROM generate_series(0, $3 - 1) g`, [ccId, daysAgo, n]);
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

async function rowsOf(ccId, monthsAgo) {
  return Number(await db.value(`SELECT count(*) FROM interactions.history WHERE cc_id = $1
      AND at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - $2 * interval '1 month'
      AND at <  date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - ($2 - 1) * interval '1 month'`,
  [ccId, monthsAgo]));
}

after(async () => {
  await db.query(`UPDATE interactions.contact_centers SET history_retention = NULL WHERE name IN ('t29', 't30', 't31')`);
});

test('a history with data is migrated in place: same rows, seq, xid and at, in monthly partitions', async () => {
  const name = `mi_migrate_${process.pid}`;
  await db.query(`DROP DATABASE IF EXISTS ${name}`);
  await db.query(`CREATE DATABASE ${name}`);
  const old = fs.mkdtempSync(path.join(os.tmpdir(), 'mi-v012-'));
  try {
    // the schema as it was before V013: the migrations before it, no functions
    fs.mkdirSync(path.join(old, 'migrations'));
    fs.mkdirSync(path.join(old, 'functions'));
    fs.writeFileSync(path.join(old, 'functions/000_none.sql'), '-- the functions come with the real migration\n');
    // the roles and schemas every migration starts from (interactions-migrate requires it)
    fs.copyFileSync(path.join(env.top, 'sql/bootstrap.sql'), path.join(old, 'bootstrap.sql'));
    for (const f of fs.readdirSync(path.join(env.top, 'sql/migrations'))) {
      if (f < 'V013') fs.copyFileSync(path.join(env.top, 'sql/migrations', f), path.join(old, 'migrations', f));
    }
    const migrate = (sqldir) => execFileSync(path.join(env.top, 'scripts/interactions-migrate'),
      ['--sqldir', sqldir, '-h', pgHost, '-p', String(env.pgPort), '-U', 'postgres', '-d', name],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    migrate(old);
    const c = new pg.Client({ host: pgHost, port: env.pgPort, user: 'postgres', database: name });
    await c.connect();
    try {
      assert.equal((await c.query(`SELECT relkind FROM pg_class WHERE oid = 'interactions.history'::regclass`)).rows[0].relkind, 'r');
      await c.query(`INSERT INTO interactions.contact_centers (name) VALUES ('m1'), ('m2')`);
      // three months of rows of two contact centers, as the old table numbered them
      await c.query(`INSERT INTO interactions.history (cc_id, at, operation, interaction_id, to_state, snapshot)
                     SELECT 1 + g % 2, now() - (g * interval '1 day'), 'Create', gen_random_uuid(), 'Queued',
                            jsonb_build_object('n', g)
                       FROM generate_series(0, 89) g`);
      const before = (await c.query(`SELECT cc_id, seq::text, xid::text, at, operation, snapshot
                                       FROM interactions.history ORDER BY seq`)).rows;
      assert.equal(before.length, 90);
      migrate(path.join(env.top, 'sql'));

      assert.equal((await c.query(`SELECT relkind FROM pg_class WHERE oid = 'interactions.history'::regclass`)).rows[0].relkind, 'p');
      const afterRows = (await c.query(`SELECT cc_id, seq::text, xid::text, at, operation, snapshot
                                          FROM interactions.history ORDER BY seq`)).rows;
      assert.deepEqual(afterRows, before);
      // every month with rows has its partition, and the rows are in the partition of their month
      const spread = (await c.query(`SELECT tableoid::regclass::text AS part, count(*)::int AS n,
                                            bool_and(to_char(at AT TIME ZONE 'UTC', 'YYYYMM') = right(tableoid::regclass::text, 6)) AS right_month
                                       FROM interactions.history GROUP BY 1 ORDER BY 1`)).rows;
      assert.ok(spread.length >= 3, JSON.stringify(spread));
      assert.ok(spread.every((s) => s.right_month), JSON.stringify(spread));
      // new rows go on numbering after the old ones, in this month's partition
      const maxOld = Math.max(...before.map((r) => Number(r.seq)));
      const fresh = (await c.query(`INSERT INTO interactions.history (cc_id, operation) VALUES (1, 'Probe')
                                    RETURNING seq::text, tableoid::regclass::text AS part`)).rows[0];
      assert.ok(Number(fresh.seq) > maxOld);
      assert.equal(fresh.part, `interactions.history_${new Date().toISOString().slice(0, 7).replace('-', '')}`);
      // the views over the history are back (the probe concerns no interaction)
      assert.equal(Number((await c.query(`SELECT count(*) FROM interactions.interaction_history`)).rows[0].count), 90);
      // and a second run changes nothing
      migrate(path.join(env.top, 'sql'));
      assert.equal(Number((await c.query(`SELECT count(*) FROM interactions.history`)).rows[0].count), 91);
    } finally {
      await c.end();
    }
  } finally {
    fs.rmSync(old, { recursive: true, force: true });
    await db.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
});

test('every partition is append-only and under forced row-level security; seq, xid and at are the server\'s', async () => {
  const ccId = await freshContactCenter('t29');
  const rels = await db.query(`SELECT c.oid::regclass::text AS name, c.relkind, c.relrowsecurity, c.relforcerowsecurity,
        pg_get_userbyid(c.relowner) AS owner,
        EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation') AS policy,
        ARRAY(SELECT t.tgname::text FROM pg_trigger t WHERE t.tgrelid = c.oid ORDER BY 1) AS triggers
      FROM pg_class c
     WHERE c.oid = 'interactions.history'::regclass
        OR c.oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'interactions.history'::regclass)`);
  assert.ok(rels.length >= 4, 'the parent and at least this month and the next two');
  for (const r of rels) {
    assert.ok(r.relrowsecurity && r.relforcerowsecurity && r.policy, `${r.name}: row-level security`);
    assert.equal(r.owner, 'interactions_owner', r.name);
    assert.deepEqual(r.triggers, ['history_append_only', 'history_no_truncate', 'history_stamp'], r.name);
  }
  const thisMonth = await partitionAgo(0);
  await db.query(`INSERT INTO interactions.history (cc_id, operation) VALUES ($1, 'Probe')`, [ccId]);
  for (const sql of [`UPDATE interactions.history SET operation = 'x' WHERE cc_id = ${ccId}`,
    `DELETE FROM interactions.history WHERE cc_id = ${ccId}`,
    `UPDATE ${thisMonth} SET operation = 'x' WHERE cc_id = ${ccId}`,
    `TRUNCATE interactions.history`, `TRUNCATE ${thisMonth}`]) {
    await assert.rejects(db.query(sql), /append-only/, sql);
  }
  // whatever an INSERT says, seq comes from the sequence and xid is the inserting transaction's
  const taken = await db.value(`SELECT max(seq) FROM interactions.history WHERE cc_id = $1`, [ccId]);
  const r = await db.one(`INSERT INTO interactions.history (cc_id, seq, xid, operation) VALUES ($1, $2, '3', 'Probe')
                          RETURNING seq::text, xid::text = pg_current_xact_id()::text AS mine`, [ccId, taken]);
  assert.notEqual(r.seq, String(taken));
  assert.equal(r.mine, true);
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.history WHERE seq = $1`, [taken])), 1);
  await assert.rejects(db.query(`INSERT INTO interactions.history (cc_id, at, operation) VALUES ($1, now() + interval '2 hours', 'Probe')`, [ccId]),
    /time of the insert/);
  // the module's role sees its own contact center's rows through the parent, and nothing of
  // a partition directly
  const app = await (await import('../lib/harness.mjs')).connectAs('interactions_app');
  try {
    await app.query('BEGIN');
    await app.query(`SELECT set_config('interactions.cc', $1, true)`, [String(ccId)]);
    assert.ok(Number((await app.query(`SELECT count(*) FROM interactions.history`)).rows[0].count) >= 2);
    await assert.rejects(app.query(`SELECT count(*) FROM ${thisMonth}`), /permission denied/);
    await app.query('ROLLBACK');
  } finally {
    await app.end();
  }
});

test('the maintenance tick creates missing partitions ahead, secured like the others', async () => {
  const ahead = await partitionAgo(-2);
  await db.query(`DROP TABLE ${ahead}`);
  // twice: a run that had looked at the partitions before the DROP may end after it
  await retentionRuns();
  await retentionRuns();
  assert.ok((await partitions()).includes(ahead));
  const p = await db.one(`SELECT c.relrowsecurity AND c.relforcerowsecurity AS rls, pg_get_userbyid(c.relowner) AS owner,
      has_table_privilege('interactions_dba', c.oid, 'SELECT') AS dba,
      has_table_privilege('interactions_app', c.oid, 'SELECT') AS app,
      (SELECT count(*)::int FROM pg_trigger t WHERE t.tgrelid = c.oid) AS triggers
      FROM pg_class c WHERE c.oid = $1::regclass`, [ahead]);
  assert.deepEqual(p, { rls: true, owner: 'interactions_owner', dba: true, app: false, triggers: 3 });
});

test('retention drops whole months where every contact center in them allows it, deletes rows elsewhere, and keeps what a push session still needs', async () => {
  const t29 = await freshContactCenter('t29');
  const t30 = await freshContactCenter('t30');
  // 14 months ago: t29 only; 13 months ago: t29 and t30
  const m14 = await partitionAgo(14);
  const m13 = await partitionAgo(13);
  await oldRows(t29, 14 * 31 - 5, 3);
  await oldRows(t29, 13 * 30 - 10, 3);
  await oldRows(t30, 13 * 30 - 10, 2);
  const m14n = await rowsOf(t29, 14);
  const m13n = await rowsOf(t29, 13);
  assert.ok(m14n > 0 && m13n > 0, `rows in both months (${m14n}, ${m13n})`);
  await db.query(`SELECT interactions.set_history_retention('t29', '30 days')`);
  await assert.rejects(db.query(`SELECT interactions.set_history_retention('t29', '1 hour')`), /shorter than a day/);

  // a live push session of t29 that has not read those rows yet holds them
  const user = await db.value(`SELECT id FROM interactions.users WHERE cc_id = $1 AND login = 'supervisor'`, [t29]);
  await db.query(`INSERT INTO interactions.push_sessions (cc_id, client_id, user_id, cursor_xid, cursor_seq, expires_at)
                  VALUES ($1, repeat('a', 32), $2, '1', 0, now() + interval '1 hour')`, [t29, user]);
  await retentionRuns();
  await retentionRuns();
  assert.ok((await partitions()).includes(m14), 'a month a push session still needs is kept');
  assert.equal(await rowsOf(t29, 13), m13n, 'rows a push session still needs are kept');

  await db.query(`DELETE FROM interactions.push_sessions WHERE cc_id = $1`, [t29]);
  await retentionRuns();
  await retentionRuns();
  assert.ok(!(await partitions()).includes(m14), 'the month of t29 alone is dropped');
  assert.ok((await partitions()).includes(m13), 'the month t30 keeps stays');
  assert.equal(await rowsOf(t29, 13), 0, 't29\'s rows in it are deleted');
  assert.ok(await rowsOf(t30, 13) > 0, 't30\'s rows in it stay');
  // t29's history is whole from the end of the last month it lost rows in
  assert.equal(await db.value(`SELECT history_kept_from = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
      - interval '12 months' FROM interactions.contact_centers WHERE id = $1`, [t29]), true);
  assert.equal(await db.value(`SELECT history_kept_from FROM interactions.contact_centers WHERE id = $1`, [t30]), null);
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.history_months
      WHERE month_from = date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '14 months'`)), 0,
  'nothing describes rows of a dropped month');

  // once t30 has a retention too, its month goes as well
  await db.query(`SELECT interactions.set_history_retention('t30', '30 days')`);
  await retentionRuns();
  await retentionRuns();
  assert.ok(!(await partitions()).includes(m13));
  // this month's rows are untouched
  assert.ok(await db.value(`SELECT count(*) FROM interactions.history WHERE cc_id = ANY($1) AND at > now() - interval '1 day'`,
    [[t29, t30]]) >= 0);
});

test('the invariant checker reads a history that retention shortened from its first row left', async () => {
  const t30 = await freshContactCenter('t30');
  const id = await create('t30', { userData: { a: 1 } });
  // as retention would: the interaction's first row (its Create) is gone
  await db.query(`BEGIN; SELECT set_config('interactions.purging', 'on', true);
                  DELETE FROM interactions.history WHERE cc_id = ${t30} AND interaction_id = '${id}' AND operation = 'Create';
                  COMMIT`);
  await db.query(`UPDATE interactions.contact_centers SET history_kept_from = NULL WHERE id = $1`, [t30]);
  const broken = (await db.query(`SELECT v FROM interactions.invariant_violations($1) v`, [t30])).map((r) => r.v);
  assert.ok(broken.length > 0, 'a gap is a violation when retention removed nothing');
  await db.query(`UPDATE interactions.contact_centers SET history_kept_from = now() WHERE id = $1`, [t30]);
  assert.deepEqual(await db.query(`SELECT v FROM interactions.invariant_violations($1) v`, [t30]), []);
  await db.query(`UPDATE interactions.contact_centers SET history_kept_from = NULL WHERE id = $1`, [t30]);
});

test('a one-day report on a year of history reads one partition', async () => {
  const t31 = await freshContactCenter('t31');
  // a row an hour for a year
  const client = await new pg.Client({ host: pgHost, port: env.pgPort, user: 'postgres', database: 'interactions' });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT interactions.history_partition_create(now() - g * interval '1 month') FROM generate_series(0, 12) g`);
    await client.query('SET LOCAL session_replication_role = replica');
    await client.query(`INSERT INTO interactions.history (cc_id, seq, xid, at, interaction_id, operation, to_state, to_queue)
                        SELECT $1, nextval('interactions.history_seq'), pg_current_xact_id(), now() - g * interval '1 hour',
                               gen_random_uuid(), CASE WHEN g % 2 = 0 THEN 'Create' ELSE 'Accept' END, 'Queued', 'support'
                          FROM generate_series(1, 365 * 24) g`, [t31]);
    await client.query('COMMIT');
    await client.query('ANALYZE interactions.history');
  } finally {
    await client.end();
  }
  const day = await db.value(`SELECT to_char(now() - interval '200 days', 'YYYY-MM-DD')`);
  const plan = (await db.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
      SELECT h.to_queue, count(*) FILTER (WHERE h.operation = 'Create') AS created,
             count(*) FILTER (WHERE h.operation = 'Accept') AS accepted
        FROM interactions.history h
       WHERE h.cc_id = (SELECT id FROM interactions.contact_centers WHERE name = 't31')
         AND h.at >= '${day}'::date AND h.at < '${day}'::date + 1
       GROUP BY h.to_queue`)).map((r) => r['QUERY PLAN']).join('\n');
  const touched = new Set(plan.match(/history_\d{6}/g));
  assert.equal(touched.size, 1, plan);
  assert.ok((await partitions()).length >= 13);

  // Readers of the stream skip the months that cannot hold rows after their position, once
  // those months are final: one month a run after the first.
  const thisMonth = await db.value(`SELECT date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`);
  for (let i = 0; i < 40; i++) {
    if (+(await db.value(`SELECT interactions.history_final_through()`)) >= +thisMonth) break;
    await db.query(`SELECT interactions.history_retention()`).catch(() => {});
  }
  assert.equal(+(await db.value(`SELECT interactions.history_final_through()`)), +thisMonth);
  const yearXid = await db.value(`SELECT min(xid)::text FROM interactions.history WHERE cc_id = $1`, [t31]);
  const app = await (await import('../lib/harness.mjs')).connectAs('interactions_app');
  try {
    await app.query('BEGIN');
    await app.query(`SELECT set_config('interactions.cc', $1, true)`, [String(t31)]);
    const floor = async (xid) => (await app.query(`SELECT interactions.history_floor($1, $2::xid8) AS f`, [t31, xid])).rows[0].f;
    // a position now: only this month and those ahead are read
    const now = (await app.query(`SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x`)).rows[0].x;
    assert.equal(+(await floor(now)), +thisMonth);
    // a position before the year's rows: from the first month holding them
    assert.ok(+(await floor(yearXid)) <= +new Date(Date.now() - 360 * 86400e3));
    const read = (await app.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
        SELECT h.seq FROM interactions.history h
         WHERE h.cc_id = $1 AND (h.xid, h.seq) > ($2::xid8, 0) AND h.xid < pg_snapshot_xmin(pg_current_snapshot())
           AND h.at >= interactions.history_floor($1, $2::xid8)
         ORDER BY h.xid, h.seq LIMIT 100`, [t31, now])).rows.map((r) => r['QUERY PLAN']).join('\n');
    assert.match(read, /Subplans Removed: (1[2-9]|[2-9]\d)/, read);
    await app.query('ROLLBACK');
  } finally {
    await app.end();
  }

  // and the year goes again: t31 alone is in those months
  await db.query(`SELECT interactions.set_history_retention('t31', '1 day')`);
  for (let i = 0; i < 20; i++) await db.query(`SELECT interactions.history_retention()`).catch(() => {});
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.history WHERE cc_id = $1 AND at < now() - interval '32 days'`, [t31])), 0);
});
