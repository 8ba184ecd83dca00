import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { createMember, cspViolations, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let server: TestServer;
let browser: Browser;
let email: string;

before(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock: new TestClock() }), launchBrowser()]);
  email = await createMember(server);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('signed in from two browsers, one ends the other’s session from the security centre and the other is signed out', async () => {
  const work = await openPage(browser, server.url);
  const home = await openPage(browser, server.url);
  try {
    await signInWithPassword(work.page, email);
    await work.page.waitForURL('**/account');
    await signInWithPassword(home.page, email);
    await home.page.waitForURL('**/account');

    // The security centre lists both sessions; this one is marked and has no sign-out of its own.
    await work.page.goto('/account/security');
    await work.page.getByRole('navigation', { name: 'Security centre' }).getByRole('link', { name: 'Sessions' }).click();
    await work.page.waitForURL('**/account/security/sessions');
    const sessions = work.page.locator('ul.sessions > li');
    assert.equal(await sessions.count(), 2);
    assert.equal(await work.page.locator('ul.sessions > li[data-current]').count(), 1);
    assert.match((await work.page.locator('ul.sessions > li[data-current] .name').textContent()) ?? '', /^Headless Chrome on Linux This session$/);
    assert.match((await sessions.first().locator('.meta').first().textContent()) ?? '', /^Desktop · 127\.0\.0\.1 · Location unknown$/);
    const otherId = await work.page.locator('ul.sessions > li:not([data-current])').getAttribute('data-session-id');
    await screenshot(work.page, 'security-centre-sessions');

    await work.page.getByRole('button', { name: /^Sign out Headless Chrome on Linux/ }).click();
    await work.page.getByText('That session is signed out.').waitFor();
    assert.equal(await work.page.locator('ul.sessions > li').count(), 1);
    assert.equal(await work.page.locator(`[data-session-id="${otherId}"]`).count(), 0);

    // The other browser's next request finds its session gone.
    await home.page.reload();
    await home.page.waitForURL('**/sign-in');
    await home.page.getByRole('button', { name: 'Continue' }).waitFor();
    await home.page.goto('/account/security/sessions');
    await home.page.waitForURL('**/sign-in');

    // This browser is still signed in, and its activity log shows the ended session.
    await work.page.getByRole('link', { name: 'Activity' }).click();
    await work.page.waitForURL('**/account/activity');
    assert.equal((await work.page.locator('tr[data-type="session.revoked"] td').nth(1).textContent())?.trim(), 'Ended a session');
    const stamp = work.page.locator('tr[data-type="session.revoked"] time');
    assert.match((await stamp.getAttribute('title')) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await screenshot(work.page, 'security-centre-activity');
    await work.page.goto('/account/security/devices');
    await screenshot(work.page, 'security-centre-devices');

    assert.deepEqual(cspViolations(work.problems), []);
    assert.deepEqual(cspViolations(home.problems), []);
  } finally {
    await work.context.close();
    await home.context.close();
  }
});
