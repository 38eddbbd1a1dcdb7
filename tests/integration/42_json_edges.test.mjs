// JSON at the edges, through httpd and PostgreSQL: what json-c would silently change or let
// through, found while fuzzing the request decoder (tests/fuzz/).  Contact center t11.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, fails, db, freshContactCenter, watchErrorLog } from '../lib/harness.mjs';

watchErrorLog();
const cc = 't11';
let ccId;
const count = () => db.value('SELECT count(*)::int FROM interactions.interactions WHERE cc_id = $1', [ccId]);
const good = { mediaType: 'email', queueName: 'support' };

before(async () => { ccId = await freshContactCenter(cc); });

test('numbers beyond 64 bits survive the trip through jsonb with every digit', async () => {
  // JavaScript cannot hold these numbers, so the body is written and read as text.
  const body = '{"mediaType":"email","queueName":"support","userData":{"big":1e20,' +
    '"huge":100000000000000000000000,"neg":-99999999999999999999,"max":18446744073709551615,' +
    '"pi":3.14159,"n":[1.5e300]}}';
  const created = await ok('feeder', 'POST', '/interactions', { cc, body });
  const r = await api('admin', 'GET', `/interactions/${created.id}`, { cc });
  assert.equal(r.status, 200, r.text);
  // jsonb writes 1e20 as 100000000000000000000 and 1.5e300 with all its zeros; json-c alone
  // clamped those to 18446744073709551615, and a refusing parser made the interaction unreadable
  assert.match(r.text, /"big":100000000000000000000[,}]/);
  assert.match(r.text, /"huge":100000000000000000000000[,}]/);
  assert.match(r.text, /"neg":-99999999999999999999[,}]/);
  assert.match(r.text, /"max":18446744073709551615[,}]/);
  assert.match(r.text, /"pi":3.14159[,}]/);
  assert.match(r.text, /"n":\[15(0){299}\]/);
});

test('numbers PostgreSQL cannot store are a 400, not a database error', async () => {
  const before = await count();
  for (const n of ['1e200000', '-1e400', '1e-400', '0.' + '5'.repeat(16384)]) {
    const r = await fails('feeder', 'POST', '/interactions', 400, 10,
      { cc, body: `{"mediaType":"email","queueName":"support","userData":{"x":${n}}}` });
    assert.match(r.json.statusMessage, /number out of range$/);
  }
  // numbers JSON does not have, which json-c takes and PostgreSQL refuses
  for (const n of ['1.', '1.e5', '00', '-01']) {
    const r = await fails('feeder', 'POST', '/interactions', 400, 10,
      { cc, body: `{"mediaType":"email","queueName":"support","userData":{"x":${n}}}` });
    assert.match(r.json.statusMessage, /malformed number$/);
  }
  assert.equal(await count(), before);
  // and the user-data limit counts numbers as the database writes them (1e300: 301 digits)
  const many = Array.from({ length: 120 }, (_, i) => `"k${i}":1e300`).join(',');
  await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: `{"mediaType":"email","queueName":"support","userData":{${many}}}` });
  assert.equal(await count(), before);
});

test('ill-formed UTF-8 that json-c accepts is a 400, not a database error', async () => {
  const before = await count();
  for (const bad of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
    const body = Buffer.concat([Buffer.from('{"mediaType":"email","queueName":"support","subject":"a'),
      Buffer.from(bad), Buffer.from('"}')]);
    const r = await fails('feeder', 'POST', '/interactions', 400, 10, { cc, body });
    assert.match(r.json.statusMessage, /byte 55\): invalid UTF-8$/);
  }
  assert.equal(await count(), before);
});

test('a NUL character in a user-data key is refused instead of cutting the key', async () => {
  const before = await count();
  const r = await fails('feeder', 'POST', '/interactions', 400, 10,
    { cc, body: '{"mediaType":"email","queueName":"support","userData":{"a\\u0000b":1,"a\\u0000c":2}}' });
  assert.match(r.json.statusMessage, /member name must not contain/);
  assert.equal(await count(), before);
});

test('a long unknown operation name is cut between characters: the answer stays UTF-8', async () => {
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: good });
  const name = 'a'.repeat(63) + 'éé';
  const url = `/me/interactions/${created.id}`;
  const r = await fails('agent1', 'POST', url, 400, 10, { cc, body: { operationName: name } });
  // fetch decodes invalid UTF-8 to U+FFFD; the raw bytes were valid if none appears
  assert.ok(!r.text.includes('\ufffd'), r.text);
  assert.ok(r.json.statusMessage.includes('a'.repeat(63) + 'é...'), r.json.statusMessage);
});
