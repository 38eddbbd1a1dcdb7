// flows.mjs — short-hands for the steps tests repeat: create, make an agent Ready, get an
// interaction offered to or owned by an agent, run an operation, check the invariants.
import assert from 'node:assert/strict';
import { api, ok, db } from './harness.mjs';

export async function create(cc, body = {}) {
  const r = await ok('feeder', 'POST', '/interactions', {
    cc, body: { mediaType: 'email', queueName: 'support', subject: 'test', from: 'customer@example.com',
      to: ['support@example.com'], ...body },
  });
  return r.id;
}

export async function channel(cc, agent, state, media = 'email') {
  return ok(agent, 'POST', `/me/channels/${media}`, { cc, body: { operationName: state } });
}

/** POST /me/interactions/{id} as @agent; returns the raw response. */
export function op(cc, agent, id, operationName, args = {}) {
  return api(agent, 'POST', `/me/interactions/${id}`, { cc, body: { operationName, ...args } });
}

/** The same, asserting success; returns the JSON. */
export async function opOk(cc, agent, id, operationName, args = {}) {
  const r = await op(cc, agent, id, operationName, args);
  assert.equal(r.json?.statusCode, 0, `${operationName} by ${agent}: ${r.status} ${r.text}`);
  return r.json;
}

export async function row(ccId, id) {
  return db.one(`SELECT i.state, i.queue_id, q.name AS queue, w.name AS workbin, o.login AS owner,
                        v.login AS invitee, i.parent_id
                   FROM interactions.interactions i
                   LEFT JOIN interactions.queues q ON q.cc_id = i.cc_id AND q.id = i.queue_id
                   LEFT JOIN interactions.workbins w ON w.cc_id = i.cc_id AND w.id = i.workbin_id
                   LEFT JOIN interactions.users o ON o.cc_id = i.cc_id AND o.id = i.owner_id
                   LEFT JOIN interactions.users v ON v.cc_id = i.cc_id AND v.id = i.invitee_id
                  WHERE i.cc_id = $1 AND i.id = $2`, [ccId, id]);
}

/**
 * An interaction offered to @agent: @agent is made Ready (everyone else in the contact
 * center is expected NotReady), one is created in @queue and routing offers it.
 */
export async function invitedTo(cc, ccId, agent, body = {}) {
  await channel(cc, agent, 'Ready', body.mediaType || 'email');
  const id = await create(cc, body);
  const r = await row(ccId, id);
  assert.equal(r.state, 'Invited', `expected the new interaction to be offered to ${agent}`);
  assert.equal(r.invitee, agent);
  await channel(cc, agent, 'NotReady', body.mediaType || 'email');
  return id;
}

/** An interaction @agent is Processing. */
export async function ownedBy(cc, ccId, agent, body = {}) {
  const id = await invitedTo(cc, ccId, agent, body);
  await opOk(cc, agent, id, 'Accept');
  return id;
}

/** The invariant checker; fails the test with every violation found. */
export async function assertInvariants(ccId, checkCapacity = false) {
  const v = await db.query(`SELECT interactions.invariant_violations($1, $2) AS v`, [ccId, checkCapacity]);
  assert.deepEqual(v.map((x) => x.v), [], 'invariant violations');
}

/** Every agent of the contact center NotReady on every media (through the API, so that the
 *  agent-state history records it like any change). */
export async function allNotReady(ccId) {
  const rows = await db.query(`SELECT c.name AS cc, u.login, ch.media FROM interactions.agent_channels ch
      JOIN interactions.users u ON u.cc_id = ch.cc_id AND u.id = ch.user_id
      JOIN interactions.contact_centers c ON c.id = ch.cc_id
     WHERE ch.cc_id = $1 AND ch.state <> 'NotReady'`, [ccId]);
  for (const r of rows) {
    await ok(r.login, 'POST', `/me/channels/${r.media}`, { cc: r.cc, body: { operationName: 'NotReady' } });
  }
}
