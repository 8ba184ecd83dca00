import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrganisationPolicy, PolicyInputs, RolePolicy } from '../../src/core/policy.js';
import { effectivePolicy } from '../../src/core/policy.js';

const DEFAULTS: PolicyInputs['defaults'] = { mode: 'optional', triggers: ['every_sign_in'], allowedMethods: ['totp'], trustBrowserDays: 30 };

function org(orgId: string, over: Partial<OrganisationPolicy> = {}): OrganisationPolicy {
  return { orgId, orgName: orgId, mode: 'optional', appliesToSubOrganisations: false, triggers: ['every_sign_in'], allowedMethods: ['totp'], trustBrowserDays: 30, ...over };
}

function compute(chain: OrganisationPolicy[], userOrgId: string, roles: RolePolicy[] = []) {
  return effectivePolicy({ chain, userOrgId, roles, defaults: DEFAULTS });
}

test('no policies: the defaults, named as such', () => {
  const p = compute([], 'org');
  assert.equal(p.mode.value, 'optional');
  assert.deepEqual(p.mode.sources, [{ kind: 'default', name: 'default' }]);
  assert.equal(p.trustBrowserDays.value, 30);
  assert.deepEqual(p.allowedMethods.value, ['totp']);
});

test("an organisation's own policy applies to its members", () => {
  const p = compute([org('agency', { mode: 'required', trustBrowserDays: 7 })], 'agency');
  assert.equal(p.mode.value, 'required');
  assert.deepEqual(p.mode.sources, [{ kind: 'organisation', name: 'agency' }]);
  assert.equal(p.trustBrowserDays.value, 7);
});

test("an ancestor's policy reaches sub-organisations only when it says so", () => {
  const table: Array<[boolean, string]> = [
    [false, 'optional'],
    [true, 'required'],
  ];
  for (const [applies, expected] of table) {
    const p = compute([org('agency', { mode: 'required', appliesToSubOrganisations: applies })], 'client');
    assert.equal(p.mode.value, expected, `appliesToSubOrganisations=${applies}`);
  }
});

test('a sub-organisation can tighten but never loosen', () => {
  const parent = org('agency', { mode: 'required', appliesToSubOrganisations: true, triggers: ['new_device'], trustBrowserDays: 14 });
  const looser = org('client', { mode: 'off', triggers: ['new_location'], trustBrowserDays: 365 });
  const p = compute([parent, looser], 'client');
  assert.equal(p.mode.value, 'required');
  assert.deepEqual(p.mode.sources, [{ kind: 'organisation', name: 'agency' }]);
  assert.deepEqual(p.triggers.value, ['new_device', 'new_location']);
  assert.deepEqual(p.triggers.sources.map((s) => s.name), ['agency', 'client']);
  assert.equal(p.trustBrowserDays.value, 14);
  assert.deepEqual(p.trustBrowserDays.sources, [{ kind: 'organisation', name: 'agency' }]);

  const stricter = org('client', { mode: 'required', trustBrowserDays: 0 });
  const q = compute([org('agency', { mode: 'optional', appliesToSubOrganisations: true }), stricter], 'client');
  assert.equal(q.mode.value, 'required');
  assert.deepEqual(q.mode.sources, [{ kind: 'organisation', name: 'client' }]);
  assert.equal(q.trustBrowserDays.value, 0);
});

test('modes combine to the strictest (off < optional < required) down a chain', () => {
  const modes = ['off', 'optional', 'required'] as const;
  for (const top of modes) {
    for (const below of modes) {
      const p = compute([org('root', { mode: top, appliesToSubOrganisations: true }), org('sub', { mode: below })], 'sub');
      const expected = modes[Math.max(modes.indexOf(top), modes.indexOf(below))];
      assert.equal(p.mode.value, expected, `${top} then ${below}`);
    }
  }
});

test('the topmost applicable policy may switch 2FA off; a gap in the chain is skipped', () => {
  const p = compute([org('root', { mode: 'off', appliesToSubOrganisations: true })], 'leaf');
  assert.equal(p.mode.value, 'off');
  const q = compute([org('root', { mode: 'required' }), org('leaf', { mode: 'off' })], 'leaf');
  assert.equal(q.mode.value, 'off', "root's policy does not apply below it");
});

test('allowed methods are intersected, and the restricting organisation is named', () => {
  const p = compute([org('root', { appliesToSubOrganisations: true, allowedMethods: ['totp', 'webauthn'] }), org('sub', { allowedMethods: ['totp'] })], 'sub');
  assert.deepEqual(p.allowedMethods.value, ['totp']);
  const q = effectivePolicy({ chain: [org('root', { allowedMethods: ['totp', 'webauthn'] }), org('sub', { allowedMethods: ['webauthn'] })].map((o) => ({ ...o, appliesToSubOrganisations: true })), userOrgId: 'sub', roles: [], defaults: { ...DEFAULTS, allowedMethods: ['totp', 'webauthn'] } });
  assert.deepEqual(q.allowedMethods.value, ['webauthn']);
  assert.deepEqual(q.allowedMethods.sources.map((s) => s.name), ['root', 'sub']);
});

test('a role that requires 2FA makes it required, naming the role; others do nothing', () => {
  const roles: RolePolicy[] = [
    { roleName: 'viewer', requireTwoFactor: false },
    { roleName: 'finance', requireTwoFactor: true },
  ];
  const p = compute([org('org', { mode: 'off' })], 'org', roles);
  assert.equal(p.mode.value, 'required');
  assert.deepEqual(p.mode.sources, [{ kind: 'role', name: 'finance' }]);
  assert.equal(compute([org('org', { mode: 'off' })], 'org', [{ roleName: 'viewer', requireTwoFactor: false }]).mode.value, 'off');
  const already = compute([org('org', { mode: 'required' })], 'org', roles);
  assert.deepEqual(already.mode.sources, [{ kind: 'organisation', name: 'org' }]);
});
