// docs/openapi.yaml against itself and against the running server:
//  * the document: OpenAPI 3.1 by its meta-schema, every $ref resolves, every operation
//    answers something, path parameters declared, every request and response has examples,
//    and every example satisfies its schema (Ajv, JSON Schema 2020-12, strict mode);
//  * the server: every documented path, method and status is called for real (with data set
//    up for it: an interaction in the right state for each operation) and the answer's
//    status, content type, headers and body are checked against the schema documented for
//    that status; request bodies the server takes satisfy the documented request schema;
//  * the reverse: every route of mi_route.c/h is documented, every other method of a
//    documented path answers 405 with the documented Allow, every operationName and state
//    the server knows is in the document, and every documented status was seen;
//  * and that the checker can fail: a deliberately wrong schema or example is caught;
//  * scripts/check-openapi (Redocly CLI and Spectral) passes the document and refuses a
//    broken copy.
// 500 and 503 come from a second httpd (httpd-openapi) whose database is unreachable and
// which has a location without InteractionsContactCenter; its error log is its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  api, db, env, freshContactCenter, watchErrorLog, httpdInstance, stack, basePath, userId,
} from '../lib/harness.mjs';
import { invitedTo, ownedBy, opOk, channel, row, create } from '../lib/flows.mjs';
import * as oas from '../lib/openapi.mjs';

// the wrong passwords and unknown users this file sends on purpose
watchErrorLog([/AH01617: user agent[13]: authentication failure for "\/t15\/api\/v2\/[^"]*": Password Mismatch/,
  /AH01618: user nobody not found: \/t15\/api\/v2\/me$/]);
const cc = 't15';
const specFile = path.join(env.top, 'docs/openapi.yaml');
const doc = oas.loadSpec(specFile);
const validator = oas.schemaValidator(doc);
let ccId;

before(async () => { ccId = await freshContactCenter(cc); });

// ------------------------------------------------------------------ checking one answer

const covered = new Set();          // "METHOD template status" seen from the server
const operationsSeen = new Set();   // operationName values the server accepted
const key = (method, template, status) => `${method.toUpperCase()} ${template} ${status}`;

function fillPath(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (_, name) => {
    assert.ok(name in params, `no value for {${name}} of ${template}`);
    return encodeURIComponent(params[name]);
  });
}

