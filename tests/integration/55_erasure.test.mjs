// Erasing one customer's personal data (interactions.erase_customer): gone from the current
// rows and from every history snapshot and user-data change, while the audit trail keeps its
// rows, their order and every non-personal field; the erasure is itself recorded.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import path from 'node:path';
import { db, env, connectAs, freshContactCenter, ok, watchErrorLog } from '../lib/harness.mjs';
import { assertInvariants, channel, create, opOk } from '../lib/flows.mjs';

watchErrorLog();
const cc = 't30';
let ccId;
before(async () => {
  ccId = await freshContactCenter(cc);
});

/** Every history row of the contact center, without the two fields erasure may rewrite. */
async function trail() {
  return db.query(`SELECT seq::text, xid::text, at, interaction_id, operation, actor_id, actor_login, reference_id,
                          from_state, to_state, from_queue, to_queue, from_workbin, to_workbin, from_owner, to_owner,
                          from_invitee, to_invitee, notification, audience, revoked
                     FROM interactions.history WHERE cc_id = $1 ORDER BY seq`, [ccId]);
}

test('erasing a customer removes their personal data everywhere and keeps the audit trail\'s shape', async () => {
  // Jane writes twice (once as "Name <address>", in another case), an agent works on both and
  // replies to one; Bob writes once.
  await channel(cc, 'agent1', 'Ready');
  const a = await create(cc, { from: 'Jane Doe <Jane.Doe@Example.com>', subject: 'my order 1234', userData: { order: '1234', phone: '+1 555 0100' } });
  await opOk(cc, 'agent1', a, 'Accept');
  await opOk(cc, 'agent1', a, 'UpdateUserData', { userData: { address: '1 Main St' } });
  const reply = (await opOk(cc, 'agent1', a, 'Reply')).interaction.id;
  await ok('agent1', 'PUT', `/interactions/${reply}`, { cc, body: { body: 'Dear Jane, about 1234', userData: { draft: 'for Jane' } } });
  await opOk(cc, 'agent1', reply, 'Send');
  await opOk(cc, 'agent1', a, 'Complete');
  const b = await create(cc, { from: 'jane.doe@example.com', subject: 'still waiting', userData: { order: '1234' } });
  await opOk(cc, 'agent1', b, 'Accept');
  const bob = await create(cc, { from: 'bob@example.com', subject: 'bob here', userData: { order: '9' } });

  const before = await trail();
  const r = await (async () => {
    const dba = await connectAs('interactions_dba');
    try {
      return (await dba.query(`SELECT interactions.erase_customer($1, $2) AS r`, [cc, ' JANE.DOE@example.com'])).rows[0].r;
    } finally {
      await dba.end();
    }
  })();
  assert.equal(r.interactions, 3, JSON.stringify(r));   // both of hers and the reply to her
  assert.ok(r.historyRows >= 8, JSON.stringify(r));

  // the current rows
  const rows = await db.query(`SELECT id, subject, body, from_address, to_addresses, cc_addresses, state, media_type, queue_id
                                 FROM interactions.interactions WHERE cc_id = $1`, [ccId]);
  for (const x of rows.filter((x) => x.id !== bob)) {
    assert.equal(x.subject, null);
    assert.equal(x.body, null);
    assert.ok(!JSON.stringify([x.from_address, x.to_addresses, x.cc_addresses]).toLowerCase().includes('jane'), JSON.stringify(x));
    assert.equal(x.media_type, 'email');
  }
  assert.equal(Number(await db.value(`SELECT count(*) FROM interactions.user_data WHERE cc_id = $1 AND interaction_id <> $2`, [ccId, bob])), 0);
  // the reply keeps who wrote it (the contact center's address), only hers is gone
  assert.deepEqual(rows.find((x) => x.id === reply).to_addresses, []);
  assert.equal(rows.find((x) => x.id === reply).from_address, 'support@example.com');

  // the history: the same rows in the same order with the same non-personal fields, then one
  // Erase row per erased interaction
  const afterRows = await trail();
  assert.deepEqual(afterRows.slice(0, before.length), before);
  const erase = afterRows.slice(before.length);
  assert.deepEqual(erase.map((h) => h.operation), ['Erase', 'Erase', 'Erase']);
  assert.deepEqual(new Set(erase.map((h) => h.interaction_id)), new Set([a, b, reply]));
  assert.ok(erase.every((h) => h.actor_id === null && h.from_state === h.to_state));
  // the active one is told to its agent; the finished ones to nobody
  assert.equal(erase.find((h) => h.interaction_id === b).notification, 'PropertiesUpdated');
  assert.equal(erase.find((h) => h.interaction_id === a).notification, null);

  // no trace of her in any snapshot or user-data change of her interactions
  const copies = await db.query(`SELECT snapshot::text || coalesce(user_data_change::text, '') AS t FROM interactions.history
                                  WHERE cc_id = $1 AND interaction_id = ANY($2)`, [ccId, [a, b, reply]]);
  for (const { t } of copies) {
    for (const personal of ['jane', 'Jane', '1234', '555', 'Main St', 'still waiting']) {
      assert.ok(!t.includes(personal), `${personal} in ${t}`);
    }
  }
  // Bob is untouched
  const bobRow = await db.one(`SELECT subject, from_address FROM interactions.interactions WHERE cc_id = $1 AND id = $2`, [ccId, bob]);
  assert.deepEqual(bobRow, { subject: 'bob here', from_address: 'bob@example.com' });
  assert.deepEqual((await db.one(`SELECT snapshot->'userData' AS u FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2`,
    [ccId, bob])).u, { order: '9' });

  // what the API shows now, and the invariants (the history still replays to the rows)
  const got = (await ok('admin', 'GET', `/interactions/${b}`, { cc })).interaction;
  assert.equal(got.subject, null);
  assert.deepEqual(got.userData, {});
  assert.equal(got.state, 'Processing');
  await opOk(cc, 'agent1', b, 'AttachUserData', { userData: { after: 'erasure' } });
  await assertInvariants(ccId);

  // the erasure is recorded, without the address
  const rec = await db.one(`SELECT erased_by, customer_hash, interaction_ids, history_rows
                              FROM interactions.erasures WHERE cc_id = $1 ORDER BY seq DESC LIMIT 1`, [ccId]);
  assert.equal(rec.erased_by, 'interactions_dba');
  assert.equal(rec.customer_hash, await db.value(`SELECT encode(sha256('jane.doe@example.com'::bytea), 'hex')`));
  assert.deepEqual(new Set(rec.interaction_ids), new Set([a, b, reply]));
  assert.equal(Number(rec.history_rows), r.historyRows);
  await assert.rejects(db.query(`DELETE FROM interactions.erasures WHERE cc_id = $1`, [ccId]), /append-only/);
});

