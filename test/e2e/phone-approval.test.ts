import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail } from '../delivery/peers.js';
import { signedInClient } from '../helpers/authenticator.js';
import { namedMember, sharedMailWorldAndBrowser } from '../helpers/browser-world.js';
import { TestClock } from '../helpers/clock.js';
import { eventually } from '../helpers/delivery.js';
import { axeViolations } from './axe.js';
import type { WatchedPage } from './browser.js';
import { MOBILE, cspViolations, openPage, screenshot, signInWithPassword } from './browser.js';

// One server (on a clock the tests move), one SMTP server and one Chromium for the file; each test has its own person and phone.
const clock = new TestClock();
const shared = sharedMailWorldAndBrowser({ clock });

/** The phone context opens the pairing link in the approver app and pairs under `name`. */
async function pairPhone(phone: WatchedPage, link: string, name: string): Promise<void> {
  await phone.page.goto(link);
  await phone.page.getByLabel('Name this phone').fill(name);
  await phone.page.getByRole('button', { name: 'Pair this phone' }).click();
  await phone.page.getByText(`This phone is paired as “${name}”`).waitFor();
}

/** The laptop context signs in with the password, chooses the phone, and reads the number it shows. */
async function laptopAsks(laptop: WatchedPage, email: string, phoneName: string): Promise<string> {
  await signInWithPassword(laptop.page, email);
  await laptop.page.waitForURL('**/sign-in/second-factor');
  await laptop.page.getByRole('button', { name: `Approve on ${phoneName}` }).click();
  const number = (await laptop.page.getByTestId('approval-number').textContent())?.trim() ?? '';
  assert.match(number, /^\d{2}$/);
  return number;
}

/** A person paired (through the API, as the Security page does it) with a phone context; the laptop waits at the number. */
async function personWithPhone(who: string) {
  const email = await namedMember(shared.world, who);
  const link = (await (await signedInClient(shared.world.server, email)).post('/api/v1/approvers/pairings')).json?.url as string;
  const phone = await openPage(shared.browser, shared.world.server.url, MOBILE);
  const laptop = await openPage(shared.browser, shared.world.server.url);
  await pairPhone(phone, link, 'Pixel 8');
  const number = await laptopAsks(laptop, email, 'Pixel 8');
  // The phone's own pending list shows the request (no push service here).
  await phone.page.getByRole('button', { name: /^Number \d{2}$/ }).first().waitFor({ timeout: 10_000 });
  return { email, phone, laptop, number, close: () => Promise.all([phone.context.close(), laptop.context.close()]) };
}

/** The security notices mailed to `to` whose subject matches. */
function mailsTo(smtp: SmtpPeer, to: string, subject: RegExp): Array<{ subject: string; text: string }> {
  return smtp.received
    .filter((m) => m.rcptTo.includes(to))
    .map((m) => parseMail(m.raw))
    .map((p) => ({ subject: p.headers.get('subject') ?? '', text: p.text ?? '' }))
    .filter((m) => subject.test(m.subject));
}

async function hasSession(page: WatchedPage): Promise<boolean> {
  return (await page.context.cookies()).some((c) => c.name === 'twofold_session');
}