/** Validate @value against @schema of the document, failing with Ajv's explanation. */
function assertSchema(schema, value, what) {
  const validate = validator(schema);
  assert.ok(validate(value), `${what}:\n${oas.explain(validate.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
}

/**
 * Call the server and hold the answer against the document:
 *   call(user, 'POST', '/me/interactions/{id}', 200, {params, body, query, headers, ...})
 * @status is the documented status expected; `requestValid` (true/false) says whether the
 * document's request schema must accept or refuse the body sent.  Returns the response.
 */
async function call(user, method, template, status, opts = {}) {
  const { params, query = '', body, headers, requestValid, password, port, url, ccName = cc } = opts;
  const p = fillPath(template, params) + (query ? `?${query}` : '');
  const res = await api(user, method, url ? url + p : p, { cc: ccName, body, headers, password, port });
  const what = `${method} ${p} as ${user}`;
  assert.equal(res.status, status, `${what}: expected ${status}, got ${res.status} ${res.text}`);
  const resp = oas.documentedResponse(doc, method, template, status);
  assert.ok(resp, `${key(method, template, status)} is not documented (${res.text})`);
  checkAgainst(resp, res, what);
  covered.add(key(method, template, status));
  if (requestValid !== undefined) {
    const schema = oas.requestSchema(doc, method, template);
    assert.ok(schema, `${method} ${template} documents no request body`);
    const ok = validator(schema)(body);
    assert.equal(ok, requestValid, `${what}: the documented request schema ${requestValid ? 'refuses' : 'accepts'} ${JSON.stringify(body)}`);
  }
  return res;
}

/** An answer against a documented Response Object: content type, headers, body. */
function checkAgainst(resp, res, what) {
  const ctype = (res.headers.get('content-type') || '').split(';')[0].trim();
  const media = resp.content?.[ctype];
  assert.ok(media, `${what}: content type ${ctype} is not documented (${Object.keys(resp.content || {})})`);
  for (const [name, h] of Object.entries(resp.headers || {})) {
    const hd = oas.deref(doc, h);
    const value = res.headers.get(name);
    if (hd.required) assert.ok(value !== null, `${what}: header ${name} is missing`);
    if (value !== null) {
      const schema = oas.deref(doc, hd.schema);
      assertSchema(hd.schema, schema.type === 'integer' ? Number(value) : value, `${what}: header ${name}`);
    }
  }
  if (res.headers.get('content-length') === '0' && res.text === '') return;   // HEAD
  const body = ctype === 'application/json' ? res.json : res.text;
  assert.notEqual(body, undefined, `${what}: the body is not ${ctype}: ${res.text.slice(0, 200)}`);
  assertSchema(media.schema, body, `${what}: body`);
}

const big = JSON.stringify({ mediaType: 'email', queueName: 'support', body: 'x'.repeat(70000) });
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };

/** 401 (no credentials, wrong password), 413 and 415 of a write, in one go. */
async function commonWriteErrors(method, template, params, body) {
  await call(null, method, template, 401, { params, body });
  await call('agent1', method, template, 401, { params, body, password: 'wrong' });
  await call('agent1', method, template, 413, { params, body: big });
  await call('agent1', method, template, 415, { params, body: 'operationName=Accept', headers: form });
}

/** The same with @user's password wrong: a user is locked out after ten failed logins. */
async function writeErrorsAs(user, method, template, params, body) {
  await call(null, method, template, 401, { params, body });
  await call(user, method, template, 401, { params, body, password: 'wrong' });
  await call(user, method, template, 413, { params, body: big });
  await call(user, method, template, 415, { params, body: 'operationName=Accept', headers: form });
}

// ------------------------------------------------------------------ the document itself

test('the document is OpenAPI 3.1 by its meta-schema', async () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.deepEqual(await oas.metaSchemaErrors(doc), []);
});

test('the document names its schema dialect and a contact, links absolutely, and describes every operation', () => {
  // without the dialect, validators may read the schemas as an older JSON Schema and skip
  // unevaluatedProperties
  assert.equal(doc.jsonSchemaDialect, 'https://spec.openapis.org/oas/3.1/dialect/base');
  assert.ok(doc.info.contact?.name && (doc.info.contact.email || doc.info.contact.url), 'info.contact');
  const docsLinks = [doc.externalDocs, ...(doc.tags || []).map((t) => t.externalDocs)].filter(Boolean);
  assert.ok(docsLinks.length > 0);
  for (const ed of docsLinks) assert.match(ed.url, /^https:\/\/[^/]+\//, `externalDocs.url ${ed.url} is not absolute`);
  for (const { path: p, method, op } of oas.operations(doc)) {
    assert.ok(op.summary?.trim() && op.description?.trim(), `${method.toUpperCase()} ${p} lacks a summary or description`);
  }
});

test('scripts/check-openapi passes the document and refuses a broken copy', () => {
  const check = (top) => spawnSync(path.join(env.top, 'scripts/check-openapi'), top ? [top] : [], { encoding: 'utf8' });
  const clean = check();
  assert.equal(clean.status, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /redocly lint.*clean[\s\S]*spectral lint.*clean/);
  // a copy of what the check reads, with one operation's description gone and a relative link:
  // both linters must name what is wrong
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'mi-openapi-'));
  try {
    fs.mkdirSync(path.join(scratch, 'docs'));
    for (const f of ['redocly.yaml', '.redocly.lint-ignore.yaml', '.spectral.yaml']) {
      fs.copyFileSync(path.join(env.top, f), path.join(scratch, f));
    }
    const text = fs.readFileSync(specFile, 'utf8');
    const broken = text
      .replace(/(\n      operationId: getMe\n(?:      .*\n)*?)      description: [^\n]*\n(?:        .*\n)*/, '$1')
      .replace(/(\nexternalDocs:\n  description: .*\n  url: ).*/, '$1api.md');
    assert.notEqual(broken, text);
    assert.ok(!oas.loadSpecText(broken).paths['/me'].get.description, 'the edit removed the description');
    fs.writeFileSync(path.join(scratch, 'docs/openapi.yaml'), broken);
    const res = check(scratch);
    assert.equal(res.status, 1, res.stdout + res.stderr);
    const [redocly, spectral] = res.stderr.split('redocly lint found problems');
    assert.match(redocly, /operation-description/);
    assert.match(spectral, /operation-description/);
    assert.match(spectral, /oas3-schema.*url/);
    assert.match(spectral, /spectral lint found problems/);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
});

test('every $ref resolves, and every operation answers, has an id and declares its path parameters', () => {
  const refs = oas.allRefs(doc);
  assert.ok(refs.length > 100);
  const broken = refs.filter((r) => oas.resolvePointer(doc, r.ref) === undefined);
  assert.deepEqual(broken, [], 'unresolved $refs');
  const ids = new Set();
  for (const { path: p, method, op, pathItem } of oas.operations(doc)) {
    const where = `${method.toUpperCase()} ${p}`;
    assert.ok(op.responses && Object.keys(op.responses).length > 0, `${where} has no responses`);
    assert.ok(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), `${where} has no success response`);
    assert.ok(op.operationId && !ids.has(op.operationId), `${where}: operationId missing or repeated`);
    ids.add(op.operationId);
    const declared = [...(pathItem.parameters || []), ...(op.parameters || [])]
      .map((x) => oas.deref(doc, x)).filter((x) => x.in === 'path').map((x) => x.name).sort();
    const inTemplate = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    assert.deepEqual(declared, inTemplate, `${where}: path parameters`);
    for (const [status, r] of Object.entries(op.responses)) {
      assert.ok(oas.deref(doc, r).description, `${where} ${status} has no description`);
    }
  }
});

test('every example satisfies its schema, and every request and response has one', () => {
  let checked = 0;
  for (const site of oas.exampleSites(doc)) {
    if (site.kind === 'request' || site.kind === 'response') {
      assert.ok(site.schema, `${site.where} has no schema`);
      assert.ok(site.examples.length > 0, `${site.where} has no example`);
    }
    for (const ex of site.examples) {
      assertSchema(site.schema, ex.value, `${site.where} example ${ex.name}`);
      checked++;
    }
  }
  // the example interactions that the examples reuse (YAML aliases) are interactions
  const interactions = Object.entries(doc['x-example-interactions']);
  assert.ok(interactions.length >= 8, 'x-example-interactions');
  for (const [name, ex] of interactions) {
    assertSchema({ $ref: '#/components/schemas/Interaction' }, ex.value, `#/x-example-interactions/${name}`);
    checked++;
  }
  // every operationName has a request example of its own (other names of one too)
  const opExamples = oas.examplesOf(doc, doc.paths['/me/interactions/{id}'].post.requestBody.content['application/json']);
  assert.deepEqual(new Set(opExamples.map((e) => e.value.operationName)),
    new Set([...doc.components.schemas.OperationName.enum, ...operationAliases()]));
  assert.ok(checked > 150, `only ${checked} examples`);
});

test('the checker fails on a wrong schema and on a wrong example', async () => {
  // a real answer that passes the document ...
  const me = await api('agent1', 'GET', '/me', { cc });
  assert.ok(validator({ $ref: '#/components/schemas/MeResponse' })(me.json));
  // ... fails a document that says userName is an integer, or that forgets channels
  const wrong = structuredClone(doc);
  wrong.components.schemas.User.properties.userName = { type: 'integer' };
  assert.equal(oas.schemaValidator(wrong)({ $ref: '#/components/schemas/MeResponse' })(me.json), false);
  const strict = structuredClone(doc);
  delete strict.components.schemas.User.properties.channels;
  assert.equal(oas.schemaValidator(strict)({ $ref: '#/components/schemas/MeResponse' })(me.json), false);
  // an example whose statusCode is wrong is refused by its schema
  const bad = structuredClone(doc);
  bad.paths['/me/workbins'].get.responses['200'].content['application/json'].examples.workbins.value.statusCode = 1;
  const site = oas.exampleSites(bad).find((s) => s.where === 'GET /me/workbins 200 application/json');
  assert.equal(oas.schemaValidator(bad)(site.schema)(site.examples[0].value), false);
  // a misspelt keyword is an error, not a silent no-op
  const typo = structuredClone(doc);
  typo.components.schemas.User.requried = ['id'];
  assert.throws(() => oas.schemaValidator(typo)({ $ref: '#/components/schemas/User' }), /unknown keyword/);
  // a broken $ref is found
  const dangling = structuredClone(doc);
  dangling.paths['/me'].get.responses['401'] = { $ref: '#/components/responses/Unauthorised' };
  assert.ok(oas.allRefs(dangling).some((r) => oas.resolvePointer(dangling, r.ref) === undefined));
});

// ------------------------------------------------------------------ the reverse: the server's routes

