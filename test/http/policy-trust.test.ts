import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, freshCode, serverWithEnrolledMember, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { SYSTEM } from '../helpers/policy.js';

const DAY = 24 * 60 * 60_000;

async function trustedSignIn(t: Parameters<typeof serverWithEnrolledMember>[0]) {
  const { clock, server, member } = await serverWithEnrolledMember(t);
  await server.services.accounts.createUser({ orgId: member.user.org_id, email: 'boss@example.com', password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const admin = await signedInClient(server, 'boss@example.com');
  const browser = new TestClient(server.url);
  const first = await browser.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  const done = await browser.post('/api/v1/auth/second-factor', { challenge: first.json?.challenge, method: 'totp', code: freshCode(member.secret, clock), trustBrowser: true });
  assert.equal(done.status, 200, done.text);
  const setPolicy = async (trustBrowserDays: number) => {
    const res = await admin.request('PUT', `/api/v1/organisations/${member.user.org_id}/policy`, {
      mode: 'optional',
      appliesToSubOrganisations: false,
      triggers: ['every_sign_in'],
      allowedMethods: ['totp'],
      trustBrowserDays,
    });
    assert.equal(res.status, 200, res.text);
  };
  const signInStatus = async () => (await browser.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD })).json?.status;
  return { clock, setPolicy, signInStatus };
}

test('an organisation that turns trust off (0 days) ends trust already given', async (t) => {
  const { setPolicy, signInStatus } = await trustedSignIn(t);
  assert.equal(await signInStatus(), 'signed_in', 'trusted browser skips the code');
  await setPolicy(0);
  assert.equal(await signInStatus(), 'second_factor_required');
});

test('a shorter policy lifetime shortens trust already given', async (t) => {
  const { clock, setPolicy, signInStatus } = await trustedSignIn(t);
  await setPolicy(7);
  clock.advance(6 * DAY);
  assert.equal(await signInStatus(), 'signed_in');
  clock.advance(2 * DAY);
  assert.equal(await signInStatus(), 'second_factor_required', 'past 7 days although the server allows 90');
});
