// API hardening: what a user of one contact center could do with requests the API accepted
// too readily — strict JSON, bad ids, what an agent may list, referenceIds that belong to
// their contact center, pages bounded in bytes, and a history that is not a read log.
// Contact centers t21 and t24.
import { test, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { api, ok, fails, db, env, freshContactCenter, httpdInstance, watchErrorLog, errorLogPath } from '../lib/harness.mjs';
import { create, channel, op, opOk, row, ownedBy } from '../lib/flows.mjs';
import { cometdClient, about, rawSession, rawConnect, rawDisconnect } from '../lib/push.mjs';

// the one database error provoked on purpose, logged without SQL text or client data
watchErrorLog([/MI00113: database call mi_api failed \(SQLSTATE XX046\) in (public\.)?fail_46 line \d+$/]);
const cc = 't21';
let ccId;
before(async () => { ccId = await freshContactCenter(cc); });
beforeEach(async () => { await freshContactCenter(cc); });

const count = () => db.value('SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1', [ccId]);

/** POST raw text to the push channel of @who; returns {status, json, text}. */
async function bayeux(who, text) {
  return api(who, 'POST', '/notifications', { cc, body: text });
}

// ------------------------------------------------------------------ strict JSON

test('"\\u0000" in a string is refused (statusCode 10): "Complete\\u0000x" is not Complete', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  const r = await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10,
    { cc, body: '{"operationName":"Complete\\u0000x"}' });
  assert.match(r.json.statusMessage, /byte 17\): a string must not contain \\u0000$/);
  assert.equal((await row(ccId, id)).state, 'Processing');
  // in user data and in subjects as well (PostgreSQL cannot store it anyway)
  const before = await count();
  await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: '{"mediaType":"email","queueName":"support","subject":"a\\u0000b"}' });
  assert.equal(await count(), before);
});

test('raw control characters inside strings are refused; escaped ones are kept', async () => {
  const before = await count();
  for (const ch of ['\t', '\n', '\u0001', '\u001f']) {
    const r = await fails('feeder', 'POST', '/interactions', 400, 10,
      { cc, body: `{"mediaType":"email","queueName":"support","subject":"a${ch}b"}` });
    assert.match(r.json.statusMessage, /byte 55\): a control character in a string must be escaped$/);
  }
  assert.equal(await count(), before);
  // escaped, and as whitespace between tokens, they are JSON
  const created = await ok('feeder', 'POST', '/interactions',
    { cc, body: '{\n\t"mediaType":"email",\r\n "queueName":"support","subject":"a\\tb\\u0001"}' });
  const got = await ok('admin', 'GET', `/interactions/${created.id}`, { cc });
  assert.equal(got.interaction.subject, 'a\tb\u0001');
});

test('duplicate member names are refused instead of the last one silently winning', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  // json-c kept the last: this completed the interaction
  const r = await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10,
    { cc, body: '{"operationName":"Reject","operationName":"Complete"}' });
  assert.match(r.json.statusMessage, /line 1, column 27 \(byte 26\): duplicate member name$/);
  assert.equal((await row(ccId, id)).state, 'Processing');
  // nested, in user data, and written differently ("k" and "\u006b" are one name)
  const before = await count();
  await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: '{"mediaType":"email","queueName":"support","userData":{"a":{"k":1,"\\u006b":2}}}' });
  assert.equal(await count(), before);
  // the same name in two objects is fine
  await ok('feeder', 'POST', '/interactions',
    { cc, body: '{"mediaType":"email","queueName":"support","userData":{"a":{"k":1},"b":{"k":1}}}' });
});

test('half a UTF-16 surrogate pair is refused rather than stored as U+FFFD', async () => {
  const before = await count();
  const r = await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: '{"mediaType":"email","queueName":"support","subject":"\\ud83d"}' });
  assert.match(r.json.statusMessage, /unpaired UTF-16 surrogate/);
  assert.equal(await count(), before);
  const created = await ok('feeder', 'POST', '/interactions',
    { cc, body: '{"mediaType":"email","queueName":"support","subject":"\\ud83d\\ude00"}' });
  assert.equal((await ok('admin', 'GET', `/interactions/${created.id}`, { cc })).interaction.subject, '\u{1f600}');
});

