import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TwofoldError,
  conflict,
  forbidden,
  gone,
  invalidInput,
  isTwofoldError,
  notFound,
  rateLimited,
  unauthenticated,
} from '../../src/core/errors.js';

test('helpers set kind and code', () => {
  const cases: Array<[TwofoldError, string, string]> = [
    [invalidInput('email_invalid', 'm'), 'invalid_input', 'email_invalid'],
    [unauthenticated('not_signed_in', 'm'), 'unauthenticated', 'not_signed_in'],
    [forbidden('not_admin', 'm'), 'forbidden', 'not_admin'],
    [notFound('user_not_found', 'm'), 'not_found', 'user_not_found'],
    [conflict('email_taken', 'm'), 'conflict', 'email_taken'],
    [gone('challenge_expired', 'm'), 'gone', 'challenge_expired'],
  ];
  for (const [err, kind, code] of cases) {
    assert.ok(err instanceof Error);
    assert.ok(isTwofoldError(err));
    assert.equal(err.kind, kind);
    assert.equal(err.code, code);
    assert.equal(err.message, 'm');
    assert.equal('retryAfterSeconds' in err, false);
  }
});

test('rateLimited carries whole seconds, rounded up', () => {
  assert.equal(rateLimited('too_many_attempts', 'm', 59.2).retryAfterSeconds, 60);
  assert.equal(rateLimited('too_many_attempts', 'm', 0).retryAfterSeconds, 1);
});

test('details are kept; foreign errors are not TwofoldErrors', () => {
  const e = new TwofoldError('conflict', 'email_taken', 'm', { details: { field: 'email' } });
  assert.deepEqual(e.details, { field: 'email' });
  assert.equal(isTwofoldError(new Error('x')), false);
  assert.equal(isTwofoldError({ code: 'x', kind: 'gone' }), false);
});
