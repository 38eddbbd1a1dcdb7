// GWS clients work unchanged (CONTRACT 8.1): a replay of what the Genesys sample clients send
// (reference notes gws_api.md §1.7-1.12 and §3: the HTCC sample's login with Basic, CSRF
// header capture, GET /me?subresources=*, the CometD handshake with its topics, the e-mail
// operations with their GWS bodies, statusCode handling), and the push channel's GWS habits
// with the real CometD and Faye clients: the /v2/me/* and /v2/me/** wildcards and
// messageTypeName beside messageType.  Contact center t35.
import { test, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { api, ok, db, freshContactCenter, watchErrorLog, userId } from '../lib/harness.mjs';
import { ownedBy } from '../lib/flows.mjs';
import { cometdClient, fayeClient, about, bayeux, rawSession, rawConnect, eventually } from '../lib/push.mjs';

watchErrorLog();
const cc = 't35';
let ccId;
let open = [];
const seen = [];   // every push message any client of this file received

before(async () => { ccId = await freshContactCenter(cc); });
beforeEach(async () => {
  await freshContactCenter(cc);
  for (const a of ['agent1', 'agent2']) {
    await db.query(`SELECT interactions.set_agent_capacity($1, $2, 'email', 100)`, [cc, a]);
  }
  open = [];
});
afterEach(async () => {
  for (const c of open) await c.disconnect();
});

const ME = '/v2/me/interactions';
const isState = (id, state) => (m) => about(id)(m) && m.data.interaction.state === state;
const nonEmpty = (a) => (a.length ? a : null);   // eventually() waits on a falsy value; [] is not

async function cometd(opts) {
  const c = await cometdClient({ cc, ...opts });
  open.push(c);
  return c;
}
async function faye(opts) {
  const c = await fayeClient({ cc, ...opts });
  open.push(c);
  return c;
}

/** The GWS message rule: every push message carries messageType and messageTypeName alike. */
function gwsMessage(m) {
  seen.push(m);
  assert.equal(typeof m.data.messageType, 'string', JSON.stringify(m));
  assert.equal(m.data.messageTypeName, m.data.messageType, JSON.stringify(m));
  return m;
}

// ------------------------------------------------------------------ the HTCC sample, replayed

/**
 * The HTCC sample's HTTP client: Basic on every request, the JSESSIONID cookie and, when the
 * server hands one out on a GET, the CSRF token under the header it names (GWS 8.5.2
 * CSRFProtection); the body's statusCode decides success, 0 and 7 being success.
 */
function sampleClient(user) {
  const s = { user, cookie: 'JSESSIONID=sngukrzemiyxchpu5isbufmm', csrf: null };
  s.call = async (method, p, body) => {
    const headers = { Cookie: s.cookie };
    if (s.csrf) headers[s.csrf.header] = s.csrf.token;
    const r = await api(user, method, p, { cc, body, headers });
    const header = r.headers.get('x-csrf-header');
    if (header) s.csrf = { header, token: r.headers.get(header) };
    // every answer: JSON with a statusCode, and the samples' idea of success agrees with HTTP's
    assert.equal(typeof r.json?.statusCode, 'number', `${method} ${p}: ${r.text}`);
    assert.equal([0, 7].includes(r.json.statusCode), r.status === 200, `${method} ${p}: ${r.status} ${r.text}`);
    if (r.json.statusCode !== 0) assert.equal(typeof r.json.statusMessage, 'string');
    return r;
  };
  s.ok = async (method, p, body) => {
    const r = await s.call(method, p, body);
    assert.equal(r.json.statusCode, 0, `${method} ${p}: ${r.text}`);
    return r.json;
  };
  return s;
}

/** DDCometClient's session: handshake, one /meta/subscribe per topic, long-polling connects. */
async function sampleComet(user, topics, sample) {
  let n = 0;
  const headers = sample?.csrf ? { [sample.csrf.header]: sample.csrf.token } : {};
  const post = (msgs, suffix, cookie) => bayeux(user, msgs, { cc, suffix, cookie, headers });
  const hs = await post([{ id: String(++n), channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0',
    supportedConnectionTypes: ['long-polling'] }], '/handshake', sample?.cookie);
  assert.equal(hs.status, 200, hs.text);
  assert.equal(hs.json[0].successful, true, hs.text);
  const set = hs.headers.get('set-cookie');
  const cookie = [sample?.cookie, set && set.split(';')[0]].filter(Boolean).join('; ');
  const clientId = hs.json[0].clientId;
  const replies = {};
  for (const topic of topics) {
    const r = await post([{ id: String(++n), channel: '/meta/subscribe', clientId, subscription: topic }], '', cookie);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.length, 1, r.text);
    replies[topic] = r.json[0];
  }
  const connect = async (timeout) => {
    const r = await post([{ id: String(++n), channel: '/meta/connect', clientId, connectionType: 'long-polling',
      advice: { timeout } }], '/connect', cookie);
    assert.equal(r.status, 200, r.text);
    const reply = r.json.find((m) => m.channel === '/meta/connect');
    assert.equal(reply.successful, true, r.text);
    return r.json.filter((m) => m.data).map(gwsMessage);
  };
  /** One connect whose reply may be a failure: -> the /meta/connect reply. */
  const connectReply = async () => {
    const r = await post([{ id: String(++n), channel: '/meta/connect', clientId, connectionType: 'long-polling',
      advice: { timeout: 0 } }], '/connect', cookie);
    assert.equal(r.status, 200, r.text);
    return r.json.find((m) => m.channel === '/meta/connect');
  };
  return { clientId, replies, connect, connectReply };
}

