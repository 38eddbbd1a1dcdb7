// The agent desktop (desktop/, served at /desktop) end to end in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core): agent1 logs in, goes Ready, receives an
// interaction the feeder creates through the API (over CometD), accepts it, edits its user
// data, places it in a workbin, pulls it, transfers it to agent2 — who accepts it in a second
// browser, replies and sends, and completes it — checking the page at each step and the
// database behind it.  It also follows the agent's day: the customer's message and cc, the
// quoted original in a reply, offers that cannot be missed (title badge, sound, browser
// notification, how long the offer has waited), the state menu with the contact center's
// reasons and the time in state, the wrap-up countdown, and Not ready for missed offers.
// Screenshots go to the run directory (and to docs/desktop.png with
// MI_UPDATE_DOCS_SCREENSHOT=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { api, ok, db, env, freshContactCenter, watchErrorLog, eventually, basePath } from '../lib/harness.mjs';
import { row } from '../lib/flows.mjs';

const cc = 't16';
watchErrorLog([/AH01617: user agent1: authentication failure for "\/t16\/api\/v2\/me": Password Mismatch/]);

const runDir = path.join(env.varDir, 'desktop-e2e');
const desktopUrl = `${env.base}/desktop/`;
const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let ccId;
const browsers = [];
const pageErrors = [];

/** A browser of its own (a fresh --user-data-dir under the run directory) with one page. */
async function openBrowser(name) {
  const profile = path.join(runDir, `${name}-profile`);
  fs.rmSync(profile, { recursive: true, force: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: chromiumArgs,
    viewport: { width: 1280, height: 1000 }, timeout: 60000,
  });
  browsers.push(context);
  // what the page asks of the browser, observed: each notification shown, each tone played
  await context.addInitScript(() => {
    window.testNotes = [];
    window.testTones = 0;
    window.Notification = class {
      static permission = 'granted';
      static requestPermission() { return Promise.resolve('granted'); }
      constructor(title, options) { window.testNotes.push({ title, body: options?.body }); }
    };
    const proto = window.AudioContext?.prototype;
    if (proto) {
      const make = proto.createOscillator;
      proto.createOscillator = function createOscillator() { window.testTones += 1; return make.call(this); };
    }
  });
  const page = context.pages()[0] || await context.newPage();
  page.setDefaultTimeout(20000);
  page.on('pageerror', (e) => pageErrors.push(`${name}: ${e.message}`));
  page.on('console', (m) => {
    // the failed requests this test provokes: the wrong password (401), the refused transfer (400)
    if (m.type() === 'error' && !/status of 40[01] /.test(m.text())) pageErrors.push(`${name} console: ${m.text()}`);
  });
  return page;
}

