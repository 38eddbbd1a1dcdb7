// A push session across a database outage (or failover) longer than its maxInterval:
// while the database is away no client can reach its session, so that silence must not
// expire it.  The CometD client (ack extension) keeps its session — no new handshake — and
// receives every change made after the database returned.  Contact center t16, its own
// httpd with InteractionsPushMaxInterval 2000 and connects held 1 s (the outage lasts 6 s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, env, stack, freshContactCenter, httpdInstance, watchErrorLog, eventually, sleep } from '../lib/harness.mjs';
import { op, opOk, ownedBy } from '../lib/flows.mjs';
import { cometdClient, about } from '../lib/push.mjs';

const NAME = 'httpd-pushout';
// what an outage makes the module say, on purpose (as in 50_db_outage)
const outage = [
  /MI00102: cannot connect to PostgreSQL/,
  /MI00112: database connection lost/,
  /MI00113: database call .* failed \(SQLSTATE 57P0[1-3]\)/,
  /MI00601: maintenance cannot run/,
  /MI00801: webhook worker: the database failed/,   // so does the webhook worker
  /MI005\d\d: /,
];
watchErrorLog(outage);
watchErrorLog(outage, NAME);
const cc = 't16';
let ccId, inst;
before(async () => {
  ccId = await freshContactCenter(cc);
  const extra = path.join(env.varDir, `${NAME}.extra.conf`);
  fs.writeFileSync(extra, 'InteractionsPushMaxInterval 2000\n');
  inst = httpdInstance(NAME, { CCS: cc, EXTRA: extra, PUSH_TIMEOUT: 1000 }).start();
});
after(() => { stack('pg-start', env.varDir); inst?.stop(); });

test('a push session outlives a database outage longer than its maxInterval, and misses nothing', { timeout: 120000 }, async (t) => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const c = await cometdClient({ cc, user: 'agent1', ack: true, port: inst.port });
  try {
    const r0 = await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { n: 0 } });
    await c.waitFor((m) => about(id)(m) && m.data.referenceId === r0.referenceId);
    stack('pg-stop', env.varDir, 'fast');
    await sleep(6000);   // three maxIntervals without a database
    stack('pg-start', env.varDir);
    // every child of the server making the changes is back (each pool waits out its back-off)
    await eventually(async () => {
      const rs = await Promise.all(Array.from({ length: 20 }, () => api('agent1', 'GET', '/me', { cc })));
      return rs.every((r) => r.status === 200);
    }, 20000, 100);
    const sent = [];
    for (let n = 1; n <= 5; n++) {
      // a client retries a 503 (Retry-After); a refused write changed nothing
      const r = await eventually(async () => {
        const x = await op(cc, 'agent1', id, 'UpdateUserData', { userData: { n } });
        assert.ok([200, 503].includes(x.status), x.text);
        return x.status === 200 ? x.json : null;
      }, 20000, 200);
      sent.push(r.referenceId);
    }
    const got = () => new Set(c.messages.filter(about(id)).map((m) => m.data.referenceId));
    await eventually(() => sent.every((ref) => got().has(ref)) || c.meta.handshakes > 1, 30000, 50);
    await sleep(500);
    t.diagnostic(`injected: PostgreSQL stopped for 6 s; push: ${c.meta.handshakes} handshake(s), connect failures ${JSON.stringify(c.meta.connectFailures)}, `
      + `${sent.filter((ref) => got().has(ref)).length} of ${sent.length} changes made after the outage received`);
    assert.equal(c.meta.handshakes, 1, `the session was lost: ${JSON.stringify(c.meta.connectFailures)}`);
    assert.deepEqual(sent.filter((ref) => !got().has(ref)), [], 'changes not received');
  } finally {
    await c.disconnect();
  }
});
