import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrganisationPolicy } from '../../src/core/policy.js';
import { effectivePolicy } from '../../src/core/policy.js';
import { ACR, loginClaims, nextStep } from '../../src/core/oidc.js';

const DEFAULTS = { mode: 'optional' as const, triggers: ['every_sign_in' as const], allowedMethods: ['totp', 'webauthn'], trustBrowserDays: 30 };

function org(orgId: string, over: Partial<OrganisationPolicy> = {}): OrganisationPolicy {
  return { orgId, orgName: orgId, mode: 'required', appliesToSubOrganisations: true, triggers: ['every_sign_in'], allowedMethods: ['totp', 'webauthn'], trustBrowserDays: 30, ...over };
}

test('requiring a phishing-resistant method tightens downwards, never loosens, and names where it comes from', () => {
  const chain = [org('agency', { requirePhishingResistant: true }), org('client', { requirePhishingResistant: false })];
  const p = effectivePolicy({ chain, userOrgId: 'client', roles: [], defaults: DEFAULTS });
  assert.equal(p.phishingResistant.value, true);
  assert.deepEqual(p.phishingResistant.sources, [{ kind: 'organisation', name: 'agency' }]);
  const below = effectivePolicy({ chain: [org('agency'), org('client', { requirePhishingResistant: true, allowedMethods: ['totp'] })], userOrgId: 'client', roles: [], defaults: DEFAULTS });
  assert.equal(below.phishingResistant.value, true, 'a sub-organisation may tighten');
  assert.ok(below.allowedMethods.value.includes('webauthn'), 'keys stay enrollable where they are required');
  assert.equal(effectivePolicy({ chain: [], userOrgId: 'x', roles: [], defaults: DEFAULTS }).phishingResistant.value, false);
});

test('the phr acr: only when asked and only with a key among the proofs; otherwise the next step is a key', () => {
  const withKey = { passwordAt: 1, secondFactorAt: 1, authenticatedAt: 1_000, amr: ['pwd', 'hwk', 'mfa'] };
  const withCode = { ...withKey, amr: ['pwd', 'otp', 'mfa'] };
  assert.equal(loginClaims(withKey, [ACR.phishingResistant]).acr, ACR.phishingResistant);
  assert.equal(loginClaims(withKey).acr, ACR.twoFactor, 'not asked: 2fa');
  assert.equal(loginClaims(withCode, [ACR.phishingResistant]).acr, ACR.twoFactor, 'asked, but a code is not a key');
  const request = { promptLogin: false, acrValues: [ACR.phishingResistant], clientRequiresTwoFactor: false, startedAt: 0 };
  assert.deepEqual(nextStep(request, withKey, true, 2_000), { step: 'ready' });
  assert.deepEqual(nextStep(request, withCode, true, 2_000), { step: 'key' });
  assert.deepEqual(nextStep({ ...request, acrValues: [ACR.twoFactor] }, withCode, true, 2_000), { step: 'ready' });
});

test('a role that requires a key makes it required for its holders, named as the source, with 2FA required and keys allowed', () => {
  const chain = [org('acme', { mode: 'optional', allowedMethods: ['totp'] })];
  const p = effectivePolicy({ chain, userOrgId: 'acme', roles: [{ roleName: 'operators', requireTwoFactor: true, requirePhishingResistant: true }], defaults: DEFAULTS });
  assert.equal(p.phishingResistant.value, true);
  assert.deepEqual(p.phishingResistant.sources, [{ kind: 'role', name: 'operators' }]);
  assert.equal(p.mode.value, 'required');
  assert.ok(p.allowedMethods.value.includes('webauthn'));
  const plain = effectivePolicy({ chain, userOrgId: 'acme', roles: [{ roleName: 'operators', requireTwoFactor: true }], defaults: DEFAULTS });
  assert.equal(plain.phishingResistant.value, false, 'a role that requires 2FA alone does not require a key');
});