test('every route the server answers is documented, with the methods of mi_route.c', () => {
  const header = fs.readFileSync(path.join(env.top, 'mod_interactions/mi_route.h'), 'utf8');
  const source = fs.readFileSync(path.join(env.top, 'mod_interactions/mi_route.c'), 'utf8');
  const fromHeader = new Map();   // MI_R_X -> {methods, path}
  for (const m of header.matchAll(/(MI_R_\w+),?\s*\/\*\s*([A-Z, ]+?)\s+(\/\S*)\s/g)) {
    fromHeader.set(m[1], { methods: m[2].split(/,\s*/).sort(), path: m[3] });
  }
  const allows = new Map();
  for (const m of source.matchAll(/found\(out, (MI_R_\w+), [^,]+, "([A-Z, ]+)"/g)) {
    allows.set(m[1], m[2].split(/,\s*/).sort());
  }
  assert.ok(allows.size >= 9, 'routes found in mi_route.c');
  const norm = (p) => p.replace(/\{\w+\}/g, '{}');
  const documented = new Map(Object.entries(doc.paths).map(([p, item]) =>
    [norm(p), oas.METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).sort()]));
  for (const [route, methods] of allows) {
    const h = fromHeader.get(route);
    assert.ok(h, `${route} has no comment in mi_route.h`);
    assert.deepEqual(h.methods, methods, `${route}: mi_route.h and mi_route.c disagree`);
    // "/notifications[/...]" is the channel and everything below it
    const paths = h.path === '/notifications[/...]' ? ['/notifications', '/notifications/{}'] : [norm(h.path)];
    for (const p of paths) {
      assert.deepEqual(documented.get(p), methods, `${methods} ${p} (${route}) is not documented as such`);
    }
  }
  const routed = new Set([...fromHeader.values()].flatMap((h) =>
    h.path === '/notifications[/...]' ? ['/notifications', '/notifications/{}'] : [norm(h.path)]));
  assert.deepEqual([...documented.keys()].filter((p) => !routed.has(p)), [], 'documented paths the server does not route');
});

