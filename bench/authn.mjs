// authn.mjs — what a login costs through the module's authn provider, measured over HTTP
// (GET /me, one request at a time on a kept-alive connection, medians and 90th percentiles):
//
//   unknown      a user that does not exist, any password
//   wrong        a user that exists, a wrong password
//   bcrypt       the first request of a user with the right password (the full check)
//   cached       the same user again (the password remembered: no database, no bcrypt)
//   rechecked    a remembered password after InteractionsAuthnCacheRecheck (one query of the
//                user's credential_version, no bcrypt)
//
// unknown and wrong must cost the same (a stand-in hash of the same cost for unknown users);
// bcrypt minus cached is what the cache saves on every request.  Each sample uses a user of
// its own, so no failure count reaches a lock.  GET /me itself (one API call) is in every
// figure; the difference between rows is the authentication.
//
//   node bench/authn.mjs VAR PORT [N] [CC]
//
// VAR is a directory of scripts/lib/stack (pg-up) with an httpd on PORT serving contact
// center CC (default t20) at /CC/api/v2, e.g.
//   scripts/lib/stack pg-up /tmp/ab 5499 fast
//   scripts/lib/stack httpd-conf /tmp/ab httpd 8099 build-test/.libs/mod_interactions.so CCS=t20
//   scripts/lib/stack httpd-start /tmp/ab httpd
//   node bench/authn.mjs /tmp/ab 8099 40
// Prints one JSON line.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const stack = path.join(here, '../scripts/lib/stack');
const [varDir, port, nArg, ccArg] = process.argv.slice(2);
if (!varDir || !port) {
  console.error('usage: node bench/authn.mjs VAR PORT [N] [CC]');
  process.exit(2);
}
const n = Number(nArg || 40);
const cc = ccArg || 't20';
const base = `http://127.0.0.1:${port}/${cc}/api/v2`;
const run = Date.now().toString(36);
const psql = (sql) => execFileSync(stack, ['psql', varDir, '-qtAc', sql], { encoding: 'utf8' });

psql(`SELECT interactions.create_contact_center('${cc}')`);
psql(`SELECT count(interactions.create_user('${cc}', 'ab-${run}-' || i, 'password', ARRAY['agent']))
        FROM generate_series(1, ${2 * n}) i`);

async function get(user, password) {
  const t0 = performance.now();
  const res = await fetch(`${base}/me`, {
    headers: { Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') },
  });
  await res.text();
  return { ms: performance.now() - t0, status: res.status };
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return { median_ms: +s[Math.floor(s.length / 2)].toFixed(2), p90_ms: +s[Math.floor(s.length * 0.9)].toFixed(2) };
}

async function sample(what, user, password, expect) {
  const r = await get(user, password);
  if (r.status !== expect) throw new Error(`${what}: ${user} got ${r.status}, expected ${expect}`);
  return r.ms;
}

const rows = { unknown: [], wrong: [], bcrypt: [], cached: [], rechecked: [] };
await sample('warm-up', `ab-${run}-nobody`, 'x', 401);
for (let i = 1; i <= n; i++) {
  rows.unknown.push(await sample('unknown', `ab-${run}-ghost-${i}`, 'password', 401));
  rows.wrong.push(await sample('wrong', `ab-${run}-${n + i}`, 'not it', 401));
  rows.bcrypt.push(await sample('bcrypt', `ab-${run}-${i}`, 'password', 200));
  rows.cached.push(await sample('cached', `ab-${run}-${i}`, 'password', 200));
}
// past InteractionsAuthnCacheRecheck (default 5 s): each first request asks for the version
await new Promise((r) => setTimeout(r, 6000));
for (let i = 1; i <= n; i++) rows.rechecked.push(await sample('rechecked', `ab-${run}-${i}`, 'password', 200));

const out = { n };
for (const [k, v] of Object.entries(rows)) out[k] = stats(v);
console.log(JSON.stringify(out));
