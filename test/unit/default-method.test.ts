import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultFactorFirst, offeredMethods, withDefaultFirst } from '../../src/core/flows/sign-in.js';

test('the default method comes first and the others keep their order; no default or one not offered changes nothing', () => {
  const offered = offeredMethods(['email', 'totp', 'sms'], 10);
  assert.deepEqual(offered, ['totp', 'sms', 'email', 'backup_code']);
  assert.deepEqual(withDefaultFirst(offered, 'email'), ['email', 'totp', 'sms', 'backup_code']);
  assert.deepEqual(withDefaultFirst(offered, 'sms'), ['sms', 'totp', 'email', 'backup_code']);
  assert.deepEqual(withDefaultFirst(offered, null), offered);
  // A default whose channel the organisation switched off is not offered, so it cannot open the step.
  assert.deepEqual(withDefaultFirst(offeredMethods(['totp', 'sms'], 0, (m) => m !== 'sms'), 'sms'), ['totp']);
});

test('the default factor is put first among held factors (its code is the one sent); a stale default changes nothing', () => {
  const held = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  assert.deepEqual(defaultFactorFirst(held, 'c').map((f) => f.id), ['c', 'a', 'b']);
  assert.deepEqual(defaultFactorFirst(held, 'gone').map((f) => f.id), ['a', 'b', 'c']);
  assert.deepEqual(defaultFactorFirst(held, null).map((f) => f.id), ['a', 'b', 'c']);
});
