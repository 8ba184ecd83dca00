import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';
import { axeViolations } from './axe.js';
import { cspViolations, launchBrowser, openPage, screenshot, signInWithPassword } from './browser.js';

let browser: Browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

test('Deploy Now approved with a security key: the signed client data carries SHA-256(nonce || target || digest); the key then confirms a step-up', async (t) => {
  // WebAuthn wants a domain for the relying party id: the public URL names localhost.
  const world = await deployWorld(t, { publicHost: 'localhost' });
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person(world.agencyId, { enrol: false });

  const { page, context, problems } = await openPage(browser, world.server.url);
  try {
    // Chromium's virtual authenticator: a USB key that verifies its user.
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });

    // No factor yet: the password signs in; the key is registered on the Security page.
    await signInWithPassword(page, deployer.email);
    await page.waitForURL('**/account');
    await page.goto('/account/security');
    await page.getByLabel(/New key name/).fill('Blue key');
    await page.getByRole('button', { name: 'Add security key' }).click();
    await page.getByRole('heading', { name: 'Add a security key or passkey' }).waitFor();
    await page.getByRole('button', { name: 'Add security key' }).click();
    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    const [credential] = (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    assert.ok(credential, 'the virtual key holds the credential');

    // Holding only the key, the person can be named a deployer.
    await world.authorise(target, [deployer]);
    const { digest } = await world.addChange(world.admin.client, target, 'feature/x', { on: true }, 'Feature X on');

    await page.goto(`/deploy/targets/${target.id}/deploy`);
    await page.getByRole('heading', { name: /Deploy Production/ }).waitFor();
    assert.equal((await page.getByTestId('deploy-digest').textContent())?.trim(), digest);
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'deploy-now-security-key');
    await page.getByRole('button', { name: 'Deploy with security key' }).click();
    await page.getByRole('heading', { name: 'Deployed' }).waitFor();

    // The signed approval names the method and the credential, and carries the client data the key signed.
    const served = await fetchBundle(target.bundleUrl);
    assert.equal(served.status, 200);
    const claims = JSON.parse(Buffer.from((served.approval ?? '').split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      method: string;
      digest: string;
      target: { id: string };
      webauthn: { credentialId: string; nonce: string; clientDataJSON: string };
    };
    assert.equal(claims.method, 'webauthn');
    assert.equal(claims.digest, digest);
    assert.equal(claims.webauthn.credentialId, Buffer.from(credential.credentialId, 'base64').toString('base64url'));
    const clientData = JSON.parse(Buffer.from(claims.webauthn.clientDataJSON, 'base64url').toString('utf8')) as { type: string; challenge: string; origin: string };
    assert.equal(clientData.type, 'webauthn.get');
    assert.equal(clientData.origin, new URL(world.server.url).origin);
    const derived = createHash('sha256').update(Buffer.from(claims.webauthn.nonce, 'base64url')).update(target.id, 'utf8').update(digest, 'utf8').digest('base64url');
    assert.equal(clientData.challenge, derived, 'the assertion was made for exactly this target and digest');

    // The same key confirms a step-up on the re-authentication page (its own challenge, for this session).
    await page.goto('/reauthenticate?next=/account/security');
    await page.getByRole('button', { name: 'Use security key' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    await page.locator('#reauth-key-password').fill('correct horse battery staple 42');
    await page.getByRole('button', { name: 'Use security key' }).click();
    await page.waitForURL('**/account/security');
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
