import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { enrolledMember } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { axeViolations } from './axe.js';
import { cspViolations, launchBrowser, oathtoolCode, openPage, signInWithPassword } from './browser.js';

const STEP_MS = 30_000;
const clock = new TestClock(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
let server: TestServer;
let browser: Browser;

before(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('in Chromium: removing a method outside the re-authentication window asks to confirm it is you, then comes back to finish that removal', async () => {
  const member = await enrolledMember(server, clock, 'grace@step-up.test');
  const { page, context, problems } = await openPage(browser, server.url);
  try {
    // Signed in with a backup code: the person is told how many are left.
    await signInWithPassword(page, member.email);
    await page.waitForURL('**/sign-in/second-factor');
    await page.getByRole('link', { name: 'Backup code' }).click();
    await page.getByLabel('Backup code').fill(member.backupCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'You signed in with a backup code' }).waitFor();
    assert.equal((await page.getByTestId('backup-codes-left').textContent())?.trim(), 'You have 9 backup codes left. Each code works once.');
    assert.deepEqual(await axeViolations(page), []);
    await page.getByRole('link', { name: 'Continue' }).click();
    await page.waitForURL('**/account');

    // Later, outside the window: Remove leads to confirming it is you, with a code (no password).
    clock.advance(server.config.reauthMinutes * 60_000 + STEP_MS);
    await page.goto('/account/security');
    await page.getByRole('link', { name: 'Remove Phone' }).click();
    await page.waitForURL('**/reauthenticate?**');
    assert.equal(await page.getByLabel('Password').count(), 0);
    assert.deepEqual(await axeViolations(page), []);
    await page.getByLabel('Code', { exact: true }).fill(oathtoolCode(member.secret, clock.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();

    // Back at the very action: a confirmation that says what removing it does.
    await page.waitForURL(`**/account/security/factors/${member.factorId}/remove`);
    await page.getByRole('heading', { name: 'Remove “Phone”?' }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /two-step verification turns off/);
    assert.deepEqual(await axeViolations(page), []);
    await page.getByRole('button', { name: 'Remove', exact: true }).click();
    await page.getByText('The method was removed.').waitFor();
    assert.equal(await page.getByRole('link', { name: 'Remove Phone' }).count(), 0);
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
