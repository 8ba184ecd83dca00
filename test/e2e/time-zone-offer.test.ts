import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClock } from '../helpers/clock.js';
import { startTestServer } from '../helpers/server.js';
import { axeViolations } from './axe.js';
import { PASSWORD, launchBrowser, signInWithPassword } from './browser.js';

test('in Chromium: an account still on UTC is offered the browser’s time zone, and saving it takes; the first admin’s checklist passes axe', async (t) => {
  const server = await startTestServer({ clock: new TestClock() });
  t.after(() => server.close());
  // An admin, so the account page also carries the first-run checklist that axe checks below.
  const org = await server.services.accounts.createOrganisation('Zones', null, { userId: null, meta: null });
  const email = 'zoe@zones.test';
  await server.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD, roles: ['admin'] }, { userId: null, meta: null });
  const browser = await launchBrowser();
  t.after(() => browser.close());
  const context = await browser.newContext({ baseURL: server.url, timezoneId: 'Europe/Berlin' });
  context.setDefaultTimeout(5_000);
  const page = await context.newPage();
  await signInWithPassword(page, email);
  await page.waitForURL('**/account');
  await page.getByText('Your browser is set to Europe/Berlin.').waitFor();
  await page.getByTestId('first-run-checklist').waitFor();
  assert.deepEqual(await axeViolations(page), []);
  await page.getByRole('button', { name: 'Use it' }).click();
  assert.equal(await page.getByLabel('Your time zone').inputValue(), 'Europe/Berlin');
  await page.getByRole('button', { name: 'Save time zone' }).click();
  await page.getByText('Times are now shown in Europe/Berlin.').waitFor();
  assert.equal(await page.locator('[data-browser-zone]').count(), 0, 'no offer once a zone is chosen');
  await context.close();
});
