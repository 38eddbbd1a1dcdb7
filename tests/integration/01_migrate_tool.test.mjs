// scripts/interactions-migrate as an administrator reads it: on an empty database one line
// per migration it applies and a last line that says so; run again, a last line that says
// nothing was left to apply; after an upgrade, the new migration alone.  What the SQL files'
// own queries return (V004's "SELECT setval(...)") is not the tool's output.  Runs on a
// database of its own in the test cluster, dropped afterwards; the roles are the
// cluster's, left as they are (no passwords given).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env, db } from '../lib/harness.mjs';

const fresh = 'mi_migrate_fresh';
const sqldir = path.join(env.top, 'sql');
const migrations = fs.readdirSync(path.join(sqldir, 'migrations'))
  .filter((f) => /^V\d+__\w+\.sql$/.test(f)).map((f) => f.replace(/\.sql$/, '')).sort();
const last = migrations[migrations.length - 1];
const summary = (what, version = last) =>
  `interactions-migrate: ${what}, schema at ${version}; functions, views and security applied`;

/** Run the tool on @database (with --sqldir @dir); its stdout lines, after checking that it
 *  succeeded and wrote nothing to stderr. */
function migrate(database, dir = sqldir) {
  const res = spawnSync(path.join(env.top, 'scripts/interactions-migrate'),
    ['--sqldir', dir, '-h', path.join(env.varDir, 'pg/run'), '-p', String(env.pgPort), '-U', 'postgres', '-d', database],
    { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.equal(res.stderr, '');
  return res.stdout.split('\n').filter((l) => l !== '');
}

before(async () => {
  await db.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
  await db.query(`CREATE DATABASE ${fresh}`);
});
after(async () => {
  await db.query(`DROP DATABASE IF EXISTS ${fresh} WITH (FORCE)`);
});

test('on an empty database: each migration it applies, then how many and the version reached', () => {
  assert.ok(migrations.length >= 10);
  assert.deepEqual(migrate(fresh), [
    ...migrations.map((v) => `applying ${v}`),
    summary(`applied ${migrations.length} migrations`),
  ]);
});

test('run again: nothing left to apply, and it says so', () => {
  assert.deepEqual(migrate(fresh), [summary('no migration to apply')]);
});

test('an upgrade: the new migration alone, and no rows of its queries on the output', () => {
  // the next release's SQL: this tree's and one more migration, which selects something
  const next = fs.mkdtempSync(path.join(os.tmpdir(), 'mi-sql-'));
  try {
    fs.cpSync(sqldir, next, { recursive: true });
    fs.writeFileSync(path.join(next, 'migrations/V999__next_release.sql'),
      "CREATE TABLE interactions.next_release (cc_id int, n int);\nSELECT 42 AS stray_row;\n");
    assert.deepEqual(migrate(fresh, next), ['applying V999__next_release', summary('applied 1 migration', 'V999__next_release')]);
  } finally {
    fs.rmSync(next, { recursive: true, force: true });
  }
});
