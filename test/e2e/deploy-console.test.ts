import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';
import { axeViolations } from './axe.js';
import { MOBILE, cspViolations, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('an admin creates a protected target from the page, names a deployer with their own code, and deploys from Deploy Now seeing old and new values', async (t) => {
  const world = await deployWorld(t);
  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    await signInWithPassword(page, world.admin.email);
    await page.waitForURL('**/sign-in/second-factor');
    await page.getByLabel(/code/i).first().fill(world.code(world.admin.secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');

    // Create the target: the page says up front that 2FA can never be switched off.
    await page.goto('/deploy');
    await page.getByRole('link', { name: 'New target' }).click();
    await page.waitForURL('**/deploy/new');
    await page.getByLabel('Name').fill('Production');
    await page.getByLabel('Require two-step verification to deploy').check();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'deploy-new-target');
    await page.getByRole('button', { name: 'Create target' }).click();
    await page.waitForURL('**/settings?created=1');
    const targetId = /\/deploy\/targets\/([^/]+)\/settings/.exec(page.url())?.[1] ?? '';
    assert.match((await page.getByTestId('two-factor-locked').textContent()) ?? '', /can never be switched off.*create a new target/s);

    // Choose the deployer (the admin themself) and confirm with a current code from their device.
    await page.getByRole('checkbox', { name: new RegExp(world.admin.email.replace('.', '\\.')) }).check();
    await page.getByLabel('Your current code').fill(world.code(world.admin.secret));
    await page.getByRole('button', { name: 'Save deployers' }).click();
    await page.getByText('Deployers saved.').waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'deploy-target-settings');
    const target = await world.target(targetId);
    assert.deepEqual(target.deployers.map((d) => d.id), [world.admin.user.id]);

    // Something is live; then two changes wait, one replacing a live value.
    await world.addChange(world.admin.client, target, 'copy/title', { text: 'Hello' }, 'First title');
    await world.deployNow(world.admin, target);
    await world.addChange(world.admin.client, target, 'copy/title', { text: 'Hi <there>' }, 'New title');
    await world.addChange(world.admin.client, target, 'flags/beta', true, 'Beta on');
    const preview = await world.preview(world.admin.client, target);

    await page.goto(`/deploy/targets/${targetId}`);
    await page.getByRole('link', { name: 'Deploy Now' }).click();
    await page.waitForURL(`**/deploy/targets/${targetId}/deploy`);
    const title = page.locator('li[data-change-key="copy/title"]');
    assert.equal((await title.getByTestId('old-value').textContent())?.trim(), '{"text":"Hello"}');
    assert.equal((await title.getByTestId('new-value').textContent())?.trim(), '{"text":"Hi <there>"}');
    const beta = page.locator('li[data-change-key="flags/beta"]');
    assert.equal((await beta.getByTestId('old-value').textContent())?.trim(), '(absent)');
    assert.equal((await beta.getByTestId('new-value').textContent())?.trim(), 'true');
    assert.equal((await page.getByTestId('deploy-digest').textContent())?.trim(), preview.digest);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'deploy-now-values');
    await page.setViewportSize(MOBILE);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'deploy-now-values-390');

    await page.getByLabel('Current code from your device').fill(world.code(world.admin.secret));
    await page.getByRole('button', { name: 'Confirm and deploy' }).click();
    await page.getByRole('heading', { name: 'Deployed' }).waitFor();
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
  const served = await fetchBundle((await world.target((await world.server.services.deploys.listTargets({ kind: 'user', user: world.admin.user }, undefined))[0]!.id)).bundleUrl);
  assert.deepEqual(JSON.parse(served.text), { 'copy/title': { text: 'Hi <there>' }, 'flags/beta': true });
});
