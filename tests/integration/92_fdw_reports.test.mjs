// docs/dba.md's "Reporting across clusters", run as the page says: its first SQL block on a
// reporting database (a database of its own on the first cluster) with the page's servers
// pointed at the test's two clusters, then its example query.  The data: t43 in the second
// cluster with two waiting interactions, and an older copy of t43 in the first (as a move
// leaves it) listed in report.moved_away.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { db, env, secrets, freshContactCenter } from '../lib/harness.mjs';
import { cluster2, sql2 } from '../lib/multidb.mjs';

const cc = 't43';
let reports;

/** The ```sql blocks of the page's "## Reporting across clusters" section. */
function blocks() {
  const page = fs.readFileSync(path.join(env.top, 'docs/dba.md'), 'utf8');
  const at = page.indexOf('\n## Reporting across clusters\n');
  assert.ok(at >= 0, 'docs/dba.md has no "## Reporting across clusters" section');
  const end = page.indexOf('\n## ', at + 1);
  return [...page.slice(at, end < 0 ? undefined : end).matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]);
}

const create = (sql, queue) => sql.db.query(`SELECT interactions.api(interactions.contact_center_id($1), 'feeder', 'create',
  jsonb_build_object('mediaType', 'email', 'queueName', $2::text))`, [cc, queue]);

before(async () => {
  await freshContactCenter(cc);        // the copy a move left behind
  await create({ db }, 'support');
  await freshContactCenter(cc, sql2);  // where t43 lives
  await create(sql2, 'support');
  await create(sql2, 'support');
  await db.query('DROP DATABASE IF EXISTS reports');
  await db.query('CREATE DATABASE reports');
  reports = new pg.Client({ host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres', database: 'reports' });
  await reports.connect();
});
after(async () => { await reports?.end(); });

test('the page\'s postgres_fdw views show every cluster\'s contact centers, a moved one once', async () => {
  const [setup, example] = blocks();
  const { DBA_PASSWORD } = secrets();
  const sql = setup
    .replace("host 'db-a.example', port '5432'", `host '127.0.0.1', port '${env.pgPort}'`)
    .replace("host 'db-b.example', port '5432'", `host '127.0.0.1', port '${cluster2.port}'`)
    .replaceAll("'the dba password'", `'${DBA_PASSWORD}'`);
  assert.notEqual(sql, setup);
  await reports.query(sql);
  await reports.query(`INSERT INTO report.moved_away VALUES ('a', $1)`, [cc]);

  const rows = (await reports.query(example)).rows;
  const mine = rows.filter((r) => r.contact_center === cc);
  assert.deepEqual(mine.map((r) => [r.cluster, r.queue, Number(r.waiting)]).sort(),
    [['b', 'quick', 0], ['b', 'sales', 0], ['b', 'support', 2]]);
  // the other contact centers of both clusters are there, each with its cluster
  assert.ok(rows.some((r) => r.cluster === 'a' && r.contact_center === 'demo'));
  const firstOnly = await db.value(`SELECT count(*)::int FROM interactions.queue_statistics WHERE contact_center <> $1`, [cc]);
  const secondOnly = await sql2.db.value(`SELECT count(*)::int FROM interactions.queue_statistics WHERE contact_center <> $1`, [cc]);
  assert.equal(rows.length, firstOnly + secondOnly + 3);

  // the history of t43 is the second cluster's, a filter on the contact center goes there
  const history = await reports.query(`SELECT cluster, count(*)::int AS n FROM report.interaction_history
                                        WHERE contact_center = $1 GROUP BY cluster`, [cc]);
  const idB = await sql2.db.value(`SELECT id FROM interactions.contact_centers WHERE name = $1`, [cc]);
  const n = await sql2.db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1 AND interaction_id IS NOT NULL`, [idB]);
  assert.deepEqual(history.rows, [{ cluster: 'b', n }]);
  const plan = (await reports.query(`EXPLAIN (VERBOSE) SELECT * FROM cluster_b.interaction_history WHERE contact_center = 't43'`))
    .rows.map((r) => r['QUERY PLAN']).join('\n');
  assert.match(plan, /Remote SQL: .*WHERE \(\(contact_center = 't43'/);
});
