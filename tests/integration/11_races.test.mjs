// Races decided by the database: each pair of conflicting operations runs concurrently
// through HTTP, many times; exactly the allowed outcomes happen, and the invariant checker
// (one owner, final states final, history replays to the current row) holds afterwards.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { db, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';
import { create, channel, op, opOk, row, invitedTo, ownedBy, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't3';
const ROUNDS = Number(process.env.MI_RACE_ROUNDS || 25);
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
beforeEach(async () => {
  await freshContactCenter(cc);
  for (const a of ['agent1', 'agent2', 'agent3']) {
    await db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', 1000)`, [cc, a]);
  }
});
afterEach(async () => { await assertInvariants(ccId); });

const codes = (rs) => rs.map((r) => r.json?.statusCode).sort((a, b) => a - b);

test('two agents and a double click accepting one offer: exactly one wins, every time', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const id = await invitedTo(cc, ccId, 'agent1');
    const rs = await Promise.all([op(cc, 'agent1', id, 'Accept'), op(cc, 'agent2', id, 'Accept'),
      op(cc, 'agent1', id, 'Accept')]);
    const wins = rs.filter((r) => r.json.statusCode === 0);
    assert.equal(wins.length, 1, `round ${i}: ${rs.map((r) => r.text).join(' | ')}`);
    assert.equal(rs[1].json.statusCode, 5);          // never the stranger's
    assert.ok([0, 2].includes(rs[0].json.statusCode) && [0, 2].includes(rs[2].json.statusCode));
    const r = await row(ccId, id);
    assert.equal(r.owner, 'agent1');
    assert.equal(r.state, 'Processing');
    assert.equal(await db.value(`SELECT count(*)::int FROM interactions.history WHERE cc_id = $1
                                  AND interaction_id = $2 AND operation = 'Accept'`, [ccId, id]), 1);
  }
});

test('Accept against the offer timeout: the agent owns it, or it was withdrawn and the Accept refused', async () => {
  let won = 0;
  let lost = 0;
  for (let i = 0; i < ROUNDS; i++) {
    const id = await invitedTo(cc, ccId, 'agent1', { queueName: 'quick' });
    await db.query(`UPDATE interactions.interactions SET offer_expires_at = now() WHERE cc_id = $1 AND id = $2`, [ccId, id]);
    const [acc] = await Promise.all([op(cc, 'agent1', id, 'Accept'), db.query('SELECT interactions.maintenance()')]);
    const r = await row(ccId, id);
    if (acc.json.statusCode === 0) {
      won++;
      assert.deepEqual([r.state, r.owner], ['Processing', 'agent1']);
    } else {
      lost++;
      assert.equal(acc.json.statusCode, 2, acc.text);
      assert.equal(r.state, 'Queued');
      assert.equal(r.owner, null);
    }
  }
  assert.equal(won + lost, ROUNDS);
});

test('Transfer against Complete by the owner: one of them, never both', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const id = await ownedBy(cc, ccId, 'agent1');
    const [tr, co] = await Promise.all([op(cc, 'agent1', id, 'Transfer', { userId: 'agent2' }),
      op(cc, 'agent1', id, 'Complete')]);
    assert.deepEqual(codes([tr, co]).filter((c) => c === 0), [0], `${tr.text} | ${co.text}`);
    const r = await row(ccId, id);
    if (tr.json.statusCode === 0) {
      assert.deepEqual([r.state, r.invitee], ['Invited', 'agent2']);
      assert.equal(co.json.statusCode, 5);           // it became agent2's offer
    } else {
      assert.equal(r.state, 'Completed');
      assert.equal(tr.json.statusCode, 2);
    }
  }
});

test('PlaceInWorkbin against Pull by another agent, and two agents pulling one interaction', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const id = await ownedBy(cc, ccId, 'agent1');
    const [pl, pu] = await Promise.all([op(cc, 'agent1', id, 'PlaceInWorkbin', { workbin: 'team' }),
      op(cc, 'agent2', id, 'Pull')]);
    assert.equal(pl.json.statusCode, 0, pl.text);
    const r = await row(ccId, id);
    if (pu.json.statusCode === 0) {
      assert.deepEqual([r.state, r.owner], ['Processing', 'agent2']);
    } else {
      assert.ok([2, 5].includes(pu.json.statusCode), pu.text);
      assert.deepEqual([r.state, r.workbin], ['InWorkbin', 'team']);
    }
    if (r.state === 'InWorkbin') {
      const rs = await Promise.all([op(cc, 'agent2', id, 'Pull'), op(cc, 'agent3', id, 'Pull')]);
      assert.deepEqual(codes(rs), [0, 2], rs.map((x) => x.text).join(' | '));
      const r2 = await row(ccId, id);
      assert.equal(r2.state, 'Processing');
      assert.equal(r2.owner, rs[0].json.statusCode === 0 ? 'agent2' : 'agent3');
    }
  }
});

test('concurrent UpdateUserData and DeleteUserData lose no update: the result is a serial order', async () => {
  for (let i = 0; i < ROUNDS; i++) {
    const id = await ownedBy(cc, ccId, 'agent1', { userData: { keep: 0, drop: 0 } });
    const writers = [];
    for (let k = 0; k < 6; k++) {
      writers.push(op(cc, 'agent1', id, 'UpdateUserData', { userData: { [`k${k}`]: k, last: k } }));
    }
    writers.push(op(cc, 'agent1', id, 'DeleteUserData', { keys: ['drop'] }));
    writers.push(op(cc, 'agent1', id, 'DeleteUserData', { userData: { last: true } }));
    const rs = await Promise.all(writers);
    for (const r of rs) assert.equal(r.json.statusCode, 0, r.text);
    const ud = await db.value(`SELECT interactions.user_data_of($1, $2)`, [ccId, id]);
    // every distinct key written survives; the deleted one is gone
    for (let k = 0; k < 6; k++) assert.equal(ud[`k${k}`], k);
    assert.equal(ud.keep, 0);
    assert.equal('drop' in ud, false);
    // "last" is whatever the serially last writer of it left: an update's value, or absent
    // when the delete ran last; the history order says which
    const order = await db.query(`SELECT operation, user_data_change FROM interactions.history
        WHERE cc_id = $1 AND interaction_id = $2 AND user_data_change IS NOT NULL ORDER BY seq`, [ccId, id]);
    let expected;
    for (const h of order) {
      if (h.user_data_change.set && 'last' in h.user_data_change.set) expected = h.user_data_change.set.last;
      if ((h.user_data_change.deleted || []).includes('last')) expected = undefined;
    }
    assert.equal(ud.last, expected);
  }
});

test('agents who race for offers never exceed their capacity', async () => {
  await db.query(`SELECT interactions.set_agent_capacity($1, a, 'email', 2) FROM unnest(ARRAY['agent1','agent2']) a`, [cc]);
  const ids = await Promise.all(Array.from({ length: 12 }, () => create(cc)));
  await Promise.all([channel(cc, 'agent1', 'Ready'), channel(cc, 'agent2', 'Ready')]);
  await assertInvariants(ccId, true);
  const loads = await db.query(`SELECT o.login, count(*)::int AS n FROM interactions.interactions i
      JOIN interactions.users o ON o.cc_id = i.cc_id AND o.id = i.invitee_id WHERE i.cc_id = $1 GROUP BY 1
      ORDER BY 1`, [ccId]);
  assert.deepEqual(loads, [{ login: 'agent1', n: 2 }, { login: 'agent2', n: 2 }]);
  assert.equal(ids.length, 12);
});
