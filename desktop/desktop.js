// The agent desktop: a page of plain JavaScript over the Interactions API (fetch, HTTP Basic)
// and its CometD push channel.  How it works is in docs/desktop.md.
//
// Credentials live in this page's memory only.  Every fetch sends its own Authorization
// header with credentials:'omit', so the browser neither caches Basic credentials for the
// API nor pops up its login dialog on a 401: the page shows the envelope's statusMessage.
import { CometD, AckExtension } from './vendor/cometd/cometd.js';

const $ = (id) => document.getElementById(id);
const LIVE = new Set(['Invited', 'Processing', 'Composing']);

const session = {
  base: '', auth: '', me: null, cometd: null,
  items: new Map(),      // id -> the latest interaction object heard of (push, lists, answers)
  selected: null,        // id shown in the detail panel
  draftLoaded: null,     // id whose draft fields were filled from GET /interactions/{id}
  workbins: [], openWorkbin: null, busy: false,
};

// ------------------------------------------------------------------ HTTP

class ApiError extends Error {
  constructor(status, envelope) {
    super(envelope?.statusMessage || envelope?.errorDescription || `HTTP ${status}`);
    this.status = status;
    this.statusCode = envelope?.statusCode;
  }
}

function basic(user, password) {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return `Basic ${btoa(bin)}`;
}

/** Call the API; resolves to the success envelope, rejects with ApiError(statusMessage). */
async function api(method, path, body) {
  const headers = { Authorization: session.auth, Accept: 'application/json' };
  const init = { method, headers, credentials: 'omit', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(session.base + path, init);
  } catch (e) {
    throw new ApiError(0, { statusMessage: `the server cannot be reached (${e.message})` });
  }
  let json;
  try { json = await res.json(); } catch { json = undefined; }
  if (!json || json.statusCode !== 0) throw new ApiError(res.status, json);
  return json;
}

// ------------------------------------------------------------------ messages to the user

function showError(e) {
  const box = $('error');
  box.textContent = e instanceof ApiError || e instanceof Error ? e.message : String(e);
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

/** Run a user action: one at a time, errors shown from the envelope. */
async function act(fn) {
  if (session.busy) return;
  session.busy = true;
  document.body.setAttribute('aria-busy', 'true');
  try {
    await fn();
    clearError();
  } catch (e) {
    showError(e);
  } finally {
    session.busy = false;
    document.body.removeAttribute('aria-busy');
  }
}

function logEvent(text) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  const list = $('event-list');
  list.prepend(li);
  while (list.children.length > 20) list.lastChild.remove();
}

// ------------------------------------------------------------------ log in and out

async function login(user, password, base) {
  session.base = base.trim().replace(/\/+$/, '');
  session.auth = basic(user, password);
  const me = await api('GET', '/me');
  if (!me.user.roles.includes('agent')) {
    session.auth = '';
    throw new Error(`${me.user.userName} is not an agent: this desktop is for agents`);
  }
  session.me = me.user;
  try { localStorage.setItem('desktop.base', session.base); localStorage.setItem('desktop.user', user); } catch { /* private mode */ }
  $('login-password').value = '';
  $('login-view').hidden = true;
  $('desk-view').hidden = false;
  $('logout').hidden = false;
  $('who').hidden = false;
  $('who').textContent = `${me.user.userName} · ${session.base}`;
  renderChannels();
  renderMine();
  renderDetail();
  startPush();
  await loadWorkbins();
  $('channels-title').focus();
}

function logout() {
  if (session.cometd) session.cometd.disconnect();
  Object.assign(session, { base: '', auth: '', me: null, cometd: null, selected: null, draftLoaded: null,
    workbins: [], openWorkbin: null });
  session.items.clear();
  for (const id of ['desk-view', 'logout', 'who', 'push-state', 'workbin-content']) $(id).hidden = true;
  $('event-list').replaceChildren();
  $('login-view').hidden = false;
  clearError();
  $('login-user').focus();
}

// ------------------------------------------------------------------ push channel

function setPush(state, text) {
  const p = $('push-state');
  p.hidden = false;
  p.className = `push ${state}`;
  p.textContent = text;
}

