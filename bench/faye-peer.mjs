// faye-peer.mjs — the peer of the push benchmark: the Faye Node.js server (npm faye, in-memory
// engine, long-polling) with a minimal imitation of the REST calls bench/loadgen makes in its
// agent cycle.  Each call changes an interaction kept in memory, publishes the same message
// mod_interactions would send (InteractionStateMessage with the interaction rendered for the
// agent) to the agent's channel /agents/<login>, and answers like the API, referenceId
// included.  No database, no authentication: it shows what the client load costs a
// well-known push server by itself.
//
//   node bench/faye-peer.mjs PORT [BASE]     prints "ready PORT" when listening
import crypto from 'node:crypto';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../tests/package.json'));
const faye = require('faye');

const port = Number(process.argv[2] || 0);
const base = process.argv[3] || '/bench/api/v2';
const bayeux = new faye.NodeAdapter({ mount: '/faye', timeout: 25 });
const pub = bayeux.getClient();
const interactions = new Map();
let refSeq = 0;

const caps = { Invited: ['Accept', 'Reject'], Processing: ['Complete', 'PlaceInQueue', 'PlaceInWorkbin',
  'Transfer', 'AttachUserData', 'UpdateUserData', 'DeleteUserData', 'Reply', 'ReplyAll'], Completed: [] };

function render(it, host) {
  return { id: it.id, uri: `http://${host}${base}/interactions/${it.id}`, mediaType: 'email', state: it.state,
    capabilities: caps[it.state] || [], queue: it.queue, workbin: null, assignedTo: it.agent, parentId: null,
    userData: it.userData, subject: it.subject, from: null, to: [], receivedDate: it.received,
    updatedDate: new Date().toISOString(), priority: 0 };
}

function agentOf(req) {
  const a = req.headers.authorization || '';
  const user = Buffer.from(a.replace(/^Basic /, ''), 'base64').toString().split(':')[0];
  return user;
}

function answer(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function publish(it, notificationType, ref, host) {
  pub.publish(`/agents/${it.agent}`, { messageType: 'InteractionStateMessage', notificationType,
    referenceId: ref, interaction: render(it, host) });
}

const server = http.createServer((req, res) => {
  if (req.url.startsWith('/faye')) return;   // the adapter answers
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body = {};
    try { body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {}; } catch { return answer(res, 400, { statusCode: 10 }); }
    const host = req.headers.host || '127.0.0.1';
    if (req.method === 'POST' && req.url === `${base}/interactions`) {
      const n = /^q(\d+)$/.exec(body.queueName || '');
      if (!n) return answer(res, 400, { statusCode: 1 });
      const it = { id: crypto.randomUUID(), agent: `agent${n[1]}`, queue: body.queueName, state: 'Invited',
        userData: body.userData || {}, subject: body.subject || null, received: new Date().toISOString() };
      interactions.set(it.id, it);
      const ref = ++refSeq;
      publish(it, 'StatusChange', ref, host);
      return answer(res, 200, { statusCode: 0, status: 'ok', id: it.id, created: true, referenceId: ref,
        uri: `http://${host}${base}/interactions/${it.id}` });
    }
    const m = req.method === 'POST' && req.url.startsWith(`${base}/me/interactions/`)
      ? interactions.get(req.url.slice(`${base}/me/interactions/`.length)) : undefined;
    if (!m || m.agent !== agentOf(req)) return answer(res, 404, { statusCode: 6 });
    const ref = ++refSeq;
    let type = 'StatusChange';
    switch (body.operationName) {
      case 'Accept': m.state = 'Processing'; break;
      case 'UpdateUserData': Object.assign(m.userData, body.userData || {}); type = 'PropertiesUpdated'; break;
      case 'Complete': m.state = 'Completed'; break;
      default: return answer(res, 400, { statusCode: 1 });
    }
    publish(m, type, ref, host);
    if (m.state === 'Completed') interactions.delete(m.id);
    return answer(res, 200, { statusCode: 0, status: 'ok', referenceId: ref, interaction: render(m, host) });
  });
});
bayeux.attach(server);
server.keepAliveTimeout = 60000;
server.listen(port, '127.0.0.1', () => console.log(`ready ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
