// Tenancy configured the httpd way — the contact center per <VirtualHost> — and every
// request limit configurable per location or virtual host.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { db, env, freshContactCenter, httpdInstance, watchErrorLog } from '../lib/harness.mjs';

const NAME = 'httpd-vh';
// the wrong password for the password file is refused by mod_auth_basic, which logs it
watchErrorLog([/AH01617: user agent1: authentication failure for "\/api\/v2\/me": Password Mismatch/], NAME);
let inst;

function vhost(serverName, cc, extra = '', auth = 'AuthBasicProvider interactions') {
  return `<VirtualHost 127.0.0.1:*>
    ServerName ${serverName}
    InteractionsContactCenter ${cc}
    ${extra}
    <Location /api/v2>
        SetHandler interactions
        AuthType Basic
        AuthName "${serverName}"
        ${auth}
        Require valid-user
    </Location>
</VirtualHost>
`;
}

before(async () => {
  await freshContactCenter('t12');
  await freshContactCenter('t13');
  const extra = path.join(env.varDir, 'vhosts.conf');
  fs.writeFileSync(extra, vhost('one.test', 't12') + vhost('two.test', 't13', `
    InteractionsMaxBodySize 2048
    InteractionsMaxJSONDepth 3
    InteractionsMaxStringLength 10
    InteractionsMaxUserDataSize 100
    InteractionsMaxPageSize 5
    InteractionsDefaultPageSize 2`));
  // a password file knows agent1 (a user of t12) and ghost (nobody in t12)
  const pw = path.join(env.varDir, 'users.htpasswd');
  execFileSync('htpasswd', ['-bc', pw, 'agent1', 'filepass'], { stdio: 'ignore' });
  execFileSync('htpasswd', ['-b', pw, 'ghost', 'filepass'], { stdio: 'ignore' });
  fs.appendFileSync(extra, vhost('file.test', 't12', '', `AuthBasicProvider file\n        AuthUserFile ${pw}`));
  inst = httpdInstance(NAME, { NOLOC: 1, CCS: '', EXTRA: extra });
  inst.start();
});
after(() => inst.stop());

// fetch() may not set Host; node:http may, and name-based virtual hosts need it
function call(host, method, p, body, user = 'feeder', password = 'password') {
  const payload = body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body));
  const headers = { Host: host, Authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: inst.port, method, path: `/api/v2${p}`, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

test('each virtual host serves its own contact center', async () => {
  const a = await call('one.test', 'POST', '/interactions', { mediaType: 'email', queueName: 'support', subject: 'one' });
  const b = await call('two.test', 'POST', '/interactions', { mediaType: 'email', queueName: 'support', subject: 'two' });
  assert.equal(a.json.statusCode, 0);
  assert.equal(b.json.statusCode, 0);
  assert.equal(await db.value(`SELECT c.name FROM interactions.interactions i JOIN interactions.contact_centers c
                               ON c.id = i.cc_id WHERE i.id = $1`, [a.json.id]), 't12');
  assert.equal(await db.value(`SELECT c.name FROM interactions.interactions i JOIN interactions.contact_centers c
                               ON c.id = i.cc_id WHERE i.id = $1`, [b.json.id]), 't13');
  const me1 = await call('one.test', 'GET', '/me', undefined, 'agent1');
  const me2 = await call('two.test', 'GET', '/me', undefined, 'agent1');
  assert.notEqual(me1.json.user.id, me2.json.user.id);   // same login, two different users
  assert.deepEqual((await call('two.test', 'GET', `/interactions/${a.json.id}`, undefined, 'admin')).json.statusCode, 6);
  // the virtual host's ServerName and the port the request came in on (never the Host header)
  assert.equal(a.json.uri, `http://one.test:${inst.port}/api/v2/interactions/${a.json.id}`);
});

test('every request limit is configurable', async () => {
  const good = { mediaType: 'email', queueName: 'support' };
  const cases = [
    ['body size', { ...good, body: 'x'.repeat(3000) }, 413],
    ['JSON depth', { ...good, userData: { a: { b: { c: 1 } } } }, 400],
    ['string length', { ...good, subject: 'eleven chars' }, 400],
    ['user-data size', { ...good, userData: { k: 'v'.repeat(120) } }, 400],
  ];
  for (const [what, body, status] of cases) {
    const strict = await call('two.test', 'POST', '/interactions', body);
    assert.deepEqual([strict.status, strict.json.statusCode], [status, 10], `${what} on two.test`);
    const lax = await call('one.test', 'POST', '/interactions', body);
    assert.equal(lax.json.statusCode, 0, `${what} on one.test: ${JSON.stringify(lax.json)}`);
  }
  const page = await call('two.test', 'GET', '/interactions?limit=6', undefined, 'admin');
  assert.deepEqual([page.status, page.json.statusCode], [400, 10]);
  for (let i = 0; i < 3; i++) await call('two.test', 'POST', '/interactions', good);
  const dflt = await call('two.test', 'GET', '/interactions', undefined, 'admin');
  assert.equal(dflt.json.uris.length, 2);
  assert.equal(dflt.json.limit, 2);
});

test('any httpd authn module works; its users are looked up in the contact center', async () => {
  const me = await call('file.test', 'GET', '/me', undefined, 'agent1', 'filepass');
  assert.equal(me.json.statusCode, 0);
  assert.equal(me.json.user.userName, 'agent1');
  const ghost = await call('file.test', 'GET', '/me', undefined, 'ghost', 'filepass');
  assert.deepEqual([ghost.status, ghost.json.statusCode], [401, 20]);
  // the password file decides, not the database's password
  const dbPassword = await call('file.test', 'GET', '/me', undefined, 'agent1', 'password');
  assert.deepEqual([dbPassword.status, dbPassword.json.statusCode], [401, 20]);
});
