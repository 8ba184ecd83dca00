import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuthenticationRequest, SessionProofs } from '../../src/core/oidc.js';
import { ACR, loginClaims, nextStep, normaliseRedirectUris, normaliseScopes } from '../../src/core/oidc.js';
import { isTwofoldError } from '../../src/core/errors.js';

const T = 1_800_000_000_000;
const request = (over: Partial<AuthenticationRequest> = {}): AuthenticationRequest => ({ promptLogin: false, acrValues: [], clientRequiresTwoFactor: false, startedAt: T, ...over });
const proofs = (over: Partial<SessionProofs> = {}): SessionProofs => ({ passwordAt: T - 60_000, secondFactorAt: T - 60_000, authenticatedAt: T - 60_000, amr: ['pwd', 'otp', 'mfa'], ...over });
const passwordOnly = proofs({ secondFactorAt: null, amr: ['pwd'] });

describe('what a signed-in person still owes an app', () => {
  test('nothing asked: ready, whatever the session proves', () => {
    assert.deepEqual(nextStep(request(), passwordOnly, true, T), { step: 'ready' });
    assert.deepEqual(nextStep(request(), proofs(), true, T), { step: 'ready' });
  });

  test('the 2FA acr or a client that requires it: a code from a password-only session, enrolment without a factor', () => {
    for (const asked of [request({ acrValues: [ACR.twoFactor] }), request({ clientRequiresTwoFactor: true })]) {
      assert.deepEqual(nextStep(asked, passwordOnly, true, T), { step: 'reauthenticate', ask: 'code' });
      assert.deepEqual(nextStep(asked, passwordOnly, false, T), { step: 'enrol' });
      assert.deepEqual(nextStep(asked, proofs(), true, T), { step: 'ready' });
    }
    assert.deepEqual(nextStep(request({ acrValues: [ACR.password] }), passwordOnly, true, T), { step: 'ready' });
  });

  test('prompt=login and max_age=0 need proofs from after the request began: the password and, when held, a code', () => {
    for (const asked of [request({ promptLogin: true }), request({ maxAgeSeconds: 0 })]) {
      assert.deepEqual(nextStep(asked, proofs(), true, T + 5_000), { step: 'reauthenticate', ask: 'all' });
      assert.deepEqual(nextStep(asked, proofs({ passwordAt: T + 1_000 }), true, T + 5_000), { step: 'reauthenticate', ask: 'all' }, 'the code is stale');
      assert.deepEqual(nextStep(asked, proofs({ passwordAt: T + 1_000, secondFactorAt: T + 1_000 }), true, T + 5_000), { step: 'ready' });
      assert.deepEqual(nextStep(asked, proofs({ passwordAt: T + 1_000, secondFactorAt: null }), false, T + 5_000), { step: 'ready' }, 'no factor to ask for');
      assert.deepEqual(nextStep(asked, proofs({ passwordAt: T, secondFactorAt: T }), true, T), { step: 'reauthenticate', ask: 'all' }, 'proofs from the same moment as the request are older than it');
    }
  });

  test('a longer max_age accepts proofs within it', () => {
    const asked = request({ maxAgeSeconds: 300 });
    assert.deepEqual(nextStep(asked, proofs(), true, T), { step: 'ready' });
    assert.deepEqual(nextStep(asked, proofs({ passwordAt: T - 301_000, secondFactorAt: T - 10_000 }), true, T), { step: 'reauthenticate', ask: 'all' });
  });

  test('the login an app is told about', () => {
    assert.deepEqual(loginClaims(proofs()), { acr: ACR.twoFactor, amr: ['pwd', 'otp', 'mfa'], authTime: Math.floor((T - 60_000) / 1000) });
    assert.equal(loginClaims(passwordOnly).acr, ACR.password);
  });
});

describe('client registrations', () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return isTwofoldError(error) ? error.code : 'other';
    }
    return 'none';
  };

  test('redirect URIs: https, or http on this machine; no fragments or credentials; duplicates folded', () => {
    assert.deepEqual(normaliseRedirectUris([' https://a.test/cb ', 'https://a.test/cb', 'http://localhost:3000/cb', 'http://127.0.0.1/cb', 'http://[::1]:8/cb'], 'redirect'), ['https://a.test/cb', 'http://localhost:3000/cb', 'http://127.0.0.1/cb', 'http://[::1]:8/cb']);
    for (const bad of [['http://a.test/cb'], ['https://a.test/cb#x'], ['https://u:p@a.test/cb'], ['/cb'], ['javascript:alert(1)'], []]) {
      assert.equal(code(() => normaliseRedirectUris(bad, 'redirect')), 'redirect_uri_invalid', JSON.stringify(bad));
    }
    assert.deepEqual(normaliseRedirectUris([], 'post_logout'), []);
    assert.equal(code(() => normaliseRedirectUris(Array.from({ length: 11 }, (_, i) => `https://a.test/${i}`), 'redirect')), 'redirect_uri_invalid');
  });

  test('scopes: known ones only, openid always, in a fixed order', () => {
    assert.deepEqual(normaliseScopes(undefined), ['openid', 'email', 'profile', 'offline_access']);
    assert.deepEqual(normaliseScopes(['profile,email']), ['openid', 'email', 'profile']);
    assert.equal(code(() => normaliseScopes(['email', 'admin'])), 'scopes_invalid');
  });
});
