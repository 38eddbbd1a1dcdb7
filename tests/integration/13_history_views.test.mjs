// History for DBAs: an interaction's full life read from the documented views, as the DBA
// role; agent activity and queue statistics; retention through purge_history only.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { db, freshContactCenter, watchErrorLog, connectAs } from '../lib/harness.mjs';
import { channel, create, opOk, invitedTo, assertInvariants } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't2';
let ccId;
before(async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.set_agent_capacity($1, a, 'email', 10) FROM unnest(ARRAY['agent1','agent2']) a`, [cc]);
});

test('a DBA reads an interaction\'s full life from interactions.interaction_history', async () => {
  const id = await invitedTo(cc, ccId, 'agent1', { userData: { order: 1 } });
  const acc = await opOk(cc, 'agent1', id, 'Accept');
  await opOk(cc, 'agent1', id, 'UpdateUserData', { userData: { note: 'called back' } });
  await opOk(cc, 'agent1', id, 'PlaceInWorkbin', { workbin: 'team' });
  await opOk(cc, 'agent2', id, 'Pull');
  await opOk(cc, 'agent2', id, 'Transfer', { queueName: 'sales' });
  await channel(cc, 'agent1', 'Ready');
  const final = (await db.one(`SELECT login FROM interactions.users u JOIN interactions.interactions i
      ON i.cc_id = u.cc_id AND i.invitee_id = u.id WHERE i.cc_id = $1 AND i.id = $2`, [ccId, id])).login;
  await opOk(cc, final, id, 'Accept');
  await opOk(cc, final, id, 'Complete');

  const dba = await connectAs('interactions_dba');
  try {
    const life = (await dba.query(`SELECT operation, actor, from_state, to_state, from_queue, to_queue,
        to_workbin, to_owner, offered_to, reference_id, user_data_change
        FROM interactions.interaction_history WHERE contact_center = $1 AND interaction_id = $2 ORDER BY seq`,
      [cc, id])).rows;
    assert.deepEqual(life.map((h) => `${h.operation}:${h.actor ?? '-'}:${h.from_state ?? ''}>${h.to_state}`), [
      'Create:feeder:>Queued', 'Route:-:Queued>Invited', 'Accept:agent1:Invited>Processing',
      'UpdateUserData:agent1:Processing>Processing', 'PlaceInWorkbin:agent1:Processing>InWorkbin',
      'Pull:agent2:InWorkbin>Processing', 'Transfer:agent2:Processing>Queued', 'Route:-:Queued>Invited',
      `Accept:${final}:Invited>Processing`, `Complete:${final}:Processing>Completed`]);
    assert.equal(life[2].reference_id, String(acc.referenceId));
    assert.equal(life[4].to_workbin, 'team');
    assert.equal(life[5].to_owner, 'agent2');
    assert.deepEqual([life[6].from_queue, life[6].to_queue], ['support', 'sales']);
    assert.equal(life[7].offered_to, final);
    assert.deepEqual(life[3].user_data_change, { set: { note: 'called back' } });
    assert.deepEqual(life[0].user_data_change, { set: { order: 1 } });
    // DBAs find interactions by user-data key
    const byKey = (await dba.query(`SELECT interaction_id FROM interactions.user_data WHERE key = 'note'
        AND value = '"called back"'::jsonb`)).rows;
    assert.ok(byKey.some((r) => r.interaction_id === id));

    const act = (await dba.query(`SELECT agent, kind, event FROM interactions.agent_activity
        WHERE contact_center = $1 AND agent = 'agent1' ORDER BY at`, [cc])).rows;
    assert.ok(act.some((a) => a.kind === 'offer' && a.event === 'Offered'));
    assert.ok(act.some((a) => a.kind === 'interaction' && a.event === 'Accept'));
    assert.ok(act.some((a) => a.kind === 'channel' && a.event === 'Ready'));

    const stats = (await dba.query(`SELECT queue, waiting, accepted_24h, offers_24h FROM interactions.queue_statistics
        WHERE contact_center = $1 ORDER BY queue`, [cc])).rows;
    assert.deepEqual(stats.map((s) => s.queue), ['quick', 'sales', 'support']);
    assert.ok(Number(stats.find((s) => s.queue === 'sales').accepted_24h) >= 1);

    // the DBA reads but does not write, and the history is append-only even for its owner
    await assert.rejects(dba.query(`UPDATE interactions.interactions SET state = 'Queued' WHERE id = $1`, [id]), /permission denied/);
    await assert.rejects(db.query(`UPDATE interactions.history SET operation = 'x' WHERE cc_id = $1`, [ccId]), /append-only/);
    await assert.rejects(db.query(`DELETE FROM interactions.history WHERE cc_id = $1`, [ccId]), /append-only/);
    // retention goes through purge_history, which keeps what is still active
    const open = await create(cc);
    const n = Number((await dba.query(`SELECT interactions.purge_history(now() + interval '1 minute') AS n`)).rows[0].n);
    assert.ok(n >= life.length);
    assert.equal((await dba.query(`SELECT count(*)::int AS n FROM interactions.history WHERE interaction_id = $1`, [id])).rows[0].n, 0);
    assert.ok((await dba.query(`SELECT count(*)::int AS n FROM interactions.history WHERE interaction_id = $1`, [open])).rows[0].n >= 1);
  } finally {
    await dba.end();
  }
  await freshContactCenter(cc);
  await assertInvariants(ccId);
});
