// A burst: 100 interactions created by 8 concurrent clients while three Ready agents accept
// and complete in a loop.  Every interaction is offered, accepted and completed exactly
// once, and no agent ever holds more than its capacity (sampled all along, and checked in
// the history afterwards).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, db, freshContactCenter, watchErrorLog, sleep } from '../lib/harness.mjs';
import { channel, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't6';
const TOTAL = 100;
const CLIENTS = 8;
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
after(async () => { await assertInvariants(ccId, true); });

async function agentLoop(agent, done) {
  let handled = 0;
  while (!done()) {
    const mine = await ok(agent, 'GET', '/me/interactions?fields=*', { cc });
    const invited = mine.interactions.filter((i) => i.state === 'Invited');
    if (invited.length === 0) { await sleep(5); continue; }
    for (const i of invited) {
      const a = await api(agent, 'POST', `/me/interactions/${i.id}`, { cc, body: { operationName: 'Accept' } });
      assert.equal(a.json.statusCode, 0, a.text);
      const c = await api(agent, 'POST', `/me/interactions/${i.id}`, { cc, body: { operationName: 'Complete' } });
      assert.equal(c.json.statusCode, 0, c.text);
      handled++;
    }
  }
  return handled;
}

test('100 concurrent creates, three agents: each offered, accepted and completed exactly once', { timeout: 120000 }, async () => {
  const agents = ['agent1', 'agent2', 'agent3'];
  await db.query(`SELECT interactions.set_agent_capacity($1, 'agent2', 'email', 2)`, [cc]);
  for (const a of agents) await channel(cc, a, 'Ready');
  const completed = async () => db.value(`SELECT count(*)::int FROM interactions.interactions
                                          WHERE cc_id = $1 AND state = 'Completed'`, [ccId]);
  let finished = false;
  let maxOver = 0;
  const sampler = (async () => {
    while (!finished) {
      const over = await db.value(`SELECT count(*)::int FROM interactions.agent_channels ch WHERE ch.cc_id = $1
          AND interactions.agent_load(ch.cc_id, ch.user_id, ch.media) > ch.capacity`, [ccId]);
      maxOver = Math.max(maxOver, over);
      await sleep(10);
    }
  })();
  const loops = agents.map((a) => agentLoop(a, () => finished));
  const per = TOTAL / CLIENTS;
  const creators = Array.from({ length: CLIENTS }, async (_, c) => {
    const ids = [];
    for (let k = 0; k < Math.ceil(per) && c * Math.ceil(per) + k < TOTAL; k++) {
      const r = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'sales',
        externalId: `burst-${c}-${k}` } });
      ids.push(r.id);
    }
    return ids;
  });
  const ids = (await Promise.all(creators)).flat();
  assert.equal(new Set(ids).size, TOTAL);
  const deadline = Date.now() + 90000;
  while ((await completed()) < TOTAL && Date.now() < deadline) await sleep(50);
  finished = true;
  const handled = await Promise.all(loops);
  await sampler;

  assert.equal(await completed(), TOTAL);
  assert.equal(handled.reduce((a, b) => a + b, 0), TOTAL);
  assert.equal(maxOver, 0, 'an agent held more than its capacity');
  const perInteraction = await db.query(`SELECT interaction_id,
        count(*) FILTER (WHERE operation = 'Route')::int AS offered,
        count(*) FILTER (WHERE operation = 'Accept')::int AS accepted,
        count(*) FILTER (WHERE operation = 'Complete')::int AS completed
      FROM interactions.history WHERE cc_id = $1 AND interaction_id IS NOT NULL GROUP BY 1`, [ccId]);
  assert.equal(perInteraction.length, TOTAL);
  for (const p of perInteraction) assert.deepEqual([p.offered, p.accepted, p.completed], [1, 1, 1], p.interaction_id);
  // replaying the offers in commit order never puts an agent over capacity either
  const overInHistory = await db.value(`
      WITH ev AS (
        SELECT coalesce(to_invitee, from_owner) AS agent, seq,
               CASE WHEN operation = 'Route' THEN 1 WHEN operation = 'Complete' THEN -1 ELSE 0 END AS d
          FROM interactions.history WHERE cc_id = $1 AND operation IN ('Route', 'Complete'))
      SELECT count(*)::int FROM (
        SELECT e.agent, sum(e.d) OVER (PARTITION BY e.agent ORDER BY e.seq) AS load, ch.capacity
          FROM ev e JOIN interactions.agent_channels ch ON ch.cc_id = $1 AND ch.user_id = e.agent AND ch.media = 'email') x
       WHERE load > capacity`, [ccId]);
  assert.equal(overInHistory, 0);
  const byAgent = await db.query(`SELECT actor_login, count(*)::int AS n FROM interactions.history
      WHERE cc_id = $1 AND operation = 'Complete' GROUP BY 1 ORDER BY 1`, [ccId]);
  assert.deepEqual(byAgent.map((b) => b.actor_login), agents);
});
