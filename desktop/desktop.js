// The agent desktop: a page of plain JavaScript over the Interactions API (fetch, HTTP Basic)
// and its CometD push channel.  How it works is in docs/desktop.md.
//
// Credentials live in this page's memory only.  Every fetch sends its own Authorization
// header with credentials:'omit', so the browser neither caches Basic credentials for the
// API nor pops up its login dialog on a 401: the page shows the envelope's statusMessage.
import { CometD, AckExtension } from './vendor/cometd/cometd.js';

const $ = (id) => document.getElementById(id);
const LIVE = new Set(['Invited', 'Processing', 'Composing']);
const TITLE = document.title;

// What the agent reads: plain words for the server's state names, operations and media types.
const STATE_WORDS = {
  Queued: 'Waiting', Invited: 'Offered', Processing: 'Working', Composing: 'Draft',
  InWorkbin: 'In a workbin', Completed: 'Done', Sent: 'Sent', Canceled: 'Discarded',
  Revoked: 'Offer withdrawn',
};
const OP_WORDS = {
  Accept: 'Accepted', Reject: 'Declined', Pull: 'Taken back', Reply: 'Reply started',
  ReplyAll: 'Reply to all started', Complete: 'Done', UpdateUserData: 'User data saved',
  DeleteUserData: 'User data removed', PlaceInWorkbin: 'Put in a workbin',
  PlaceInQueue: 'Put back in a queue', Transfer: 'Transferred', Send: 'Sent', Cancel: 'Draft discarded',
};
const MEDIA_WORDS = { email: 'Email', chat: 'Chat', voice: 'Voice', sms: 'SMS', workitem: 'Work item' };
const stateWords = (s) => STATE_WORDS[s] || s;
const mediaWords = (m) => MEDIA_WORDS[m] || m;
// How often GET /me is read again for the channels' states: often while the push channel does
// not carry them (a server without /v2/me/channels), rarely as a safety net when it does.
const ME_POLL_MS = 10000;
const ME_POLL_PUSHED_MS = 60000;

const session = {
  base: '', auth: '', me: null, cometd: null,
  items: new Map(),      // id -> the latest interaction object heard of (push, lists, answers)
  selected: null,        // id shown in the detail panel
  draftLoaded: null,     // id whose draft fields were filled from GET /interactions/{id}
  workbins: [], openWorkbin: null, busy: false,
  fullLoaded: new Set(), // ids whose single resource (with cc and body) was read
  announced: new Set(),  // offers the agent was alerted to (title, sound, notification)
  channelsShown: '',     // what the channel list was drawn from, to redraw only on change
  missed: new Set(),     // channels the page saw put Not ready for missed offers
  audio: null, clock: null, mePoll: null, meTimer: null, channelPush: false,
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
  $('who').textContent = me.user.userName;
  session.me.notReadyReasons = me.user.notReadyReasons || [];
  renderChannels();
  renderMine();
  renderDetail();
  startPush();
  session.clock = setInterval(tick, 1000);
  session.mePoll = setInterval(() => { if (!session.channelPush) refreshMe(0); }, ME_POLL_MS);
  session.mePollPushed = setInterval(() => refreshMe(0), ME_POLL_PUSHED_MS);
  await loadWorkbins();
  $('channels-title').focus();
}

function logout() {
  if (session.cometd) session.cometd.disconnect();
  clearInterval(session.clock);
  clearInterval(session.mePoll);
  clearInterval(session.mePollPushed);
  session.channelPush = false;
  clearTimeout(session.meTimer);
  session.fullLoaded.clear();
  session.announced.clear();
  session.missed.clear();
  session.channelsShown = '';
  $('offer-banner').hidden = true;
  document.title = TITLE;
  Object.assign(session, { base: '', auth: '', me: null, cometd: null, selected: null, draftLoaded: null,
    workbins: [], openWorkbin: null });
  session.items.clear();
  for (const id of ['desk-view', 'logout', 'who', 'push-state', 'workbin-content', 'offer-banner']) $(id).hidden = true;
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
    // the channels' states as they change (by the agent, a wrap-up, missed offers, a
    // supervisor); a server without this channel refuses it and the page reads GET /me instead
    cometd.subscribe('/v2/me/channels', onPush, (sub) => {
      session.channelPush = Boolean(sub.successful);
      if (sub.successful) refreshMe(0);   // what changed before the subscription
    });
  });
  session.cometd = cometd;
}

