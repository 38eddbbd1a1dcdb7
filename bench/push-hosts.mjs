// push-hosts.mjs — the memory of the push channel's rendered-message cache when clients vary
// the Host header (docs/security.md, "Interaction uris and the rendered-message cache").
//
//   node bench/push-hosts.mjs --port P --cc CC --pidfile FILE [--hosts 100] [--changes 4500] [--one-host]
//
// Against a running httpd (one child process is easiest to read: SERVERS=1 in
// scripts/lib/stack httpd-conf; InteractionsPushMaxInterval long enough for the sessions to
// outlive the creation of the changes, e.g. 3600000) whose location /CC/api/v2 serves
// contact center CC with the standard test cast (freshContactCenter: admin, supervisor,
// feeder, queue "support"):
// opens --hosts raw Bayeux sessions of the admin and the supervisor, each with a Host header
// of its own, subscribed to /v2/interactions; creates --changes interactions; lets every
// session receive every change; prints the VmRSS of each child of the httpd in --pidfile
// before and after, as one JSON line.  --one-host sends the same Host on every session: the
// control, what the same deliveries cost without varied Host headers.
import fs from 'node:fs';
import http from 'node:http';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg('port'));
const cc = arg('cc');
const pidfile = arg('pidfile');
const nHosts = Number(arg('hosts', 100));
const nChanges = Number(arg('changes', 4500));
const oneHost = process.argv.includes('--one-host');
if (!port || !cc || !pidfile) {
  console.error('usage: node bench/push-hosts.mjs --port P --cc CC --pidfile FILE [--hosts N] [--changes N]');
  process.exit(2);
}
const base = `/${cc}/api/v2`;
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function call(method, path, { host = `127.0.0.1:${port}`, user, body } = {}) {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { Host: host, Authorization: 'Basic ' + Buffer.from(`${user}:password`).toString('base64') };
  if (payload !== undefined) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

function rss() {
  const parent = fs.readFileSync(pidfile, 'utf8').trim();
  const out = {};
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      if (st.match(/^PPid:\s+(\d+)/m)?.[1] === parent) out[pid] = Number(st.match(/^VmRSS:\s+(\d+)/m)[1]) / 1024;
    } catch { /* gone */ }
  }
  return out;
}

async function session(i) {
  const host = oneHost ? 'host.example' : `host${i}.example`;
  const user = i % 2 ? 'supervisor' : 'admin';
  const hs = await call('POST', `${base}/notifications/handshake`, { host, user,
    body: [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }] });
  const clientId = hs.json[0].clientId;
  await call('POST', `${base}/notifications`, { host, user,
    body: [{ channel: '/meta/subscribe', clientId, subscription: '/v2/interactions' }] });
  const connect = async () => (await call('POST', `${base}/notifications/connect`, { host, user,
    body: [{ channel: '/meta/connect', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }] }))
    .json.filter((m) => m.data).length;
  await connect();
  return connect;
}

const before = rss();
const sessions = [];
for (let i = 0; i < nHosts; i++) sessions.push(await session(i));
// as supervisors follow a busy contact center: every session receives each round of changes
// while those rows are the newest (the cache holds the latest rows)
let delivered = 0;
const until = Date.now() + 600000;
for (let done = 0; done < nChanges && Date.now() < until;) {
  const round = Math.min(200, nChanges - done);
  for (let i = 0; i < round; i += 16) {
    await Promise.all(Array.from({ length: Math.min(16, round - i) }, () =>
      call('POST', `${base}/interactions`, { user: 'feeder', body: { mediaType: 'email', queueName: 'support', subject: 'hosts' } })));
  }
  done += round;
  await Promise.all(Array.from({ length: 8 }, async (_, w) => {
    for (let i = w; i < sessions.length; i += 8) {
      let got = 0, n;
      // a connect answers at most 200 messages; the round may still be above the stable cut
      do { n = await sessions[i](); got += n; } while ((n > 0 || got < round) && Date.now() < until);
      delivered += got;
    }
  }));
}
await new Promise((r) => setTimeout(r, 1500));
const after = rss();
console.log(JSON.stringify({ sessions: nHosts, hosts: oneHost ? 1 : nHosts, changes: nChanges, delivered,
  rssMiB: { before, after } }));
agent.destroy();
