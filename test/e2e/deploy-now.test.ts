import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { formatInTimeZone } from '../../src/core/time-zone.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';
import { cspViolations, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('a deployer signs in with a code, reviews Deploy Now, confirms with a fresh code, and the public URL serves the new bundle', async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  // The deployer enrols an authenticator through the API; the browser then knows nothing but the password and codes.
  const deployer = await world.person(world.agencyId, { timeZone: 'Europe/Paris' });
  await world.authorise(target, [deployer]);
  await world.addChange(world.admin.client, target, 'agents/x', { state: 'started' }, 'Agent X started');
  await world.addChange(world.admin.client, target, 'goals/y', { target: 42 }, 'Goal Y changed');
  const preview = await world.preview(world.admin.client, target);
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404, 'nothing is live before the deploy');

  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    // Password, then a code from the authenticator.
    await signInWithPassword(page, deployer.email);
    await page.waitForURL('**/sign-in/second-factor');
    await page.getByLabel(/code/i).first().fill(world.code(deployer.secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');

    // From the list to the target to Deploy Now.
    await page.goto('/deploy');
    await page.getByRole('link', { name: 'Production' }).click();
    await page.waitForURL(`**/deploy/targets/${target.id}`);
    await page.getByRole('link', { name: 'Deploy Now' }).click();
    await page.waitForURL(`**/deploy/targets/${target.id}/deploy`);
    await page.getByRole('heading', { name: /Deploy Production/ }).waitFor();

    // Exactly what goes out, and the digest.
    const changes = (await page.getByTestId('deploy-changes').locator('.name').allTextContents()).map((s) => s.trim());
    assert.deepEqual(changes, ['Agent X started', 'Goal Y changed']);
    assert.equal((await page.getByTestId('deploy-digest').textContent())?.trim(), preview.digest);
    await screenshot(page, 'deploy-now-review');

    // A code already spent (the sign-in one) is refused: the page says so, nothing goes live.
    await page.getByLabel('Current code from your device').fill(totpCodeAt(deployer.secret, world.clock.now()));
    await page.getByRole('button', { name: 'Confirm and deploy' }).click();
    await page.getByRole('alert').waitFor();
    // A spent code reads like a wrong one: a guesser must not learn that a guess was right.
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not correct/);
    assert.equal((await fetchBundle(target.bundleUrl)).status, 404);

    // A fresh code deploys.
    await page.getByLabel('Current code from your device').fill(world.code(deployer.secret));
    await page.getByRole('button', { name: 'Confirm and deploy' }).click();
    await page.getByRole('heading', { name: 'Deployed' }).waitFor();
    const history = await world.history(world.admin, target);
    assert.equal(history.length, 1);
    const wentLive = formatInTimeZone(Date.parse(history[0]!.createdAt), 'Europe/Paris');
    assert.equal((await page.getByTestId('deployed-at').textContent())?.trim(), `Production went live ${wentLive}.`);
    await screenshot(page, 'deploy-now-done');

    // The target page lists it as live, with the approver.
    await page.getByRole('link', { name: 'Back to Production' }).click();
    await page.waitForURL(`**/deploy/targets/${target.id}`);
    const row = page.locator(`tr[data-deployment-id="${history[0]!.id}"]`);
    assert.match((await row.textContent()) ?? '', new RegExp(`Live.*${deployer.email.replace('.', '\\.')}.*Agent X started.*Goal Y changed`));
    await screenshot(page, 'deploy-target');
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }

  const served = await fetchBundle(target.bundleUrl);
  assert.equal(served.status, 200);
  assert.deepEqual(JSON.parse(served.text), { 'agents/x': { state: 'started' }, 'goals/y': { target: 42 } });
  assert.equal(served.etag, `"${preview.digest}"`);
});
