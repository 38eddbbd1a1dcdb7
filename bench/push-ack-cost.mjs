// push-ack-cost.mjs — what push_connect costs with the ack extension, as the module calls it
// (docs/security.md, "Exactly-once push after a database crash").
//
//   node bench/push-ack-cost.mjs --var DIR --cc CC [--n 2000]
//
// DIR is a cluster of scripts/lib/stack (pg-up; its secrets.env), CC a contact center with the
// standard test cast (admin, supervisor, feeder, queue "support").  As the module's role over
// TCP: one session of the supervisor with the ack extension on /v2/interactions; then --n
// times: a change (an API create, its own transaction), and the connect that delivers it,
// acknowledging the batch before (the client's normal path); and --n times a connect whose
// ack the session row does not know, as after a crash (the recovery path: one lookup of the
// history row).  Prints the round trips of the connects (median, p90, p99, ms) as one JSON
// line.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../tests/package.json'));
const pg = require('pg');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const dir = arg('var');
const ccName = arg('cc');
const n = Number(arg('n', 2000));
if (!dir || !ccName) {
  console.error('usage: node bench/push-ack-cost.mjs --var DIR --cc CC [--n 2000]');
  process.exit(2);
}
const secrets = Object.fromEntries(fs.readFileSync(path.join(dir, 'secrets.env'), 'utf8').split('\n')
  .filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const port = Number(fs.readFileSync(path.join(dir, 'pg/port'), 'utf8'));
const app = new pg.Client({ host: '127.0.0.1', port, user: 'interactions_app', password: secrets.APP_PASSWORD,
  database: 'interactions' });
await app.connect();
const q = async (sql, params) => (await app.query(sql, params)).rows[0];
const cc = (await q('SELECT interactions.contact_center_id($1) AS id', [ccName])).id;
const client = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
await q('SELECT interactions.push_handshake($1, $2, $3, NULL, true, 600000)', [cc, 'supervisor', client]);
await q(`SELECT interactions.push_subscribe($1, $2, $3, ARRAY['/v2/interactions'], '{}')`, [cc, 'supervisor', client]);
const connect = async (ack) => {
  const t0 = process.hrtime.bigint();
  const r = (await q(`SELECT interactions.push_connect($1, 'supervisor', $2, true, 0, $3, 0, 600000, 0, 200)::text AS r`,
    [cc, client, ack])).r;
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, r: JSON.parse(r) };
};
const stats = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const at = (p) => Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))] * 1000) / 1000;
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
};

let ack = 0;
({ r: { batch: ack } } = await connect(0));
const normal = [], recovery = [];
let events = 0;
for (let i = 0; i < n; i++) {
  await q(`SELECT interactions.api($1, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}')`, [cc]);
  const c = await connect(ack);
  events += c.r.events.length;
  normal.push(c.ms);
  ack = c.r.batch;
}
// acknowledging batches the row does not remember as the last one sent: each is looked up
const batches = [];
for (let i = 0; i < n; i++) {
  await q(`SELECT interactions.api($1, 'feeder', 'create', '{"mediaType":"email","queueName":"support"}')`, [cc]);
  const c = await connect(ack);
  batches.push(c.r.batch);
  ack = c.r.batch;
}
for (let i = 0; i < n; i++) {
  const c = await connect(batches[(i * 7919) % batches.length]);
  recovery.push(c.ms);
}
await q('SELECT interactions.push_disconnect($1, $2, $3)', [cc, 'supervisor', client]);
await app.end();
console.log(JSON.stringify({ events, normal: stats(normal), recovery: stats(recovery) }));
