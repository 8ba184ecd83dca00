import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { wrongCode } from '../helpers/authenticator.js';
import { addMember, agencyTree, requireForSubs } from '../helpers/policy.js';
import { axeViolations } from './axe.js';
import { MOBILE, cspViolations, createMember, launchBrowser, oathtoolCode, openPage, signInWithPassword } from './browser.js';

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

interface Shown {
  secret: string;
  qr: string;
}

async function shownEnrolment(page: Page): Promise<Shown> {
  await page.getByRole('heading', { name: 'Add an authenticator app' }).waitFor();
  return { secret: (await page.getByTestId('totp-secret').textContent())!.replace(/\s+/g, ''), qr: await page.locator('.qr').innerHTML() };
}

/** A wrong code, then the right one from the same key: the page must still show that key and QR code, with the error at the field. */
async function wrongThenRight(page: Page, nowMs: number): Promise<void> {
  const first = await shownEnrolment(page);
  await page.getByLabel('Enter the code your app shows now').fill(wrongCode(first.secret, nowMs));
  await page.getByRole('button', { name: /^Turn on/ }).click();
  await page.locator('#code-error').waitFor();
  assert.match((await page.locator('#code-error').textContent()) ?? '', /not correct/);
  assert.equal(await page.getByLabel('Enter the code your app shows now').getAttribute('aria-describedby'), 'code-error');
  assert.deepEqual(await shownEnrolment(page), first, 'same key and same QR code after the wrong code');
  assert.deepEqual(await axeViolations(page), []);
  await page.getByLabel('Enter the code your app shows now').fill(oathtoolCode(first.secret, nowMs));
  await page.getByRole('button', { name: /^Turn on/ }).click();
  await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
}

test('a wrong code while adding an authenticator keeps the same key and QR code, on the Security page and in forced enrolment', async (t) => {
  // Security page, on a phone: the key has a copy button and an otpauth:// link opens the app.
  const tree = await agencyTree(t);
  const email = await createMember(tree.server, 'ada@keeps-place.test');
  const phone = await openPage(browser, tree.server.url, MOBILE);
  try {
    await signInWithPassword(phone.page, email);
    await phone.page.waitForURL('**/account');
    await phone.page.goto('/account/security');
    await phone.page.getByRole('button', { name: 'Add authenticator app' }).click();
    const shown = await shownEnrolment(phone.page);
    await phone.page.getByRole('button', { name: 'Copy key' }).waitFor();
    const open = phone.page.getByRole('link', { name: 'Open in your authenticator app' });
    assert.ok(await open.isVisible(), 'the app link shows on a phone');
    assert.match((await open.getAttribute('href')) ?? '', new RegExp(`^otpauth://totp/.*secret=${shown.secret}`));
    await wrongThenRight(phone.page, tree.clock.now());
    assert.deepEqual(cspViolations(phone.problems), []);
  } finally {
    await phone.context.close();
  }

  // Forced enrolment at sign-in: the same behaviour.
  await requireForSubs(tree);
  const member = await addMember(tree.server, tree.clientOrgId);
  const desk = await openPage(browser, tree.server.url);
  try {
    await signInWithPassword(desk.page, member.email);
    await desk.page.waitForURL('**/sign-in/enrol');
    await desk.page.getByRole('button', { name: 'Use an authenticator app' }).click();
    assert.equal(await desk.page.getByRole('link', { name: 'Open in your authenticator app' }).isVisible(), false, 'no app link on a desktop');
    await wrongThenRight(desk.page, tree.clock.now());
  } finally {
    await desk.context.close();
  }
});