test('the push channel reads its messages as strictly (statusCode 10)', async () => {
  const hs = (extra) => `[{"channel":"/meta/handshake","version":"1.0",${extra}"supportedConnectionTypes":["long-polling"]}]`;
  const good = await bayeux('agent1', hs(''));
  assert.equal(good.status, 200, good.text);
  assert.equal(good.json[0].successful, true);
  for (const [bad, reason] of [
    [hs('"version":"1.0",'), /duplicate member name$/],
    [hs('"ext":{"x":"a\tb"},'), /a control character in a string must be escaped$/],
    [hs('"ext":{"x":"\\u0000"},'), /a string must not contain \\u0000$/],
    ['[{"channel":"/meta/handshake\\u0000x","version":"1.0","supportedConnectionTypes":["long-polling"]}]',
      /a string must not contain \\u0000$/],
  ]) {
    const r = await bayeux('agent1', bad);
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.statusCode, 10);
    assert.match(r.json.statusMessage, reason);
  }
  // callback-polling (JSONP) parses message= the same way (a callback name CometD would
  // use, from a page of our own: what the server accepts JSONP for)
  const msg = encodeURIComponent(hs('"version":"1.0",'));
  const r = await api('agent1', 'GET', `/notifications?jsonp=_cometd_jsonp_1&message=${msg}`,
    { cc, headers: { 'Sec-Fetch-Site': 'same-origin' } });
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.statusCode, 10);
  assert.match(r.json.statusMessage, /duplicate member name$/);
});

// ------------------------------------------------------------------ ids that are not ids

test('Transfer to a 36-character userId that is not a UUID is statusCode 10, not a 500', async () => {
  const id = await ownedBy(cc, ccId, 'agent1');
  for (const userId of ['0123456789abcdef0123456789abcdef0123', '-'.repeat(36),
    'abcdefab-cdef-abcd-efab-cdefabcdef-1', 'ABCDEFAB-CDEF-ABCD-EFAB-CDEFABCDEF0G',
    '{0123456-89ab-cdef-0123-456789abcdef}']) {
    for (const key of ['userId', 'userUri', 'targetUri']) {
      const value = key === 'userId' ? userId : `http://h/api/v2/users/${userId}`;
      const r = await fails('agent1', 'POST', `/me/interactions/${id}`, 400, 10,
        { cc, body: { operationName: 'Transfer', [key]: value } });
      assert.equal(r.json.statusMessage, 'unknown target agent', `${key} ${userId}`);
    }
  }
  assert.equal((await row(ccId, id)).state, 'Processing');
  // a real id, in any case, still names the agent
  const agent2 = await db.value(`SELECT id FROM interactions.users WHERE cc_id = $1 AND login = 'agent2'`, [ccId]);
  const t = await opOk(cc, 'agent1', id, 'Transfer', { userId: agent2.toUpperCase() });
  assert.equal(t.interaction.state, 'Invited');
  assert.equal(t.interaction.assignedTo, 'agent2');
});

test('an unexpected database error is logged without SQL text or client data', async () => {
  // a trigger that fails only for this contact center, quoting the client's subject
  await db.query(`CREATE OR REPLACE FUNCTION public.fail_46() RETURNS trigger LANGUAGE plpgsql AS $$
                  BEGIN RAISE EXCEPTION 'refusing %', NEW.subject USING ERRCODE = 'XX046'; END $$`);
  await db.query(`CREATE TRIGGER fail_46 BEFORE INSERT ON interactions.interactions FOR EACH ROW
                  WHEN (NEW.cc_id = ${Number(ccId)}) EXECUTE FUNCTION public.fail_46()`);
  const start = fs.statSync(errorLogPath()).size;
  try {
    const r = await fails('feeder', 'POST', '/interactions', 500, 4,
      { cc, body: { mediaType: 'email', queueName: 'support', subject: 'SECRET-4711' } });
    assert.equal(r.json.statusMessage, 'internal error');
  } finally {
    await db.query('DROP TRIGGER fail_46 ON interactions.interactions');
    await db.query('DROP FUNCTION public.fail_46()');
  }
  const lines = fs.readFileSync(errorLogPath()).subarray(start).toString('utf8').split('\n')
    .filter((l) => l.includes('MI00113'));
  assert.equal(lines.length, 1, lines.join('\n'));
  // where: the innermost function (here the trigger's), its line, nothing it quoted
  assert.match(lines[0], /database call mi_api failed \(SQLSTATE XX046\) in (public\.)?fail_46 line \d+$/);
  assert.doesNotMatch(lines[0], /SECRET|INSERT|SELECT|statement/);
});