test('the HTCC sample: login, subresources, its topics, an e-mail from offer to Complete', async () => {
  const agent = sampleClient('agent1');
  // 1. login: GET /me with Basic, the CSRF headers captured if the server sends them (it does not)
  const me = await agent.call('GET', '/me');
  assert.equal(me.json.user.userName, 'agent1');
  assert.equal(me.headers.get('x-csrf-header'), null);
  const full = await agent.ok('GET', '/me?subresources=*');
  assert.deepEqual(full.user.channels.map((c) => [c.channel, c.userState.state]), [['email', 'NotReady']]);
  // a token the client sends anyway, with the JSESSIONID cookie, is ignored
  agent.csrf = { header: 'X-CSRF-TOKEN', token: '4a92be65-ec55-4aa2-b9df-9518fd870f2f' };

  // 2. CometD: the sample's topics (2013 and 8.5.2 names) and the wildcard
  const topics = ['/v2/me/devices', '/v2/me/channels', '/v2/me/calls', '/v2/me/chats', '/v2/me/emails',
    ME, '/v2/me/*'];
  const comet = await sampleComet('agent1', topics, agent);
  for (const t of topics) {
    const r = comet.replies[t];
    assert.equal(r.subscription, t, 'the subscription is echoed as sent');
    // a topic this server has no channel for is refused alone; the session goes on
    if (!r.successful) assert.match(r.error, new RegExp(`^403:${t.replace(/[*]/g, '\\*')}:`), JSON.stringify(r));
  }
  assert.equal(comet.replies[ME].successful, true);
  assert.equal(comet.replies['/v2/me/*'].successful, true);
  assert.deepEqual(await comet.connect(0), []);

  // 3. Ready, then an e-mail arrives: the offer is pushed with both type members
  await agent.ok('POST', '/me/channels/email', { operationName: 'Ready' });
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support',
    subject: 'Order 42', from: 'thompson@example.com', to: ['info@example.com'] } });
  const offer = (await eventually(async () => nonEmpty((await comet.connect(0)).filter(isState(created.id, 'Invited')))))[0];
  assert.equal(offer.channel, ME, 'messages still arrive on their concrete channel');
  assert.equal(offer.data.messageTypeName, 'InteractionStateMessage');
  assert.deepEqual(offer.data.interaction.capabilities, ['Accept', 'Reject']);
  await agent.ok('POST', '/me/channels/email', { operationName: 'NotReady' });

  // 4. the sample's e-mail operations, with their bodies
  const uri = `/me/interactions/${created.id}`;
  const acc = await agent.ok('POST', uri, { operationName: 'Accept' });
  await agent.ok('POST', uri, { operationName: 'UpdateUserData', userData: { key: 'value' } });
  const reply = await agent.ok('POST', uri, { operationName: 'Reply', queueName: 'support' });
  assert.equal(reply.interaction.state, 'Composing');
  await agent.ok('POST', `/me/interactions/${reply.interaction.id}`, { operationName: 'Cancel' });
  const replyAll = await agent.ok('POST', uri, { operationName: 'ReplyAll', queueName: 'support' });
  await agent.ok('POST', `/me/interactions/${replyAll.interaction.id}`, { operationName: 'Cancel' });
  // SetDisposition is no operation here (CONTRACT 5): refused, nothing changes, nothing breaks
  const disp = await agent.call('POST', uri, { operationName: 'SetDisposition', disposition: 'Sale', dispositionKey: 'DispositionCode' });
  assert.deepEqual([disp.status, disp.json.statusCode], [400, 10]);
  const done = await agent.ok('POST', uri, { operationName: 'Complete' });
  assert.equal(done.interaction.state, 'Completed');

  // 5. each call's referenceId comes back on the push channel, with both type members
  const got = [];
  await eventually(async () => {
    got.push(...await comet.connect(0));
    return [acc.referenceId, done.referenceId].every((r) => got.some((m) => m.data.referenceId === r && about(created.id)(m)));
  });
});

