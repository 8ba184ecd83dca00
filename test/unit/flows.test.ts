import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isTwofoldError } from '../../src/core/errors.js';
import { acceptsApprovalMethod, acceptsCodeRequest, deployApprovalFlow } from '../../src/core/flows/deploy-approval.js';
import { mergeAmr } from '../../src/core/flows/flow.js';
import { accepts, complete, openIn, startSignInFlow } from '../../src/core/flows/sign-in.js';
import type { SessionProofs, StepUpPurpose } from '../../src/core/flows/step-up.js';
import { missingProofs, proveAgain, stepUpFlow } from '../../src/core/flows/step-up.js';

function refusedWith(code: string, fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => isTwofoldError(error) && error.code === code, `expected ${code}`);
}

const T0 = 1_800_000_000_000;
const MINUTE = 60_000;

describe('sign-in flow', () => {
  const flow = startSignInFlow({ id: 'f1', userId: 'u1', state: 'second_factor_required', methods: ['totp', 'backup_code'], nowMs: T0, lifetimeMs: 10 * MINUTE, returnTo: '/oidc/interaction/x' });

  test('starts with the password proven, its methods, an expiry and where to go next', () => {
    assert.equal(flow.kind, 'sign_in');
    assert.deepEqual(flow.amr, ['pwd']);
    assert.deepEqual(flow.methods, ['totp', 'backup_code']);
    assert.equal(flow.expiresAt, T0 + 10 * MINUTE);
    assert.equal(flow.returnTo, '/oidc/interaction/x');
  });

  test('accepts an offered method in its state before it expires', () => {
    assert.equal(accepts(flow, 'second_factor_required', 'totp', T0 + MINUTE), flow);
    assert.equal(openIn(flow, 'second_factor_required', T0 + 10 * MINUTE - 1), flow);
  });

  test('refuses a method it does not offer, another state, no flow, and an expired flow, each with its own code', () => {
    refusedWith('method_not_allowed', () => accepts(flow, 'second_factor_required', 'sms', T0));
    refusedWith('challenge_invalid', () => accepts(flow, 'enrolment_required', 'totp', T0));
    refusedWith('challenge_invalid', () => accepts(undefined, 'second_factor_required', 'totp', T0));
    refusedWith('challenge_expired', () => accepts(flow, 'second_factor_required', 'totp', T0 + 10 * MINUTE));
  });

  test('completes once, merging what was proven into amr, and offers nothing afterwards', () => {
    const done = complete(flow, ['otp']);
    assert.equal(done.state, 'completed');
    assert.deepEqual([...done.amr].sort(), ['mfa', 'otp', 'pwd']);
    assert.deepEqual(done.methods, []);
    assert.equal(done.returnTo, flow.returnTo, 'the destination survives completion');
    assert.equal(flow.state, 'second_factor_required', 'the transition returns a new flow; the old value is unchanged');
    refusedWith('challenge_invalid', () => complete(done, ['otp']));
    refusedWith('challenge_invalid', () => accepts(done, 'second_factor_required', 'totp', T0));
  });

  test('mergeAmr marks mfa only when two different kinds were proven', () => {
    assert.deepEqual(mergeAmr(['pwd'], []), ['pwd']);
    assert.deepEqual(mergeAmr(['pwd', 'mfa'], ['pwd']), ['pwd']);
    assert.deepEqual(mergeAmr(['pwd'], ['sms']), ['pwd', 'sms', 'mfa']);
  });
});

