import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD } from '../helpers/authenticator.js';
import { SYSTEM, bindChannel, codeFromMail, deliveryWorld, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { cspViolations, launchBrowser, openPage, signInWithPassword, signOut } from './browser.js';

test('in Chromium: add an email factor with the mailed code, then sign in again with a newly mailed code', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const email = 'dana@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD, displayName: 'Dana Scully' }, SYSTEM);
  const browser = await launchBrowser();
  t.after(() => browser.close());

  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');

    // Enrol: the address defaults to the account's; the code comes back through real SMTP.
    await page.goto('/account/security');
    const address = page.getByLabel('Email address for codes');
    assert.equal(await address.inputValue(), email);
    await page.getByRole('button', { name: 'Add email' }).click();
    await page.getByRole('heading', { name: 'Confirm your email' }).waitFor();
    assert.match((await page.locator('.lead').textContent()) ?? '', /We sent an email with a 6-digit code to d•••@example\.com\./);
    const enrolMail = codeFromMail(smtp, email);
    assert.match(enrolMail.subject, /Acme Widgets/);
    await page.getByLabel('Code from the email').fill(enrolMail.code);
    await page.getByRole('button', { name: 'Turn on' }).click();

    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    assert.equal(await page.locator('[data-backup-code]').count(), 10);
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL('**/account/security');
    assert.equal((await page.locator('[data-destination]').textContent())?.trim(), 'd•••@example.com');
    await signOut(page);

    // Sign in again: pick Email, have a code sent, type it in.
    await signInWithPassword(page, email);
    await page.waitForURL('**/sign-in/second-factor');
    await page.getByRole('link', { name: 'Backup code' }).click();
    await page.waitForURL('**/sign-in/second-factor?method=backup_code');
    await page.getByRole('link', { name: 'Email', exact: true }).click();
    await page.waitForURL('**/sign-in/second-factor?method=email');
    const mailsBefore = smtp.received.length;
    await page.getByRole('button', { name: 'Send code to d•••@example.com' }).click();
    await page.getByLabel('Code from the email').waitFor();
    assert.equal(smtp.received.length, mailsBefore + 1, 'exactly one mail went out');
    const signInMail = codeFromMail(smtp, email);
    assert.match(signInMail.subject, /is your code to sign in$/);
    await page.getByLabel('Code from the email').fill(signInMail.code);
    await page.getByRole('button', { name: 'Verify' }).click();

    await page.waitForURL('**/account');
    assert.equal(await page.getByTestId('account-email').textContent(), email);
    assert.deepEqual(cspViolations(problems), []);
    assert.deepEqual(problems.filter((p) => p.startsWith('pageerror')), []);
  } finally {
    await context.close();
  }
});
