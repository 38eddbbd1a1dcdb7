// What the server gives away to people who should not have it: the database password (to
// local users and to the httpd user), its threads (to slow clients), its version, TRACE
// echoes, framing and sniffing of its pages, and its log files.  Contact center t17.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { env, freshContactCenter, httpdInstance, secrets, sleep, eventually, watchErrorLog, errorLogPath, stack, stackBin } from '../lib/harness.mjs';
import { measure } from '../lib/slowloris.mjs';

const cc = 't17';
// the wrong password of the nosniff check
watchErrorLog([/AH01617: user agent1: authentication failure for "\/t17\/api\/v2\/me": Password Mismatch/]);
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

test('started by another user than root, httpd reads a password file of that user and refuses one it cannot read', async () => {
  // a run directory of nobody's, next to the test cluster: its port and passwords
  const dir = fs.mkdtempSync(path.join(env.varDir, 'nonroot-'));
  fs.mkdirSync(path.join(dir, 'pg'));
  fs.copyFileSync(path.join(env.varDir, 'pg/port'), path.join(dir, 'pg/port'));
  fs.copyFileSync(path.join(env.varDir, 'secrets.env'), path.join(dir, 'secrets.env'));
  execFileSync('chown', ['-R', 'nobody:nogroup', dir]);
  const port = String(Number(stack('free-port').trim()));
  const asNobody = (...args) => runAs('nobody', [stackBin, ...args]);
  let r = asNobody('httpd-conf', dir, 'httpd', port, env.module, `CCS=${cc}`, 'NOLOC=1', 'SERVERS=1', 'THREADS=16');
  assert.equal(r.status, 0, r.stderr);
  const file = path.join(dir, 'app.password');
  assert.equal(fs.statSync(file).uid, 65534);
  try {
    r = asNobody('httpd-start', dir, 'httpd');
    assert.equal(r.status, 0, r.stderr);
    const me = await raw('GET', `/${cc}/api/v2/me`, { Authorization: basic('agent1', 'password') }, Number(port));
    assert.equal(me.status, 200, me.body);
    assert.ok(fs.readFileSync(`/proc/${fs.readFileSync(path.join(dir, 'httpd/run/httpd.pid'), 'utf8').trim()}/status`, 'utf8')
      .match(/^Uid:\s+65534\b/m), 'the parent runs as nobody');
  } finally {
    asNobody('httpd-stop', dir, 'httpd');
  }
  // root's file: nobody's httpd cannot read it, and says so
  try {
    fs.chownSync(file, 0, 0);
    r = asNobody('httpd-start', dir, 'httpd');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /MI00010: InteractionsDatabasePasswordFile .*cannot open it: Permission denied/);
    assert.ok(!r.stderr.includes(password()));
  } finally {
    asNobody('httpd-stop', dir, 'httpd');
    fs.rmSync(dir, { recursive: true, force: true });   // nobody's copy of the passwords
  }
});

// ------------------------------------------------------------------ slow clients

test('while 200 connections send their headers byte by byte, other clients are answered within two seconds', async () => {
  const r = await measure({
    port: env.port, sockets: 200, byteMs: 100, seconds: 8,
    path: `/${cc}/api/v2/me`, auth: 'agent1:password', attacker: '127.0.0.1', prober: '127.0.0.2',
  });
  // the attack was real: 200 connections open to the end, the server cutting them off
  assert.ok(r.attack.live >= 195, `only ${r.attack.live} attack connections open`);
  assert.ok(r.attack.closedByServer >= 100, `the server cut ${r.attack.closedByServer} slow connections`);
  assert.ok(r.probe.count >= 50, JSON.stringify(r.probe));
  assert.deepEqual(r.probe.statuses, { 200: r.probe.count }, JSON.stringify(r.probe));
  assert.ok(r.probe.maxMs < 2000, `the slowest answer took ${r.probe.maxMs} ms: ${JSON.stringify(r.probe)}`);
});

