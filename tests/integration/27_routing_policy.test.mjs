// Routing policy per queue (CONTRACT 8.3): each strategy's order over many offers, priority
// ageing, skills (the queue's and the interaction's own requirements, unservable work), why
// each offer went where it did (history.routing), and set_queue_policy's validation and
// configuration history.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ok, db, env, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';
import { create, channel, opOk, row, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't44';
const agents = ['agent1', 'agent2', 'agent3', 'agent4'];
let ccId;
const setup = async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_queue($1, 'pool')`, [cc]);
  for (const a of agents) await db.query(`SELECT interactions.add_queue_member($1, 'pool', $2)`, [cc, a]);
};
before(setup);
beforeEach(setup);
afterEach(async () => { await assertInvariants(ccId, true); });

const policy = (queue, p) => db.value(`SELECT interactions.set_queue_policy($1, $2, $3)`, [cc, queue, JSON.stringify(p)]);
const capacity = (agent, n) => db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', $3)`, [cc, agent, n]);
const skill = (agent, s, level) => db.query(`SELECT interactions.set_agent_skill($1, $2, $3, $4)`, [cc, agent, s, level]);
const requirement = (queue, s, level) => db.query(`SELECT interactions.set_queue_requirement($1, $2, $3, $4)`, [cc, queue, s, level]);
const allReady = async () => { for (const a of agents) await channel(cc, a, 'Ready'); };
const tick = () => db.query(`SELECT interactions.maintenance()`);
const routeWhy = (id) => db.value(`SELECT routing FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2
    AND operation = 'Route' ORDER BY seq DESC LIMIT 1`, [ccId, id]);

/** Create, Accept and Complete one interaction of @queue; returns who was offered it. */
async function handleOne(queue = 'pool', body = {}) {
  const id = await create(cc, { queueName: queue, ...body });
  const r = await row(ccId, id);
  assert.equal(r.state, 'Invited', 'offered at once');
  await opOk(cc, r.invitee, id, 'Accept');
  await opOk(cc, r.invitee, id, 'Complete');
  return r.invitee;
}

test('round-robin: every member once per round, also while they still hold work', async () => {
  await policy('pool', { strategy: 'round-robin' });
  for (const a of agents) await capacity(a, 3);
  await allReady();
  const order = [];
  for (let i = 0; i < 12; i++) {
    const id = await create(cc, { queueName: 'pool' });
    order.push((await row(ccId, id)).invitee);
  }
  for (let r = 0; r < 3; r++) {
    assert.deepEqual([...order.slice(r * 4, r * 4 + 4)].sort(), agents, `round ${r + 1}: ${order}`);
  }
  // the same order every round
  assert.deepEqual(order.slice(4, 8), order.slice(0, 4));
  const why = await db.value(`SELECT routing FROM interactions.history WHERE cc_id = $1 AND operation = 'Route'
      ORDER BY seq DESC LIMIT 1`, [ccId]);
  assert.equal(why.strategy, 'round-robin');
  assert.equal(why.candidates, 4);
});

test('least-handled: the agent who handled fewest today first; counts balance within 1', async () => {
  await policy('pool', { strategy: 'least-handled' });
  await channel(cc, 'agent1', 'Ready');
  for (let i = 0; i < 3; i++) assert.equal(await handleOne(), 'agent1');
  // agent1 is now the longest idle of the four, but has handled 3 today
  for (const a of agents.slice(1)) await channel(cc, a, 'Ready');
  const next = [];
  for (let i = 0; i < 9; i++) next.push(await handleOne());
  assert.ok(!next.slice(0, 6).includes('agent1'), `agent1 waits until the others caught up: ${next}`);
  const counts = await db.query(`SELECT u.login, coalesce(h.handled, 0) AS n FROM interactions.users u
      LEFT JOIN interactions.agent_handled h ON h.cc_id = u.cc_id AND h.user_id = u.id AND h.media = 'email'
     WHERE u.cc_id = $1 AND u.login LIKE 'agent%' ORDER BY 1`, [ccId]);
  const n = counts.map((c) => c.n);
  assert.deepEqual(n, [3, 3, 3, 3], JSON.stringify(counts));
  for (let i = 0; i < 5; i++) await handleOne();
  const m = (await db.query(`SELECT coalesce(h.handled, 0) AS n FROM interactions.users u
      LEFT JOIN interactions.agent_handled h ON h.cc_id = u.cc_id AND h.user_id = u.id AND h.media = 'email'
     WHERE u.cc_id = $1 AND u.login LIKE 'agent%'`, [ccId])).map((c) => c.n);
  assert.ok(Math.max(...m) - Math.min(...m) <= 1, `balanced within 1: ${m}`);
});

