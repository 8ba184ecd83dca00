import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { bindChannel, deliveryWorld, newMember, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { parseMail } from '../delivery/peers.js';
import { axeViolations } from './axe.js';
import { cspViolations, launchBrowser, oathtoolCode, openPage, signInWithPassword } from './browser.js';

test('in Chromium: after an admin resets a member’s methods, their next sign-in asks them to set one up again (skippable where policy allows, and said so)', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/totp', { label: 'Old phone' });
  const confirmed = await member.client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(started.json?.secret as string, world.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);

  // The phone is lost: the admin resets. The email says exactly what comes next under this (optional) policy.
  const reset = await world.admin.post(`/api/v1/users/${member.userId}/reset-factors`);
  assert.equal(reset.status, 200, reset.text);
  const mail = parseMail([...smtp.received].reverse().find((m) => m.rcptTo.includes(member.email))!.raw);
  assert.match(mail.text ?? '', /you are asked to set up a new method\. Your organisation does not require it, so you may skip it/);

  const browser = await launchBrowser();
  t.after(() => browser.close());
  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    // The next sign-in (password only, as policy allows) lands on setting a method up again.
    await signInWithPassword(page, member.email);
    await page.waitForURL('**/account/set-up-again');
    await page.getByRole('heading', { name: 'Set up two-step verification again' }).waitFor();
    assert.match((await page.locator('main').textContent()) ?? '', /Your organisation does not require it, so you can skip this\./);
    assert.deepEqual(await axeViolations(page), []);

    // Skipping is possible; it is asked once, not at every sign-in.
    await page.getByRole('button', { name: 'Skip for now' }).click();
    await page.waitForURL('**/account');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/sign-in');
    await signInWithPassword(page, member.email);
    await page.waitForURL('**/account');

    // Reset again; this time the member sets up a new authenticator from that page, and is not asked again.
    assert.equal((await world.admin.post(`/api/v1/users/${member.userId}/reset-factors`)).status, 200);
    await page.goto('/sign-in');
    await signInWithPassword(page, member.email);
    await page.waitForURL('**/account/set-up-again');
    await page.getByRole('link', { name: 'Set up a method' }).click();
    await page.waitForURL('**/account/security');
    await page.getByRole('button', { name: 'Add authenticator app' }).click();
    const secret = (await page.getByTestId('totp-secret').textContent())!.replace(/\s+/g, '');
    world.clock.advance(30_000); // a new time step: the old phone's code step was spent on this account
    await page.getByLabel('Enter the code your app shows now').fill(oathtoolCode(secret, world.clock.now()));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    assert.equal(await world.server.services.factors.setUpAgainSince(member.userId), null);
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