function onPush(message) {
  if (session.cometd === null) return;
  const d = message.data || {};
  if (d.messageType === 'InteractionStateMessage' && d.interaction) {
    const i = d.interaction;
    logEvent(`${i.subject || 'An interaction'}: ${stateWords(i.state)}${i.assignedTo && i.state !== 'Revoked' ? `, ${i.assignedTo}` : ''}`);
    upsert(i);
    if (d.notificationType === 'StatusChange') {
      refreshWorkbins();
      // an offer that ran out, work that ended: the channel's state may have changed with it
      if (!session.channelPush) refreshMe(300);
    }
  } else if (d.messageType === 'ChannelStateChangeMessage' && Array.isArray(d.channels) && session.me) {
    const byName = new Map(session.me.channels.map((c) => [c.channel, c]));
    for (const c of d.channels) byName.set(c.channel, { ...byName.get(c.channel), ...c });
    applyMe({ ...session.me, channels: [...byName.values()] });
  } else if (d.messageType === 'WorkbinContentMessage' && d.workbin) {
    logEvent(`Workbin ${d.workbin.name} changed`);
  }
}

// ------------------------------------------------------------------ the interactions we know

function upsert(i) {
  const known = session.items.get(i.id);
  if (known && known.updatedDate > i.updatedDate) return;   // an older picture arrived late
  // cc and body come only with the single resource; keep them when a list copy arrives
  session.items.set(i.id, known && 'body' in known && !('body' in i) ? { ...i, cc: known.cc, body: known.body } : i);
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
  s.textContent = stateWords(state);
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
  subject.textContent = i.subject || `(${mediaWords(i.mediaType)}, no subject)`;
  const meta = document.createElement('span');
  meta.className = 'meta';
  meta.textContent = `${i.from || 'unknown sender'} · ${i.queue || ''} `;
  b.append(subject, meta, stateBadge(i.state));
  if (isOffer(i)) {
    const clock = document.createElement('span');
    clock.className = 'meta offer-age';
    clock.dataset.offered = i.updatedDate;
    clock.textContent = offerAge(i.updatedDate);
    b.append(' ', clock);
  }
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
  renderOffers(mine.filter(isOffer));
}

// ------------------------------------------------------------------ offers: impossible to miss

function isOffer(i) {
  return i.state === 'Invited' && i.assignedTo === session.me?.userName;
}

/** "m:ss" (or "h:mm:ss") of a duration in milliseconds; never negative. */
function fmtDuration(ms) {
  const t = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(t / 3600);
  const m = Math.floor((t % 3600) / 60);
  const sec = String(t % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

// The server does not tell an agent when an offer runs out (the queue's offer timeout is
// the administrator's setting), so the page shows how long the offer has been waiting.
function offerAge(offered) {
  return `waiting for you ${fmtDuration(Date.now() - Date.parse(offered))}`;
}

/** The title badge and the banner follow the offers; each new offer rings and notifies once. */
function renderOffers(offers) {
  document.title = offers.length ? `(${offers.length}) New offer — ${TITLE}` : TITLE;
  const banner = $('offer-banner');
  banner.hidden = offers.length === 0;
  const ids = new Set(offers.map((i) => i.id));
  for (const id of [...session.announced]) if (!ids.has(id)) session.announced.delete(id);
  if (!offers.length) return;
  const first = offers[0];
  const text = `${offers.length === 1 ? 'New' : `${offers.length} new`} ${mediaWords(first.mediaType).toLowerCase()} offered to you: ${first.subject || 'no subject'}. Accept or decline it.`;
  if ($('offer-text').textContent !== text) $('offer-text').textContent = text;
  $('offer-clock').dataset.offered = first.updatedDate;
  $('offer-clock').textContent = offerAge(first.updatedDate);
  banner.dataset.id = first.id;
  for (const i of offers) {
    if (session.announced.has(i.id)) continue;
    session.announced.add(i.id);
    chime();
    notify(`New ${mediaWords(i.mediaType).toLowerCase()} offered`, i.subject || 'no subject', i.id);
  }
}

/** A short two-tone chime (Web Audio: no sound file to serve or to allow in the CSP). */
function chime() {
  try {
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    session.audio = session.audio || new Ctx();
    const ctx = session.audio;
    if (ctx.state === 'suspended') ctx.resume().catch(() => {});
    [880, 660].forEach((hz, n) => {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = hz;
      const t = ctx.currentTime + n * 0.18;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.25, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.16);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.17);
    });
  } catch { /* no audio on this machine: the title and the banner still show it */ }
}