function startPush() {
  const cometd = new CometD();
  // This page authenticates with its own Authorization header, which neither a browser's
  // WebSocket nor JSONP (<script src>) can carry: their requests would be refused (401).
  cometd.unregisterTransport('websocket');
  cometd.unregisterTransport('callback-polling');
  cometd.registerExtension('ack', new AckExtension());
  cometd.configure({
    url: new URL(`${session.base}/notifications`, window.location.href).href,
    requestHeaders: { Authorization: session.auth },
    logLevel: 'warn',
  });
  setPush('connecting', 'Live updates: connecting…');
  cometd.addListener('/meta/connect', (m) => {
    if (cometd.isDisconnected()) return;
    if (m.successful) setPush('connected', 'Live updates: on');
    else setPush('disconnected', 'Live updates: interrupted, retrying…');
  });
  cometd.addListener('/meta/handshake', (m) => {
    if (!m.successful) setPush('disconnected', 'Live updates: interrupted, retrying…');
  });
  cometd.handshake((reply) => {
    if (!reply.successful) return;            // CometD retries by itself
    // in the handshake callback, so that it runs again after every re-handshake
    cometd.subscribe('/v2/me/interactions', onPush, (sub) => {
      if (!sub.successful) { showError(`live updates refused: ${sub.error}`); return; }
      // a new session hears what changes from now on: read the current picture
      loadMine().then(() => { $('push-state').dataset.subscribed = 'true'; }, showError);
    });
  });
  session.cometd = cometd;
}

function onPush(message) {
  if (session.cometd === null) return;
  const d = message.data || {};
  if (d.messageType === 'InteractionStateMessage' && d.interaction) {
    const i = d.interaction;
    logEvent(`${d.notificationType}: ${i.subject || i.id} is ${i.state}${i.assignedTo && i.state !== 'Revoked' ? ` (${i.assignedTo})` : ''}`);
    upsert(i);
    if (d.notificationType === 'StatusChange') refreshWorkbins();
  } else if (d.messageType === 'WorkbinContentMessage' && d.workbin) {
    logEvent(`WorkbinContent: ${d.workbin.name}`);
  }
}

// ------------------------------------------------------------------ the interactions we know

function upsert(i) {
  const known = session.items.get(i.id);
  if (known && known.updatedDate > i.updatedDate) return;   // an older picture arrived late
  // cc and body come only with the single resource; keep them when a list copy arrives
  session.items.set(i.id, known && !('body' in i) ? { ...i, cc: known.cc, body: known.body } : i);
  renderMine();
  if (i.id === session.selected) renderDetail();
}

function isMine(i) {
  return LIVE.has(i.state) && i.assignedTo === session.me?.userName;
}

async function loadMine() {
  const r = await api('GET', '/me/interactions?fields=*&limit=500');
  const now = new Set(r.interactions.map((i) => i.id));
  for (const i of r.interactions) upsert(i);
  // what this page still holds as mine but the server no longer lists: read it again
  for (const i of [...session.items.values()]) {
    if (isMine(i) && !now.has(i.id)) {
      try { upsert((await api('GET', `/interactions/${i.id}`)).interaction); } catch { session.items.delete(i.id); }
    }
  }
  renderMine();
}

// ------------------------------------------------------------------ rendering

function stateBadge(state) {
  const s = document.createElement('span');
  s.className = `state state-${state}`;
  s.textContent = state;
  return s;
}