test('after 402 the sample handshakes again with its topics, the wildcard included, and is served', async () => {
  const agent = sampleClient('agent1');
  await agent.ok('GET', '/me?subresources=*');
  const topics = [ME, '/v2/me/*'];
  const first = await sampleComet('agent1', topics, agent);
  assert.deepEqual(await first.connect(0), []);
  // the app slept past the session's life: its clientId is unknown, and the advice says so
  await db.query(`UPDATE interactions.push_sessions SET expires_at = now() - interval '1 second'
                   WHERE cc_id = $1 AND client_id = $2`, [ccId, first.clientId]);
  const gone = await first.connectReply();
  assert.deepEqual([gone.successful, gone.error, gone.advice?.reconnect], [false, '402::Unknown client', 'handshake'],
    JSON.stringify(gone));
  // DDCometClient re-handshakes (after 1 s, skipped here) and subscribes the same topics again
  const again = await sampleComet('agent1', topics, agent);
  assert.notEqual(again.clientId, first.clientId);
  for (const t of topics) assert.equal(again.replies[t].successful, true, JSON.stringify(again.replies[t]));
  const id = await ownedBy(cc, ccId, 'agent1');
  const got = await eventually(async () => nonEmpty((await again.connect(0)).filter(isState(id, 'Processing'))));
  assert.deepEqual(got.map((m) => m.channel), [ME], 'once, on its concrete channel, though two subscriptions name it');
});

test('the sample transfers by targetUri (its user uri) and completes into a post-processing queue', async () => {
  const agent = sampleClient('agent1');
  const id = await ownedBy(cc, ccId, 'agent1');
  const base = (await agent.ok('GET', `/interactions/${id}`)).interaction.uri.replace(/\/interactions\/.*$/, '');
  const agent2 = await userId(cc, 'agent2');
  const t = await agent.ok('POST', `/me/interactions/${id}`, { operationName: 'Transfer', targetUri: `${base}/users/${agent2}` });
  assert.deepEqual([t.interaction.state, t.interaction.assignedTo], ['Invited', 'agent2']);
  const other = sampleClient('agent2');
  await other.ok('POST', `/me/interactions/${id}`, { operationName: 'Accept' });
  // EmailComplete with saveLAR, and the seed's SingleStepTransfer by userUri
  const x = await ownedBy(cc, ccId, 'agent2');
  const s = await other.ok('POST', `/me/interactions/${x}`, { operationName: 'SingleStepTransfer', userUri: `${base}/users/agent1` });
  assert.equal(s.interaction.assignedTo, 'agent1');
  const c = await other.ok('POST', `/me/interactions/${id}`, { operationName: 'Complete', queueName: 'sales', saveLAR: true });
  assert.deepEqual([c.interaction.state, c.interaction.queue], ['Queued', 'sales']);
});

test('GET /me/interactions?fields=* shows each interaction as the push message does', async () => {
  const c = await cometd({ user: 'agent1', channels: ['/v2/me/*'] });
  const id = await ownedBy(cc, ccId, 'agent1');
  const pushed = gwsMessage(await c.waitFor(isState(id, 'Processing')));
  const list = await ok('agent1', 'GET', '/me/interactions?fields=*', { cc });
  assert.deepEqual(list.interactions.find((i) => i.id === id), pushed.data.interaction);
});

// ------------------------------------------------------------------ wildcards with the real clients