/** A browser notification, where the agent allowed them; clicking it shows the interaction. */
function notify(title, body, id) {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body, tag: id || title });
    n.onclick = () => { window.focus(); if (id && session.items.has(id)) select(id, true); };
  } catch { /* some browsers allow notifications only from a service worker */ }
}

/** Once a second: offer ages, time in state, wrap-up countdowns. */
function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll('[data-offered]')) el.textContent = offerAge(el.dataset.offered);
  for (const el of document.querySelectorAll('[data-since]')) el.textContent = `for ${fmtDuration(now - Date.parse(el.dataset.since))}`;
  for (const el of document.querySelectorAll('[data-until]')) {
    const left = Date.parse(el.dataset.until) - now;
    el.textContent = `Ready again in ${fmtDuration(left)}`;
    // the server ends the wrap-up by itself: read the new state soon after it should have
    if (left < -1000 && !el.dataset.asked && !session.channelPush) { el.dataset.asked = 'true'; refreshMe(0); }
  }
}

// ------------------------------------------------------------------ my channels and their states

/** Read GET /me again after @delay ms (several calls in a row make one read). */
function refreshMe(delay) {
  clearTimeout(session.meTimer);
  session.meTimer = setTimeout(async () => {
    if (!session.me) return;
    try {
      const me = await api('GET', '/me');
      if (session.me) applyMe(me.user);
    } catch (e) {
      if (e.status === 401 || e.status === 403) showError(e);
    }
  }, delay);
}

function applyMe(user) {
  const reasons = user.notReadyReasons || session.me.notReadyReasons || [];
  session.me = { ...user, notReadyReasons: reasons };
  renderChannels();
}

function missedOffers(c) {
  return c.userState.state === 'NotReady' && c.userState.reason === 'MissedOffers';
}

function renderChannels() {
  const shown = JSON.stringify([session.me.channels, session.me.notReadyReasons]);
  if (shown === session.channelsShown) return;   // unchanged: keep the agent's menu choice and focus
  session.channelsShown = shown;
  for (const c of session.me.channels) {
    if (missedOffers(c) && !session.missed.has(c.channel)) {
      session.missed.add(c.channel);
      logEvent(`${mediaWords(c.channel)}: set to Not ready because offers went unanswered`);
      notify('You were set to Not ready', `Offers on ${mediaWords(c.channel).toLowerCase()} went unanswered.`, null);
    } else if (!missedOffers(c)) {
      session.missed.delete(c.channel);
    }
  }
  const focused = document.activeElement?.id;
  const list = $('channel-list');
  list.replaceChildren(...session.me.channels.map((c) => {
    const us = c.userState;
    const name = mediaWords(c.channel);
    const li = document.createElement('li');
    li.dataset.channel = c.channel;
    const media = document.createElement('span');
    media.className = 'media';
    media.textContent = name;
    const state = document.createElement('span');
    // the server's plain words for the state ("Not ready", "Out to lunch", "After call work"...)
    state.textContent = us.displayName || (us.state === 'Ready' ? 'Ready' : 'Not ready');
    state.className = `state channel-state ${us.state === 'Ready' ? 'state-Processing' : 'state-Completed'}`;
    const clock = document.createElement('span');
    clock.className = 'meta channel-clock';
    if (us.state === 'AfterCallWork' && us.until) clock.dataset.until = us.until;
    else if (us.since) clock.dataset.since = us.since;
    const ready = document.createElement('button');
    ready.type = 'button';
    ready.id = `ready-${c.channel}`;
    ready.textContent = 'Ready';
    ready.setAttribute('aria-label', `Ready (${name})`);
    ready.setAttribute('aria-pressed', String(us.state === 'Ready'));
    ready.disabled = us.state === 'Ready';
    ready.addEventListener('click', () => act(() => setChannel(c.channel, 'Ready')));
    // the state menu: Not ready with each reason the contact center provisioned, After call work
    const menu = document.createElement('select');
    menu.id = `state-menu-${c.channel}`;
    menu.setAttribute('aria-label', `Choose a state (${name})`);
    const opts = [['NotReady', 'Not ready'],
      ...session.me.notReadyReasons.map((r) => [`NotReady:${r.name}`, `Not ready: ${r.displayName || r.name}`]),
      ['AfterCallWork', 'After call work']];
    menu.replaceChildren(...opts.map(([v, t]) => new Option(t, v)));
    const current = us.state === 'NotReady' && us.reason ? `NotReady:${us.reason}` : us.state;
    if (opts.some(([v]) => v === current)) menu.value = current;
    const set = document.createElement('button');
    set.type = 'button';
    set.id = `state-set-${c.channel}`;
    set.textContent = 'Change';
    set.setAttribute('aria-label', `Change state (${name})`);
    set.addEventListener('click', () => act(() => {
      const [op, reason] = menu.value.split(':');
      return setChannel(c.channel, op, reason);
    }));
    li.append(media, state, clock, ready, menu, set);
    if (missedOffers(c)) {
      const note = document.createElement('p');
      note.className = 'notice missed';
      note.setAttribute('role', 'alert');
      note.textContent = `You were set to Not ready on ${name.toLowerCase()} because offers to you went unanswered. Choose Ready when you are back.`;
      li.append(note);
    }
    return li;
  }));
  tick();
  if (focused && $(focused) && list.contains($(focused))) $(focused).focus();
}