test('a phone pairs through the QR link, the laptop signs in with "Approve on Pixel 8", the phone picks the number shown, and the laptop is signed in', async () => {
  const { world, browser } = shared;
  const email = await namedMember(world, 'Ada Lovelace');
  // The laptop, signed in with the password alone, adds a phone on its Security page.
  const setup = await openPage(browser, world.server.url);
  const phone = await openPage(browser, world.server.url, MOBILE);
  const laptop = await openPage(browser, world.server.url);
  try {
    await signInWithPassword(setup.page, email);
    await setup.page.waitForURL('**/account');
    await setup.page.goto('/account/security');
    await setup.page.getByRole('link', { name: 'Phones for approvals' }).click();
    await setup.page.getByRole('button', { name: 'Add a phone for approvals' }).click();
    const link = await setup.page.getByTestId('pairing-link').getAttribute('href');
    assert.ok(link && /\/approver\/#pair=[\w-]+$/.test(link), String(link));
    assert.equal(await setup.page.getByRole('img', { name: 'QR code of the pairing link' }).count(), 1);
    assert.deepEqual(await axeViolations(setup.page), []);
    await screenshot(setup.page, 'approvers-pairing-1280');

    // The phone opens the link: its app makes a key, registers it and lists requests.
    await pairPhone(phone, link, 'Pixel 8');
    assert.equal(await phone.page.locator('link[rel=manifest]').count(), 1);
    assert.equal(new URL(phone.page.url()).hash, '', 'the pairing token leaves the address bar');
    assert.deepEqual(await axeViolations(phone.page), []);

    // The laptop signs in: the second step offers the phone.
    const number = await laptopAsks(laptop, email, 'Pixel 8');
    assert.deepEqual(await axeViolations(laptop.page), []);
    await screenshot(laptop.page, 'approval-number-1280');

    // The phone lists the request (its own pending list: no push service in the test) and picks the number.
    const pick = phone.page.getByRole('button', { name: `Number ${number}` });
    await pick.waitFor({ timeout: 10_000 });
    assert.equal(await phone.page.getByRole('button', { name: /^Number \d{2}$/ }).count(), 3);
    await screenshot(phone.page, 'approver-request-390');
    assert.deepEqual(await axeViolations(phone.page), []);
    await pick.click();
    await phone.page.getByText('Approved.').waitFor();

    // The laptop learns it without a reload and lands signed in.
    await laptop.page.waitForURL('**/account', { timeout: 10_000 });
    const record = await world.server.runtime.database.db.selectFrom('audit_events').select('details').where('event_type', '=', 'sign_in.succeeded').orderBy('id', 'desc').executeTakeFirstOrThrow();
    const details = JSON.parse(record.details) as { amr: string[]; approvedOn: string };
    assert.deepEqual([...details.amr].sort(), ['mfa', 'pwd', 'swk']);
    assert.equal(details.approvedOn, 'Pixel 8');
    for (const p of [setup, phone, laptop]) assert.deepEqual(cspViolations(p.problems), []);
  } finally {
    await Promise.all([setup.context.close(), phone.context.close(), laptop.context.close()]);
  }
});

test('a wrong number on the phone denies the request: the laptop says so without a reload, stays signed out, and the owner is emailed', async () => {
  const { email, phone, laptop, number, close } = await personWithPhone('Grace Hopper');
  try {
    const wrong = phone.page.getByRole('button', { name: /^Number \d{2}$/ }).filter({ hasNotText: new RegExp(`^${number}$`) }).first();
    await wrong.click();
    await phone.page.getByText('That was not the number on the screen, so the request was denied.').waitFor();

    await laptop.page.getByText('The request was denied on your phone.').waitFor({ timeout: 10_000 });
    assert.match(new URL(laptop.page.url()).pathname, /^\/sign-in\/second-factor/);
    assert.equal(await hasSession(laptop), false);
    const mail = await eventually(() => mailsTo(shared.smtp, email, /the wrong number was picked/)[0], 'the wrong-number alert');
    assert.match(mail.text, /Phone: Pixel 8/);
    assert.deepEqual(await axeViolations(laptop.page), []);
    for (const p of [phone, laptop]) assert.deepEqual(cspViolations(p.problems), []);
  } finally {
    await close();
  }
});

test('"This wasn\'t me" on the phone ends the sign-in: the laptop is told it has ended and cannot go on, and the owner is emailed where it came from', async () => {
  const { email, phone, laptop, close } = await personWithPhone('Katherine Johnson');
  try {
    await phone.page.getByRole('button', { name: "This wasn't me" }).click();
    await phone.page.getByText('Reported. The sign-in was stopped and your account owner was emailed.').waitFor();

    await laptop.page.getByText('This sign-in has ended. Sign in again.').waitFor({ timeout: 10_000 });
    // The page's own button (the fallback) cannot complete the ended sign-in either.
    await laptop.page.getByRole('button', { name: 'I approved it on my phone' }).click();
    await laptop.page.getByText('Your sign-in expired. Please sign in again.').waitFor();
    await laptop.page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await hasSession(laptop), false);

    const mail = await eventually(() => mailsTo(shared.smtp, email, /You reported a sign-in request that was not you/)[0], "the owner's email");
    assert.match(mail.text, /Requesting IP address: 127\.0\.0\.1/);
    assert.match(mail.text, /Phone: Pixel 8/);
    assert.ok(mail.text.includes('/account/security/devices'), mail.text);
    for (const p of [phone, laptop]) assert.deepEqual(cspViolations(p.problems), []);
  } finally {
    await close();
  }
});

test('a request answered after its minute is refused on the phone, and the laptop says it expired', async () => {
  const { email, phone, laptop, number, close } = await personWithPhone('Mary Jackson');
  try {
    // Keep the phone's list as it is now (its refresh would drop the expired request), then let the minute pass on the server.
    await phone.page.route('**/api/v1/approver/pending', (route) => route.abort());
    await phone.page.waitForTimeout(300);
    const pick = phone.page.getByRole('button', { name: `Number ${number}` });
    await pick.waitFor();
    clock.advance(61_000);
    await pick.click();
    await phone.page.getByText('This request has expired.').waitFor();

    await laptop.page.getByText('The request expired. Choose your phone again or use another method.').waitFor({ timeout: 10_000 });
    assert.equal(await hasSession(laptop), false);
    const db = shared.world.server.runtime.database.db;
    const rows = await db.selectFrom('approval_requests').innerJoin('users', 'users.id', 'approval_requests.user_id').select('approval_requests.state').where('users.email', '=', email).execute();
    assert.deepEqual(rows.map((r) => r.state), ['pending'], 'nothing was decided: the request simply ran out');
  } finally {
    await close();
  }
});