test('the operation names and states the server knows are the documented ones', () => {
  const source = fs.readFileSync(path.join(env.top, 'mod_interactions/mi_validate.c'), 'utf8');
  // the rows of the table of operations (mi_ops.h) that are operationNames
  const table = fs.readFileSync(path.join(env.top, 'mod_interactions/mi_ops.h'), 'utf8');
  const ops = [...table.matchAll(/X\(\w+,[\s\\]*"(\w+)",[\s\\]*(?:"\w+"|NULL),[\s\\]*([^,]*),/g)]
    .filter((m) => m[2].includes('MI_OPF_NAMED')).map((m) => m[1]);
  assert.ok(ops.length >= 15, 'operationNames found in mi_ops.h');
  assert.deepEqual(new Set(ops), new Set(doc.components.schemas.OperationName.enum));
  const names = doc.components.schemas.OperationRequest.oneOf
    .map((r) => oas.deref(doc, r).properties.operationName).flatMap((n) => n.enum || [n.const]);
  assert.deepEqual(new Set(names), new Set([...ops, ...operationAliases()]));
  // an operation's other names (MI_OP_ALIASES) are documented with its request
  for (const m of table.matchAll(/X\("(\w+)",\s*(\w+)\)/g)) {
    const row = [...table.matchAll(/X\((\w+),[\s\\]*"(\w+)"/g)].find((r) => r[1] === m[2]);
    const schema = oas.deref(doc, { $ref: doc.components.schemas.OperationRequest.discriminator.mapping[m[1]] });
    assert.ok(schema.properties.operationName.enum.includes(row[2]), `${m[1]} is documented as ${row[2]}`);
  }
  const states = source.match(/states\[\] = \{([^}]*)\}/)[1].match(/"(\w+)"/g).map((s) => s.slice(1, -1));
  assert.deepEqual(new Set(states), new Set(doc.components.schemas.InteractionState.enum));
});

/** The other names of operations (MI_OP_ALIASES in mi_ops.h). */
function operationAliases() {
  const table = fs.readFileSync(path.join(env.top, 'mod_interactions/mi_ops.h'), 'utf8');
  const block = table.slice(table.indexOf('#define MI_OP_ALIASES(X)'));
  return [...block.slice(0, block.indexOf('\n\n')).matchAll(/X\("(\w+)",/g)].map((m) => m[1]);
}

const sampleParams = {
  id: '00000000-0000-4000-8000-000000000000', media: 'email', name: 'drafts', messageType: 'connect',
  userName: 'agent1',
};

test('every other method of a documented path answers 405 with the documented Allow', async () => {
  const resp = doc['x-method-not-allowed'];
  for (const [template, item] of Object.entries(doc.paths)) {
    const documented = oas.METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
    for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      if (documented.includes(method)) continue;
      const p = fillPath(template, sampleParams);
      const res = await api('agent1', method, p, { cc, body: method === 'GET' || method === 'OPTIONS' ? undefined : {} });
      assert.equal(res.status, 405, `${method} ${p}: ${res.status} ${res.text}`);
      checkAgainst(resp, res, `${method} ${p}`);
      assert.deepEqual(res.headers.get('allow').split(/,\s*/).sort(), [...documented].sort(), `Allow of ${template}`);
    }
    if (documented.includes('GET')) {   // HEAD is GET without the body
      const p = fillPath(template, sampleParams);
      const get = await api('agent1', 'GET', p + (template.startsWith('/notifications') ? '?jsonp=cb&message=%5B%5D' : ''), { cc });
      const head = await api('agent1', 'HEAD', p + (template.startsWith('/notifications') ? '?jsonp=cb&message=%5B%5D' : ''), { cc });
      assert.equal(head.status, get.status, `HEAD ${p}`);
      assert.equal(head.text, '');
    }
  }
});

test('unknown paths answer 404 as documented', async () => {
  // an encoded slash or NUL is refused by httpd itself, before it reads the <Location>s
  for (const p of ['/', '/nothing', '/me/x', '/me/channels', '/me/interactions/a/b', '/interactions/a/b', '/users',
    '/me/workbins/a%2Fb', '/interactions/%00', '/me/interactions/x%2F..%2Fy']) {
    const res = await api('agent1', 'GET', p, { cc });
    assert.equal(res.status, 404, `${p}: ${res.text}`);
    checkAgainst(doc.components.responses.NotFound, res, `GET ${p}`);
  }
});

test('a request httpd itself cannot read gets the 400 envelope inside an API location', async () => {
  // a header line without a colon: refused while httpd reads the request, before the
  // <Location>s are merged (fetch cannot send it, so a raw socket does)
  const raw = await new Promise((resolve, reject) => {
    const sock = net.connect(env.port, '127.0.0.1', () => {
      sock.end(`GET ${basePath(cc)}/me HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n`);
    });
    let text = '';
    sock.on('data', (d) => { text += d; });
    sock.on('end', () => resolve(text));
    sock.on('error', reject);
  });
  const [head, body] = raw.split('\r\n\r\n');
  assert.match(head, /^HTTP\/1\.1 400 /);
  assert.match(head, /\r\nContent-Type: application\/json(\r\n|$)/i);
  assertSchema(oas.deref(doc, doc.components.responses.BadRequest).content['application/json'].schema,
    JSON.parse(body), 'the 400 of an unreadable request');
});

// ------------------------------------------------------------------ every path and status, for real

test('GET /me', async () => {
  const r = await call('agent1', 'GET', '/me', 200);
  assert.equal(r.json.user.userName, 'agent1');
  const s = await call('supervisor', 'GET', '/me', 200);
  assert.deepEqual(s.json.user.channels, []);
  await call(null, 'GET', '/me', 401);
  await call('agent1', 'GET', '/me', 401, { password: 'wrong' });
  await call('nobody', 'GET', '/me', 401);
});

test('POST /me/channels/{media}', async () => {
  const t = '/me/channels/{media}';
  const ready = await call('agent4', 'POST', t, 200, { params: { media: 'email' }, body: { operationName: 'Ready' }, requestValid: true });
  assert.equal(ready.json.user.channels.find((c) => c.channel === 'email').userState.state, 'Ready');
  const chat = await call('agent4', 'POST', t, 200, { params: { media: 'chat' }, body: { operationName: 'NotReady' }, requestValid: true });
  assert.equal(chat.json.user.channels.find((c) => c.channel === 'chat').userState.state, 'NotReady');
  await call('agent4', 'POST', t, 200, { params: { media: 'email' }, body: { operationName: 'NotReady' }, requestValid: true });
  await call('agent4', 'POST', t, 400, { params: { media: 'email' }, body: {}, requestValid: false });
  await call('agent4', 'POST', t, 400, { params: { media: 'email' }, body: { operationName: 'Away' }, requestValid: false });
  await call('agent4', 'POST', t, 400, { params: { media: 'e mail' }, body: { operationName: 'Ready' } });
  await call('supervisor', 'POST', t, 403, { params: { media: 'email' }, body: { operationName: 'Ready' }, requestValid: true });
  await commonWriteErrors('POST', t, { media: 'email' }, { operationName: 'Ready' });
  // the agent's day: a reason, wrap-up chosen, and Do Not Disturb holding the channel
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  const lunch = await call('agent4', 'POST', t, 200, { params: { media: 'email' }, body: { operationName: 'NotReady', reason: 'Lunch' }, requestValid: true });
  assert.equal(lunch.json.user.channels.find((c) => c.channel === 'email').userState.displayName, 'Out to lunch');
  await call('agent4', 'POST', t, 200, { params: { media: 'email' }, body: { operationName: 'AfterCallWork' }, requestValid: true });
  await call('agent4', 'POST', t, 400, { params: { media: 'email' }, body: { operationName: 'NotReady', reason: 'Nap' }, requestValid: true });
  await call('agent4', 'POST', '/me', 200, { body: { operationName: 'DoNotDisturbOn' }, requestValid: true });
  await call('agent4', 'POST', t, 409, { params: { media: 'email' }, body: { operationName: 'Ready' }, requestValid: true });
  await call('agent4', 'POST', '/me', 200, { body: { operationName: 'DoNotDisturbOff' }, requestValid: true });
});

test('POST /me', async () => {
  const t = '/me';
  const start = await call('agent3', 'POST', t, 200, { body: { operationName: 'StartContactCenterSession', channels: ['email', 'chat'] }, requestValid: true });
  assert.deepEqual(start.json.user.channels.map((c) => c.userState.state), ['NotReady', 'NotReady']);
  await call('agent3', 'POST', t, 200, { body: { operationName: 'DoNotDisturbOn' }, requestValid: true });
  await call('agent3', 'POST', t, 200, { body: { operationName: 'DoNotDisturbOff' }, requestValid: true });
  await call('agent3', 'POST', t, 200, { body: { operationName: 'EndContactCenterSession' }, requestValid: true });
  // channels is required with StartContactCenterSession only: the schema cannot say so alone
  await call('agent3', 'POST', t, 400, { body: { operationName: 'StartContactCenterSession' }, requestValid: true });
  await call('agent3', 'POST', t, 400, { body: { operationName: 'Ready' }, requestValid: false });
  await call('admin', 'POST', t, 403, { body: { operationName: 'DoNotDisturbOn' }, requestValid: true });
  // ending the session while working on an interaction
  await freshContactCenter(cc);
  await call('agent3', 'POST', '/me/channels/{media}', 200, { params: { media: 'email' }, body: { operationName: 'Ready' } });
  const id = (await call('feeder', 'POST', '/interactions', 200, { body: { mediaType: 'email', queueName: 'sales', subject: 'x' } })).json.id;
  await call('agent3', 'POST', '/me/interactions/{id}', 200, { params: { id }, body: { operationName: 'Accept' } });
  await call('agent3', 'POST', t, 409, { body: { operationName: 'EndContactCenterSession' }, requestValid: true });
  // as commonWriteErrors, with agent3's password wrong (agent1's failures are counted there)
  await call(null, 'POST', t, 401, { body: { operationName: 'DoNotDisturbOn' } });
  await call('agent3', 'POST', t, 401, { body: { operationName: 'DoNotDisturbOn' }, password: 'wrong' });
  await call('agent3', 'POST', t, 413, { body: big });
  await call('agent3', 'POST', t, 415, { body: 'operationName=DoNotDisturbOn', headers: form });
});

test('GET and POST /interactions', async () => {
  await freshContactCenter(cc);
  const body = { mediaType: 'email', queueName: 'sales', subject: 'Order 42', from: 'c@example.com',
    to: 'support@example.com', cc: ['boss@example.com'], body: 'Where is my parcel?', priority: 5,
    userData: { orderId: 42 }, externalId: 'openapi-1' };
  const created = await call('feeder', 'POST', '/interactions', 200, { body, requestValid: true });
  assert.equal(created.json.created, true);
  const again = await call('admin', 'POST', '/interactions', 200, { body, requestValid: true });
  assert.deepEqual([again.json.id, again.json.created], [created.json.id, false]);
  await call('feeder', 'POST', '/interactions', 200, { body: { mediaType: 'chat', queueName: 'sales' }, requestValid: true });
  await call('feeder', 'POST', '/interactions', 400, { body: { mediaType: 'email' }, requestValid: false });
  await call('feeder', 'POST', '/interactions', 400, { body: { mediaType: 'email', queueName: 'sales', colour: 'red' }, requestValid: false });
  await call('feeder', 'POST', '/interactions', 400, { body: { mediaType: 'email', queueName: 'sales', priority: 'high' }, requestValid: false });
  await call('feeder', 'POST', '/interactions', 400, { body: { mediaType: 'email', queueName: 'nosuchqueue' }, requestValid: true });
  await call('feeder', 'POST', '/interactions', 400, { body: '{"mediaType":' });
  await call('agent1', 'POST', '/interactions', 403, { body, requestValid: true });
  await call('supervisor', 'POST', '/interactions', 403, { body, requestValid: true });
  await commonWriteErrors('POST', '/interactions', {}, body);

  const uris = await call('agent1', 'GET', '/interactions', 200);
  assert.equal(uris.json.uris.length, 2);
  const all = await call('supervisor', 'GET', '/interactions', 200, { query: 'fields=*' });
  assert.equal(all.json.interactions.length, 2);
  const page = await call('feeder', 'GET', '/interactions', 200, { query: 'fields=*&state=Queued&queue=sales&limit=1&offset=1' });
  assert.deepEqual([page.json.interactions.length, page.json.totalCount, page.json.limit, page.json.offset], [1, 2, 1, 1]);
  await call('admin', 'GET', '/interactions', 200, { query: 'state=Completed' });
  await call('admin', 'GET', '/interactions', 400, { query: 'limit=0' });
  await call('admin', 'GET', '/interactions', 400, { query: 'fields=id' });
  await call('admin', 'GET', '/interactions', 400, { query: 'state=Lost' });
  await call(null, 'GET', '/interactions', 401);
});

test('GET and PUT /interactions/{id}', async () => {
  await freshContactCenter(cc);
  const t = '/interactions/{id}';
  const id = await ownedBy(cc, ccId, 'agent1', { cc: ['boss@example.com'], body: 'Where is my parcel?' });
  const got = await call('agent1', 'GET', t, 200, { params: { id } });
  assert.deepEqual([got.json.interaction.state, got.json.interaction.body, got.json.interaction.cc],
    ['Processing', 'Where is my parcel?', ['boss@example.com']]);
  await call('admin', 'GET', t, 200, { params: { id } });
  await call('feeder', 'GET', t, 200, { params: { id } });
  await call('agent2', 'GET', t, 403, { params: { id } });
  await call('agent1', 'GET', t, 404, { params: { id: '00000000-0000-4000-8000-000000000000' } });
  await call('agent1', 'GET', t, 404, { params: { id: 'not-an-id' } });
  await call(null, 'GET', t, 401, { params: { id } });

  const put = await call('agent1', 'PUT', t, 200, { params: { id }, body: { userData: { note: 'called back' } }, requestValid: true });
  assert.deepEqual(put.json.interaction.userData, { note: 'called back' });
  await call('admin', 'PUT', t, 200, { params: { id }, body: { userData: { note: 'by admin' } }, requestValid: true });
  await call('agent1', 'PUT', t, 400, { params: { id }, body: { state: 'Completed' }, requestValid: false });
  await call('agent1', 'PUT', t, 400, { params: { id }, body: {}, requestValid: false });
  await call('agent1', 'PUT', t, 400, { params: { id }, body: { subject: 'not a draft' }, requestValid: true });
  await call('agent2', 'PUT', t, 403, { params: { id }, body: { userData: {} }, requestValid: true });
  await call('supervisor', 'PUT', t, 403, { params: { id }, body: { userData: {} }, requestValid: true });
  await call('agent1', 'PUT', t, 404, { params: { id: '00000000-0000-4000-8000-000000000000' }, body: { userData: {} }, requestValid: true });
  const draft = (await opOk(cc, 'agent1', id, 'Reply')).interaction.id;
  const edited = await call('agent1', 'PUT', t, 200, { params: { id: draft },
    body: { subject: 'Re: shipped', to: ['c@example.com'], cc: [], body: 'It left today.' }, requestValid: true });
  assert.deepEqual([edited.json.interaction.subject, edited.json.interaction.body], ['Re: shipped', 'It left today.']);
  await opOk(cc, 'agent1', id, 'Complete');
  await call('admin', 'PUT', t, 409, { params: { id }, body: { userData: { late: true } }, requestValid: true });
  assert.equal((await row(ccId, id)).state, 'Completed');
  await commonWriteErrors('PUT', t, { id }, { userData: {} });
});

test('POST /interactions/{id}: a supervisor moves an interaction', async () => {
  await freshContactCenter(cc);
  const t = '/interactions/{id}';
  const done = await ownedBy(cc, ccId, 'agent1');
  await opOk(cc, 'agent1', done, 'Complete');
  const id = await ownedBy(cc, ccId, 'agent1');
  const moved = await call('supervisor', 'POST', t, 200, { params: { id }, body: { operationName: 'PlaceInQueue', queueName: 'sales' }, requestValid: true });
  assert.equal(moved.json.interaction.state, 'Queued');
  await call('admin', 'POST', t, 200, { params: { id }, body: { operationName: 'Transfer', userId: 'agent2' }, requestValid: true });
  await call('supervisor', 'POST', t, 200, { params: { id }, body: { operationName: 'PlaceInWorkbin', workbin: 'team' }, requestValid: true });
  await call('supervisor', 'POST', t, 200, { params: { id }, body: { operationName: 'Transfer', queueName: 'support' }, requestValid: true });
  await call('supervisor', 'POST', t, 400, { params: { id }, body: { operationName: 'Complete' }, requestValid: false });
  await call('supervisor', 'POST', t, 400, { params: { id }, body: { operationName: 'PlaceInQueue', queueName: 'nowhere' }, requestValid: true });
  await call('agent1', 'POST', t, 403, { params: { id }, body: { operationName: 'PlaceInQueue', queueName: 'sales' }, requestValid: true });
  await call('supervisor', 'POST', t, 404, { params: { id: '00000000-0000-4000-8000-000000000000' }, body: { operationName: 'PlaceInQueue', queueName: 'sales' }, requestValid: true });
  await call('supervisor', 'POST', t, 409, { params: { id: done }, body: { operationName: 'PlaceInQueue', queueName: 'sales' }, requestValid: true });
  // as commonWriteErrors, with agent3's password wrong (agent1's failures are counted there)
  await writeErrorsAs('agent3', 'POST', t, { id }, { operationName: 'PlaceInQueue', queueName: 'sales' });
});

test('GET /agents and POST /agents/{userName}/channels/{media}', async () => {
  await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  await call('agent1', 'POST', '/me/channels/{media}', 200, { params: { media: 'email' }, body: { operationName: 'Ready' } });
  const list = await call('supervisor', 'GET', '/agents', 200, {});
  assert.ok(list.json.agents.some((a) => a.userName === 'agent1'));
  await call('admin', 'GET', '/agents', 200, { query: 'state=Ready&media=email&queue=support&limit=10&offset=0' });
  await call('supervisor', 'GET', '/agents', 400, { query: 'state=Busy' });
  await call('agent1', 'GET', '/agents', 403, {});
  await call(null, 'GET', '/agents', 401, {});
  const t = '/agents/{userName}/channels/{media}';
  const forced = await call('supervisor', 'POST', t, 200, { params: { userName: 'agent1', media: 'email' },
    body: { operationName: 'NotReady', reason: 'Lunch' }, requestValid: true });
  assert.equal(forced.json.agent.channels[0].userState.reason, 'Lunch');
  await call('admin', 'POST', t, 200, { params: { userName: 'agent1', media: 'email' }, body: { operationName: 'Ready' }, requestValid: true });
  await call('supervisor', 'POST', t, 400, { params: { userName: 'agent1', media: 'email' }, body: { operationName: 'Away' }, requestValid: false });
  await call('agent2', 'POST', t, 403, { params: { userName: 'agent1', media: 'email' }, body: { operationName: 'Ready' }, requestValid: true });
  await call('supervisor', 'POST', t, 404, { params: { userName: 'nobody', media: 'email' }, body: { operationName: 'Ready' }, requestValid: true });
  await call('supervisor', 'POST', t, 409, { params: { userName: 'agent1', media: 'chat' }, body: { operationName: 'Ready' }, requestValid: true });
  await writeErrorsAs('agent3', 'POST', t, { userName: 'agent1', media: 'email' }, { operationName: 'Ready' });
});

test('GET and POST /me/interactions', async () => {
  await freshContactCenter(cc);
  const id = await invitedTo(cc, ccId, 'agent1');
  const uris = await call('agent1', 'GET', '/me/interactions', 200);
  assert.deepEqual(uris.json.uris.map((u) => u.split('/').pop()), [id]);
  const full = await call('agent1', 'GET', '/me/interactions', 200, { query: 'fields=*&limit=10' });
  assert.deepEqual(full.json.interactions.map((i) => [i.id, i.state, i.capabilities]), [[id, 'Invited', ['Accept', 'Reject']]]);
  await call('agent1', 'GET', '/me/interactions', 400, { query: 'fields=state' });
  await call('admin', 'GET', '/me/interactions', 403);
  await call(null, 'GET', '/me/interactions', 401);

  const t = '/me/interactions';
  const wb = await call('agent1', 'POST', t, 200, { body: { operationName: 'GetWorkbinContent', workbin: 'team' }, requestValid: true });
  assert.deepEqual(wb.json.workbin, { name: 'team', type: 'shared', interactions: [], count: 0 });
  operationsSeen.add('GetWorkbinContent');
  await call('agent1', 'POST', t, 400, { body: { operationName: 'GetWorkbinContent' }, requestValid: false });
  await call('agent1', 'POST', t, 400, { body: { operationName: 'Accept' }, requestValid: false });
  await call('agent1', 'POST', t, 400, { body: { operationName: 'GetWorkbinContent', workbin: 'nosuch' }, requestValid: true });
  await call('admin', 'POST', t, 403, { body: { operationName: 'GetWorkbinContent', workbin: 'team' }, requestValid: true });
  await commonWriteErrors('POST', t, {}, { operationName: 'GetWorkbinContent', workbin: 'team' });
});

// Every operation, from an interaction in the state it needs, as the document says it answers.
const T = '/me/interactions/{id}';
const setups = {
  invited: () => invitedTo(cc, ccId, 'agent1'),
  owned: (body) => ownedBy(cc, ccId, 'agent1', body),
  inTeam: async () => {
    const id = await ownedBy(cc, ccId, 'agent1');
    await opOk(cc, 'agent1', id, 'PlaceInWorkbin', { workbin: 'team' });
    return id;
  },
  draft: async () => {
    const id = await ownedBy(cc, ccId, 'agent1');
    return (await opOk(cc, 'agent1', id, 'Reply')).interaction.id;
  },
};
const operationCases = [
  ['invited', { operationName: 'Accept' }, (i) => i.state === 'Processing' && i.assignedTo === 'agent1'],
  ['invited', { operationName: 'Reject' }, (i) => i.state === 'Queued' && i.assignedTo === null],
  ['owned', { operationName: 'Complete' }, (i) => i.state === 'Completed'],
  ['owned', { operationName: 'Complete', queueName: 'sales' }, (i) => i.state === 'Queued' && i.queue === 'sales'],
  ['owned', { operationName: 'PlaceInQueue', queueName: 'sales' }, (i) => i.state === 'Queued' && i.queue === 'sales'],
  ['owned', { operationName: 'PlaceInWorkbin', workbin: 'drafts' }, (i) => i.state === 'InWorkbin' && i.workbin === 'drafts'],
  ['inTeam', { operationName: 'Pull' }, (i) => i.state === 'Processing' && i.workbin === null],
  ['owned', { operationName: 'Transfer', userId: 'agent2' }, (i) => i.state === 'Invited' && i.assignedTo === 'agent2' && i.capabilities.length === 0],
  ['owned', { operationName: 'Transfer', userUri: 'USERS/agent2' }, (i) => i.assignedTo === 'agent2'],
  ['owned', { operationName: 'Transfer', targetUri: 'USERS/AGENT2ID' }, (i) => i.assignedTo === 'agent2'],
  ['owned', { operationName: 'Transfer', queueName: 'sales' }, (i) => i.state === 'Queued' && i.queue === 'sales'],
  ['owned', { operationName: 'AttachUserData', userData: { caseId: 'C-7' } }, (i) => i.userData.caseId === 'C-7'],
  ['owned', { operationName: 'UpdateUserData', userData: { note: 'called', address: { city: 'Lyon' } } }, (i) => i.userData.address.city === 'Lyon'],
  ['owned', { operationName: 'DeleteUserData', keys: ['note'] }, (i) => !('note' in i.userData) && i.userData.keep === 1],
  ['owned', { operationName: 'DeleteUserData', userData: { note: '' } }, (i) => !('note' in i.userData) && i.userData.keep === 1],
  ['owned', { operationName: 'Reply' }, (i, id) => i.state === 'Composing' && i.parentId === id && i.to[0] === 'customer@example.com'],
  ['owned', { operationName: 'ReplyAll' }, (i, id) => i.state === 'Composing' && i.parentId === id],
  ['draft', { operationName: 'Cancel' }, (i) => i.state === 'Canceled'],
  ['draft', { operationName: 'Send' }, (i) => i.state === 'Sent'],
  ['owned', { operationName: 'GetWorkbinContent', workbin: 'drafts' }, (_, __, j) => j.workbin.name === 'drafts'],
];

for (const [state, body, expect] of operationCases) {
  test(`POST ${T}: ${body.operationName} ${Object.keys(body).filter((k) => k !== 'operationName').join(' ')}`, async () => {
    await freshContactCenter(cc);
    const id = await setups[state]({ userData: { note: 'x', keep: 1 } });
    const agent2 = await userId(cc, 'agent2');
    const sent = JSON.parse(JSON.stringify(body)
      .replace('USERS/', `${env.base}${basePath(cc)}/users/`).replace('AGENT2ID', agent2));
    const res = await call('agent1', 'POST', T, 200, { params: { id }, body: sent, requestValid: true });
    const i = res.json.interaction;
    assert.ok(expect(i, id, res.json), `${body.operationName}: ${res.text}`);
    if (i) assert.equal((await row(ccId, i.id)).state, i.state, 'the database agrees with the answer');
    operationsSeen.add(body.operationName);
  });
}

test(`POST ${T}: refusals`, async () => {
  await freshContactCenter(cc);
  const id = await ownedBy(cc, ccId, 'agent1', { userData: { orderId: 42 } });
  const params = { id };
  await call('agent1', 'POST', T, 409, { params, body: { operationName: 'Accept' }, requestValid: true });
  await call('agent1', 'POST', T, 409, { params, body: { operationName: 'AttachUserData', userData: { orderId: 43 } }, requestValid: true });
  await call('agent2', 'POST', T, 403, { params, body: { operationName: 'Complete' }, requestValid: true });
  await call('agent1', 'POST', T, 404, { params: { id: '00000000-0000-4000-8000-000000000000' }, body: { operationName: 'Accept' }, requestValid: true });
  await call('agent1', 'POST', T, 404, { params: { id: 'nope' }, body: { operationName: 'Accept' }, requestValid: true });
  await call('agent1', 'POST', T, 400, { params, body: {}, requestValid: false });
  await call('agent1', 'POST', T, 400, { params, body: { operationName: 'Dance' }, requestValid: false });
  await call('agent1', 'POST', T, 400, { params, body: { operationName: 'PlaceInQueue' }, requestValid: false });
  await call('agent1', 'POST', T, 400, { params, body: { operationName: 'Transfer', userId: 'agent2', queueName: 'sales' }, requestValid: false });
  await call('agent1', 'POST', T, 400, { params, body: { operationName: 'DeleteUserData', keys: [] }, requestValid: false });
  await call('agent1', 'POST', T, 400, { params, body: { operationName: 'Accept', extra: 1 }, requestValid: false });
  await call('agent1', 'POST', T, 400, { params, body: { operationName: 'PlaceInQueue', queueName: 'nosuchqueue' }, requestValid: true });
  await call('admin', 'POST', T, 403, { params, body: { operationName: 'Complete' }, requestValid: true });
  await commonWriteErrors('POST', T, params, { operationName: 'Complete' });
  assert.equal((await row(ccId, id)).state, 'Processing', 'no refusal changed anything');
});

test('every operationName was run successfully against the server', () => {
  assert.deepEqual([...operationsSeen].sort(), [...doc.components.schemas.OperationName.enum].sort());
});

test('GET /me/workbins and /me/workbins/{name}', async () => {
  await freshContactCenter(cc);
  const id = await ownedBy(cc, ccId, 'agent1');
  await opOk(cc, 'agent1', id, 'PlaceInWorkbin', { workbin: 'drafts' });
  const list = await call('agent1', 'GET', '/me/workbins', 200);
  assert.deepEqual(list.json.workbins, [{ name: 'drafts', type: 'personal', count: 1 }, { name: 'team', type: 'shared', count: 0 }]);
  await call('supervisor', 'GET', '/me/workbins', 403);
  await call(null, 'GET', '/me/workbins', 401);
  const t = '/me/workbins/{name}';
  const drafts = await call('agent1', 'GET', t, 200, { params: { name: 'drafts' } });
  assert.deepEqual(drafts.json.workbin.interactions.map((i) => [i.id, i.state, i.capabilities]), [[id, 'InWorkbin', ['Pull']]]);
  const theirs = await call('agent2', 'GET', t, 200, { params: { name: 'drafts' } });
  assert.deepEqual(theirs.json.workbin.interactions, [], "agent2's own drafts");
  await call('agent1', 'GET', t, 200, { params: { name: 'team' } });
  await call('agent1', 'GET', t, 404, { params: { name: 'nosuch' } });
  await call('admin', 'GET', t, 403, { params: { name: 'team' } });
  await call(null, 'GET', t, 401, { params: { name: 'team' } });
});

test('GET /queues and /queues/{name}/statistics', async () => {
  await freshContactCenter(cc);
  await create(cc);
  const list = await call('supervisor', 'GET', '/queues', 200);
  assert.deepEqual(list.json.queues.map((q) => [q.name, q.waiting]), [['quick', 0], ['sales', 0], ['support', 1]]);
  await call('agent1', 'GET', '/queues', 403);
  await call(null, 'GET', '/queues', 401);
  const t = '/queues/{name}/statistics';
  const st = await call('admin', 'GET', t, 200, { params: { name: 'support' } });
  assert.equal(st.json.statistics.today.created, 1);
  await call('supervisor', 'GET', t, 404, { params: { name: 'nosuch' } });
  await call('agent1', 'GET', t, 403, { params: { name: 'support' } });
  await call(null, 'GET', t, 401, { params: { name: 'support' } });
});

// ------------------------------------------------------------------ the event feed

test('GET /events', async () => {
  await freshContactCenter(cc);
  await create(cc, { subject: 'an event' });
  const first = await call('feeder', 'GET', '/events', 200, { query: 'limit=1' });
  assert.equal(first.json.events.length, 1);
  await call('admin', 'GET', '/events', 200, { query: `after=${first.json.next}&wait=1` });
  await call('feeder', 'GET', '/events', 400, { query: 'wait=31' });
  await call('agent1', 'GET', '/events', 403);
  await call(null, 'GET', '/events', 401);
  await call('feeder', 'GET', '/events', 409, { query: 'after=999999999999' });
});

// ------------------------------------------------------------------ the push channel at the HTTP level

test('POST /notifications: a Bayeux session from handshake to disconnect, events included', async () => {
  await freshContactCenter(cc);
  const post = (template, body, status = 200, params = { messageType: 'x' }) =>
    call('agent1', 'POST', template, status, { params, body, requestValid: true });
  const hs = await post('/notifications/{messageType}', [{ channel: '/meta/handshake', id: '1', version: '1.0',
    supportedConnectionTypes: ['long-polling'] }], 200, { messageType: 'handshake' });
  const clientId = hs.json[0].clientId;
  assert.equal(hs.json[0].successful, true);
  const sub = await post('/notifications', [{ channel: '/meta/subscribe', id: '2', clientId, subscription: '/v2/me/interactions' }]);
  assert.equal(sub.json[0].successful, true);
  await post('/notifications', [{ channel: '/meta/connect', id: '3', clientId, connectionType: 'long-polling', advice: { timeout: 0 } }]);
  const id = await invitedTo(cc, ccId, 'agent1');   // an event for agent1
  const events = [];
  for (let n = 4; !events.some((m) => m.data?.interaction?.id === id && m.data.interaction.state === 'Invited'); n++) {
    assert.ok(n < 20, 'the offer arrived on the push channel');
    const c = await post('/notifications/{messageType}', [{ channel: '/meta/connect', id: String(n), clientId,
      connectionType: 'long-polling' }], 200, { messageType: 'connect' });
    events.push(...c.json.filter((m) => m.data));
  }
  const wb = await api('agent1', 'POST', '/me/interactions', { cc, body: { operationName: 'GetWorkbinContent', workbin: 'drafts' } });
  const more = [];
  for (let n = 30; !more.some((m) => m.data?.messageType === 'WorkbinContentMessage'); n++) {
    assert.ok(n < 45, 'the workbin content arrived on the push channel');
    const c = await post('/notifications', [{ channel: '/meta/connect', id: String(n), clientId, connectionType: 'long-polling' }]);
    more.push(...c.json.filter((m) => m.data));
  }
  assert.equal(more.find((m) => m.data.messageType === 'WorkbinContentMessage').data.referenceId, wb.json.referenceId);
  const bye = await post('/notifications/{messageType}', [{ channel: '/meta/disconnect', id: '50', clientId }], 200, { messageType: 'disconnect' });
  assert.equal(bye.json[0].successful, true);
  const gone = await post('/notifications', [{ channel: '/meta/connect', id: '51', clientId, connectionType: 'long-polling' }]);
  assert.match(gone.json[0].error, /^402::/);
});

test('POST /notifications: HTTP-level refusals', async () => {
  for (const t of ['/notifications', '/notifications/{messageType}']) {
    const params = { messageType: 'handshake' };
    await call('agent1', 'POST', t, 400, { params, body: [], requestValid: false });
    await call('agent1', 'POST', t, 400, { params, body: [{ id: '1' }], requestValid: false });
    await call('agent1', 'POST', t, 400, { params, body: '[{"channel":' });
    await commonWriteErrors('POST', t, params, [{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['long-polling'] }]);
  }
});

test('GET /notifications (JSONP) and OPTIONS', async () => {
  const message = encodeURIComponent(JSON.stringify([{ channel: '/meta/handshake', version: '1.0', supportedConnectionTypes: ['callback-polling'] }]));
  for (const t of ['/notifications', '/notifications/{messageType}']) {
    const params = { messageType: 'handshake' };
    const page = { 'Sec-Fetch-Site': 'same-origin' };
    const r = await call('agent1', 'GET', t, 200, { params, query: `message=${message}&jsonp=_jsonp_cb`, headers: page });
    assert.match(r.text, /^\/\*\*\/_jsonp_cb\(\[\{"channel":"\/meta\/handshake","successful":true/);
    await call('agent1', 'GET', t, 400, { params, query: `message=${message}`, headers: page });
    await call('agent1', 'GET', t, 400, { params, query: `message=${message}&jsonp=alert(1)`, headers: page });
    await call('agent1', 'GET', t, 403, { params, query: `message=${message}&jsonp=_cb`,
      headers: { 'Sec-Fetch-Site': 'cross-site', Origin: 'http://elsewhere.example' } });
    await call('agent1', 'GET', t, 403, { params, query: `message=${message}&jsonp=_cb` });
    await call(null, 'GET', t, 401, { params, query: `message=${message}&jsonp=_cb` });
    await call('agent1', 'OPTIONS', t, 200, { params });
    await call(null, 'OPTIONS', t, 401, { params });
  }
});

// ------------------------------------------------------------------ 500 and 503, from a second httpd

test('500 and 503 of every operation, from an httpd without its database and a location without a contact center', async () => {
  const extra = path.join(env.varDir, 'openapi-extra.conf');
  fs.writeFileSync(extra, `<Location /misconfigured/api/v2>\n    SetHandler interactions\n    Require all granted\n</Location>\n`);
  const deadPort = stack('free-port').trim();   // nothing listens there
  const inst = httpdInstance('httpd-openapi', { CCS: cc, DBPORT: deadPort, EXTRA: extra, NOLOC: 1 });
  inst.start();
  try {
    const misconfigured = `http://127.0.0.1:${inst.port}/misconfigured/api/v2`;
    for (const { path: template, method, op, pathItem } of oas.operations(doc)) {
      const params = {};
      const query = [];
      for (const prm of [...(pathItem.parameters || []), ...(op.parameters || [])].map((x) => oas.deref(doc, x))) {
        const ex = prm.example ?? Object.values(prm.content || {})[0]?.example;
        if (prm.in === 'path') params[prm.name] = ex;
        else if (prm.required) query.push(`${prm.name}=${encodeURIComponent(typeof ex === 'string' ? ex : JSON.stringify(ex))}`);
      }
      const body = op.requestBody
        ? oas.examplesOf(doc, Object.values(oas.deref(doc, op.requestBody).content)[0])[0].value : undefined;
      const m = method.toUpperCase();
      const opts = { params, body, query: query.join('&'), port: inst.port };
      if (op.responses['503']) await call('agent1', m, template, 503, opts);
      if (op.responses['500']) await call('agent1', m, template, 500, { ...opts, url: misconfigured });
    }
  } finally {
    inst.stop();
  }
});

// ------------------------------------------------------------------ every documented status was seen

test('every documented path, method and status was called and checked', () => {
  const missing = [];
  for (const { path: p, method, op } of oas.operations(doc)) {
    for (const status of Object.keys(op.responses)) {
      if (!covered.has(key(method, p, status))) missing.push(key(method, p, status));
    }
  }
  assert.deepEqual(missing, []);
});