test('CometD: /v2/me/* and /v2/me/** deliver every /v2/me/ message on its concrete channel', async () => {
  const one = await cometd({ user: 'agent1', channels: ['/v2/me/*'] });
  const any = await cometd({ user: 'agent1', channels: ['/v2/me/**'] });
  assert.deepEqual([one.meta.subscribeFailures, any.meta.subscribeFailures], [[], []]);
  const id = await ownedBy(cc, ccId, 'agent1');
  for (const c of [one, any]) {
    const m = gwsMessage(await c.waitFor(isState(id, 'Processing')));
    assert.equal(m.channel, ME);
    assert.deepEqual(c.messages.filter(about(id)).map((x) => x.data.interaction.state), ['Invited', 'Processing']);
  }
  // GetWorkbinContent's answer too
  const r = await ok('agent1', 'POST', '/me/interactions', { cc, body: { operationName: 'GetWorkbinContent', workbin: 'team' } });
  const content = gwsMessage(await one.waitFor((m) => m.data.referenceId === r.referenceId));
  assert.deepEqual([content.channel, content.data.messageType], [ME, 'WorkbinContentMessage']);
});

test('Faye: /v2/me/* delivers the agent its messages', async () => {
  const f = await faye({ user: 'agent1', channel: '/v2/me/*' });
  const id = await ownedBy(cc, ccId, 'agent1');
  const m = await f.waitFor((x) => x.data.interaction && x.data.interaction.id === id && x.data.interaction.state === 'Processing');
  assert.equal(m.data.messageTypeName, 'InteractionStateMessage');
  assert.equal(m.data.messageType, 'InteractionStateMessage');
});

test("a supervisor's /v2/me/* is not /v2/interactions; other wildcards are refused", async () => {
  const sup = await rawSession('supervisor', { cc, channels: ['/v2/me/*'] });
  const all = await cometd({ user: 'supervisor', channels: ['/v2/interactions'] });
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: { mediaType: 'email', queueName: 'support' } });
  gwsMessage(await all.waitFor(about(created.id)));
  const { events } = await rawConnect(sup, { timeout: 0 });
  assert.deepEqual(events, [], 'nothing of the contact center through /v2/me/*');
  // every /v2/me/ channel: the supervisor's own interactions and channel states
  assert.deepEqual(await db.value(`SELECT channels FROM interactions.push_sessions WHERE cc_id = $1 AND client_id = $2`,
    [ccId, sup.clientId]), ['/v2/me/channels', ME]);
  for (const [user, channel] of [['supervisor', '/v2/*'], ['supervisor', '/v2/**'], ['admin', '/**'],
    ['agent1', '/v2/me/interactions/*'], ['agent1', '/v2/*']]) {
    const s = await rawSession(user, { cc, channels: [] });
    const r = await bayeux(user, [{ id: '9', channel: '/meta/subscribe', clientId: s.clientId, subscription: channel }],
      { cc, cookie: s.cookie });
    assert.equal(r.json[0].successful, false, `${user} ${channel}: ${r.text}`);
    assert.equal(r.json[0].subscription, channel);
    assert.ok(r.json[0].error.startsWith(`403:${channel}:`), r.text);
  }
});

test('unsubscribing /v2/me/* ends what it named; the session row records concrete channels', async () => {
  const s = await rawSession('agent1', { cc, channels: ['/v2/me/*'] });
  const channels = () => db.value(`SELECT channels FROM interactions.push_sessions WHERE cc_id = $1 AND client_id = $2`,
    [ccId, s.clientId]);
  assert.deepEqual(await channels(), ['/v2/me/channels', ME]);
  const u = await bayeux('agent1', [{ id: '7', channel: '/meta/unsubscribe', clientId: s.clientId, subscription: '/v2/me/*' }],
    { cc, cookie: s.cookie });
  assert.deepEqual([u.json[0].successful, u.json[0].subscription], [true, '/v2/me/*']);
  assert.deepEqual(await channels(), []);
  const listener = await cometd({ user: 'agent1', channels: [ME] });
  const id = await ownedBy(cc, ccId, 'agent1');
  await listener.waitFor(isState(id, 'Processing'));
  assert.deepEqual((await rawConnect(s, { timeout: 0 })).events, []);
});

test('every push message this file saw carried messageTypeName', () => {
  assert.ok(seen.length >= 8, `only ${seen.length} messages seen`);
  for (const m of seen) assert.equal(m.data.messageTypeName, m.data.messageType);
});