test('random: every member gets work, not in a fixed cycle', async () => {
  await policy('pool', { strategy: 'random' });
  await allReady();
  const seen = [];
  for (let i = 0; i < 48; i++) seen.push(await handleOne());
  for (const a of agents) assert.ok(seen.filter((x) => x === a).length >= 3, `${a} in ${seen}`);
  // longest-idle would visit them in the same cycle every time
  const cyclic = seen.every((x, i) => i < 4 || x === seen[i - 4]);
  assert.equal(cyclic, false, `not a fixed cycle: ${seen}`);
  assert.equal((await routeWhy(await create(cc, { queueName: 'pool' }))).strategy, 'random');
});

test('priority ageing: priority + priority_per_minute x minutes waited orders the waiting work', async () => {
  await policy('pool', { priority_per_minute: 10 });
  const older = await create(cc, { queueName: 'pool', priority: 0 });
  const urgent = await create(cc, { queueName: 'pool', priority: 25 });
  // waited 2 minutes: 0 + 20 < 25, the urgent one first
  await db.query(`UPDATE interactions.interactions SET queued_at = now() - interval '2 minutes' WHERE cc_id = $1 AND id = $2`, [ccId, older]);
  await channel(cc, 'agent1', 'Ready');
  assert.equal((await row(ccId, urgent)).invitee, 'agent1');
  assert.equal((await row(ccId, older)).state, 'Queued');
  await channel(cc, 'agent1', 'NotReady');
  await opOk(cc, 'agent1', urgent, 'Reject');       // back in the queue, nobody Ready
  await db.query(`UPDATE interactions.interactions SET declined_by = '{}', declined_until = NULL WHERE cc_id = $1`, [ccId]);
  // waited 3 minutes: 0 + 30 > 25, the older one overtakes
  await db.query(`UPDATE interactions.interactions SET queued_at = now() - interval '3 minutes' WHERE cc_id = $1 AND id = $2`, [ccId, older]);
  await channel(cc, 'agent1', 'Ready');
  assert.equal((await row(ccId, older)).invitee, 'agent1');
  const why = await routeWhy(older);
  assert.equal(why.by, 'agent');
  assert.ok(why.agedBy >= 30 && why.agedBy < 31, JSON.stringify(why));
  assert.equal(Number(why.effectivePriority), Number(why.agedBy));
  // without ageing, static priority wins however long the wait
  await channel(cc, 'agent1', 'NotReady');
  await opOk(cc, 'agent1', older, 'Reject');
  await db.query(`UPDATE interactions.interactions SET declined_by = '{}', declined_until = NULL WHERE cc_id = $1`, [ccId]);
  await policy('pool', { priority_per_minute: 0 });
  await channel(cc, 'agent1', 'Ready');
  assert.equal((await row(ccId, urgent)).invitee, 'agent1');
});