async function login(page, user, password = 'password') {
  await page.goto(desktopUrl);
  await page.locator('#login-user').fill(user);
  await page.locator('#login-password').fill(password);
  await page.locator('#login-base').fill(basePath(cc));
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function loggedIn(page) {
  await page.locator('#push-state[data-subscribed="true"]').waitFor();
  // the answer to the first /meta/connect may arrive after the subscription and the first
  // read of the agent's interactions: wait for it rather than expect it to be there
  await page.locator('#push-state', { hasText: /^Live updates: on$/ }).waitFor();
}

/** Click a control that runs an action, and wait until the page has finished it: the push
 *  message of a change can reach the page before the operation's own answer, and the page
 *  runs one action at a time. */
async function press(page, locator) {
  await locator.click();
  await page.locator('body:not([aria-busy])').waitFor();
}

const mineRow = (page, subject) => page.locator('#mine-list button.item', { hasText: subject });
const detailState = (page) => page.locator('#detail-props dd[data-prop="State"]');
const detailButton = (page, name) => page.locator('#detail-body').getByRole('button', { name, exact: true });

// the desktop's plain words for the server's states
const WORDS = { Invited: 'Offered', Processing: 'Working', Composing: 'Draft', InWorkbin: 'In a workbin',
  Completed: 'Done', Sent: 'Sent' };

/** Wait until the detail panel shows @state. */
async function detailShows(page, state) {
  await page.locator('#detail-props dd[data-prop="State"]', { hasText: new RegExp(`^${WORDS[state]}$`) }).waitFor();
}

const channelRow = (page, media) => page.locator(`#channel-list li[data-channel="${media}"]`);
const channelState = (page, media) => channelRow(page, media).locator('.channel-state');
const channelClock = (page, media) => channelRow(page, media).locator('.channel-clock');

async function enabled(page, names, on = true) {
  for (const name of names) {
    assert.equal(await detailButton(page, name).isEnabled(), on, `${name} should be ${on ? 'enabled' : 'disabled'}`);
  }
}

async function screenshot(page, name) {
  const file = path.join(runDir, name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

before(async () => {
  ccId = await freshContactCenter(cc);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Lunch', 'Out to lunch')`, [cc]);
  await db.query(`SELECT interactions.create_not_ready_reason($1, 'Coaching', 'In coaching')`, [cc]);
  // a wrap-up long enough to be seen counting down, short enough to be seen ending
  await db.query(`SELECT interactions.set_queue_policy($1, 'support', $2)`, [cc, JSON.stringify({ wrap_up: 8 })]);
  fs.mkdirSync(runDir, { recursive: true });
});

after(async () => {
  for (const b of browsers) await b.close().catch(() => {});
});

test('the vendored CometD client is the npm package the lock pins, byte for byte', () => {
  const vendor = path.join(env.top, 'desktop/vendor/cometd');
  const pkg = path.join(env.top, 'tests/node_modules/cometd');
  const lock = JSON.parse(fs.readFileSync(path.join(env.top, 'tests/package-lock.json'), 'utf8'));
  const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  assert.equal(lock.packages['node_modules/cometd'].version, version);
  const files = fs.readdirSync(vendor).filter((f) => f !== 'VENDOR.md');
  for (const f of fs.readdirSync(pkg).filter((x) => x.endsWith('.js'))) assert.ok(files.includes(f), `${f} is vendored`);
  for (const f of files) {
    assert.ok(fs.readFileSync(path.join(vendor, f)).equals(fs.readFileSync(path.join(pkg, f))), `${f} differs from cometd ${version}`);
  }
});

test('httpd serves the desktop and its modules', async () => {
  for (const [p, type] of [['', 'text/html'], ['desktop.js', 'text/javascript'], ['desktop.css', 'text/css'],
    ['vendor/cometd/cometd.js', 'text/javascript'], ['vendor/cometd/Client.js', 'text/javascript']]) {
    const res = await fetch(desktopUrl + p);
    assert.equal(res.status, 200, p);
    assert.match(res.headers.get('content-type'), new RegExp(`^${type}`), p);
    assert.ok((await res.text()).length > 100, p);   // read: an unread body holds its connection open
  }
});

test('an agent works an interaction from offer to transfer; a second agent takes it over and completes it', async () => {
  const a = await openBrowser('agent1');

  // a wrong password: the envelope's statusMessage, and no way in
  await login(a, 'agent1', 'wrong');
  await a.getByRole('alert').filter({ hasText: 'not authenticated' }).waitFor();
  assert.equal(await a.locator('#desk-view').isHidden(), true);
  // the right one
  await a.locator('#login-password').fill('password');
  await press(a, a.getByRole('button', { name: 'Log in' }));
  await loggedIn(a);
  assert.equal(await a.locator('#error').isHidden(), true, 'the error went away');
  assert.equal(await a.locator('#who').textContent(), 'agent1');
  assert.equal(await a.locator('#login-view').isHidden(), true);

  // the state menu: Not ready, each provisioned reason in its plain words, After call work
  assert.deepEqual(await a.locator('#state-menu-email option').allTextContents(),
    ['Not ready', 'Not ready: In coaching', 'Not ready: Out to lunch', 'After call work']);
  await a.locator('#state-menu-email').selectOption({ label: 'Not ready: Out to lunch' });
  await press(a, a.getByRole('button', { name: 'Change state (Email)', exact: true }));
  await channelState(a, 'email').filter({ hasText: /^Out to lunch$/ }).waitFor();
  assert.match(await channelClock(a, 'email').textContent(), /^for 0:0\d$/);
  assert.deepEqual(await db.one(`SELECT ac.state, ac.reason FROM interactions.agent_channels ac JOIN interactions.users u
      ON u.cc_id = ac.cc_id AND u.id = ac.user_id WHERE ac.cc_id = $1 AND u.login = 'agent1' AND ac.media = 'email'`, [ccId])
    .then((r) => [r.state, r.reason]), ['NotReady', 'Lunch']);
  // the time in state counts on by itself
  await channelClock(a, 'email').filter({ hasText: /^for 0:0[2-9]$/ }).waitFor();

  // Ready on email
  await press(a, a.getByRole('button', { name: 'Ready (Email)', exact: true }));
  await channelState(a, 'email').filter({ hasText: /^Ready$/ }).waitFor();
  assert.equal(await a.getByRole('button', { name: 'Ready (Email)', exact: true }).getAttribute('aria-pressed'), 'true');
  assert.equal(await a.getByRole('button', { name: 'Ready (Email)', exact: true }).isDisabled(), true);
  assert.equal(await db.value(`SELECT state FROM interactions.agent_channels ac JOIN interactions.users u
      ON u.cc_id = ac.cc_id AND u.id = ac.user_id WHERE ac.cc_id = $1 AND u.login = 'agent1' AND ac.media = 'email'`, [ccId]), 'Ready');

  // the feeder creates an interaction: routing offers it to agent1, the page hears it on CometD
  const created = await ok('feeder', 'POST', '/interactions', { cc, body: {
    mediaType: 'email', queueName: 'support', subject: 'Parcel lost', from: 'customer@example.com',
    to: ['support@example.com'], cc: ['claims@example.com'], userData: { orderId: 42 },
    body: 'My parcel never arrived.\nOrder 42, sent on Monday.\n<b>not markup</b>' } });
  const id = created.id;
  await mineRow(a, 'Parcel lost').filter({ hasText: 'Offered' }).waitFor();
  await a.locator('#event-list li', { hasText: 'Parcel lost: Offered, agent1' }).waitFor();
  assert.equal((await row(ccId, id)).invitee, 'agent1');

  // an offer cannot be missed: the title's badge, a banner, a tone, a browser notification,
  // and how long it has been waiting
  await eventually(async () => (await a.title()).startsWith('(1) New offer — '), 10000);
  await a.locator('#offer-text', { hasText: 'New email offered to you: Parcel lost. Accept or decline it.' }).waitFor();
  await a.locator('#offer-clock', { hasText: /^waiting for you 0:0\d$/ }).waitFor();
  assert.ok(await a.evaluate(() => window.testTones) >= 1, 'a tone was played');
  assert.deepEqual(await a.evaluate(() => window.testNotes), [{ title: 'New email offered', body: 'Parcel lost' }]);
  await mineRow(a, 'Parcel lost').locator('.offer-age', { hasText: /^waiting for you 0:\d\d$/ }).waitFor();
  // open it from the banner: the buttons follow its capabilities; the customer's mail is shown
  // as text, with its cc
  await a.getByRole('button', { name: 'Show it' }).click();
  await detailShows(a, 'Invited');
  await a.locator('#message-body', { hasText: 'My parcel never arrived.' }).waitFor();
  assert.equal(await a.locator('#message-body').textContent(), 'My parcel never arrived.\nOrder 42, sent on Monday.\n<b>not markup</b>');
  assert.equal(await a.locator('#message-body b').count(), 0, 'the message is text, never markup');
  assert.equal(await a.locator('#detail-props dd[data-prop="Cc"]').textContent(), 'claims@example.com');
  assert.equal(await a.locator('#detail-props dd[data-prop="Channel"]').textContent(), 'Email');
  await enabled(a, ['Accept', 'Reject']);
  await enabled(a, ['Complete', 'Pull', 'Reply'], false);
  assert.equal(await a.locator('#ud-save').isDisabled(), true);

  // accept
  await press(a, detailButton(a, 'Accept'));
  await detailShows(a, 'Processing');
  // the offer is answered: the badge and the banner go
  await eventually(async () => !(await a.title()).startsWith('('), 10000);
  assert.equal(await a.locator('#offer-banner').isHidden(), true);
  await enabled(a, ['Complete', 'Reply', 'Reply all']);
  await enabled(a, ['Accept', 'Reject', 'Pull'], false);
  assert.deepEqual(await row(ccId, id).then((r) => [r.state, r.owner]), ['Processing', 'agent1']);

  // user data: add a key (JSON value), replace one, remove one
  await a.locator('#ud-key').fill('note');
  await a.locator('#ud-value').fill('called back');
  await press(a, a.getByRole('button', { name: 'Save user data' }));
  await a.locator('#userdata tbody th', { hasText: 'note' }).waitFor();
  await a.locator('#ud-key').fill('attempts');
  await a.locator('#ud-value').fill('2');
  await press(a, a.getByRole('button', { name: 'Save user data' }));
  await a.locator('#userdata tbody th', { hasText: 'attempts' }).waitFor();
  await press(a, a.getByRole('button', { name: 'Remove orderId' }));
  await a.locator('#userdata tbody th', { hasText: 'orderId' }).waitFor({ state: 'detached' });
  const ud = (await ok('admin', 'GET', `/interactions/${id}`, { cc })).interaction.userData;
  assert.deepEqual(ud, { note: 'called back', attempts: 2 });
  await screenshot(a, 'desktop-agent1-processing.png');
  if (process.env.MI_UPDATE_DOCS_SCREENSHOT) {
    fs.copyFileSync(path.join(runDir, 'desktop-agent1-processing.png'), path.join(env.top, 'docs/desktop.png'));
  }

  // place it in agent1's personal workbin, then pull it back
  await a.locator('#wb-target').selectOption('drafts');
  await press(a, a.getByRole('button', { name: 'Place in workbin' }));
  await detailShows(a, 'InWorkbin');
  // the queue's wrap-up: the channel is in After call work, counting down to Ready
  await channelState(a, 'email').filter({ hasText: /^After call work$/ }).waitFor();
  await channelClock(a, 'email').filter({ hasText: /^Ready again in 0:0\d$/ }).waitFor();
  await enabled(a, ['Pull']);
  await enabled(a, ['Complete', 'Accept'], false);
  await mineRow(a, 'Parcel lost').waitFor({ state: 'detached' });
  await a.getByRole('button', { name: /^Open workbin drafts, personal, 1 interactions$/ }).waitFor();
  assert.deepEqual(await row(ccId, id).then((r) => [r.state, r.workbin]), ['InWorkbin', 'drafts']);
  await press(a, a.getByRole('button', { name: /^Open workbin drafts/ }));
  await a.locator('#workbin-items button.item', { hasText: 'Parcel lost' }).waitFor();
  await press(a, detailButton(a, 'Pull'));
  await detailShows(a, 'Processing');
  await mineRow(a, 'Parcel lost').filter({ hasText: 'Working' }).waitFor();
  await a.locator('#workbin-items button.item', { hasText: 'Parcel lost' }).waitFor({ state: 'detached' });
  assert.deepEqual(await row(ccId, id).then((r) => [r.state, r.workbin, r.owner]), ['Processing', null, 'agent1']);
  // the wrap-up ends by itself, and the page shows it without being asked
  await channelState(a, 'email').filter({ hasText: /^Ready$/ }).waitFor({ timeout: 30000 });

  // agent2 logs in in a browser of their own
  const b = await openBrowser('agent2');
  await login(b, 'agent2');
  await loggedIn(b);
  assert.equal(await b.locator('#mine-empty').isVisible(), true);

  // a refused transfer shows the server's statusMessage and changes nothing
  await a.locator('#transfer-form input[value=user]').check();
  await a.locator('#transfer-target').fill('nobody');
  await press(a, a.getByRole('button', { name: 'Transfer', exact: true }));
  const refusal = await api('agent1', 'POST', `/me/interactions/${id}`, { cc, body: { operationName: 'Transfer', userId: 'nobody' } });
  assert.equal(refusal.status, 400);
  await a.getByRole('alert').filter({ hasText: refusal.json.statusMessage }).waitFor();
  assert.equal((await row(ccId, id)).state, 'Processing');

  // transfer to agent2: it leaves agent1's list and is offered to agent2 over CometD
  await a.locator('#transfer-target').fill('agent2');
  await press(a, a.getByRole('button', { name: 'Transfer', exact: true }));
  await a.locator('#detail-props dd[data-prop="Assigned to"]', { hasText: 'agent2' }).waitFor();
  await mineRow(a, 'Parcel lost').waitFor({ state: 'detached' });
  await a.locator('#error').waitFor({ state: 'hidden' });   // the refusal's message went away
  await enabled(a, ['Accept', 'Complete', 'Pull'], false);
  assert.deepEqual(await row(ccId, id).then((r) => [r.state, r.invitee]), ['Invited', 'agent2']);

  await mineRow(b, 'Parcel lost').filter({ hasText: 'Offered' }).click();
  await detailShows(b, 'Invited');
  await press(b, detailButton(b, 'Accept'));
  await detailShows(b, 'Processing');
  assert.deepEqual(await row(ccId, id).then((r) => [r.state, r.owner]), ['Processing', 'agent2']);
  // agent1's user data travelled with it
  await b.locator('#userdata tbody th', { hasText: 'note' }).waitFor();

  // agent2 reads the customer's mail too
  await b.locator('#message-body', { hasText: 'My parcel never arrived.' }).waitFor();

  // agent2 replies: the draft opens with the customer as recipient and the mail quoted below;
  // write above the quote and send
  await press(b, detailButton(b, 'Reply'));
  await detailShows(b, 'Composing');
  await eventually(async () => (await b.locator('#draft-to').inputValue()) === 'customer@example.com', 20000);
  assert.equal(await b.locator('#draft-subject').inputValue(), 'Re: Parcel lost');
  await eventually(async () => (await b.locator('#draft-body').inputValue()).includes('> My parcel never arrived.'), 10000);
  const quoted = await b.locator('#draft-body').inputValue();
  assert.match(quoted, /^\n\nOn .+, customer@example\.com wrote:\n> My parcel never arrived\.\n> Order 42, sent on Monday\.\n> <b>not markup<\/b>\n$/);
  assert.equal(await b.locator('#detail-props dd[data-prop="In reply to"]').textContent(), 'Parcel lost');
  await b.locator('#draft-body').fill(`We are sending a new parcel today.${quoted}`);
  await screenshot(b, 'desktop-agent2-reply.png');
  await press(b, detailButton(b, 'Send'));
  await detailShows(b, 'Sent');
  const sent = await db.one(`SELECT state, body, to_addresses FROM interactions.interactions WHERE cc_id = $1 AND parent_id = $2`, [ccId, id]);
  assert.deepEqual([sent.state, sent.body, sent.to_addresses], ['Sent', `We are sending a new parcel today.${quoted}`, ['customer@example.com']]);

  // back to the original, and complete it
  await mineRow(b, 'Parcel lost').click();
  await detailShows(b, 'Processing');
  await press(b, detailButton(b, 'Complete'));
  await detailShows(b, 'Completed');
  await mineRow(b, 'Parcel lost').waitFor({ state: 'detached' });
  await enabled(b, ['Complete', 'Reply'], false);
  assert.equal((await row(ccId, id)).state, 'Completed');
  const ops = await db.query(`SELECT operation FROM interactions.history WHERE cc_id = $1 AND interaction_id = $2 ORDER BY seq`, [ccId, id]);
  assert.deepEqual(ops.map((o) => o.operation).filter((o) => o !== 'Route'),
    ['Create', 'Accept', 'UpdateUserData', 'UpdateUserData', 'DeleteUserData', 'PlaceInWorkbin', 'Pull', 'Transfer', 'Accept', 'Complete']);
  await screenshot(b, 'desktop-agent2-completed.png');

  // logging out ends the push session
  await press(a, a.getByRole('button', { name: 'Log out' }));
  await a.locator('#login-form').waitFor();
  await eventually(async () => Number(await db.value(`SELECT count(*) FROM interactions.push_sessions s
      JOIN interactions.users u ON u.cc_id = s.cc_id AND u.id = s.user_id WHERE s.cc_id = $1 AND u.login = 'agent1'`, [ccId])) === 0, 10000);
  assert.deepEqual(pageErrors, []);
});

test('offers left unanswered: the server puts the channel Not ready, and the page says why', async () => {
  const b = browsers[1] && browsers[1].pages()[0];
  assert.ok(b, 'agent2 is still logged in from the test before');
  await db.query(`SELECT interactions.set_queue_policy($1, 'support', $2)`,
    [cc, JSON.stringify({ offer_timeout: 2, max_no_answer: 1, wrap_up: 0 })]);
  await ok('agent1', 'POST', '/me/channels/email', { cc, body: { operationName: 'NotReady' } });
  await press(b, b.getByRole('button', { name: 'Ready (Email)', exact: true }));
  await channelState(b, 'email').filter({ hasText: /^Ready$/ }).waitFor();
  const notesBefore = (await b.evaluate(() => window.testNotes)).length;
  // the page hears its channels' states on the push channel
  assert.ok(await db.value(`SELECT bool_or('/v2/me/channels' = ANY (s.channels)) FROM interactions.push_sessions s
      JOIN interactions.users u ON u.cc_id = s.cc_id AND u.id = s.user_id WHERE s.cc_id = $1 AND u.login = 'agent2'`, [ccId]),
    'subscribed to /v2/me/channels');

  await ok('feeder', 'POST', '/interactions', { cc, body: {
    mediaType: 'email', queueName: 'support', subject: 'Where is my refund', from: 'other@example.com',
    to: ['support@example.com'], body: 'Still waiting.' } });
  await b.locator('#offer-text', { hasText: 'New email offered to you: Where is my refund.' }).waitFor();
  assert.ok((await b.title()).startsWith('(1) New offer — '));
  // nobody answers: the offer runs out, and with it the agent's readiness
  await channelState(b, 'email').filter({ hasText: /^Missed offers$/ }).waitFor({ timeout: 30000 });
  const notice = channelRow(b, 'email').getByRole('alert');
  assert.equal(await notice.textContent(),
    'You were set to Not ready on email because offers to you went unanswered. Choose Ready when you are back.');
  assert.equal(await b.locator('#offer-banner').isHidden(), true);
  assert.ok(!(await b.title()).startsWith('('));
  await b.locator('#event-list li', { hasText: 'Email: set to Not ready because offers went unanswered' }).waitFor();
  assert.deepEqual((await b.evaluate(() => window.testNotes)).slice(notesBefore).map((n) => n.title),
    ['New email offered', 'You were set to Not ready']);
  const s = await db.one(`SELECT ac.state, ac.reason FROM interactions.agent_channels ac JOIN interactions.users u
      ON u.cc_id = ac.cc_id AND u.id = ac.user_id WHERE ac.cc_id = $1 AND u.login = 'agent2' AND ac.media = 'email'`, [ccId]);
  assert.deepEqual([s.state, s.reason], ['NotReady', 'MissedOffers']);
  await screenshot(b, 'desktop-agent2-missed.png');

  // the agent chooses a state from the menu: the notice goes
  await b.locator('#state-menu-email').selectOption({ label: 'Not ready: In coaching' });
  await press(b, b.getByRole('button', { name: 'Change state (Email)', exact: true }));
  await channelState(b, 'email').filter({ hasText: /^In coaching$/ }).waitFor();
  assert.equal(await channelRow(b, 'email').getByRole('alert').count(), 0);
  assert.equal(await b.locator('#state-menu-email').inputValue(), 'NotReady:Coaching');
  assert.deepEqual(pageErrors, []);
});
