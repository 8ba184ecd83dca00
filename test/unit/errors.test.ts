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
  const cases: Array<[TwofoldError, string]> = [
    [invalidInput('c', 'm'), 'invalid_input'],
    [unauthenticated('c', 'm'), 'unauthenticated'],
    [forbidden('c', 'm'), 'forbidden'],
    [notFound('c', 'm'), 'not_found'],
    [conflict('c', 'm'), 'conflict'],
    [gone('c', 'm'), 'gone'],
  ];
  for (const [err, kind] of cases) {
    assert.ok(err instanceof Error);
    assert.ok(isTwofoldError(err));
    assert.equal(err.kind, kind);
    assert.equal(err.code, 'c');
    assert.equal(err.message, 'm');
    assert.equal('retryAfterSeconds' in err, false);
  }
});

test('rateLimited carries whole seconds, rounded up', () => {
  assert.equal(rateLimited('slow_down', 'm', 59.2).retryAfterSeconds, 60);
  assert.equal(rateLimited('slow_down', 'm', 0).retryAfterSeconds, 1);
});

test('details are kept; foreign errors are not TwofoldErrors', () => {
  const e = new TwofoldError('conflict', 'dup', 'm', { details: { field: 'email' } });
  assert.deepEqual(e.details, { field: 'email' });
  assert.equal(isTwofoldError(new Error('x')), false);
  assert.equal(isTwofoldError({ code: 'x', kind: 'gone' }), false);
});