function itemButton(i) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'item';
  b.dataset.id = i.id;
  if (i.id === session.selected) b.setAttribute('aria-current', 'true');
  const subject = document.createElement('span');
  subject.className = 'subject';
  subject.textContent = i.subject || `(${i.mediaType}, no subject)`;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${i.from || 'unknown sender'} · ${i.queue || ''} `;
  b.append(subject, meta, stateBadge(i.state));
  b.addEventListener('click', () => select(i.id, true));
  return b;
}

function renderMine() {
  const mine = [...session.items.values()].filter(isMine)
    .sort((a, b) => a.receivedDate.localeCompare(b.receivedDate));
  $('mine-list').replaceChildren(...mine.map((i) => {
    const li = document.createElement('li');
    li.append(itemButton(i));
    return li;
  }));
  $('mine-empty').hidden = mine.length > 0;
  $('mine-count').textContent = mine.length ? `(${mine.length})` : '';
}

function renderChannels() {
  const list = $('channel-list');
  list.replaceChildren(...session.me.channels.map((c) => {
    const li = document.createElement('li');
    const media = document.createElement('span');
    media.className = 'media';
    media.textContent = c.channel;
    const state = document.createElement('span');
    // the server's plain words for the state ("Not ready", "Lunch", "After call work"...)
    state.textContent = c.userState.displayName || (c.userState.state === 'Ready' ? 'Ready' : 'Not ready');
    state.className = `state ${c.userState.state === 'Ready' ? 'state-Processing' : 'state-Completed'}`;
    const mk = (label, op) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.setAttribute('aria-label', `${label} (${c.channel})`);
      b.setAttribute('aria-pressed', String(c.userState.state === op));
      b.disabled = c.userState.state === op;
      b.addEventListener('click', () => act(() => setChannel(c.channel, op)));
      return b;
    };
    li.append(media, state, mk('Ready', 'Ready'), mk('Not ready', 'NotReady'));
    return li;
  }));
}

async function setChannel(media, op) {
  const r = await api('POST', `/me/channels/${encodeURIComponent(media)}`, { operationName: op });
  session.me = r.user;
  renderChannels();
  logEvent(`${media}: ${op}`);
}

function select(id, focus = false) {
  session.selected = id;
  session.draftLoaded = null;
  renderMine();
  renderWorkbinItems();
  renderDetail();
  if (focus) $('detail-title').focus();
}

function fmtValue(v) {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function renderDetail() {
  const i = session.items.get(session.selected);
  $('detail-none').hidden = Boolean(i);
  $('detail-body').hidden = !i;
  if (!i) return;
  const caps = new Set(i.capabilities || []);
  const mine = i.assignedTo === session.me?.userName;
  const props = [
    ['State', i.state], ['Subject', i.subject], ['From', i.from], ['To', (i.to || []).join(', ')],
    ['Queue', i.queue], ['Workbin', i.workbin], ['Assigned to', i.assignedTo], ['Media', i.mediaType],
    ['Received', i.receivedDate && new Date(i.receivedDate).toLocaleString()], ['Priority', i.priority],
  ];
  if (i.parentId) props.push(['Reply to', i.parentId]);
  $('detail-props').replaceChildren(...props.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    if (k === 'State') dd.append(stateBadge(v)); else dd.textContent = v === null || v === undefined || v === '' ? '—' : String(v);
    dd.dataset.prop = k;
    return [dt, dd];
  }));
  for (const b of document.querySelectorAll('#detail-body button[data-op]')) b.disabled = !caps.has(b.dataset.op);

  // user data: keys with their values, removable with DeleteUserData
  const rows = Object.entries(i.userData || {}).map(([k, v]) => {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.textContent = k;
    const td = document.createElement('td');
    const code = document.createElement('code');
    code.textContent = fmtValue(v);
    td.append(code);
    const tdx = document.createElement('td');
    const rm = document.createElement('button');
    rm.type = 'button';
    rm.textContent = 'Remove';
    rm.setAttribute('aria-label', `Remove ${k}`);
    rm.disabled = !caps.has('DeleteUserData');
    rm.addEventListener('click', () => act(() => operate('DeleteUserData', { keys: [k] })));
    tdx.append(rm);
    tr.append(th, td, tdx);
    return tr;
  });
  $('userdata').tBodies[0].replaceChildren(...rows);
  enableForm('userdata-form', caps.has('UpdateUserData'));
  enableForm('workbin-form', caps.has('PlaceInWorkbin') && session.workbins.length > 0);
  enableForm('queue-form', caps.has('PlaceInQueue'));
  enableForm('transfer-form', caps.has('Transfer'));

  const draft = i.state === 'Composing' && mine;
  $('draft-form').hidden = !draft;
  if (draft && session.draftLoaded !== i.id) loadDraft(i.id);
}

function enableForm(id, on) {
  for (const el of $(id).querySelectorAll('input, select, textarea, button')) el.disabled = !on;
}

/** Fill the draft editor once per selection from the single resource (it has cc and body). */
async function loadDraft(id) {
  session.draftLoaded = id;
  try {
    const d = (await api('GET', `/interactions/${id}`)).interaction;
    if (session.selected !== id) return;
    $('draft-to').value = (d.to || []).join(', ');
    $('draft-subject').value = d.subject || '';
    $('draft-body').value = d.body || '';
    upsert(d);
  } catch (e) {
    showError(e);
  }
}

// ------------------------------------------------------------------ workbins

async function loadWorkbins() {
  const r = await api('GET', '/me/workbins');
  session.workbins = r.workbins;
  $('workbin-list').replaceChildren(...r.workbins.map((w) => {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = `${w.name} (${w.type}): ${w.count}`;
    b.setAttribute('aria-label', `Open workbin ${w.name}, ${w.type}, ${w.count} interactions`);
    b.addEventListener('click', () => act(() => openWorkbin(w.name)));
    li.append(b);
    return li;
  }));
  const sel = $('wb-target');
  const keep = sel.value;
  sel.replaceChildren(...r.workbins.map((w) => new Option(`${w.name} (${w.type})`, w.name)));
  if (keep) sel.value = keep;
  if (session.openWorkbin) await openWorkbin(session.openWorkbin, false);
  renderDetail();
}

let refreshTimer = null;
function refreshWorkbins() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { if (session.me) loadWorkbins().catch(showError); }, 150);
}

let workbinShown = null;
async function openWorkbin(name, focus = true) {
  const r = await api('GET', `/me/workbins/${encodeURIComponent(name)}`);
  session.openWorkbin = name;
  workbinShown = r.workbin;
  for (const i of r.workbin.interactions) upsert(i);
  $('workbin-content').hidden = false;
  $('workbin-content-title').textContent = `Workbin ${r.workbin.name} (${r.workbin.type})`;
  renderWorkbinItems();
  if (focus) $('workbin-content-title').scrollIntoView({ block: 'nearest' });
}

function renderWorkbinItems() {
  if (!workbinShown) return;
  const items = workbinShown.interactions.map((w) => session.items.get(w.id) || w)
    .filter((i) => i.state === 'InWorkbin' && i.workbin === workbinShown.name);
  $('workbin-items').replaceChildren(...items.map((i) => {
    const li = document.createElement('li');
    li.append(itemButton(i));
    return li;
  }));
  $('workbin-empty').hidden = items.length > 0;
}

// ------------------------------------------------------------------ operations

async function operate(operationName, args = {}) {
  const id = session.selected;
  const r = await api('POST', `/me/interactions/${id}`, { operationName, ...args });
  logEvent(`${operationName}: done (referenceId ${r.referenceId})`);
  if (r.interaction) {
    upsert(r.interaction);
    if (r.interaction.id !== id) select(r.interaction.id);   // Reply: the new draft
  }
  if (['PlaceInWorkbin', 'Pull'].includes(operationName)) await loadWorkbins();
}

async function saveDraft() {
  const to = $('draft-to').value.split(',').map((s) => s.trim()).filter(Boolean);
  const r = await api('PUT', `/interactions/${session.selected}`,
    { to, subject: $('draft-subject').value, body: $('draft-body').value });
  upsert(r.interaction);
  logEvent('draft saved');
}

function parseValue(text) {
  const t = text.trim();
  if (/^(-?\d|\{|\[|"|true$|false$|null$)/.test(t)) {
    try { return JSON.parse(t); } catch { /* text after all */ }
  }
  return text;
}

function wire() {
  try {
    $('login-base').value = localStorage.getItem('desktop.base') || '/api/v2';
    $('login-user').value = localStorage.getItem('desktop.user') || '';
  } catch { /* storage unavailable */ }
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => login($('login-user').value, $('login-password').value, $('login-base').value));
  });
  $('logout').addEventListener('click', logout);
  $('channel-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => setChannel($('channel-media').value.trim(), 'Ready'));
  });
  for (const b of document.querySelectorAll('#detail-body button[data-op]')) {
    // Send sends what the editor shows: the draft is saved first
    b.addEventListener('click', () => act(async () => {
      if (b.dataset.op === 'Send') await saveDraft();
      await operate(b.dataset.op);
    }));
  }
  $('userdata-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(async () => {
      await operate('UpdateUserData', { userData: { [$('ud-key').value]: parseValue($('ud-value').value) } });
      $('ud-key').value = '';
      $('ud-value').value = '';
    });
  });
  $('workbin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => operate('PlaceInWorkbin', { workbin: $('wb-target').value }));
  });
  $('queue-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(() => operate('PlaceInQueue', { queueName: $('queue-target').value.trim() }));
  });
  $('transfer-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const kind = document.querySelector('input[name=transfer-kind]:checked').value;
    const target = $('transfer-target').value.trim();
    act(() => operate('Transfer', kind === 'queue' ? { queueName: target } : { userId: target }));
  });
  $('draft-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act(saveDraft);
  });
}

wire();
