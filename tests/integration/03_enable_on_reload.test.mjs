// The module enabled by a reload, as an administrator does it: httpd runs without it,
// "a2enmod interactions" adds its LoadModule and settings, "systemctl reload apache2" makes
// httpd restart gracefully.  httpd then runs post_config once, which is no dry run: the
// shared memory of the credential cache and of the statistics must be made then, not only at
// the restart after (before, every request was refused as if the database were down and the
// metrics stayed empty until a second reload).  A private httpd (httpd-reload) of its own
// configuration; the demo contact center, read only.
import { test, after } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { env, stack, eventually, watchErrorLog } from '../lib/harness.mjs';

const name = 'httpd-reload';
const hd = path.join(env.varDir, name);
const port = Number(stack('free-port').trim());
const mods = '/usr/lib/apache2/modules';
const root = process.getuid() === 0;

watchErrorLog([], name);
after(() => stack('httpd-stop', env.varDir, name));

function base() {
  fs.rmSync(path.join(hd, 'enabled'), { recursive: true, force: true });   // a previous run's
  fs.mkdirSync(path.join(hd, 'run'), { recursive: true });
  fs.mkdirSync(path.join(hd, 'logs'), { recursive: true });
  fs.mkdirSync(path.join(hd, 'enabled'), { recursive: true });
  if (root) fs.chownSync(path.join(hd, 'run'), Number(execFileSync('id', ['-u', 'www-data'], { encoding: 'utf8' })), -1);
  fs.writeFileSync(path.join(hd, 'port'), `${port}\n`);
  fs.writeFileSync(path.join(hd, 'httpd.conf'), `# 03_enable_on_reload: httpd first without the module
ServerRoot "${hd}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${hd}/run/httpd.pid"
DefaultRuntimeDir "${hd}/run"
ErrorLog "${hd}/logs/error.log"
LogLevel warn
${root ? 'User www-data\nGroup www-data' : ''}
LoadModule mpm_event_module ${mods}/mod_mpm_event.so
LoadModule authz_core_module ${mods}/mod_authz_core.so
LoadModule authz_user_module ${mods}/mod_authz_user.so
LoadModule authn_core_module ${mods}/mod_authn_core.so
LoadModule auth_basic_module ${mods}/mod_auth_basic.so
StartServers 2
IncludeOptional "${hd}/enabled/*.conf"
`);
}

/** What "a2enmod interactions" and a site add: the module, its settings and an API location. */
function enable() {
  fs.writeFileSync(path.join(hd, 'enabled/interactions.conf'), `LoadModule interactions_module ${env.module}
InteractionsDatabase "host=127.0.0.1 port=${env.pgPort} dbname=interactions user=interactions_app"
InteractionsDatabasePasswordFile "${path.join(env.varDir, 'app.password')}"
<Location /api/v2>
    SetHandler interactions
    InteractionsContactCenter demo
    AuthType Basic
    AuthName "demo"
    AuthBasicProvider interactions
    Require valid-user
</Location>
<Location /interactions-metrics>
    SetHandler interactions-metrics
</Location>
`);
}

const get = (p, auth) => fetch(`http://127.0.0.1:${port}${p}`, auth
  ? { headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } } : {});

test('enabled by a graceful restart, the module answers at once, with its metrics', async () => {
  base();
  stack('httpd-start', env.varDir, name);
  assert.equal((await get('/api/v2/me', 'agent1:password')).status, 404, 'no module yet');
  enable();
  stack('httpd-graceful', env.varDir, name);
  // the new generation of children serves the location once the restart is done
  const res = await eventually(async () => {
    const r = await get('/api/v2/me', 'agent1:password').catch(() => null);
    return r && r.status !== 404 ? r : null;
  }, 15000, 100);
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.statusCode, 0);
  assert.equal(body.user.userName, 'agent1');
  const metrics = await (await get('/interactions-metrics')).text();
  assert.match(metrics, /^interactions_processes [1-9]\d*$/m);
  assert.match(metrics, /^interactions_authn_checks_total\{result="verified"\} [1-9]\d*$/m);
});