// ------------------------------------------------------------------ referenceIds per tenant

test("a tenant's referenceIds count its own requests only; history and push carry them", async () => {
  const other = 't24';
  await freshContactCenter(other);
  const write = (c) => ok('feeder', 'POST', '/interactions',
    { cc: c, body: { mediaType: 'email', queueName: 'support' } });
  const first = await write(cc);
  for (let i = 0; i < 5; i++) await write(other);
  const second = await write(cc);
  // with one sequence for the database, the difference was everybody's traffic in between
  assert.equal(second.referenceId, first.referenceId + 1);
  // reads number nothing
  await ok('admin', 'GET', '/interactions', { cc });
  // the push channel and the history carry the call's referenceId
  const a1 = await cometdClient({ cc, user: 'agent1' });
  try {
    const third = await ok('feeder', 'POST', '/interactions',
      { cc, body: { mediaType: 'email', queueName: 'support', priority: 100 } });
    assert.equal(third.referenceId, second.referenceId + 1);
    const ready = await channel(cc, 'agent1', 'Ready');   // routing offers the third
    assert.equal(ready.referenceId, third.referenceId + 1);
    const offer = await a1.waitFor((m) => about(third.id)(m));
    assert.equal(offer.data.referenceId, ready.referenceId);
    const refs = await db.query(`SELECT operation, reference_id FROM interactions.history
                                  WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq`, [ccId, third.id]);
    assert.deepEqual(refs, [{ operation: 'Create', reference_id: String(third.referenceId) },
      { operation: 'Route', reference_id: String(ready.referenceId) }]);
  } finally {
    await a1.disconnect();
  }
});

// ------------------------------------------------------------------ what an agent may list

/** The cast of 'who may read what' (agent1, agent2 in support; agent1..3 in sales; agent4 in
 *  no queue):  F agent1's personal workbin, C Processing by agent1, D Completed by agent2,
 *  E in the shared workbin (handled by agent2), A waiting in support (offered to agent2),
 *  B waiting in sales.  Every interaction carries user data and addresses. */
async function castOfInteractions() {
  const body = { userData: { secret: 'customer data' }, from: 'c@example.com' };
  const F = await ownedBy(cc, ccId, 'agent1', body);
  await opOk(cc, 'agent1', F, 'PlaceInWorkbin', { workbin: 'drafts' });
  const C = await ownedBy(cc, ccId, 'agent1', body);
  const D = await ownedBy(cc, ccId, 'agent2', body);
  await opOk(cc, 'agent2', D, 'Complete');
  const E = await ownedBy(cc, ccId, 'agent2', { ...body, queueName: 'sales' });
  await opOk(cc, 'agent2', E, 'PlaceInWorkbin', { workbin: 'team' });
  const A = await create(cc, body);
  const B = await create(cc, { ...body, queueName: 'sales' });
  await channel(cc, 'agent2', 'Ready');   // the oldest waiting one of agent2's queues: A
  await channel(cc, 'agent2', 'NotReady');
  assert.equal((await row(ccId, A)).invitee, 'agent2');
  assert.equal((await row(ccId, B)).state, 'Queued');
  return { A, B, C, D, E, F };
}

