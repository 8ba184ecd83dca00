import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { totpCodeAt } from '../../src/core/totp.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { axeViolations } from './axe.js';
import { DESKTOP, MOBILE, SHOTS_DIR, createMember, cspViolations, launchBrowser, openPage, screenshot, signInWithPassword, signOut } from './browser.js';

const clock = new TestClock(Math.floor(Date.now() / 30_000) * 30_000 + 5_000);
let server: TestServer;
let browser: Browser;

before(async () => {
  [server, browser] = await Promise.all([startTestServer({ clock }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Nothing may stick out sideways: a page that scrolls horizontally is broken on a phone. */
async function assertFits(page: Page, name: string): Promise<void> {
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  assert.ok(scrollWidth <= innerWidth, `${name}: content is ${scrollWidth}px wide in a ${innerWidth}px window`);
}

/** On a phone, fields and buttons must be big enough to hit with a thumb (44 px, WCAG 2.5.5). */
async function assertTappable(page: Page, name: string): Promise<void> {
  const small = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('input:not([type=hidden]):not([type=checkbox]), button:not(.link), a.button'))
      .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().height < 44)
      .map((el) => el.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(small, [], `${name}: controls smaller than 44px`);
}

for (const [device, viewport] of [['desktop', DESKTOP], ['mobile', MOBILE]] as const) {
  test(`every page renders cleanly at ${device} width (${viewport.width}px), with no axe violations in light or dark, screenshots in ${SHOTS_DIR}`, async () => {
    const email = await createMember(server, `${device}@example.test`);
    const { page, context, problems } = await openPage(browser, server.url, viewport);
    const inaccessible: string[] = [];
    const shot = async (name: string) => {
      await assertFits(page, name);
      if (device === 'mobile') await assertTappable(page, name);
      for (const v of await axeViolations(page)) inaccessible.push(`${name}: ${v}`);
      await screenshot(page, `${name}-${device}`);
      await page.emulateMedia({ colorScheme: 'dark' });
      // The dark theme really applies: a dark page behind light text (not the light page kept as it was).
      const colours = await page.evaluate(() => [getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).color]);
      const [background, text] = colours.map((c) => (c.match(/\d+/g) ?? []).slice(0, 3).reduce((sum, n) => sum + Number(n), 0) / 3);
      if (!(background! < 40 && text! > 200)) inaccessible.push(`${name}: dark theme not applied (background ${colours[0]}, text ${colours[1]})`);
      await screenshot(page, `${name}-${device}-dark`);
      await page.emulateMedia({ colorScheme: 'light' });
    };
    try {
      await page.goto('/sign-in');
      await shot('sign-in');
      await signInWithPassword(page, email, 'wrong password, try again');
      await page.getByRole('alert').waitFor();
      await shot('sign-in-error');

      await signInWithPassword(page, email);
      await page.waitForURL('**/account');
      await shot('account');

      await page.goto('/account/security');
      await shot('security');
      await page.getByRole('button', { name: 'Add authenticator app' }).click();
      const secretText = await page.getByTestId('totp-secret').textContent();
      await shot('enrol');
      const secret = (secretText ?? '').replace(/\s+/g, '');
      await page.getByLabel('Enter the code your app shows now').fill(totpCodeAt(secret, clock.now()));
      await page.getByRole('button', { name: 'Turn on' }).click();
      await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
      const backupCode = (await page.locator('[data-backup-code]').first().textContent())!.trim();
      await shot('backup-codes');
      // Past the re-authentication window, so the "Confirm it is you" forms show too.
      clock.advance(6 * 60_000);
      await page.getByRole('link', { name: 'Done' }).click();
      await page.waitForURL('**/account/security');
      // With a factor held, only a current code (or a backup code) unlocks changes to factors.
      await page.getByRole('button', { name: 'Confirm with code' }).waitFor();
      await shot('security-enrolled');

      await signOut(page);
      await signInWithPassword(page, email);
      await page.waitForURL('**/sign-in/second-factor');
      await shot('second-factor');
      await page.getByRole('link', { name: 'Backup code' }).click();
      await page.waitForURL('**/sign-in/second-factor?method=backup_code');
      await shot('second-factor-backup');
      await page.getByLabel('Backup code').fill(backupCode);
      await page.getByLabel(/Trust this browser/).check();
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'You signed in with a backup code' }).waitFor();
      await shot('backup-code-used');
      await page.getByRole('link', { name: 'Continue' }).click();
      await page.waitForURL('**/account');
      await shot('account-two-step');
      await page.goto('/account/security');
      await shot('security-trusted');
      // The rest of what a member sees: the security centre and the password page.
      for (const [name, path] of [['sessions', '/account/security/sessions'], ['devices', '/account/security/devices'], ['activity', '/account/activity'], ['password', '/account/password']] as const) {
        await page.goto(path);
        await shot(name);
      }

      assert.deepEqual(inaccessible, [], 'axe violations (light and dark themes)');

      assert.deepEqual(cspViolations(problems), []);
      assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
    } finally {
      await context.close();
    }
  });
}
