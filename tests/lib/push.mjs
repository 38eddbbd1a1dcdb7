// push.mjs — push-channel clients for tests and benchmarks: the official CometD JavaScript
// client (npm cometd + cometd-nodejs-client), the Faye client, and raw Bayeux over HTTP.
//
// Cookies.  cometd-nodejs-client keeps one cookie jar per process, which makes every CometD
// client of a process one "browser" (one BAYEUX_BROWSER cookie), and the server allows one
// held connect per browser (InteractionsPushSessionsPerBrowser 1): the others would be
// told "multiple-clients" and poll.  So each client here gets its own jar, keyed by a
// request header; clients given the same `browser` share one, like tabs of one browser.
//
// Standalone (benchmarks import it too): without scripts/test's environment, pass `url`
// (the notifications URL) or `port` explicitly.
import { adapt } from 'cometd-nodejs-client';
import { CometD, AckExtension } from 'cometd';
import faye from 'faye';

const defaultPort = () => Number(process.env.MI_PORT);

/** The API base path of a test contact center (as in harness.mjs). */
export function basePath(cc) {
  return cc === 'demo' ? '/api/v2' : `/${cc}/api/v2`;
}

/** Poll @fn until it returns a truthy value (or throw after @ms). */
export async function eventually(fn, ms = 5000, step = 25) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, step));
  }
  throw new Error(`condition not met within ${ms} ms (last: ${JSON.stringify(last)})`);
}

const JAR_HEADER = 'X-MI-Browser';
const jars = new Map();   // browser name -> Map(cookie name -> "name=value")
let jarSeq = 0;

function jarOf(uri) {
  const key = (uri.headers && uri.headers[JAR_HEADER]) || 'default';
  if (!jars.has(key)) jars.set(key, new Map());
  return jars.get(key);
}

adapt({
  cookies: {
    storeCookie(uri, header, callback) {
      const nameValue = header.split(';')[0].trim();
      const eq = nameValue.indexOf('=');
      if (eq > 0) jarOf(uri).set(nameValue.slice(0, eq), nameValue);
      callback();
    },
    retrieveCookies(context, uri, callback) {
      callback(null, [...jarOf(uri).values()]);
    },
  },
});

