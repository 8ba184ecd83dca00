import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { totpCodeAt } from '../../src/core/totp.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { cspViolations, createMember, launchBrowser, oathtoolCode, openPage, signInWithPassword, signOut } from './browser.js';

const STEP_MS = 30_000;
// Start 5 s into a time step, so "this step" and "the next step" are never ambiguous.
const clock = new TestClock(Math.floor(Date.now() / STEP_MS) * STEP_MS + 5_000);
let server: TestServer;
let browser: Browser;
let email: string;

before(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock }), launchBrowser()]);
  email = await createMember(server);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

const pathOf = (page: Page) => new URL(page.url()).pathname;

async function submitCode(page: Page, code: string, options: { trust?: boolean } = {}): Promise<void> {
  await page.getByLabel(/code/i).first().fill(code);
  if (options.trust) await page.getByLabel(/Trust this browser/).check();
  await page.getByRole('button', { name: 'Verify' }).click();
}

test('enrol an authenticator in the browser, then sign in with it, trust the browser, and use a backup code', async () => {
  const { page, context, problems } = await openPage(browser, server.url);
  try {
    // Password only: no factor yet.
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');

    // Enrol: the key shown on the page drives an outside TOTP implementation.
    await page.goto('/account/security');
    await page.getByRole('button', { name: 'Add authenticator app' }).click();
    await page.getByRole('heading', { name: 'Add an authenticator app' }).waitFor();
    assert.equal(await page.locator('.qr svg').count(), 1, 'the QR code is on the page');
    const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s+/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.getByLabel('Enter the code your app shows now').fill(oathtoolCode(secret, clock.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();

    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    const backupCodes = (await page.locator('[data-backup-code]').allTextContents()).map((c) => c.trim());
    assert.equal(backupCodes.length, 10);
    assert.equal(new Set(backupCodes).size, 10);
    // The page and the downloaded file say whose codes these are, where they work and since when.
    assert.match((await page.getByTestId('codes-owner').textContent()) ?? '', new RegExp(`^For ${email} at .+ \\(127\\.0\\.0\\.1:\\d+\\), created \\d{4}-\\d{2}-\\d{2}\\.$`));
    assert.match((await page.locator('main').textContent()) ?? '', /Each code works once, in place of a code from your authenticator app\./);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .txt' }).click()]);
    assert.match(download.suggestedFilename(), /^backup-codes-.+-ada-example-test-\d{4}-\d{2}-\d{2}\.txt$/);
    const file = readFileSync((await download.path())!, 'utf8');
    assert.match(file, new RegExp(`^Backup codes for ${email}\nSite: .+\nCreated: \\d{4}-\\d{2}-\\d{2}\n\n${backupCodes[0]}\n`));
    await page.getByRole('button', { name: 'Copy codes' }).waitFor();

    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL('**/account/security');
    assert.equal(await page.getByText('On', { exact: true }).count(), 1);
    await signOut(page);

    // Second sign-in asks for a code. The code used at enrolment (same step) is refused...
    await signInWithPassword(page, email);
    await page.waitForURL('**/sign-in/second-factor');
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    await submitCode(page, totpCodeAt(secret, clock.now()));
    await page.getByRole('alert').waitFor();
    // A spent code reads like a wrong one: a guesser must not learn that a guess was right.
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not correct/);
    assert.equal(pathOf(page), '/sign-in/second-factor');

    // ...a code from the next step is accepted, and this browser becomes trusted.
    clock.advance(STEP_MS);
    await submitCode(page, totpCodeAt(secret, clock.now()), { trust: true });
    await page.waitForURL('**/account');
    assert.equal(await page.getByTestId('account-email').textContent(), email);
    assert.match((await page.locator('dl.facts').textContent()) ?? '', /with password \+ one-time code/);
    assert.ok((await context.cookies()).some((c) => c.name === 'twofold_trust' && c.httpOnly));
    await signOut(page);

    // The trusted browser goes straight in with the password, and is listed on the security page.
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');
    assert.equal(await page.getByTestId('account-email').textContent(), email);
    await page.goto('/account/security');
    assert.match((await page.locator('[aria-labelledby=trusted-title] .name').textContent()) ?? '', /^Headless Chrome \d+ on Linux$/);

    // Another browser (no trust cookie) uses a backup code instead.
    const other = await openPage(browser, server.url);
    try {
      await signInWithPassword(other.page, email);
      await other.page.waitForURL('**/sign-in/second-factor');
      await other.page.getByRole('link', { name: 'Backup code' }).click();
      await other.page.waitForURL('**/sign-in/second-factor?method=backup_code');
      await submitCode(other.page, backupCodes[3]!);
      // The person is told what is left of their set before going on.
      assert.equal((await other.page.getByTestId('backup-codes-left').textContent())?.trim(), 'You have 9 backup codes left. Each code works once.');
      await other.page.getByRole('link', { name: 'Continue' }).click();
      await other.page.waitForURL('**/account');
      assert.equal(await other.page.getByTestId('account-email').textContent(), email);
      await other.page.goto('/account/security');
      assert.equal((await other.page.getByTestId('backup-remaining').textContent())?.trim(), '9 of 10 backup codes left.');
      assert.deepEqual(cspViolations(other.problems), []);
    } finally {
      await other.context.close();
    }
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