async function setChannel(media, op, reason) {
  const r = await api('POST', `/me/channels/${encodeURIComponent(media)}`,
    reason ? { operationName: op, reason } : { operationName: op });
  applyMe(r.user);
  const c = r.user.channels.find((x) => x.channel === media);
  logEvent(`${mediaWords(media)}: ${c ? c.userState.displayName : op}`);
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
    ['Cc', (i.cc || []).join(', ')],
    ['Queue', i.queue], ['Workbin', i.workbin], ['Assigned to', i.assignedTo], ['Channel', mediaWords(i.mediaType)],
    ['Received', i.receivedDate && new Date(i.receivedDate).toLocaleString()], ['Priority', i.priority],
  ];
  const parent = i.parentId && session.items.get(i.parentId);
  if (parent) props.push(['In reply to', parent.subject || `(${mediaWords(parent.mediaType)}, no subject)`]);
  if (isOffer(i)) props.push(['Offered', offerAge(i.updatedDate)]);
  $('detail-props').replaceChildren(...props.flatMap(([k, v]) => {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    if (k === 'State') dd.append(stateBadge(v)); else dd.textContent = v === null || v === undefined || v === '' ? '—' : String(v);
    if (k === 'Offered') dd.dataset.offered = i.updatedDate;
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

  // the message itself (the customer's mail): as text, with its line breaks; a draft's is in
  // the editor instead
  const text = !draft && typeof i.body === 'string' ? i.body : '';
  $('detail-message').hidden = text === '';
  if ($('message-body').textContent !== text) $('message-body').textContent = text;
  if (!('body' in i) && !draft && !session.fullLoaded.has(i.id)) loadFull(i.id);
}

/** Read the single resource once per interaction: only it carries cc and body. */
async function loadFull(id) {
  session.fullLoaded.add(id);
  try {
    upsert((await api('GET', `/interactions/${id}`)).interaction);
  } catch (e) {
    // no longer the agent's to read (taken by a colleague, finished): the list copy stays
    if (e.status !== 403 && e.status !== 404) showError(e);
  }
}

/** The original message, quoted below the reply: "On <date>, <sender> wrote:" and "> " lines. */
function quote(original) {
  const when = original.receivedDate ? new Date(original.receivedDate).toLocaleString() : '';
  const who = original.from || 'the sender';
  const lines = String(original.body || '').split(/\r?\n/).map((l) => (l ? `> ${l}` : '>'));
  return `\n\n${when ? `On ${when}, ` : ''}${who} wrote:\n${lines.join('\n')}\n`;
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
    let body = d.body || '';
    if (!body && d.parentId) {
      // a new reply: quote the message it answers (kept as the editor shows it when sent)
      const original = (await api('GET', `/interactions/${d.parentId}`)).interaction;
      if (session.selected !== id) return;
      if (original.body) body = quote(original);
      upsert(original);
    }
    $('draft-body').value = body;
    $('draft-body').setSelectionRange(0, 0);
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
  logEvent(`${OP_WORDS[operationName] || operationName}: ${r.interaction?.subject || 'the interaction'}`);
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
    // asked while the click still counts as the agent's own gesture; the answer is theirs to give
    if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission().catch(() => {});
    act(() => login($('login-user').value, $('login-password').value, $('login-base').value));
  });
  $('logout').addEventListener('click', logout);
  $('offer-open').addEventListener('click', () => {
    const id = $('offer-banner').dataset.id;
    if (id && session.items.has(id)) select(id, true);
  });
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
