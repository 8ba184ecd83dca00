import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  SecretBox,
  constantTimeEqual,
  hmacSha256,
  parseSecretKey,
  randomToken,
  sha256,
} from '../../src/core/crypto.js';
import { isTwofoldError } from '../../src/core/errors.js';

const B64URL = /^[A-Za-z0-9_-]+$/;

function assertCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => isTwofoldError(e) && e.code === code);
}

test('randomToken is base64url of the requested size', () => {
  const t = randomToken();
  assert.match(t, B64URL);
  assert.equal(Buffer.from(t, 'base64url').length, 32);
  assert.equal(Buffer.from(randomToken(16), 'base64url').length, 16);
  assert.notEqual(randomToken(), randomToken());
});

test('sha256 and hmacSha256 match known vectors', () => {
  assert.equal(sha256('abc'), Buffer.from('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad', 'hex').toString('base64url'));
  // RFC 4231 test case 2
  assert.equal(
    hmacSha256(Buffer.from('Jefe'), 'what do ya want for nothing?'),
    Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex').toString('base64url'),
  );
});

test('constantTimeEqual handles equal, different and different-length inputs', () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
  assert.equal(constantTimeEqual('', ''), true);
});

test('SecretBox round trip and format', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.encrypt('JBSWY3DPEHPK3PXP', 'totp:user:1');
  assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
  assert.equal(box.decrypt(sealed, 'totp:user:1'), 'JBSWY3DPEHPK3PXP');
  assert.equal(box.decrypt(box.encrypt('', 'c'), 'c'), '');
  assert.equal(box.decrypt(box.encrypt('ünïcødé ✓', 'c'), 'c'), 'ünïcødé ✓');
});

test('SecretBox detects tampering anywhere in the sealed blob', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.encrypt('secret', 'ctx');
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const copy = Buffer.from(raw);
    copy[i] = (copy[i] ?? 0) ^ 0x01;
    assertCode(() => box.decrypt('v1.' + copy.toString('base64url'), 'ctx'), 'decrypt_failed');
  }
  assertCode(() => box.decrypt(sealed.replace('v1.', 'v2.'), 'ctx'), 'decrypt_failed');
  assertCode(() => box.decrypt('v1.', 'ctx'), 'decrypt_failed');
  assertCode(() => box.decrypt('v1.!!!!', 'ctx'), 'decrypt_failed');
  assertCode(() => box.decrypt(sealed.slice(0, 20), 'ctx'), 'decrypt_failed');
  assert.throws(() => box.decrypt(sealed.slice(0, 20), 'ctx'), (e: unknown) => isTwofoldError(e) && e.kind === 'unavailable');
});

test('SecretBox binds context and key', () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);
  const sealed = box.encrypt('secret', 'totp:user:1');
  assertCode(() => box.decrypt(sealed, 'totp:user:2'), 'decrypt_failed');
  assertCode(() => new SecretBox(randomBytes(32)).decrypt(sealed, 'totp:user:1'), 'decrypt_failed');
  // A copy of the same key works; mutating the caller's buffer later does not affect the box.
  assert.equal(new SecretBox(Buffer.from(key)).decrypt(sealed, 'totp:user:1'), 'secret');
  key.fill(0);
  assert.equal(box.decrypt(sealed, 'totp:user:1'), 'secret');
});

test('SecretBox uses a fresh IV every time', () => {
  const box = new SecretBox(randomBytes(32));
  const ivs = new Set<string>();
  const blobs = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const sealed = box.encrypt('same', 'same');
    blobs.add(sealed);
    ivs.add(Buffer.from(sealed.slice(3), 'base64url').subarray(0, 12).toString('hex'));
  }
  assert.equal(ivs.size, 200);
  assert.equal(blobs.size, 200);
});

test('SecretBox rejects keys that are not 32 bytes', () => {
  assertCode(() => new SecretBox(randomBytes(16)), 'secret_key_invalid');
  assertCode(() => new SecretBox(randomBytes(33)), 'secret_key_invalid');
});

test('deriveKey is deterministic, 32 bytes, and separated by purpose', () => {
  const key = randomBytes(32);
  const a = new SecretBox(key);
  const b = new SecretBox(key);
  assert.equal(a.deriveKey('backup-code-pepper').length, 32);
  assert.deepEqual(a.deriveKey('backup-code-pepper'), b.deriveKey('backup-code-pepper'));
  assert.notDeepEqual(a.deriveKey('backup-code-pepper'), a.deriveKey('session-pepper'));
  assert.notDeepEqual(a.deriveKey('x'), key);
  assert.notDeepEqual(new SecretBox(randomBytes(32)).deriveKey('x'), a.deriveKey('x'));
});

test('parseSecretKey accepts hex, base64 and base64url of 32 bytes', () => {
  const key = randomBytes(32);
  assert.deepEqual(parseSecretKey(key.toString('hex')), key);
  assert.deepEqual(parseSecretKey(key.toString('hex').toUpperCase()), key);
  assert.deepEqual(parseSecretKey(key.toString('base64')), key);
  assert.deepEqual(parseSecretKey(key.toString('base64url')), key);
  assert.deepEqual(parseSecretKey(`  ${key.toString('base64')}\n`), key);
  // Covers both alphabets' special characters.
  const special = Buffer.alloc(32, 0xfb);
  assert.deepEqual(parseSecretKey(special.toString('base64')), special);
  assert.deepEqual(parseSecretKey(special.toString('base64url')), special);
});

test('parseSecretKey rejects anything else', () => {
  const key = randomBytes(32);
  for (const bad of [
    '',
    'not a key',
    key.toString('hex').slice(2),
    key.toString('hex') + '00',
    randomBytes(16).toString('base64'),
    randomBytes(33).toString('base64'),
    key.toString('base64').slice(0, 42) + '!=',
    'g'.repeat(64),
  ]) {
    assertCode(() => parseSecretKey(bad), 'secret_key_invalid');
  }
});