test('skills: queue requirements and userData.requiredSkills; ties to the highest level; unservable work', async () => {
  await policy('pool', { strategy: 'round-robin' });
  await requirement('pool', 'spanish', 5);
  await skill('agent1', 'spanish', 9);
  await skill('agent2', 'spanish', 3);
  await skill('agent3', 'spanish', 6);
  await skill('agent3', 'billing', 4);
  await allReady();
  // agent1 and agent3 qualify, neither was offered anything yet: the higher spanish wins
  const a = await create(cc, { queueName: 'pool' });
  assert.equal((await row(ccId, a)).invitee, 'agent1');
  let why = await routeWhy(a);
  assert.deepEqual([why.strategy, why.candidates, why.rank, why.requirements, why.skills, why.skillTotal],
    ['round-robin', 2, 1, { spanish: 5 }, { spanish: 9 }, 9]);
  // docs/dba.md's "why did agent X get this and not agent Y?" query, as printed there
  const page = fs.readFileSync(path.join(env.top, 'docs/dba.md'), 'utf8');
  const section = page.slice(page.indexOf('### Why did agent X get this and not agent Y?'));
  const sql = section.match(/```sql\n([\s\S]*?)```/)[1]
    .replaceAll("'acme'", `'${cc}'`).replaceAll("'6f1c…'", `'${a}'`).replaceAll("'jane'", "'agent2'");
  const doc = await db.one(sql);
  assert.deepEqual([doc.offered_to, doc.strategy, doc.candidates, doc.winner_rank, doc.jane_member,
    doc.jane_state_then, doc.jane_has_skills_now, doc.jane_skills_now],
  ['agent1', 'round-robin', 2, 1, true, 'Ready', false, { spanish: 3 }]);
  // the interaction's own requirement on top of the queue's: only agent3
  const b = await create(cc, { queueName: 'pool', userData: { requiredSkills: { billing: 3, spanish: 6 } } });
  assert.equal((await row(ccId, b)).invitee, 'agent3');
  why = await routeWhy(b);
  assert.deepEqual([why.candidates, why.requirements, why.skills], [1, { billing: 3, spanish: 6 }, { billing: 4, spanish: 6 }]);
  // nobody has french: it waits, marked unservable, and no Ready agent is offered it
  const c = await create(cc, { queueName: 'pool', userData: { requiredSkills: { french: 1 } } });
  let r = await db.one(`SELECT state, unservable FROM interactions.interactions WHERE cc_id = $1 AND id = $2`, [ccId, c]);
  assert.deepEqual(r, { state: 'Queued', unservable: true });
  // a supervisor sees it flagged in the API
  const seen = await ok('supervisor', 'GET', `/interactions/${c}`, { cc });
  assert.equal(seen.interaction.unservable, true);
  const stat = await db.one(`SELECT waiting, unservable FROM interactions.queue_routing WHERE contact_center = $1 AND queue = 'pool'`, [cc]);
  assert.deepEqual([Number(stat.waiting), Number(stat.unservable)], [1, 1]);
  await tick();
  assert.equal((await row(ccId, c)).state, 'Queued');
  // agent4 learns french but lacks the queue's spanish: still nobody
  await skill('agent4', 'french', 2);
  r = await db.one(`SELECT state, unservable FROM interactions.interactions WHERE cc_id = $1 AND id = $2`, [ccId, c]);
  assert.equal(r.unservable, true);
  // and spanish: servable, and the next tick offers it to agent4
  await skill('agent4', 'spanish', 5);
  r = await db.one(`SELECT state, unservable FROM interactions.interactions WHERE cc_id = $1 AND id = $2`, [ccId, c]);
  assert.equal(r.unservable, false);
  await tick();
  assert.equal((await row(ccId, c)).invitee, 'agent4');
  assert.equal((await ok('supervisor', 'GET', `/interactions/${c}`, { cc })).interaction.unservable, undefined);
  // an agent becoming free is offered only work they qualify for (agent2: spanish 3)
  await channel(cc, 'agent2', 'NotReady');
  const d = await create(cc, { queueName: 'pool' });
  assert.equal((await row(ccId, d)).state, 'Queued');
  await channel(cc, 'agent2', 'Ready');
  assert.equal((await row(ccId, d)).state, 'Queued');
  await skill('agent2', 'spanish', 5);
  await tick();
  assert.equal((await row(ccId, d)).invitee, 'agent2');
});

test('set_queue_policy: validated (unknown keys, bad values refused, nothing changed), audited', async () => {
  const before = await policy('pool', {});
  assert.equal(before.strategy, 'longest-idle');
  const bad = [{ strategy: 'fastest' }, { colour: 'red' }, { priority_per_minute: -1 }, { priority_per_minute: 'x' },
    { max_size: 1.5 }, { overflow_queue: 'nowhere' }, { overflow_queue: 'pool' }, { max_wait: true },
    { strategy: 'round-robin', max_no_answer: 'many' }];
  for (const p of bad) {
    await assert.rejects(policy('pool', p), undefined, JSON.stringify(p));
  }
  assert.deepEqual(await policy('pool', {}), before, 'nothing changed');
  const seq0 = await db.value(`SELECT coalesce(max(seq), 0) FROM interactions.config_history WHERE cc_id = $1`, [ccId]);
  const after = await policy('pool', { strategy: 'least-handled', priority_per_minute: 2.5, max_wait: 90,
    overflow_queue: 'sales', max_size: 10 });
  assert.deepEqual([after.strategy, Number(after.priority_per_minute), after.max_wait, after.overflow_queue, after.max_size],
    ['least-handled', 2.5, '00:01:30', 'sales', 10]);
  await policy('pool', { strategy: 'least-handled' });    // no change: no row
  await skill('agent1', 'spanish', 4);
  await requirement('pool', 'spanish', 2);
  const rows = await db.query(`SELECT function, target, change, changed_by FROM interactions.config_history
      WHERE cc_id = $1 AND seq > $2 ORDER BY seq`, [ccId, seq0]);
  assert.deepEqual(rows.map((x) => [x.function, x.target]),
    [['set_queue_policy', 'queue:pool'], ['set_agent_skill', 'user:agent1'], ['set_queue_requirement', 'queue:pool']]);
  assert.deepEqual(rows[0].change.from.strategy, 'longest-idle');
  assert.deepEqual(rows[0].change.to.strategy, 'least-handled');
  assert.deepEqual(rows[1].change, { skill: 'spanish', from: null, to: 4 });
  await assert.rejects(db.query(`DELETE FROM interactions.config_history WHERE cc_id = $1`, [ccId]), /append-only/);
  // skills are checked too
  await assert.rejects(skill('agent1', 'spanish', 11));
  await assert.rejects(skill('agent1', 'no spaces', 1));
  // the API shows none of it to agents: the snapshot is unchanged
  const me = await ok('agent1', 'GET', '/me', { cc });
  assert.equal(me.statusCode, 0);
});
