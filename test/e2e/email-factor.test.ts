import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memberInChromium } from '../helpers/browser-world.js';
import { bindChannel, codeFromMail, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { axeViolations } from './axe.js';
import { cspViolations, openPage, signInWithPassword, signOut } from './browser.js';

test('in Chromium: add an email factor with the mailed code, then sign in again with a newly mailed code', async (t) => {
  const { world, browser, email } = await memberInChromium(t, 'Dana Scully', 'dana@example.com');
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));

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
    // A wrong code keeps the page (and the mailed code good), with the refusal by the field.
    await page.getByLabel('Code from the email').fill(enrolMail.code === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#code-error').waitFor();
    await page.getByRole('heading', { name: 'Confirm your email' }).waitFor();
    await page.getByLabel('Code from the email').fill(enrolMail.code);
    await page.getByRole('button', { name: 'Turn on' }).click();

    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    assert.equal(await page.locator('[data-backup-code]').count(), 10);
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL('**/account/security');
    assert.equal((await page.locator('[data-destination]').textContent())?.trim(), 'd•••@example.com');
    await signOut(page);

    // Sign in again: email is Dana's only method, so the code is sent as the second step opens,
    // once: a reload shows the code form again and sends nothing more.
    const mailsBefore = smtp.received.length;
    await signInWithPassword(page, email);
    await page.waitForURL('**/sign-in/second-factor?method=email&sent=*');
    await page.getByLabel('Code from the email').waitFor();
    assert.match((await page.locator('#code-help').textContent()) ?? '', /we sent by Email to d•••@example\.com/);
    await page.reload();
    await page.getByLabel('Code from the email').waitFor();
    assert.equal(smtp.received.length, mailsBefore + 1, 'exactly one mail went out');
    assert.deepEqual(await axeViolations(page), []);
    const signInMail = codeFromMail(smtp, email);
    assert.match(signInMail.subject, /is your code to sign in$/);
    assert.doesNotMatch(signInMail.text, / #\d{6}/, 'no text-message autofill line in an email');
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
