// Authentication through the module's own provider: password changes, disablement and role
// changes take effect within seconds (or on the next request), a wrong password costs the
// same whether the user exists or not, passwords over 72 bytes never log in, verified
// passwords are remembered by all children at once, and failed logins lock a user at an
// address, a user, or an address without costing a bcrypt check.
//
// The first tests use the httpd that scripts/test started (its configuration is the one
// scripts/serve runs: "AuthBasicProvider interactions" alone).  The brute-force tests run on
// an httpd of their own with small thresholds and mod_remoteip, so that requests can come
// from many client addresses (X-Forwarded-For), and with a location configured the old way
// (mod_authn_socache in front of the provider).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { api, ok, fails, db, env, freshContactCenter, httpdInstance, watchErrorLog, eventually,
  errorLogPath } from '../lib/harness.mjs';

const cc = 't20';
const NAME = 'httpd-authn';
// mod_auth_basic logs every refused login of this file; the provider logs each lock it engages
const refusals = [
  /AH01617: user [a-z0-9-]+: authentication failure for "\/(t20|compat)\/api\/v2\/[^"]*": Password Mismatch/,
  /AH01618: user [a-z0-9-]+ not found: \/(t20|compat)\/api\/v2\//,
  /MI00211: \d+ failed logins of (user and address|user|address) \(user "[a-z0-9-]+", address [0-9.]+\)/,
];
// the store logs the recheck that this file makes fail on purpose
watchErrorLog([...refusals, /MI00113: database call mi_credv failed \(SQLSTATE 42501\)/]);
watchErrorLog(refusals, NAME);

let ccId;
let inst;
let pidsLog;

/** A user of t20 in a known state: these roles, this password, enabled. */
async function account(login, roles, password = 'password') {
  await db.query(`SELECT interactions.create_user($1, $2, $3, $4)`, [cc, login, password, roles]);
  await db.query(`SELECT interactions.set_user_password($1, $2, $3)`, [cc, login, password]);
  await db.query(`SELECT interactions.enable_user($1, $2)`, [cc, login]);
}

before(async () => {
  ccId = await freshContactCenter(cc);
});

/** The httpd of the brute-force tests, started on first use. */
function dedicated() {
  if (inst) return inst;
  const dir = path.join(env.varDir, NAME);
  fs.mkdirSync(dir, { recursive: true });
  pidsLog = path.join(dir, 'pids.log');
  const extra = path.join(env.varDir, 'authn-extra.conf');
  const mods = '/usr/lib/apache2/modules';
  fs.writeFileSync(extra, `
LoadModule remoteip_module ${mods}/mod_remoteip.so
LoadModule authn_socache_module ${mods}/mod_authn_socache.so
LoadModule socache_shmcb_module ${mods}/mod_socache_shmcb.so
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
InteractionsAuthnFailureWindow 120
InteractionsAuthnMaxFailuresUserAddress 3
InteractionsAuthnMaxFailuresUser 6
InteractionsAuthnMaxFailuresAddress 8
CustomLog "${pidsLog}" "%P %{X-Test}i %>s"
AuthnCacheSOCache shmcb:${dir}/authn-compat(1048576)
<Location /compat/api/v2>
    SetHandler interactions
    InteractionsContactCenter ${cc}
    AuthType Basic
    AuthName "configured the old way"
    AuthBasicProvider socache interactions
    AuthnCacheProvideFor interactions
    AuthnCacheContext compat
    Require valid-user
</Location>
`);
  const i = httpdInstance(NAME, { CCS: cc, NOLOC: 1, EXTRA: extra });
  i.start();
  inst = i;
  return inst;
}
after(() => inst?.stop());

/** One request on a connection of its own (so that it may land on any child), optionally
 *  from client address @addr and tagged for the access log. */
