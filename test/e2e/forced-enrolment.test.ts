import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { PASSWORD, cspViolations, launchBrowser, oathtoolCode, openPage, screenshot, signInWithPassword } from './browser.js';

const STEP_MS = 30_000;
// Start 5 s into a time step, so the code oathtool computes is the one the server expects.
const clock = new TestClock(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
const SYSTEM = { userId: null, meta: null };
let server: TestServer;
let browser: Browser;
let orgName: string;
const adminEmail = 'admin@engines.test';
const adaEmail = 'ada@engines.test';
const graceEmail = 'grace@engines.test';
const ids: Record<string, string> = {};

before(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock }), launchBrowser()]);
  const org = await server.services.accounts.createOrganisation('Analytical Engines', null, SYSTEM);
  orgName = org.name;
  await server.services.accounts.createUser({ orgId: org.id, email: adminEmail, password: PASSWORD, displayName: 'Charles Babbage', roles: ['admin'] }, SYSTEM);
  for (const [email, name] of [
    [adaEmail, 'Ada Lovelace'],
    [graceEmail, 'Grace Hopper'],
  ] as const) {
    ids[email] = (await server.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD, displayName: name }, SYSTEM)).id;
  }
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const pathOf = (page: Page) => new URL(page.url()).pathname;

/** The text of a user's row on the admin users page. */
async function userRowText(page: Page, userId: string): Promise<string> {
  await page.goto('/admin/users');
  return (await page.locator(`tr[data-user-id="${userId}"]`).innerText()).replace(/\s+/g, ' ');
}

test('an admin requires 2FA in the browser; a member is made to enrol at sign-in, and one who walks away gets no session', async () => {
  const admin = await openPage(browser, server.url);
  const ada = await openPage(browser, server.url);
  const grace = await openPage(browser, server.url);
  try {
    // The admin requires 2FA for the organisation, authenticator apps only, on the policy page.
    await signInWithPassword(admin.page, adminEmail);
    await admin.page.waitForURL('**/account');
    await admin.page.goto('/admin/policy');
    await admin.page.getByRole('heading', { name: 'Two-step verification policy' }).waitFor();
    await admin.page.getByRole('radio', { name: 'Required' }).check();
    await admin.page.getByRole('checkbox', { name: 'Text message' }).uncheck();
    await admin.page.getByRole('checkbox', { name: 'Email', exact: true }).uncheck();
    await admin.page.getByRole('checkbox', { name: 'Security key or passkey' }).uncheck();
    await admin.page.getByRole('checkbox', { name: 'Phone approval' }).uncheck();
    await admin.page.getByRole('button', { name: 'Save policy' }).click();
    await admin.page.getByText('The policy was saved').waitFor();
    assert.equal((await admin.page.locator('[data-rule=mode]').textContent())?.replace(/\s+/g, ' ').trim(), `Required — from ${orgName} (organisation)`);
    assert.equal((await admin.page.locator('[data-rule=allowedMethods]').textContent())?.replace(/\s+/g, ' ').trim(), `Authenticator app — from ${orgName} (organisation)`);
    await screenshot(admin.page, 'admin-policy');
    assert.match(await userRowText(admin.page, ids[adaEmail]!), /None Must enrol/);

    // Ada signs in with her password and is sent to set up an authenticator before she gets in.
    await signInWithPassword(ada.page, adaEmail);
    await ada.page.waitForURL('**/sign-in/enrol');
    await ada.page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    assert.equal(await ada.page.getByRole('button', { name: /Text me a code|Email me a code/ }).count(), 0, 'only the allowed method is offered');
    await ada.page.getByRole('button', { name: 'Use an authenticator app' }).click();
    await ada.page.getByRole('heading', { name: 'Add an authenticator app' }).waitFor();
    const secret = (await ada.page.getByTestId('totp-secret').textContent())!.replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await ada.page.getByLabel('Enter the code your app shows now').fill(oathtoolCode(secret, clock.now()));
    await ada.page.getByRole('button', { name: 'Turn on' }).click();

    await ada.page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    const backupCodes = (await ada.page.locator('[data-backup-code]').allTextContents()).map((c) => c.trim());
    assert.equal(backupCodes.length, 10);
    assert.equal(new Set(backupCodes).size, 10);
    await ada.page.goto('/account');
    assert.equal(pathOf(ada.page), '/account');
    assert.equal(await ada.page.getByTestId('account-email').textContent(), adaEmail);
    assert.ok((await ada.context.cookies()).some((c) => c.name === 'twofold_session'), 'Ada holds a session');

    // The admin now sees Ada's authenticator and her backup codes.
    const adaRow = await userRowText(admin.page, ids[adaEmail]!);
    assert.match(adaRow, /Authenticator app/);
    assert.match(adaRow, /\b10\b/);
    assert.doesNotMatch(adaRow, /Must enrol/);
    await screenshot(admin.page, 'admin-users');
    await admin.page.getByRole('link', { name: 'Ada Lovelace' }).click();
    await admin.page.getByRole('heading', { name: 'Ada Lovelace', level: 1 }).waitFor();
    await admin.page.getByRole('button', { name: 'Show backup codes' }).click();
    await admin.page.getByRole('heading', { name: 'Backup codes of Ada Lovelace' }).waitFor();
    assert.deepEqual((await admin.page.locator('[data-backup-code]').allTextContents()).map((c) => c.trim()).sort(), [...backupCodes].sort());
    await screenshot(admin.page, 'admin-user');

    // Grace starts enrolling, sees the key, then walks away.
    await signInWithPassword(grace.page, graceEmail);
    await grace.page.waitForURL('**/sign-in/enrol');
    await grace.page.getByRole('button', { name: 'Use an authenticator app' }).click();
    await grace.page.getByTestId('totp-secret').waitFor();
    await grace.page.goto('/account');
    assert.equal(pathOf(grace.page), '/sign-in', 'no session without a confirmed factor');

    // Next sign-in asks again, and still gives no session.
    await signInWithPassword(grace.page, graceEmail);
    await grace.page.waitForURL('**/sign-in/enrol');
    await grace.page.getByRole('heading', { name: 'Set up two-step verification' }).waitFor();
    await grace.page.goto('/account');
    assert.equal(pathOf(grace.page), '/sign-in');
    assert.ok(!(await grace.context.cookies()).some((c) => c.name === 'twofold_session'), 'Grace holds no session cookie');
    assert.match(await userRowText(admin.page, ids[graceEmail]!), /None Must enrol/, 'the abandoned authenticator does not count');

    for (const watched of [admin, ada, grace]) assert.deepEqual(cspViolations(watched.problems), []);
  } finally {
    await Promise.all([admin.context.close(), ada.context.close(), grace.context.close()]);
  }
});
