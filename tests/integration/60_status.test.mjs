// The operations view: the Prometheus endpoint and the server-status section count what
// the API did, across child processes.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { api, env, freshContactCenter, watchErrorLog, eventually } from '../lib/harness.mjs';
import { rawSession, rawConnect, rawDisconnect } from '../lib/push.mjs';

watchErrorLog();
const cc = 't16';
before(async () => { await freshContactCenter(cc); });

async function metrics() {
  const res = await fetch(`${env.base}/interactions-metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const values = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([a-z_]+(\{[^}]*\})?) (\d+(\.\d+)?)$/);
    if (m) values[m[1]] = Number(m[3]);
  }
  return { text, values };
}

test('requests are counted by operation and statusCode, over all children', async () => {
  const before = (await metrics()).values;
  const n = (k) => (before[k] || 0);
  // enough parallel requests that more than one child answers
  await Promise.all(Array.from({ length: 30 }, () => api('agent1', 'GET', '/me', { cc })));
  await Promise.all(Array.from({ length: 5 }, () => api('agent1', 'GET', '/interactions/nope', { cc })));
  await api('agent1', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  const after = await metrics();
  const v = after.values;
  assert.equal(v['interactions_requests_total{op="me",status_code="0"}'] - n('interactions_requests_total{op="me",status_code="0"}'), 30);
  assert.equal(v['interactions_requests_total{op="get",status_code="6"}'] - n('interactions_requests_total{op="get",status_code="6"}'), 5);
  assert.equal(v['interactions_requests_total{op="create",status_code="5"}'] - n('interactions_requests_total{op="create",status_code="5"}'), 1);
  assert.ok(v.interactions_processes >= 1);
  assert.ok(v.interactions_db_pool_max >= 1);
  assert.ok(v.interactions_db_connections_opened_total >= 1);
  assert.match(after.text, /# TYPE interactions_requests_total counter/);
  assert.match(after.text, /# TYPE interactions_db_pool_in_use gauge/);
});

test('server-status has a mod_interactions section', async () => {
  const auto = await (await fetch(`${env.base}/server-status?auto`)).text();
  assert.match(auto, /^InteractionsRequests: \d+$/m);
  assert.match(auto, /^InteractionsProcesses: [1-9]\d*$/m);
  const html = await (await fetch(`${env.base}/server-status`)).text();
  assert.match(html, /<h2>mod_interactions<\/h2>/);
});

test('push figures: held polls, the listeners connected and reading', async () => {
  const s = await rawSession('agent2', { cc, port: env.port });
  await rawConnect(s, { timeout: 0 });
  const held = rawConnect(s);                          // held for the push timeout
  const v = await eventually(async () => {
    const m = (await metrics()).values;
    return m.interactions_push_held_polls >= 1 ? m : null;
  }, 5000, 100);
  assert.equal(v.interactions_push_listeners_connected, v.interactions_processes);
  const age = Date.now() / 1000 - v.interactions_push_listener_last_read_timestamp_seconds;
  assert.ok(age <= 15, `read age ${age}`);
  assert.ok(v.interactions_push_listener_connections_total >= v.interactions_processes);
  await rawDisconnect(s);                              // answers the held connect
  await held;
});

test('push costs nothing while nobody listens: writes without held connects read no stream and ring no doorbell', { timeout: 60000 }, async () => {
  // The held connect of the test above is answered; once its process has stopped saying
  // "hold" (2 s) and the others have stopped believing it (3 s), a write is only a write.
  // Before, every write made the listener read the history stream and ring a doorbell.
  const quiet = await eventually(async () => {
    const m0 = (await metrics()).values;
    if (m0.interactions_push_held_polls !== 0) return null;
    for (let i = 0; i < 10; i++) {
      await api('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support', subject: `quiet ${i}` } });
    }
    // the figures reach the shared statistics on each process's maintenance tick (500 ms)
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const m1 = (await metrics()).values;
    const reads = m1.interactions_push_listener_reads_total - m0.interactions_push_listener_reads_total;
    const bells = m1.interactions_push_doorbells_total - m0.interactions_push_doorbells_total;
    return reads === 0 && bells === 0 ? m1 : null;
  }, 40000, 500);   // a connect held by an earlier file's vanished client ends within 25 s
  assert.ok(quiet, 'ten writes with no held connect still made the listeners read or ring');
  // the listeners still follow the stream (their cursor moves to the stable cut each second)
  const age = Date.now() / 1000 - quiet.interactions_push_listener_last_read_timestamp_seconds;
  assert.ok(age <= 5, `read age ${age}`);
  assert.equal(quiet.interactions_push_listeners_connected, quiet.interactions_processes);
});

test('the latency histogram counts each request under its operation', async () => {
  const before = (await metrics()).values;
  const n = (k) => (before[k] || 0);
  const count = 'interactions_request_duration_seconds_count{op="workbins"}';
  await Promise.all(Array.from({ length: 7 }, () => api('agent1', 'GET', '/me/workbins', { cc })));
  await api('agent1', 'POST', '/me/interactions', { cc, body: { operationName: 'GetWorkbinContent', workbin: 'team' } });
  const after = await metrics();
  const v = after.values;
  assert.match(after.text, /^# TYPE interactions_request_duration_seconds histogram$/m);
  assert.equal(v[count] - n(count), 7);
  assert.equal(v['interactions_request_duration_seconds_count{op="GetWorkbinContent"}']
    - n('interactions_request_duration_seconds_count{op="GetWorkbinContent"}'), 1);
  assert.ok(v['interactions_request_duration_seconds_sum{op="workbins"}']
    > n('interactions_request_duration_seconds_sum{op="workbins"}'), 'the sum grew');
  // cumulative buckets, ending in +Inf = the count
  const buckets = [...after.text.matchAll(/^interactions_request_duration_seconds_bucket\{op="workbins",le="([^"]+)"\} (\d+)$/gm)]
    .map((m) => [m[1], Number(m[2])]);
  assert.ok(buckets.length >= 10, after.text);
  assert.deepEqual(buckets.at(-1), ['+Inf', v[count]]);
  for (let i = 1; i < buckets.length; i++) {
    assert.ok(buckets[i][1] >= buckets[i - 1][1], 'cumulative');
    assert.ok(buckets[i][0] === '+Inf' || Number(buckets[i][0]) > Number(buckets[i - 1][0]), 'ascending');
  }
  // the same operations as the counter of requests
  assert.equal(v[count], Object.entries(v).filter(([k]) => k.startsWith('interactions_requests_total{op="workbins",'))
    .reduce((a, [, x]) => a + x, 0));
});

test('the build says what it is: version and git commit', async () => {
  const { text } = await metrics();
  const m = text.match(/^interactions_build_info\{version="([^"]+)"(?:,commit="([^"]+)")?\} 1$/m);
  assert.ok(m, text.slice(0, 400));
  const configure = fs.readFileSync(path.join(env.top, 'configure.ac'), 'utf8');
  assert.equal(m[1], configure.match(/AC_INIT\(\[mod_interactions\], \[([^\]]+)\]/)[1]);
  let head = '';
  try { head = execFileSync('git', ['-C', env.top, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
  if (head) assert.match(m[2] || '', new RegExp(`^${head}(-dirty)?$`));
});

test('docs/monitoring.md names every metric the endpoint serves, and only those', async () => {
  const doc = fs.readFileSync(path.join(env.top, 'docs/monitoring.md'), 'utf8');
  const served = new Set([...(await metrics()).text.matchAll(/^# TYPE (interactions_\w+) \w+$/gm)].map((m) => m[1]));
  assert.ok(served.size >= 20, [...served].join(' '));
  // every metric name on the page (tables and alert expressions), not the database roles
  const named = new Set([...doc.matchAll(/\binteractions_[a-z_]+/g)].map((m) => m[0])
    .filter((n) => !/^interactions_(app|dba|owner|system|ext|meta)$/.test(n)));
  const family = (n) => n.replace(/_(bucket|sum|count)$/, '');
  assert.deepEqual([...named].filter((n) => !served.has(n) && !served.has(family(n))), [],
    'docs/monitoring.md names metrics the endpoint does not serve');
  assert.deepEqual([...served].filter((n) => !named.has(n)), [], 'metrics served but not in docs/monitoring.md');
  // each name written whole, never as the suffix of the one before it ("`_changes_total`")
  assert.deepEqual([...doc.matchAll(/`(_[a-z_]+)`/g)].map((m) => m[1]), []);
});