describe('step-up', () => {
  const w = { nowMs: T0, windowMs: 5 * MINUTE };
  const recent = T0 - MINUTE;
  const stale = T0 - 6 * MINUTE;
  const cases: Array<[StepUpPurpose, SessionProofs, string[]]> = [
    // Changing factors: a holder proves a factor; the password is not enough.
    ['change_factors', { passwordAt: recent, secondFactorAt: stale, holdsFactor: true }, ['second_factor']],
    ['change_factors', { passwordAt: stale, secondFactorAt: recent, holdsFactor: true }, []],
    ['change_factors', { passwordAt: null, secondFactorAt: null, holdsFactor: true }, ['second_factor']],
    // Holding none: the password, or a factor proven moments ago (the last one just removed).
    ['change_factors', { passwordAt: recent, secondFactorAt: null, holdsFactor: false }, []],
    ['change_factors', { passwordAt: stale, secondFactorAt: recent, holdsFactor: false }, []],
    ['change_factors', { passwordAt: stale, secondFactorAt: stale, holdsFactor: false }, ['password']],
    // Admin: the password, and a factor from a holder.
    ['admin', { passwordAt: recent, secondFactorAt: recent, holdsFactor: true }, []],
    ['admin', { passwordAt: recent, secondFactorAt: stale, holdsFactor: true }, ['second_factor']],
    ['admin', { passwordAt: stale, secondFactorAt: recent, holdsFactor: true }, ['password']],
    ['admin', { passwordAt: null, secondFactorAt: null, holdsFactor: true }, ['password', 'second_factor']],
    ['admin', { passwordAt: recent, secondFactorAt: null, holdsFactor: false }, []],
    ['admin', { passwordAt: stale, secondFactorAt: recent, holdsFactor: false }, ['password']],
  ];
  for (const [purpose, proofs, missing] of cases) {
    test(`${purpose} with ${JSON.stringify(proofs)} misses ${JSON.stringify(missing)}`, () => {
      assert.deepEqual(missingProofs(purpose, proofs, w), missing);
      const flow = stepUpFlow(purpose, proofs, w, ['totp'], '/account/security');
      assert.equal(flow.state, missing.length === 0 ? 'satisfied' : 'proof_required');
      assert.equal(flow.returnTo, '/account/security');
    });
  }

  test('the window edge: a proof exactly windowMs old still counts, one millisecond more does not', () => {
    const edge = { passwordAt: T0 - 5 * MINUTE, secondFactorAt: null, holdsFactor: false };
    assert.deepEqual(missingProofs('admin', edge, w), []);
    assert.deepEqual(missingProofs('admin', { ...edge, passwordAt: T0 - 5 * MINUTE - 1 }, w), ['password']);
  });

  test('a satisfied step-up lasts until the proofs it rests on leave the window', () => {
    const admin = stepUpFlow('admin', { passwordAt: T0 - 3 * MINUTE, secondFactorAt: T0 - MINUTE, holdsFactor: true }, w, [], null);
    assert.equal(admin.expiresAt, T0 + 2 * MINUTE, 'the older of the two proofs decides');
    const factors = stepUpFlow('change_factors', { passwordAt: T0 - 4 * MINUTE, secondFactorAt: T0 - MINUTE, holdsFactor: true }, w, [], null);
    assert.equal(factors.expiresAt, T0 + 4 * MINUTE, 'only the factor proof matters to a holder');
    const missing = stepUpFlow('admin', { passwordAt: null, secondFactorAt: null, holdsFactor: false }, w, [], null);
    assert.equal(missing.expiresAt, T0, 'what is missing must be proven now');
  });

  test('proving again moves only what was proven', () => {
    const before: SessionProofs = { passwordAt: stale, secondFactorAt: stale, holdsFactor: true };
    const after = proveAgain(before, { password: false, secondFactor: true }, T0);
    assert.deepEqual(missingProofs('admin', after, w), ['password']);
    assert.deepEqual(missingProofs('admin', proveAgain(after, { password: true, secondFactor: false }, T0), w), []);
  });
});

describe('deploy approval', () => {
  const input = { targetId: 't1', digest: 'sha256:abc', rollbackOf: null, nowMs: T0, codeLifetimeMs: 10 * MINUTE };
  const protectedFlow = deployApprovalFlow({ ...input, requireTwoFactor: true });
  const openFlow = deployApprovalFlow({ ...input, requireTwoFactor: false });

  test('a protected target asks for a code from a device; an open one for none', () => {
    assert.equal(protectedFlow.state, 'code_required');
    assert.deepEqual(protectedFlow.methods, ['totp', 'sms', 'email']);
    assert.equal(openFlow.state, 'ready');
    assert.deepEqual(openFlow.methods, []);
  });

  test('each method is judged: no code, a backup code and an unknown method are refused', () => {
    assert.equal(acceptsApprovalMethod(protectedFlow, 'totp'), 'totp');
    refusedWith('code_required', () => acceptsApprovalMethod(protectedFlow, undefined));
    refusedWith('method_not_allowed', () => acceptsApprovalMethod(protectedFlow, 'backup_code'));
    refusedWith('method_not_allowed', () => acceptsApprovalMethod(protectedFlow, 'carrier_pigeon'));
    refusedWith('code_not_required', () => acceptsApprovalMethod(openFlow, 'totp'));
  });

  test('a security key and a phone approve only for an approver who holds them; backup codes never', () => {
    refusedWith('method_not_allowed', () => acceptsApprovalMethod(protectedFlow, 'webauthn'));
    refusedWith('method_not_allowed', () => acceptsApprovalMethod(protectedFlow, 'push'));
    const holder = deployApprovalFlow({ ...input, requireTwoFactor: true, held: ['totp', 'webauthn', 'push'] });
    assert.deepEqual(holder.methods, ['totp', 'sms', 'email', 'webauthn', 'push']);
    assert.equal(acceptsApprovalMethod(holder, 'webauthn'), 'webauthn');
    assert.equal(acceptsApprovalMethod(holder, 'push'), 'push');
    refusedWith('method_not_allowed', () => acceptsApprovalMethod(holder, 'backup_code'));
    const keyOnly = deployApprovalFlow({ ...input, requireTwoFactor: true, held: ['webauthn'] });
    refusedWith('method_not_allowed', () => acceptsApprovalMethod(keyOnly, 'push'));
  });

  test('codes are sent only by text or email, and only where one is needed', () => {
    assert.equal(acceptsCodeRequest(protectedFlow, 'sms'), 'sms');
    refusedWith('method_not_sendable', () => acceptsCodeRequest(protectedFlow, 'totp'));
    refusedWith('code_not_required', () => acceptsCodeRequest(openFlow, 'email'));
  });
});
