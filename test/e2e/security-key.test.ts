import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';
import { axeViolations } from './axe.js';
import { DESKTOP, MOBILE, PASSWORD, cspViolations, createMember, launchBrowser, openPage, screenshot, signInWithPassword, signOut } from './browser.js';

let server: TestServer;
let browser: Browser;

before(async () => {
  // WebAuthn wants a domain for the relying party id: the public URL names localhost.
  [server, browser] = await Promise.all([startTestServer({ publicHost: 'localhost' }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Chromium's DevTools virtual authenticator: a USB security key that verifies its user (PIN) and keeps resident keys. */
async function addVirtualKey(context: BrowserContext, page: Page): Promise<{ credentials(): Promise<Array<{ credentialId: string; signCount: number }>> }> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials };
}

async function sessionAmr(page: Page): Promise<string[]> {
  const session = await page.evaluate(async () => (await fetch('/api/v1/session')).json() as Promise<{ session: { amr: string[] } }>);
  return [...session.session.amr].sort();
}

test('register a security key on the Security page, sign out, and sign in with it as the second step', async () => {
  const email = await createMember(server, 'grace@example.test');
  const { page, context, problems } = await openPage(browser, server.url);
  try {
    const key = await addVirtualKey(context, page);
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');

    await page.goto('/account/security');
    await page.getByLabel(/New key name/).fill('Blue key');
    await page.getByRole('button', { name: 'Add security key' }).click();
    await page.getByRole('heading', { name: 'Add a security key or passkey' }).waitFor();
    assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'Blue key');
    assert.deepEqual(await axeViolations(page), []);
    for (const viewport of [DESKTOP, MOBILE]) {
      await page.setViewportSize(viewport);
      await screenshot(page, `security-key-add-${viewport.width}`);
    }
    await page.setViewportSize(DESKTOP);
    await page.getByRole('button', { name: 'Add security key' }).click();

    // The first method comes with backup codes.
    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    assert.equal(await page.locator('[data-backup-code]').count(), 10);
    const [stored] = await key.credentials();
    assert.ok(stored, 'the virtual key holds the new credential');
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL('**/account/security');
    const listed = page.locator('[aria-labelledby=factors-title] .items li');
    assert.match((await listed.textContent()) ?? '', /Blue key\s*On/);
    assert.match((await listed.textContent()) ?? '', /Security key or passkey/);
    assert.deepEqual(await axeViolations(page), []);
    await signOut(page);

    // The second step offers the key first; one touch signs in.
    await signInWithPassword(page, email);
    await page.waitForURL('**/sign-in/second-factor');
    await page.getByRole('button', { name: 'Use security key' }).waitFor();
    assert.deepEqual(await axeViolations(page), []);
    for (const viewport of [DESKTOP, MOBILE]) {
      await page.setViewportSize(viewport);
      await screenshot(page, `security-key-second-step-${viewport.width}`);
    }
    await page.setViewportSize(DESKTOP);
    await page.getByRole('button', { name: 'Use security key' }).click();
    await page.waitForURL('**/account');
    // The virtual key verified its user (PIN): hardware key, user verified, password, so mfa.
    assert.deepEqual(await sessionAmr(page), ['hwk', 'mfa', 'pwd', 'user']);
    const [used] = await key.credentials();
    assert.ok(used && used.signCount > stored.signCount, 'the key signed once more');
    assert.deepEqual(cspViolations(problems), []);
    assert.deepEqual(problems.filter((p) => !/favicon/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('a resident passkey with user verification: register it, sign out, and sign in with no email or password', async () => {
  const email = await createMember(server, 'katherine@example.test');
  const { page, context, problems } = await openPage(browser, server.url);
  try {
    const key = await addVirtualKey(context, page);
    await signInWithPassword(page, email);
    await page.waitForURL('**/account');
    await page.goto('/account/security');
    await page.getByLabel(/New key name/).fill('Laptop passkey');
    await page.getByRole('button', { name: 'Add security key' }).click();
    await page.getByRole('heading', { name: 'Add a security key or passkey' }).waitFor();
    await page.getByRole('button', { name: 'Add security key' }).click();
    await page.getByRole('heading', { name: 'Your backup codes' }).waitFor();
    const [stored] = (await key.credentials()) as Array<{ credentialId: string; signCount: number; isResidentCredential?: boolean }>;
    assert.ok(stored?.isResidentCredential, 'the key holds a discoverable (resident) credential');
    await page.getByRole('link', { name: 'Done' }).click();
    await page.waitForURL('**/account/security');
    await signOut(page);

    // The sign-in page offers the passkey beside the password, and the email field takes it from autofill.
    await page.goto('/sign-in');
    assert.equal(await page.getByLabel('Email').getAttribute('autocomplete'), 'username webauthn');
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'passkey-sign-in');
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.waitForURL('**/account');
    assert.deepEqual(await sessionAmr(page), ['hwk', 'mfa', 'user']);
    const [used] = await key.credentials();
    assert.ok(used && used.signCount > stored.signCount, 'the passkey signed');
    assert.deepEqual(cspViolations(problems), []);
    assert.deepEqual(problems.filter((p) => !/favicon/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('a policy requiring a phishing-resistant method: a TOTP code is refused at the second step, the person adds a key there (forced enrolment), and the key signs in from then on', async () => {
  const { TestClient } = await import('../helpers/client.js');
  const { totpCodeAt } = await import('../../src/core/totp.js');
  const email = await createMember(server, 'dorothy@example.test');
  const system = { userId: null, meta: null };
  const member = await server.runtime.database.db.selectFrom('users').select(['id', 'org_id']).where('email', '=', email).executeTakeFirstOrThrow();
  await server.services.accounts.createUser({ orgId: member.org_id, email: 'root@example.test', password: PASSWORD, roles: ['admin'] }, system);
  // The member has an authenticator app (no key yet).
  const api = new TestClient(server.url);
  assert.equal((await api.post('/api/v1/auth/sign-in', { email, password: PASSWORD })).json?.status, 'signed_in');
  const started = await api.post('/api/v1/factors/totp', { label: 'Phone' });
  const secret = started.json?.secret as string;
  assert.equal((await api.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(secret, Date.now()) })).status, 200);
  const admin = new TestClient(server.url);
  assert.equal((await admin.post('/api/v1/auth/sign-in', { email: 'root@example.test', password: PASSWORD })).json?.status, 'signed_in');
  const policy = await admin.request('PUT', `/api/v1/organisations/${member.org_id}/policy`, {
    mode: 'required',
    appliesToSubOrganisations: false,
    triggers: ['every_sign_in'],
    allowedMethods: ['totp', 'webauthn'],
    trustBrowserDays: 0,
    requirePhishingResistant: true,
  });
  assert.equal(policy.status, 200, policy.text);

  const { page, context, problems } = await openPage(browser, server.url);
  try {
    const key = await addVirtualKey(context, page);
    await signInWithPassword(page, email);
    await page.waitForURL('**/sign-in/second-factor');
    // The next step's code: the one just used to turn the app on is spent.
    await page.getByLabel(/code/i).first().fill(totpCodeAt(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/sign-in/enrol');
    await page.getByText('Your organisation requires a security key or passkey').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Use an authenticator app' }).count(), 0, 'only a key can be set up');
    assert.deepEqual(await axeViolations(page), []);
    await screenshot(page, 'phishing-resistant-enrol');
    await page.getByRole('button', { name: 'Add a security key or passkey' }).click();
    await page.getByRole('heading', { name: 'Add a security key or passkey' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Office key');
    await page.getByRole('button', { name: 'Add security key' }).click();
    await page.waitForURL('**/account');
    const amr = await sessionAmr(page);
    assert.ok(amr.includes('hwk') && amr.includes('otp'), amr.join(','));
    assert.equal((await key.credentials()).length, 1);
    await signOut(page);

    // From now on the key is the second step; codes are not offered.
    await signInWithPassword(page, email);
    await page.waitForURL('**/sign-in/second-factor');
    assert.equal(await page.getByLabel(/authenticator/i).count(), 0);
    await page.getByRole('button', { name: 'Use security key' }).click();
    await page.waitForURL('**/account');
    assert.deepEqual(await sessionAmr(page), ['hwk', 'mfa', 'pwd', 'user']);
    assert.deepEqual(cspViolations(problems), []);
  } finally {
    await context.close();
  }
});