test('the history\'s erasure exception is narrow: only snapshot and user-data change, only for roles that may update', async () => {
  await freshContactCenter(cc);
  await create(cc, { from: 'x@example.com' });
  const su = new pg.Client({ host: path.join(env.varDir, 'pg/run'), port: env.pgPort, user: 'postgres', database: 'interactions' });
  await su.connect();
  try {
    const erasing = async (sql) => {
      await su.query(`BEGIN`);
      try {
        await su.query(`SELECT set_config('interactions.erasing', 'on', true)`);
        await su.query(sql);
      } finally {
        await su.query('ROLLBACK');
      }
    };
    await erasing(`UPDATE interactions.history SET snapshot = '{}', user_data_change = NULL WHERE cc_id = ${ccId}`);
    for (const col of [`operation = 'x'`, `to_state = 'Completed'`, `at = at - interval '1 day'`, `audience = '{00000000-0000-0000-0000-000000000001}'`]) {
      await assert.rejects(erasing(`UPDATE interactions.history SET ${col} WHERE cc_id = ${ccId}`), /append-only/, col);
    }
    await assert.rejects(erasing(`DELETE FROM interactions.history WHERE cc_id = ${ccId}`), /append-only/);
    await assert.rejects(erasing(`UPDATE interactions.agent_events SET media = 'x'`).then(async () => {
      if (Number((await su.query(`SELECT count(*) FROM interactions.agent_events`)).rows[0].count) === 0) throw new Error('append-only (no rows to try)');
    }), /append-only/);
  } finally {
    await su.end();
  }
  // the module's role may not update the history at all, nor call the erasure
  const app = await connectAs('interactions_app');
  try {
    await app.query(`BEGIN`);
    await app.query(`SELECT set_config('interactions.cc', $1, true), set_config('interactions.erasing', 'on', true)`, [String(ccId)]);
    await assert.rejects(app.query(`UPDATE interactions.history SET snapshot = '{}'`), /permission denied/);
    await app.query('ROLLBACK');
    await assert.rejects(app.query(`SELECT interactions.erase_customer($1, 'x@example.com')`, [cc]), /permission denied/);
  } finally {
    await app.end();
  }
  await assert.rejects(db.query(`SELECT interactions.erase_customer($1, 'not an address')`, [cc]), /address is needed/);
});
