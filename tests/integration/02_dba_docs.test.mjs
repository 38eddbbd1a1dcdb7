// docs/dba.md's row-level security demonstration, run as the page says: its first SQL block
// as interactions_dba, its second as interactions_app, each over TCP with its password like
// a person with psql.  What the comments claim must be what PostgreSQL answers.  The data:
// the demo contact center (1, provisioned first) and acme, where tests/sql/10_rls.sql made
// interactions, and the test contact centers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { env, db, connectAs } from '../lib/harness.mjs';

/** The ```sql blocks of the page's "## Row-level security" section. */
function blocks() {
  const page = fs.readFileSync(path.join(env.top, 'docs/dba.md'), 'utf8');
  const at = page.indexOf('\n## Row-level security\n');
  assert.ok(at >= 0, 'docs/dba.md has no "## Row-level security" section');
  const end = page.indexOf('\n## ', at + 1);
  const section = page.slice(at, end < 0 ? undefined : end);
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/** Run @sql (several statements) as @role; the rows of each SELECT, in order. */
async function runAs(role, sql) {
  const client = await connectAs(role);
  try {
    const results = [].concat(await client.query(sql));
    return results.filter((r) => r.command === 'SELECT').map((r) => r.rows);
  } finally {
    await client.end();
  }
}

test('as interactions_dba: every contact center, and the policy of every table', async () => {
  const [dba] = blocks();
  assert.match(dba, /^-- as interactions_dba/);
  const [centers, policies] = await runAs('interactions_dba', dba);
  const all = await db.query('SELECT id, name FROM interactions.contact_centers ORDER BY id');
  assert.ok(all.length >= 3);
  assert.deepEqual(centers.map((r) => [r.id, r.name]), all.map((r) => [r.id, r.name]));
  const perCc = await db.query('SELECT cc_id, count(*)::int AS n FROM interactions.interactions GROUP BY cc_id');
  for (const { cc_id: id, n } of perCc) {
    assert.equal(Number(centers.find((r) => r.id === id).interactions), n, `contact center ${id}`);
  }
  assert.ok(perCc.length >= 2, 'interactions of more than one contact center are there to see');
  // partitioned tables (the history, relkind p) carry the policy as well as their partitions
  const tables = await db.query(`SELECT relname FROM pg_class
                                  WHERE relnamespace = 'interactions'::regnamespace AND relkind IN ('r', 'p')`);
  assert.deepEqual(policies.map((r) => r.tablename).sort(), tables.map((r) => r.relname).sort());
  assert.ok(policies.every((r) => r.policyname === 'tenant_isolation'));
});

test('as interactions_app: nothing unbound, contact center 1 alone once bound', async () => {
  const [, app] = blocks();
  assert.match(app, /^-- as interactions_app/);
  const demo = await db.one('SELECT id, name FROM interactions.contact_centers WHERE id = 1');
  assert.equal(demo.name, 'demo', 'the page says contact center 1 is demo');
  const mine = await db.value('SELECT count(*)::int FROM interactions.interactions WHERE cc_id = 1');
  const others = await db.value('SELECT count(*)::int FROM interactions.interactions WHERE cc_id <> 1');
  assert.ok(mine > 0 && others > 0, `${mine} interactions of demo, ${others} of others`);
  const [unbound, , bound, centers] = await runAs('interactions_app', app);
  assert.equal(Number(unbound[0].count), 0);
  assert.deepEqual([Number(bound[0].count), bound[0].min, bound[0].max], [mine, 1, 1]);
  assert.deepEqual(centers, [{ id: 1, name: 'demo' }]);
});