function call(user, password, { addr, tag, base = `/${cc}/api/v2`, p = '/me', port = dedicated().port } = {}) {
  const headers = { Connection: 'close' };
  if (user) headers.Authorization = 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
  if (addr) headers['X-Forwarded-For'] = addr;
  if (tag) headers['X-Test'] = tag;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: base + p, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The provider's counters from the metrics endpoint of the instance on @port. */
async function authn(port = dedicated().port) {
  const text = await (await fetch(`http://127.0.0.1:${port}/interactions-metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^interactions_authn_(checks|locks)_total\{(?:result|scope)="([a-z_]+)"\} (\d+)$/gm)) {
    out[m[2]] = Number(m[3]);
  }
  assert.ok('verified' in out, `no credential cache counters in the metrics: ${text.slice(0, 200)}`);
  return out;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// ------------------------------------------------------------------ account changes

test('a changed password: the old one stops working within seconds, the new one works at once', async (t) => {
  await account('pw-old', ['agent']);
  await account('pw-new', ['agent']);
  for (const u of ['pw-old', 'pw-new']) {
    await ok(u, 'GET', '/me', { cc });
    await ok(u, 'GET', '/me', { cc });     // now remembered
  }
  const t0 = Date.now();
  await db.query(`SELECT interactions.set_user_password($1, 'pw-new', 'second secret')`, [cc]);
  await ok('pw-new', 'GET', '/me', { cc, password: 'second secret' });
  await fails('pw-new', 'GET', '/me', 401, 20, { cc });

  await db.query(`SELECT interactions.set_user_password($1, 'pw-old', 'second secret')`, [cc]);
  // InteractionsAuthnCacheRecheck is 5 s: the old password is refused well within 15
  await eventually(async () => (await api('pw-old', 'GET', '/me', { cc })).status === 401, 15000, 250);
  await fails('pw-old', 'GET', '/me', 401, 20, { cc });
  await ok('pw-old', 'GET', '/me', { cc, password: 'second secret' });
  t.diagnostic(`old password refused ${Date.now() - t0} ms after the change`);
});

test('a password changed by hand (UPDATE of the users table) takes effect the same way', async () => {
  await account('pw-hand', ['agent']);
  await ok('pw-hand', 'GET', '/me', { cc });
  await db.query(`UPDATE interactions.users SET password_hash = interactions_ext.crypt('by hand', interactions_ext.gen_salt('bf', 4))
                   WHERE cc_id = $1 AND login = 'pw-hand'`, [ccId]);
  await eventually(async () => (await api('pw-hand', 'GET', '/me', { cc })).status === 401, 15000, 250);
  await ok('pw-hand', 'GET', '/me', { cc, password: 'by hand' });
  const audit = await db.query(`SELECT change, changed_by FROM interactions.user_audit a JOIN interactions.users u
                                  ON u.cc_id = a.cc_id AND u.id = a.user_id
                                 WHERE u.cc_id = $1 AND u.login = 'pw-hand' ORDER BY a.seq DESC LIMIT 1`, [ccId]);
  assert.deepEqual(audit, [{ change: 'password', changed_by: 'postgres' }]);
});

test('a disabled user is refused from the next request on, by every call, and comes back when enabled', async () => {
  await account('leaver', ['agent']);
  await ok('leaver', 'GET', '/me', { cc });
  const channel = () => db.value(`SELECT ch.state FROM interactions.agent_channels ch JOIN interactions.users u
                                   ON u.cc_id = ch.cc_id AND u.id = ch.user_id WHERE u.cc_id = $1 AND u.login = 'leaver'`, [ccId]);
  await db.query(`SELECT interactions.disable_user($1, 'leaver')`, [cc]);
  // disabling logs the agent's channels out; the refused requests below change nothing
  const state = await channel();
  assert.equal(state, 'LoggedOut');
  // the very next request, although its password is still remembered
  await fails('leaver', 'GET', '/me', 401, 20, { cc });
  await fails('leaver', 'POST', '/me/channels/email', 401, 20, { cc, body: { operationName: 'Ready' } });
  await fails('leaver', 'GET', '/me/interactions', 401, 20, { cc });
  assert.equal(await channel(), state);
  // and within seconds authentication itself refuses (httpd's own 401, before any API call)
  await eventually(async () => (await api('leaver', 'GET', '/me', { cc })).json?.statusMessage === 'not authenticated', 15000, 250);
  await db.query(`SELECT interactions.enable_user($1, 'leaver')`, [cc]);
  await ok('leaver', 'GET', '/me', { cc });
  const audit = await db.query(`SELECT change FROM interactions.user_audit a JOIN interactions.users u
                                  ON u.cc_id = a.cc_id AND u.id = a.user_id
                                 WHERE u.cc_id = $1 AND u.login = 'leaver' AND change IN ('disabled', 'enabled')
                                 ORDER BY a.seq`, [ccId]);
  assert.deepEqual(audit.map((a) => a.change).slice(-2), ['disabled', 'enabled']);
});

test('a role change applies to the next request', async () => {
  await account('promoted', ['admin']);
  const body = { mediaType: 'email', queueName: 'support' };
  await ok('promoted', 'POST', '/interactions', { cc, body });
  await db.query(`SELECT interactions.set_user_roles($1, 'promoted', ARRAY['agent'])`, [cc]);
  await fails('promoted', 'POST', '/interactions', 403, 5, { cc, body });
  assert.deepEqual((await ok('promoted', 'GET', '/me', { cc })).user.roles, ['agent']);
  await db.query(`SELECT interactions.set_user_roles($1, 'promoted', ARRAY['admin'])`, [cc]);
  await ok('promoted', 'POST', '/interactions', { cc, body });
});

test('a remembered password is not trusted when its recheck fails', async () => {
  await account('unconfirmed', ['agent']);
  await ok('unconfirmed', 'GET', '/me', { cc });
  await db.query(`REVOKE EXECUTE ON FUNCTION interactions.credential_version(integer, text) FROM interactions_app`);
  try {
    // past InteractionsAuthnCacheRecheck the provider must ask, fail, and not let the user in
    await eventually(async () => (await api('unconfirmed', 'GET', '/me', { cc })).status === 500, 15000, 250);
  } finally {
    await db.query(`GRANT EXECUTE ON FUNCTION interactions.credential_version(integer, text) TO interactions_app`);
  }
  await ok('unconfirmed', 'GET', '/me', { cc });
});

// ------------------------------------------------------------------ timing and long passwords

test('a wrong password costs the same for an unknown user as for a known one', async (t) => {
  const n = 21;
  for (let i = 0; i < n; i++) await account(`timing${i}`, ['agent']);
  const known = [];
  const unknown = [];
  const timed = async (user, password) => {
    const t0 = performance.now();
    const r = await api(user, 'GET', '/me', { cc, password });
    assert.equal(r.status, 401);
    return performance.now() - t0;
  };
  const tag = Date.now().toString(36);
  for (let i = 0; i < n; i++) {
    known.push(await timed(`timing${i}`, `wrong-${tag}`));
    unknown.push(await timed(`nobody-${tag}-${i}`, `wrong-${tag}`));
  }
  const k = median(known);
  const u = median(unknown);
  t.diagnostic(`median of ${n}: known user, wrong password ${k.toFixed(1)} ms; unknown user ${u.toFixed(1)} ms`);
  // both pay one bcrypt check of the same cost; the bounds are generous for a busy machine
  assert.ok(u / k > 0.5 && u / k < 2, `unknown ${u.toFixed(1)} ms vs known ${k.toFixed(1)} ms`);
});

test('passwords over 72 bytes never log in, although bcrypt would take them', async () => {
  const pw72 = 'p'.repeat(72);
  await account('long-pw', ['agent'], pw72);
  // bcrypt reads 72 bytes: this one would match the stored hash
  await fails('long-pw', 'GET', '/me', 401, 20, { cc, password: `${pw72}anything` });
  await ok('long-pw', 'GET', '/me', { cc, password: pw72 });
  await fails('long-pw', 'GET', '/me', 401, 20, { cc, password: `${pw72}x` });
  // and none is ever set
  await assert.rejects(db.query(`SELECT interactions.set_user_password($1, 'long-pw', $2)`, [cc, `${pw72}x`]),
    /at most 72 bytes/);
  await assert.rejects(db.query(`SELECT interactions.create_user($1, 'long-pw-2', $2, ARRAY['agent'])`, [cc, 'é'.repeat(37)]),
    /at most 72 bytes/);
});

// ------------------------------------------------------------------ the shared cache

test('a verified password is remembered by every child: no further bcrypt check', async () => {
  await account('shared', ['agent']);
  const m0 = await authn();
  assert.equal((await call('shared', 'password', { tag: 'shared-first' })).status, 200);
  const m1 = await authn();
  assert.equal(m1.verified - m0.verified, 1);
  // connections of their own land on both children (the event MPM's listeners race to accept)
  const pids = new Set();
  for (let i = 0; i < 400 && (i < 30 || pids.size < 2); i++) {
    const r = await call('shared', 'password', { tag: `shared-${i}` });
    assert.equal(r.status, 200);
    if (i % 10 === 9 || i >= 30) {
      for (const line of fs.readFileSync(pidsLog, 'utf8').split('\n')) {
        const m = line.match(/^(\d+) shared-\d+ 200$/);
        if (m) pids.add(m[1]);
      }
    }
  }
  assert.ok(pids.size >= 2, `all requests were served by one child: ${[...pids]}`);
  const m2 = await authn();
  assert.equal(m2.verified, m1.verified, 'a child checked the password again');
  assert.equal(m2.refused, m1.refused);
  assert.ok(m2.cached + m2.rechecked - m1.cached - m1.rechecked >= 30);
});

test('configured the old way (mod_authn_socache in front), changes still take effect within seconds', async () => {
  await account('compat', ['agent']);
  const base = '/compat/api/v2';
  assert.equal((await call('compat', 'password', { base })).status, 200);
  assert.equal((await call('compat', 'password', { base })).status, 200);
  await db.query(`SELECT interactions.set_user_password($1, 'compat', 'next one')`, [cc]);
  await eventually(async () => (await call('compat', 'password', { base })).status === 401, 15000, 250);
  assert.equal((await call('compat', 'next one', { base })).status, 200);
});

// ------------------------------------------------------------------ failed logins

test('failures of a user at one address lock that pair: even the right password is refused there, without a check', async () => {
  await account('victim', ['agent']);
  const A = '198.51.100.10';
  for (let i = 0; i < 3; i++) {
    assert.equal((await call('victim', `guess${i}`, { addr: A })).status, 401);
  }
  const m0 = await authn();
  assert.equal(m0.user_address >= 1, true);
  const r = await call('victim', 'password', { addr: A });
  assert.deepEqual([r.status, r.json?.statusCode], [401, 20]);
  assert.match(r.json.statusMessage, /too many failed logins/);
  const retry = Number(r.headers['retry-after']);
  assert.ok(retry > 0 && retry <= 121, `Retry-After: ${r.headers['retry-after']}`);
  // many more attempts: each refused at once, none checked
  const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => call('victim', `burst${i}`, { addr: A })));
  assert.ok(burst.every((b) => b.status === 401));
  const m1 = await authn();
  assert.equal(m1.refused, m0.refused, 'a locked attempt was checked');
  assert.equal(m1.verified, m0.verified);
  assert.equal(m1.locked - m0.locked, 51);
  // the same user elsewhere is not locked
  assert.equal((await call('victim', 'password', { addr: '198.51.100.11' })).status, 200);
});

test('guesses at a user from many addresses lock the user, except where the user has logged in', async () => {
  await account('target', ['agent']);
  const home = '198.51.100.20';
  assert.equal((await call('target', 'password', { addr: home })).status, 200);
  const m0 = await authn();
  for (let i = 1; i <= 6; i++) {
    assert.equal((await call('target', `guess${i}`, { addr: `203.0.113.${i}` })).status, 401);
  }
  assert.equal((await authn()).user - m0.user, 1);
  const away = await call('target', 'password', { addr: '203.0.113.99' });
  assert.deepEqual([away.status, away.json?.statusMessage], [401, 'not authenticated: too many failed logins, try again later']);
  // the agent at their desk keeps working, with the password remembered and without it
  assert.equal((await call('target', 'password', { addr: home })).status, 200);
});

test('guesses at many users from one address lock the address for users who never logged in there', async () => {
  const X = '192.0.2.50';
  await account('regular', ['agent']);
  await account('newcomer', ['agent']);
  assert.equal((await call('regular', 'password', { addr: X })).status, 200);
  for (let i = 0; i < 8; i++) {
    assert.equal((await call(`sprayed${i}`, 'password', { addr: X })).status, 401);
  }
  const m = await authn();
  assert.ok(m.address >= 1);
  const newcomer = await call('newcomer', 'password', { addr: X });
  assert.deepEqual([newcomer.status, newcomer.json?.statusCode], [401, 20]);
  assert.match(newcomer.json.statusMessage, /too many failed logins/);
  assert.equal((await call('regular', 'password', { addr: X })).status, 200);
  assert.equal((await call('newcomer', 'password', { addr: '192.0.2.51' })).status, 200);
});

test('while guesses are refused, other users are answered at once', async () => {
  await account('bystander', ['agent']);
  const A = '198.51.100.10';     // 'victim' is locked there
  const attack = Promise.all(Array.from({ length: 150 }, (_, i) => call('victim', `again${i}`, { addr: A })));
  const t0 = Date.now();
  const r = await call('bystander', 'password', { addr: '198.51.100.77' });
  const took = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.ok(took < 5000, `a bystander waited ${took} ms`);
  assert.ok((await attack).every((a) => a.status === 401));
});

test('the provider logs each lock once, with the user and the address', () => {
  const log = fs.readFileSync(errorLogPath(NAME), 'utf8');
  assert.match(log, /MI00211: 3 failed logins of user and address \(user "victim", address 198\.51\.100\.10\)/);
  assert.match(log, /MI00211: 6 failed logins of user \(user "target", address 203\.0\.113\.6\)/);
  assert.match(log, /MI00211: 8 failed logins of address \(user "sprayed7", address 192\.0\.2\.50\)/);
  assert.equal(log.match(/MI00211: 3 failed logins of user and address \(user "victim"/g).length, 1);
});