async function listed(user, query = '') {
  const r = await ok(user, 'GET', `/interactions?fields=*&limit=500${query}`, { cc });
  const uris = await ok(user, 'GET', `/interactions?limit=500${query}`, { cc });
  assert.equal(uris.uris.length, r.interactions.length);
  assert.equal(r.totalCount, r.interactions.length);
  return r.interactions.map((i) => i.id);
}

test('an agent lists only what they may read: their queues, shared workbins, their own work', async () => {
  const x = await castOfInteractions();
  const name = Object.fromEntries(Object.entries(x).map(([k, v]) => [v, k]));
  const names = (ids) => ids.map((id) => name[id]).sort().join('');
  // before: every agent listed every interaction of the contact center, user data included
  assert.equal(names(await listed('agent1')), 'ABCEF');
  assert.equal(names(await listed('agent2')), 'ABE');
  assert.equal(names(await listed('agent3')), 'BE');
  assert.equal(names(await listed('agent4')), 'E');
  assert.equal(names(await listed('agent4', '&state=Completed')), '');
  assert.equal(names(await listed('agent2', '&state=Completed')), 'D');
  assert.equal(names(await listed('agent3', '&queue=support')), '');
  // supervisors, admins and integrations: the whole contact center
  for (const who of ['supervisor', 'admin', 'feeder']) {
    assert.equal(names(await listed(who)), 'ABCEF', who);
    assert.equal(names(await listed(who, '&state=Completed')), 'D', who);
  }
});

test('GET /interactions/{id} lets an agent read exactly what the list shows them', async () => {
  const x = await castOfInteractions();
  for (const agent of ['agent1', 'agent2', 'agent3', 'agent4']) {
    const visible = new Set();
    for (const state of ['', '&state=Completed']) {
      for (const id of await listed(agent, state)) visible.add(id);
    }
    for (const [n, id] of Object.entries(x)) {
      const r = await api(agent, 'GET', `/interactions/${id}`, { cc });
      assert.equal(r.status, visible.has(id) ? 200 : 403, `${agent} reading ${n}: ${r.text}`);
      assert.equal(r.json.statusCode, visible.has(id) ? 0 : 5);
    }
  }
});

// ------------------------------------------------------------------ pages bounded in bytes

/** Walk every page of @path (a query without offset) as @user; returns the pages. */
async function allPages(user, path, opts = {}) {
  const pages = [];
  let offset = 0;
  for (;;) {
    const r = await api(user, 'GET', `${path}&offset=${offset}`, { cc, ...opts });
    assert.equal(r.json?.statusCode, 0, r.text);
    pages.push(r);
    if (r.json.nextOffset === undefined) return pages;
    assert.equal(r.json.nextOffset, offset + (r.json.interactions || r.json.uris).length);
    offset = r.json.nextOffset;
    assert.ok(pages.length < 100);
  }
}

test('a fields=* page stops at 1 MiB, says so, and the next pages hold the rest in order', async () => {
  // 40 interactions with 32 KB of user data each: 1.3 MB in one page before
  const ids = [];
  for (let i = 0; i < 40; i++) {
    const big = Buffer.from(`${i}-`.repeat(2000) + 'x'.repeat(32000)).toString('utf8').slice(0, 32000);
    ids.push(await create(cc, { userData: { notes: big } }));
  }
  const pages = await allPages('admin', '/interactions?fields=*&limit=500');
  assert.ok(pages.length >= 2, `one page of ${pages[0].text.length} bytes`);
  for (const p of pages) {
    assert.ok(Buffer.byteLength(p.text) < 1048576 + 40000, `a page of ${Buffer.byteLength(p.text)} bytes`);
    assert.equal(p.json.totalCount, 40);
    assert.equal(p.json.limit, 500);
  }
  assert.equal(pages[0].json.truncated, true);
  assert.equal(pages.at(-1).json.truncated, undefined);
  assert.deepEqual(pages.flatMap((p) => p.json.interactions.map((x) => x.id)), ids);
  // a page of uris is small: all 40 at once
  const uris = await ok('admin', 'GET', '/interactions?limit=500', { cc });
  assert.equal(uris.uris.length, 40);
  assert.equal(uris.nextOffset, undefined);
  assert.equal(uris.truncated, undefined);
  // a full page that is not the last one says where the next starts
  const small = await ok('admin', 'GET', '/interactions?limit=3', { cc });
  assert.deepEqual([small.uris.length, small.nextOffset, small.truncated], [3, 3, undefined]);
});

