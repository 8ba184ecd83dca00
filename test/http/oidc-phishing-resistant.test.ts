import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ACR } from '../../src/core/oidc.js';
import { createMember, enrolledMember, freshCode, signedInClient } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import { Browser, completeFlow, pathOf, redeem, registerClient, relyingParty, startAuthorization } from '../helpers/oidc.js';
import type { Page } from '../helpers/oidc.js';
import { startTestServer } from '../helpers/server.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

type CreationOptions = { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } };

/** The WebAuthn options the second-step page hands the script (data-webauthn-options), as JSON. */
function pageOptions(page: Page): { challenge: string; rpId?: string } {
  const m = /data-webauthn-options="([^"]*)"/.exec(page.text);
  assert.ok(m, `no security key form on ${page.url}`);
  return JSON.parse(m[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as { challenge: string; rpId?: string };
}

test('acr_values for the phishing-resistant level: a sign-in with a security key gets urn:twofold:acr:phr in the ID token; apps that do not ask keep 2fa', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const member = await createMember(server);
  const client = await signedInClient(server, member.email);
  const key = new SoftAuthenticator(server.url, { userVerifying: true });
  const options = await client.post('/api/v1/factors/webauthn/options');
  assert.equal((await client.post('/api/v1/factors/webauthn', { response: key.register(options.json?.options as CreationOptions), name: 'Desk key' })).status, 201);
  const rp = await relyingParty(server.url, await registerClient(server));
  const browser = new Browser([server.url]);

  const asked = await startAuthorization(rp, { acr_values: ACR.phishingResistant });
  let { page, left } = await browser.go(asked.url.href);
  assert.equal(pathOf(page!.url).split('?')[0], '/sign-in');
  ({ page } = await browser.submit(page!, '/sign-in', { email: member.email, password: member.password }));
  assert.equal(pathOf(page!.url), '/sign-in/second-factor');
  ({ page, left } = await browser.submit(page!, '/sign-in/second-factor', { method: 'webauthn', code: JSON.stringify(key.assert(pageOptions(page!))) }));
  if (!left && page?.text.includes('/consent"')) ({ left } = await browser.submit(page, `${new URL(page.url).pathname}/consent`, { decision: 'allow' }));
  assert.ok(left, `the flow reached the app (stopped at ${page?.url})`);
  const tokens = await redeem(rp, asked, left);
  assert.equal(tokens.claims()?.acr, ACR.phishingResistant);
  assert.ok((tokens.claims()?.amr as string[]).includes('hwk'));

  // An app asking for the 2FA level is told 2fa, the value it knows.
  const twoFactor = await startAuthorization(rp, { acr_values: ACR.twoFactor });
  const twoFactorTokens = await redeem(rp, twoFactor, (await browser.go(twoFactor.url.href)).left!);
  assert.equal(twoFactorTokens.claims()?.acr, ACR.twoFactor);
});

test('acr_values for the phishing-resistant level after a code: no token; the person is asked to sign in again with a key', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const member = await enrolledMember(server, clock);
  const rp = await relyingParty(server.url, await registerClient(server));
  const browser = new Browser([server.url]);
  const plain = await startAuthorization(rp);
  const plainTokens = await redeem(rp, plain, await completeFlow(browser, plain.url.href, { ...member, code: () => freshCode(member.secret, clock) }));
  assert.equal(plainTokens.claims()?.acr, ACR.twoFactor);

  const asked = await startAuthorization(rp, { acr_values: ACR.phishingResistant });
  const { page, left } = await browser.go(asked.url.href);
  assert.equal(left, null, 'no code goes back to the app');
  assert.match(page!.text, /Use a security key or passkey/);
  // "Sign in again with a key" ends this session and goes to the sign-in page, coming back here after.
  const again = await browser.submit(page!, `${new URL(page!.url).pathname}/key`);
  assert.equal(pathOf(again.page!.url).split('?')[0], '/sign-in');
  assert.match(pathOf(again.page!.url), /return_to=/);
  assert.equal((await browser.request('GET', `${server.url}/api/v1/session`)).status, 401, 'signed out');
});
