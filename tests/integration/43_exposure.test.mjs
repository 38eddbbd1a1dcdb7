// What the server gives away to people who should not have it: the database password (to
// local users and to the httpd user).  Contact center t17.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { env, freshContactCenter, httpdInstance, secrets, sleep, eventually, watchErrorLog, errorLogPath } from '../lib/harness.mjs';

const cc = 't17';
watchErrorLog();
const password = () => secrets().APP_PASSWORD;
const mainConf = path.join(env.varDir, 'httpd/httpd.conf');
const passwordFile = path.join(env.varDir, 'app.password');
const instances = [];

before(async () => { await freshContactCenter(cc); });
after(() => { for (const i of instances) { try { i.stop(); } catch { /* already gone */ } } });

/** Run @argv as @user; {status, stdout, stderr}. */
function runAs(user, argv) {
  const r = spawnSync('runuser', ['-u', user, '--', ...argv], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pids() {
  const parent = Number(fs.readFileSync(path.join(env.varDir, 'httpd/run/httpd.pid'), 'utf8'));
  const children = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' })
    .trim().split('\n').filter(Boolean).map(Number);
  return { parent, children };
}

/** One request over node:http (fetch refuses TRACE); resolves {status, headers, body}. */
function raw(method, p, headers = {}, port = env.port) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
const basic = (u, p) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');

// ------------------------------------------------------------------ database credentials

test('the database password is in no file that the httpd user or another local user can read', () => {
  const pw = password();
  assert.ok(pw.length >= 16);
  const conf = fs.readFileSync(mainConf, 'utf8');
  assert.ok(!conf.includes(pw), 'httpd.conf holds the database password');
  assert.match(conf, new RegExp(`^InteractionsDatabasePasswordFile "${passwordFile}"$`, 'm'));
  const st = fs.statSync(passwordFile);
  assert.equal(st.uid, process.getuid(), 'the password file belongs to the user who starts httpd');
  assert.equal(st.mode & 0o077, 0, `the password file is mode ${(st.mode & 0o777).toString(8)}`);
  // everything of the run that these users can open: nothing holds the password
  for (const user of ['www-data', 'nobody']) {
    const r = runAs(user, ['grep', '-rlsF', '--', pw, env.varDir]);
    assert.equal(r.stdout, '', `${user} can read the password in: ${r.stdout}`);
    assert.notEqual(runAs(user, ['cat', passwordFile]).status, 0, `${user} can read ${passwordFile}`);
  }
});

test('the running server keeps the password out of its environment, command lines and pages, and its children from the httpd user', async () => {
  const pw = password();
  const { parent, children } = pids();
  assert.ok(children.length >= 1);
  for (const pid of [parent, ...children]) {
    assert.ok(!fs.readFileSync(`/proc/${pid}/environ`, 'latin1').includes(pw), `environment of ${pid}`);
    assert.ok(!fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(pw), `command line of ${pid}`);
  }
  // the children run as www-data but were root before: the kernel keeps www-data (a CGI
  // script, anything running as the httpd user) out of their memory and environment
  for (const pid of children) {
    assert.equal(fs.statSync(`/proc/${pid}`).uid, 33, `child ${pid} runs as www-data`);
    for (const f of ['environ', 'mem', 'maps']) {
      const r = runAs('www-data', ['dd', `if=/proc/${pid}/${f}`, 'of=/dev/null', 'bs=1', 'count=1']);
      assert.notEqual(r.status, 0, `www-data can read /proc/${pid}/${f}`);
    }
  }
  for (const page of ['/server-status', '/server-status?auto', '/interactions-metrics']) {
    const res = await fetch(`${env.base}${page}`);
    assert.equal(res.status, 200);
    assert.ok(!(await res.text()).includes(pw), page);
  }
  assert.ok(!fs.readFileSync(errorLogPath(), 'utf8').includes(pw), 'error.log');
});

/** An httpd of its own whose EXTRA file sets @lines; started or refused. */
function instance(name, lines) {
  const extra = path.join(env.varDir, `${name}.extra.conf`);
  fs.writeFileSync(extra, lines.join('\n') + '\n');
  const inst = httpdInstance(name, { CCS: cc, NOLOC: 1, SERVERS: 1, THREADS: 16, EXTRA: extra });
  instances.push(inst);
  return inst;
}

function refused(inst, why) {
  assert.throws(() => inst.start(), /configuration test failed/);
  const log = fs.readFileSync(path.join(env.varDir, inst.name, 'logs/configtest.log'), 'utf8');
  assert.match(log, /MI00010: InteractionsDatabasePasswordFile /);
  assert.match(log, why);
  assert.ok(!log.includes(password()), 'the message quotes the password');
  assert.ok(!fs.existsSync(path.join(env.varDir, inst.name, 'run/httpd.pid')), 'httpd started anyway');
}

test('httpd refuses to start when the password file is readable by others, owned by another user, or missing', () => {
  const dir = fs.mkdtempSync(path.join(env.varDir, 'pwfiles-'));
  const open = path.join(dir, 'world-readable');
  fs.writeFileSync(open, password() + '\n', { mode: 0o644 });
  fs.chmodSync(open, 0o644);
  refused(instance('httpd-pw-open', [`InteractionsDatabasePasswordFile "${open}"`]), /mode 0644.*chmod 600/);

  const group = path.join(dir, 'group-readable');
  fs.writeFileSync(group, password() + '\n', { mode: 0o640 });
  fs.chmodSync(group, 0o640);
  refused(instance('httpd-pw-group', [`InteractionsDatabasePasswordFile "${group}"`]), /mode 0640/);

  // a file the httpd user could have written (or still read)
  const theirs = path.join(dir, 'owned-by-www-data');
  fs.writeFileSync(theirs, password() + '\n', { mode: 0o600 });
  fs.chownSync(theirs, 33, 33);
  refused(instance('httpd-pw-theirs', [`InteractionsDatabasePasswordFile "${theirs}"`]), /owned by www-data, not by root/);

  refused(instance('httpd-pw-missing', [`InteractionsDatabasePasswordFile "${path.join(dir, 'nope')}"`]), /cannot open it/);
});

test('the password file overrides a password in the connection string, and a restart reads it again', async () => {
  const inst = instance('httpd-pw-ok', [
    // a stale password in the connection string: the file's is the one used
    `InteractionsDatabase "host=127.0.0.1 port=${env.pgPort} dbname=interactions user=interactions_app password=stale-password"`,
  ]);
  inst.start();
  const me = await raw('GET', `/${cc}/api/v2/me`, { Authorization: basic('agent1', 'password') }, inst.port);
  assert.equal(me.status, 200, me.body);
  assert.equal(JSON.parse(me.body).statusCode, 0);

  // a graceful restart reads the file again in the parent: a file that became readable by
  // others stops the server with the reason in its log, rather than serving on with it
  const file = path.join(env.varDir, 'app.password');
  const pidFile = path.join(env.varDir, inst.name, 'run/httpd.pid');
  const pid = Number(fs.readFileSync(pidFile, 'utf8'));
  fs.chmodSync(file, 0o644);
  try {
    inst.graceful();
    await eventually(async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 10000, 100);
  } finally {
    fs.chmodSync(file, 0o600);
  }
  const log = fs.readFileSync(path.join(env.varDir, inst.name, 'logs/error.log'), 'utf8');
  assert.match(log, /MI00010: InteractionsDatabasePasswordFile .*mode 0644/);
  assert.ok(!log.includes(password()));
});