test('a connection that sends its headers slowly is cut off after a few seconds', async () => {
  const s = net.connect({ host: '127.0.0.1', port: env.port });
  const t0 = Date.now();
  let answer = '';
  s.setEncoding('latin1');
  s.on('data', (d) => { answer += d; });
  const closed = new Promise((resolve) => s.on('close', () => resolve(Date.now() - t0)));
  s.on('error', () => {});
  await new Promise((resolve) => s.on('connect', resolve));
  const line = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' + 'a'.repeat(400);
  let i = 0;
  const timer = setInterval(() => { if (i < line.length && s.writable) s.write(line[i++]); }, 250);
  const ms = await Promise.race([closed, sleep(30000).then(() => Infinity)]);
  clearInterval(timer);
  s.destroy();
  assert.ok(ms >= 4000 && ms < 12000, `closed after ${ms} ms`);
  assert.match(answer, /^HTTP\/1\.1 408 /);
});

// ------------------------------------------------------------------ headers and logs

test('TRACE is refused and echoes nothing, on the API and elsewhere', async () => {
  const secret = basic('agent1', 'password');
  // "/" answers 404 to every method before TRACE is looked at
  for (const [p, status] of [['/', 404], [`/${cc}/api/v2/me`, 405], ['/desktop/', 405], ['/server-status', 405]]) {
    const r = await raw('TRACE', p, { Authorization: secret, 'X-Probe': 'echo-me' });
    assert.equal(r.status, status, `TRACE ${p}`);
    assert.ok(!r.body.includes(secret) && !r.body.includes('echo-me') && !r.body.includes('agent1'), r.body);
  }
});

test('the Server header and error pages do not tell the version', async () => {
  const pages = [['/', 404], ['/nothing-here', 404], ['/index.html', 404], [`/${cc}/api/v2/me`, 401], ['/desktop/', 200]];
  for (const [p, status] of pages) {
    const r = await raw('GET', p);
    assert.equal(r.status, status, p);
    assert.equal(r.headers.server, 'Apache', `${p}: Server: ${r.headers.server}`);
    assert.doesNotMatch(r.body, /Apache\/2|<address>|Debian|Unix/, `${p}: ${r.body}`);
  }
});

test('the desktop may not be framed, sniffed or load anything but its own files', async () => {
  for (const p of ['/desktop/', '/desktop/index.html', '/desktop/desktop.js', '/desktop/vendor/cometd/cometd.js', '/desktop/missing']) {
    const r = await raw('GET', p);
    const csp = r.headers['content-security-policy'] || '';
    const directives = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
    assert.equal(directives['default-src'], "'none'", `${p}: ${csp}`);
    assert.equal(directives['script-src'], "'self'", p);
    assert.equal(directives['connect-src'], "'self'", p);
    assert.equal(directives['worker-src'], 'blob:', p);   // the CometD client's timer worker
    assert.equal(directives['frame-ancestors'], "'none'", p);
    assert.equal(directives['base-uri'], "'none'", p);
    assert.ok(!/unsafe-(inline|eval)/.test(csp), p);
    assert.equal(r.headers['x-frame-options'], 'DENY', p);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', p);
  }
});

test('every answer of the API says nosniff, once', async () => {
  const cases = [
    ['GET', '/me', basic('agent1', 'password'), 200],
    ['GET', '/me', undefined, 401],
    ['GET', '/me', basic('agent1', 'wrong'), 401],
    ['GET', '/interactions/nope', basic('agent1', 'password'), 404],
    ['DELETE', '/me', basic('agent1', 'password'), 405],
    ['POST', '/notifications', basic('agent1', 'password'), 415],
  ];
  for (const [method, p, auth, status] of cases) {
    const r = await raw(method, `/${cc}/api/v2${p}`, auth ? { Authorization: auth } : {});
    assert.equal(r.status, status, `${method} ${p}: ${r.body}`);
    assert.match(r.headers['content-type'], /^application\/json/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff', `${method} ${p}`);
  }
});

test('the logs are not readable by other local users', () => {
  const logs = path.join(env.varDir, 'httpd/logs');
  assert.equal(fs.statSync(logs).mode & 0o007, 0, `logs/ is mode ${(fs.statSync(logs).mode & 0o777).toString(8)}`);
  for (const f of ['access.log', 'error.log']) {
    const mode = fs.statSync(path.join(logs, f)).mode & 0o777;
    assert.equal(mode & 0o007, 0, `${f} is mode ${mode.toString(8)}`);
    for (const user of ['nobody', 'www-data']) {
      assert.notEqual(runAs(user, ['cat', path.join(logs, f)]).status, 0, `${user} can read ${f}`);
    }
  }
});
