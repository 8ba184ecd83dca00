import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { PASSWORD, freshCode } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { SYSTEM, auditEvents, deliveryWorld } from '../helpers/delivery.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

type CreationOptions = { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } };
type RequestOptions = { challenge: string; rpId?: string };

const KEY_POLICY = { mode: 'required', appliesToSubOrganisations: false, triggers: ['every_sign_in'], allowedMethods: ['totp', 'webauthn'], trustBrowserDays: 0, requirePhishingResistant: true };

/** A member with an authenticator app (no key) in an organisation whose admin is signed in. */
async function memberWithApp(t: TestContext): Promise<{ w: DeliveryWorld; email: string; userId: string; secret: string }> {
  const w = await deliveryWorld(t, { clock: new TestClock() });
  const email = `pr-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const user = await w.server.services.accounts.createUser({ orgId: w.orgId, email, password: PASSWORD }, SYSTEM);
  const client = new TestClient(w.server.url);
  assert.equal((await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD })).json?.status, 'signed_in');
  const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
  const secret = started.json?.secret as string;
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: freshCode(secret, w.clock) });
  assert.equal(confirmed.status, 200, confirmed.text);
  return { w, email, userId: user.id, secret };
}

async function putPolicy(w: DeliveryWorld, body: unknown) {
  return w.admin.request('PUT', `/api/v1/organisations/${w.orgId}/policy`, body);
}

test('the policy option is stored, reported, and refused when it could not be met', async (t) => {
  const { w } = await memberWithApp(t);
  const saved = await putPolicy(w, KEY_POLICY);
  assert.equal(saved.status, 200, saved.text);
  assert.equal((saved.json?.own as { requirePhishingResistant: boolean }).requirePhishingResistant, true);
  assert.equal((saved.json?.effective as { phishingResistant: { value: boolean } }).phishingResistant.value, true);
  const withoutKeys = await putPolicy(w, { ...KEY_POLICY, allowedMethods: ['totp'] });
  assert.equal(withoutKeys.status, 400);
  assert.equal(withoutKeys.json?.error?.code, 'allowed_methods_invalid');
  const optional = await putPolicy(w, { ...KEY_POLICY, mode: 'optional' });
  assert.equal(optional.status, 400);
  assert.equal(optional.json?.error?.code, 'mode_invalid');
  const notBoolean = await putPolicy(w, { ...KEY_POLICY, requirePhishingResistant: 'yes' });
  assert.equal(notBoolean.status, 400);
  const rows = await w.server.runtime.database.db.selectFrom('organisation_policies').selectAll().where('org_id', '=', w.orgId).execute();
  assert.equal(Number(rows[0]?.require_phishing_resistant), 1, 'the refused changes changed nothing');
  // Off again: the column goes back to 0.
  assert.equal((await putPolicy(w, { ...KEY_POLICY, requirePhishingResistant: false })).status, 200);
  const off = await w.server.runtime.database.db.selectFrom('organisation_policies').select('require_phishing_resistant').where('org_id', '=', w.orgId).executeTakeFirstOrThrow();
  assert.equal(Number(off.require_phishing_resistant), 0);
});

test('a phishing-resistant policy refuses a right TOTP code with phishing_resistant_required, then the same sign-in adds a key, which signs in from then on', async (t) => {
  const m = await memberWithApp(t);
  assert.equal((await putPolicy(m.w, KEY_POLICY)).status, 200);
  const client = new TestClient(m.w.server.url);
  const step = await client.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD });
  assert.equal(step.json?.status, 'second_factor_required');
  const challenge = step.json?.challenge as string;
  const refused = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(m.secret, m.w.clock) });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'phishing_resistant_required');
  assert.equal(client.cookies.get('twofold_session'), undefined, 'no session from a code');
  assert.equal((await auditEvents(m.w.server, 'sign_in.key_required', { subjectUserId: m.userId })).length, 1);
  // The code cannot be sent again for a session: the flow now waits for a key only.
  const again = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(m.secret, m.w.clock) });
  assert.equal(again.status, 401);
  assert.equal(again.json?.error?.code, 'challenge_invalid');

  const key = new SoftAuthenticator(m.w.server.url, { userVerifying: true });
  const options = await client.post('/api/v1/auth/enrolment/webauthn/options', { challenge });
  assert.equal(options.status, 200, options.text);
  const badName = await client.post('/api/v1/auth/enrolment/webauthn', { challenge, response: key.register(options.json?.options as CreationOptions), name: 'x'.repeat(65) });
  assert.equal(badName.status, 400);
  const options2 = await client.post('/api/v1/auth/enrolment/webauthn/options', { challenge });
  const enrolled = await client.post('/api/v1/auth/enrolment/webauthn', { challenge, response: key.register(options2.json?.options as CreationOptions), name: 'Work key' });
  assert.equal(enrolled.status, 200, enrolled.text);
  assert.deepEqual([...(enrolled.json?.amr as string[])].sort(), ['hwk', 'mfa', 'otp', 'pwd', 'user']);
  assert.equal((await client.get('/api/v1/session')).status, 200);

  // Next sign-in: the key (and backup codes to recover) are offered, codes are not.
  const next = new TestClient(m.w.server.url);
  const second = await next.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD });
  assert.equal(second.json?.status, 'second_factor_required');
  assert.deepEqual(second.json?.methods, ['webauthn', 'backup_code']);
  const totp = await next.post('/api/v1/auth/second-factor', { challenge: second.json?.challenge, method: 'totp', code: freshCode(m.secret, m.w.clock) });
  assert.equal(totp.status, 400);
  assert.equal(totp.json?.error?.code, 'method_not_allowed');
  const keyOptions = await next.post('/api/v1/auth/second-factor/webauthn/options', { challenge: second.json?.challenge });
  const signedIn = await next.post('/api/v1/auth/second-factor', { challenge: second.json?.challenge, method: 'webauthn', assertion: key.assert(keyOptions.json?.options as RequestOptions) });
  assert.equal(signedIn.status, 200, signedIn.text);
  const succeeded = (await auditEvents(m.w.server, 'sign_in.succeeded', { subjectUserId: m.userId })).at(-1);
  assert.equal(succeeded?.details.keyName, 'Work key', 'the sign-in record names the key');
});

test('without the option, a TOTP code still signs in (the policy is what refuses it)', async (t) => {
  const m = await memberWithApp(t);
  assert.equal((await putPolicy(m.w, { ...KEY_POLICY, requirePhishingResistant: false })).status, 200);
  const client = new TestClient(m.w.server.url);
  const step = await client.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD });
  const res = await client.post('/api/v1/auth/second-factor', { challenge: step.json?.challenge, method: 'totp', code: freshCode(m.secret, m.w.clock) });
  assert.equal(res.status, 200, res.text);
});

test('a role can require a key: its holders are refused a TOTP code, a browser trusted after a code no longer skips the step, and the API refuses a key without 2FA', async (t) => {
  const m = await memberWithApp(t);
  // Trusted after a code, before any key was required: the next sign-in skips the second step.
  const browser = new TestClient(m.w.server.url);
  const first = await browser.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD });
  m.w.clock.advance(30_000);
  const trusted = await browser.post('/api/v1/auth/second-factor', { challenge: first.json?.challenge, method: 'totp', code: freshCode(m.secret, m.w.clock), trustBrowser: true });
  assert.equal(trusted.status, 200, trusted.text);
  assert.equal((await browser.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD })).json?.status, 'signed_in');

  await m.w.server.services.accounts.grantRoleToUser(m.email, 'operators', SYSTEM);
  const role = await m.w.server.runtime.database.db.selectFrom('roles').select('id').where('org_id', '=', m.w.orgId).where('name', '=', 'operators').executeTakeFirstOrThrow();
  const contradiction = await m.w.admin.request('PUT', `/api/v1/roles/${role.id}/policy`, { requireTwoFactor: false, requirePhishingResistant: true });
  assert.equal(contradiction.status, 400);
  assert.equal(contradiction.json?.error?.code, 'mode_invalid');
  const set = await m.w.admin.request('PUT', `/api/v1/roles/${role.id}/policy`, { requireTwoFactor: true, requirePhishingResistant: true });
  assert.equal(set.status, 200, set.text);
  assert.equal(set.json?.requirePhishingResistant, true);
  const kept = await m.w.admin.request('PUT', `/api/v1/roles/${role.id}/policy`, { requireTwoFactor: true });
  assert.equal(kept.json?.requirePhishingResistant, true, 'left out, the key requirement stays');

  const step = await browser.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD });
  assert.equal(step.json?.status, 'second_factor_required', 'the trusted browser does not stand in for a key');
  m.w.clock.advance(30_000);
  const refused = await browser.post('/api/v1/auth/second-factor', { challenge: step.json?.challenge, method: 'totp', code: freshCode(m.secret, m.w.clock) });
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'phishing_resistant_required');

  // Switching 2FA off for the role ends the key requirement too; the trusted browser works again.
  const off = await m.w.admin.request('PUT', `/api/v1/roles/${role.id}/policy`, { requireTwoFactor: false });
  assert.equal(off.json?.requirePhishingResistant, false);
  assert.equal((await browser.post('/api/v1/auth/sign-in', { email: m.email, password: PASSWORD })).json?.status, 'signed_in');
  const audit = await auditEvents(m.w.server, 'role_policy.changed', {});
  assert.equal(audit.length, 3, 'the refused change is not recorded');
});