test('InteractionsMaxPageBytes bounds pages per location, /me/interactions too', async () => {
  const extra = path.join(env.varDir, 'pagebytes.conf');
  fs.writeFileSync(extra, `<Location /small/api/v2>
    SetHandler interactions
    InteractionsContactCenter ${cc}
    InteractionsMaxPageBytes 3000
    AuthType Basic
    AuthName "small pages"
    AuthBasicProvider interactions
    Require valid-user
</Location>
`);
  const inst = httpdInstance('httpd-pagebytes', { NOLOC: 1, CCS: '', EXTRA: extra });
  inst.start();
  try {
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push(await create(cc, { subject: `page ${i}` }));
    const url = `http://127.0.0.1:${inst.port}/small/api/v2`;
    const pages = await allPages('supervisor', `${url}/interactions?fields=*&limit=20`);
    assert.ok(pages.length >= 2, `${pages.length} pages`);
    for (const p of pages.slice(0, -1)) {
      assert.equal(p.json.truncated, true);
      assert.ok(p.json.interactions.length >= 1);
      assert.ok(JSON.stringify(p.json.interactions).length < 3000 + 1000, p.text);
    }
    assert.deepEqual(pages.flatMap((p) => p.json.interactions.map((x) => x.id)), ids);
    // an agent's own list is bounded the same way
    await db.query(`SELECT interactions.set_agent_capacity($1, 'agent1', 'email', 20)`, [cc]);
    await channel(cc, 'agent1', 'Ready');
    const mine = await allPages('agent1', `${url}/me/interactions?fields=*&limit=20`);
    assert.ok(mine.length >= 2, `${mine.length} pages`);
    assert.equal(mine.flatMap((p) => p.json.interactions).length, 12);
    // the main location keeps the default
    assert.equal((await ok('supervisor', 'GET', '/interactions?fields=*&limit=20', { cc })).interactions.length, 12);
  } finally {
    inst.stop();
  }
});

// ------------------------------------------------------------------ the history is not a read log

/** @n interactions lying in the shared workbin "team", each with @kb KB of user data. */
async function teamWorkbin(n, kb = 20) {
  const ids = [];
  for (let i = 0; i < n; i++) {
    const id = await ownedBy(cc, ccId, 'agent2', { userData: { notes: `${i}`.padEnd(kb * 1000, '.') } });
    await opOk(cc, 'agent2', id, 'PlaceInWorkbin', { workbin: 'team' });
    ids.push(id);
  }
  return ids;
}

const readRows = () => db.query(`SELECT reference_id, actor_login, notification, audience, snapshot,
    octet_length(snapshot::text) AS bytes FROM interactions.history
    WHERE cc_id = $1 AND operation = 'GetWorkbinContent' ORDER BY seq`, [ccId]);

test('GetWorkbinContent records which workbin was read, not a copy of its content', async () => {
  const ids = await teamWorkbin(3);
  const calls = [];
  for (let i = 0; i < 5; i++) {
    calls.push(await ok('agent1', 'POST', '/me/interactions',
      { cc, body: { operationName: 'GetWorkbinContent', workbin: 'team' } }));
  }
  // the history: one small row per call, for the DBA and the push channel
  const rows = await readRows();
  assert.equal(rows.length, 5);
  assert.ok(rows.every((r) => r.bytes < 300), `history rows of ${rows.map((r) => r.bytes)} bytes`);
  // the answer has the content
  assert.deepEqual(calls[0].workbin.interactions.map((x) => x.id), ids);
  assert.equal(calls[0].workbin.count, 3);
  assert.equal(calls[0].workbin.interactions[0].userData.notes.length, 20000);
  const team = await db.value(`SELECT id FROM interactions.workbins WHERE cc_id = $1 AND name = 'team'`, [ccId]);
  for (const [i, r] of rows.entries()) {
    assert.ok(r.bytes < 300, `a history row of ${r.bytes} bytes`);   // was 60 KB: the whole workbin
    assert.deepEqual([r.reference_id, r.actor_login, r.notification], [String(calls[i].referenceId), 'agent1', 'WorkbinContent']);
    assert.equal(r.snapshot.workbin, team);
    assert.deepEqual([r.snapshot.name, r.snapshot.type, r.snapshot.count], ['team', 'shared', 3]);
  }
});