export function basic(user, password = 'password') {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

export function notificationsUrl(cc, port = defaultPort()) {
  return `http://127.0.0.1:${port}${basePath(cc)}/notifications`;
}

/**
 * A CometD client, subscribed (again after every handshake) to @channels.
 *   {cc, user, channels, ack, browser, websocket, port, url, password}
 * -> {messages, meta, cometd, clientId(), waitFor(pred, ms), count(pred), disconnect()}
 * messages: every {channel, data} received; meta: {handshakes, subscribeFailures: [..],
 * connectFailures: [..], multipleClients, connectAdvice: [the advice of each connect reply]}.  Resolves after the first subscription succeeded
 * (or failed: see meta.subscribeFailures).
 */
export async function cometdClient({ cc, user, channels = ['/v2/me/interactions'], ack = false,
  browser, websocket = false, port = defaultPort(), url, password = 'password', logLevel = 'warn' }) {
  const cometd = new CometD();
  if (!websocket) cometd.unregisterTransport('websocket');
  cometd.unregisterTransport('callback-polling');   // JSONP needs a DOM
  if (ack) cometd.registerExtension('ack', new AckExtension());
  cometd.configure({
    url: url || notificationsUrl(cc, port),
    logLevel,
    requestHeaders: { Authorization: basic(user, password), [JAR_HEADER]: browser || `client-${++jarSeq}` },
  });
  const messages = [];
  const meta = { handshakes: 0, transports: [], subscribeFailures: [], connectFailures: [],
    multipleClients: 0, acks: [], connectAdvice: [] };
  cometd.addListener('/meta/connect', (m) => {
    if (!m.successful) meta.connectFailures.push(m.error || (m.failure && m.failure.reason) || 'failure');
    if (m.advice) meta.connectAdvice.push(m.advice);
    if (m.advice && m.advice['multiple-clients']) meta.multipleClients++;
    if (m.ext && typeof m.ext.ack === 'number') meta.acks.push(m.ext.ack);
  });
  let first;
  const subscribed = new Promise((resolve) => { first = resolve; });
  cometd.handshake((reply) => {
    if (!reply.successful) return;   // the client retries on its own
    meta.handshakes++;
    meta.transports.push(cometd.getTransport().type);
    let pending = channels.length;
    for (const ch of channels) {
      cometd.subscribe(ch, (m) => messages.push({ channel: m.channel, data: m.data }), (r) => {
        if (!r.successful) meta.subscribeFailures.push({ channel: ch, error: r.error });
        if (--pending === 0) first();
      });
    }
  });
  let timer;
  await Promise.race([subscribed, new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${user}: not subscribed within 15 s`)), 15000);
  })]).finally(() => clearTimeout(timer));
  return {
    cometd, messages, meta,
    clientId: () => cometd.getClientId(),
    waitFor: (pred, ms = 15000) => waitFor(messages, pred, ms),
    count: (pred) => messages.filter(pred).length,
    disconnect: () => new Promise((resolve) => {
      if (cometd.isDisconnected()) { resolve(); return; }
      const t = setTimeout(resolve, 3000);
      cometd.disconnect(() => { clearTimeout(t); resolve(); });
    }),
  };
}

/**
 * A Faye client subscribed to @channel: {cc, user, channel, port}
 * -> {messages (the data of each message), client, waitFor, disconnect()}.
 */
export async function fayeClient({ cc, user, channel = '/v2/me/interactions', port = defaultPort(), url,
  password = 'password' }) {
  const client = new faye.Client(url || notificationsUrl(cc, port), { timeout: 60, retry: 1 });
  client.disable('websocket');
  client.setHeader('Authorization', basic(user, password));
  const messages = [];
  const sub = client.subscribe(channel, (data) => messages.push({ channel, data }));
  // a refused subscription must not leave the client polling (and the test process alive)
  await new Promise((resolve, reject) => sub.then(resolve, reject)).catch((e) => {
    client.disconnect();
    throw e;
  });
  return {
    client, messages,
    waitFor: (pred, ms = 15000) => waitFor(messages, pred, ms),
    // resolves when the server answered (at most 3 s): a server stopped before that would
    // leave the client retrying its disconnect for ever
    disconnect: () => new Promise((resolve) => {
      const t = setTimeout(resolve, 3000);
      const done = () => { clearTimeout(t); resolve(); };
      const p = client.disconnect();
      if (p && typeof p.then === 'function') p.then(done, done);
      else done();
    }),
  };
}

/** The first message matching @pred (waiting up to @ms for it). */
export function waitFor(messages, pred, ms = 15000) {
  return eventually(() => messages.find(pred), ms, 20);
}

/** Messages about interaction @id, by data.interaction.id. */
export function about(id) {
  return (m) => m.data && m.data.interaction && m.data.interaction.id === id;
}

// ------------------------------------------------------------------ raw Bayeux

/**
 * POST Bayeux @messages (an array) to {base}/notifications[/suffix] as @user:
 * -> {status, headers, json, text, ms}.  opts: {cc, suffix, cookie, port, headers, body}.
 */
export async function bayeux(user, messages, opts = {}) {
  const { cc = 't7', suffix = '', cookie, port = defaultPort(), url, headers = {}, body } = opts;
  const h = { 'Content-Type': 'application/json', ...headers };
  if (user) h.Authorization = basic(user);
  if (cookie) h.Cookie = cookie;
  const t0 = Date.now();
  const res = await fetch((url || notificationsUrl(cc, port)) + suffix, {
    method: 'POST', headers: h, body: body !== undefined ? body : JSON.stringify(messages),
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, json, text, ms: Date.now() - t0 };
}

let rawId = 0;
const nextId = () => String(++rawId);

/** Handshake (and subscribe) a raw session: -> {clientId, cookie, port, cc, user}. */
export async function rawSession(user, { cc = 't7', channels = ['/v2/me/interactions'], ack = false,
  cookie, port = defaultPort() } = {}) {
  const hs = { id: nextId(), channel: '/meta/handshake', version: '1.0', minimumVersion: '1.0',
    supportedConnectionTypes: ['long-polling'] };
  if (ack) hs.ext = { ack: true };
  const r = await bayeux(user, [hs], { cc, suffix: '/handshake', cookie, port });
  if (r.status !== 200 || !r.json[0].successful) throw new Error(`handshake failed: ${r.status} ${r.text}`);
  const setCookie = r.headers.get('set-cookie');
  const s = { clientId: r.json[0].clientId, cookie: cookie || (setCookie ? setCookie.split(';')[0] : undefined),
    port, cc, user, handshake: r };
  if (channels.length) {
    const sub = await bayeux(user, [{ id: nextId(), channel: '/meta/subscribe', clientId: s.clientId,
      subscription: channels }], { cc, cookie: s.cookie, port });
    if (!sub.json[0].successful) throw new Error(`subscribe failed: ${sub.text}`);
  }
  return s;
}

/** One /meta/connect of a raw session: -> {reply (the connect reply), events, status, ms}. */
export async function rawConnect(s, { timeout, ack, user = s.user, port = s.port } = {}) {
  const m = { id: nextId(), channel: '/meta/connect', connectionType: 'long-polling', clientId: s.clientId };
  if (timeout !== undefined) m.advice = { timeout };
  if (ack !== undefined) m.ext = { ack };
  const r = await bayeux(user, [m], { cc: s.cc, suffix: '/connect', cookie: s.cookie, port });
  const replies = r.json || [];
  return { reply: replies.find((x) => x.channel === '/meta/connect'), events: replies.filter((x) => x.data),
    status: r.status, ms: r.ms, raw: r };
}

export async function rawDisconnect(s) {
  return bayeux(s.user, [{ id: nextId(), channel: '/meta/disconnect', clientId: s.clientId }],
    { cc: s.cc, suffix: '/disconnect', cookie: s.cookie, port: s.port });
}

// ------------------------------------------------------------------ a connection dropper

/**
 * A TCP proxy to 127.0.0.1:@targetPort that, once armed, cuts the connection carrying the
 * next response with a push message in it, before the client sees that response: a
 * forced connection drop at the worst moment.  -> {port, arm(), drops, close()}
 */
export async function dropProxy(targetPort) {
  const net = await import('node:net');
  const sockets = new Set();
  const state = { armed: false, drops: 0 };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (state.armed && d.includes('"data":{"messageType"')) {
        state.armed = false;
        state.drops++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(d);
    });
    const end = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    arm() { state.armed = true; },
    get drops() { return state.drops; },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
