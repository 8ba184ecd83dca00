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

test('a form sent with a stale token gets a page that explains, a way back, and the next try works', async () => {
  const { page, context, problems } = await openPage(browser, server.url);
  try {
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');

    // The form is open; meanwhile the browser's form token is garbled (or cleared).
    await page.getByLabel('Your time zone').selectOption('Europe/Paris');
    const csrf = (await context.cookies()).find((c) => c.name === 'twofold_csrf');
    assert.ok(csrf, 'the account page set a form token');
    const stale = 'stale';
    await context.addCookies([{ ...csrf, value: stale }]);

    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/account/time-zone')), page.getByRole('button', { name: 'Save time zone' }).click()]);
    assert.equal(response.status(), 403);
    assert.match(response.headers()['content-type'] ?? '', /^text\/html/);
    await page.getByRole('heading', { name: 'Your form was not sent' }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /This form was open too long, or was sent from another tab.*nothing was saved/s);
    assert.equal(await page.locator('pre').count(), 0, 'no raw JSON');
    assert.doesNotMatch((await page.content()) ?? '', /"error"\s*:/);
    await screenshot(page, 'stale-form');

    // The browser holds a new form token.
    const fresh = (await context.cookies()).find((c) => c.name === 'twofold_csrf');
    assert.ok(fresh && fresh.value !== stale && /^[\w-]{43}$/.test(fresh.value), 'a new form token');

    // Back to the page the form came from; sending it again works.
    const back = page.getByRole('link', { name: 'Back to the page' });
    assert.equal(await back.getAttribute('href'), '/account');
    await back.click();
    await page.waitForURL('**/account');
    assert.doesNotMatch((await page.getByTestId('account-time-zone').textContent()) ?? '', /Europe\/Paris/, 'nothing was saved');
    await page.getByLabel('Your time zone').selectOption('Europe/Paris');
    await page.getByRole('button', { name: 'Save time zone' }).click();
    await page.getByText('Times are now shown in Europe/Paris.').waitFor();
    assert.match((await page.getByTestId('account-time-zone').textContent()) ?? '', /^Europe\/Paris/);
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
