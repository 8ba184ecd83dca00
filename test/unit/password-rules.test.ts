import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  checkNewPassword,
  commonPasswordCount,
} from '../../src/core/password-rules.js';

function codeOf(password: string, context: { email?: string; displayName?: string } = {}): string {
  const r = checkNewPassword(password, context);
  return r.ok ? 'ok' : r.code;
}

test('limits', () => {
  assert.equal(MIN_PASSWORD_LENGTH, 8);
  assert.equal(MAX_PASSWORD_LENGTH, 1024);
});

test('common-password list is loaded and big', () => {
  assert.ok(commonPasswordCount() >= 10_000, String(commonPasswordCount()));
});

test('common passwords are refused, case-insensitively', () => {
  for (const p of ['password', '12345678', 'qwertyuiop', 'PASSWORD', 'QwertyUIOP', 'iloveyou']) {
    assert.equal(codeOf(p), 'password_too_common', p);
  }
});

test('length, counted in code points', () => {
  assert.equal(codeOf('Xk9#vq2'), 'password_too_short');
  assert.equal(codeOf(''), 'password_too_short');
  // Seven emoji are 14 UTF-16 units but only 7 characters.
  assert.equal(codeOf('😀😁😂🤣😃😄😅'), 'password_too_short');
  assert.equal(codeOf('😀😁😂🤣😃😄😅😆'), 'ok');
  assert.equal(codeOf('x'.repeat(MAX_PASSWORD_LENGTH)), 'ok');
  assert.equal(codeOf('x'.repeat(MAX_PASSWORD_LENGTH + 1)), 'password_too_long');
  assert.equal(codeOf('😀'.repeat(MAX_PASSWORD_LENGTH)), 'ok');
  assert.equal(codeOf('😀'.repeat(MAX_PASSWORD_LENGTH + 1)), 'password_too_long');
  assert.equal(codeOf('x'.repeat(1_000_000)), 'password_too_long');
});

test('a long passphrase is accepted', () => {
  const phrase = 'correct horse battery staple on a quiet tuesday afternoon!!!';
  assert.equal([...phrase].length, 60);
  assert.equal(codeOf(phrase, { email: 'alice@example.com', displayName: 'Alice' }), 'ok');
});

test('passwords built from the email address are refused', () => {
  const email = 'Alice.Smith@example.com';
  assert.equal(codeOf('alice.smith@example.com', { email }), 'password_contains_email');
  assert.equal(codeOf('my alice.smith@example.com pw', { email }), 'password_contains_email');
  assert.equal(codeOf('ALICE.SMITH@EXAMPLE.COM!', { email }), 'password_contains_email');
  assert.equal(codeOf('alicesmith', { email }), 'password_contains_email');
  assert.equal(codeOf('alice.smith2026', { email }), 'password_contains_email');
  // Containing the user name inside a longer phrase is fine.
  assert.equal(codeOf('alice smith likes long walks', { email }), 'ok');
  assert.equal(codeOf('alice.smith2026', {}), 'ok');
});

test('a password equal to the display name is refused', () => {
  assert.equal(codeOf('Bartholomew Q', { displayName: 'bartholomew q.' }), 'password_too_common');
  assert.equal(codeOf('Bartholomew Q', {}), 'ok');
});

test('refusals carry a message', () => {
  const r = checkNewPassword('short', {});
  assert.equal(r.ok, false);
  if (!r.ok) assert.ok(r.message.length > 0);
});