test('the WorkbinContent message still arrives, with the referenceId, rendered when it is delivered', async () => {
  const ids = await teamWorkbin(2, 1);
  const s = await rawSession('agent1', { cc });
  try {
    const call = await ok('agent1', 'POST', '/me/interactions',
      { cc, body: { operationName: 'GetWorkbinContent', workbin: 'team' } });
    const got = await rawConnect(s, { timeout: 0 });
    const m = got.events.find((e) => e.data.messageType === 'WorkbinContentMessage');
    assert.ok(m, got.raw.text);
    assert.equal(m.channel, '/v2/me/interactions');
    assert.equal(m.data.notificationType, 'WorkbinContent');
    assert.equal(m.data.referenceId, call.referenceId);
    // the same content as the answer, rendered for the agent
    assert.deepEqual(m.data.workbin, call.workbin);
    assert.deepEqual(m.data.workbin.interactions.map((x) => x.capabilities), [['Pull'], ['Pull']]);
    // a message waiting for delivery shows the workbin as it is when it goes out
    const again = await ok('agent1', 'POST', '/me/interactions',
      { cc, body: { operationName: 'GetWorkbinContent', workbin: 'team' } });
    await opOk(cc, 'agent3', ids[0], 'Pull');
    const later = await rawConnect(s, { timeout: 0 });
    const m2 = later.events.find((e) => e.data.messageType === 'WorkbinContentMessage');
    assert.equal(m2.data.referenceId, again.referenceId);
    assert.deepEqual(m2.data.workbin.interactions.map((x) => x.id), [ids[1]]);
    assert.equal(m2.data.workbin.count, 1);
  } finally {
    await rawDisconnect(s);
  }
});

test('a workbin\'s content is a page too: bounded in bytes, with how many it holds', async () => {
  // 40 interactions of 32 KB: 1.3 MB in one answer and one push message before
  const ids = await teamWorkbin(40, 32);
  const r = await ok('agent1', 'GET', '/me/workbins/team', { cc });
  assert.equal(r.workbin.count, 40);
  assert.equal(r.workbin.truncated, true);
  assert.ok(r.workbin.interactions.length < 40 && r.workbin.interactions.length > 20);
  assert.deepEqual(r.workbin.interactions.map((x) => x.id), ids.slice(0, r.workbin.interactions.length));
  const c = await ok('agent1', 'POST', '/me/interactions',
    { cc, body: { operationName: 'GetWorkbinContent', workbin: 'team' } });
  assert.deepEqual([c.workbin.count, c.workbin.truncated, c.workbin.interactions.length],
    [40, true, r.workbin.interactions.length]);
  // the list pages through all of a workbin
  const pages = await allPages('agent1', '/interactions?fields=*&limit=500&workbin=team');
  assert.ok(pages.length >= 2);
  assert.deepEqual(pages.flatMap((p) => p.json.interactions.map((x) => x.id)).sort(), [...ids].sort());
  assert.equal(pages[0].json.totalCount, 40);
  for (const [who, wb] of [['agent1', 'drafts'], ['agent1', 'nosuchworkbin'], ['supervisor', 'drafts']]) {
    const none = await ok(who, 'GET', `/interactions?workbin=${wb}`, { cc });
    assert.deepEqual([none.uris, none.totalCount], [[], 0], `${who} ${wb}`);
  }
  assert.equal((await ok('supervisor', 'GET', '/interactions?workbin=team', { cc })).totalCount, 40);
  await fails('agent1', 'GET', '/interactions?workbin=', 400, 10, { cc });
});
