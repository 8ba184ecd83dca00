import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import {
  SecretBox,
  constantTimeEqual,
  keyIdOf,
  sealedKeyId,
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
  assert.match(sealed, /^v2\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+$/);
  assert.equal(sealedKeyId(sealed), box.currentKeyId);
  assert.equal(box.decrypt(sealed, 'totp:user:1'), 'JBSWY3DPEHPK3PXP');
  assert.equal(box.decrypt(box.encrypt('', 'c'), 'c'), '');
  assert.equal(box.decrypt(box.encrypt('ünïcødé ✓', 'c'), 'c'), 'ünïcødé ✓');
});

test('SecretBox detects tampering anywhere in the sealed blob', () => {
  const box = new SecretBox(randomBytes(32));
  const sealed = box.encrypt('secret', 'ctx');
  const prefix = `v2.${box.currentKeyId}.`;
  const raw = Buffer.from(sealed.slice(prefix.length), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const copy = Buffer.from(raw);
    copy[i] = (copy[i] ?? 0) ^ 0x01;
    assertCode(() => box.decrypt(prefix + copy.toString('base64url'), 'ctx'), 'decrypt_failed');
  }
  assertCode(() => box.decrypt(sealed.replace('v2.', 'v3.'), 'ctx'), 'decrypt_failed');
  assertCode(() => box.decrypt(sealed.replace(prefix, 'v2.AAAAAAAA.'), 'ctx'), 'decrypt_failed');
  assertCode(() => box.decrypt(prefix, 'ctx'), 'decrypt_failed');
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
    ivs.add(Buffer.from(sealed.slice(sealed.lastIndexOf('.') + 1), 'base64url').subarray(0, 12).toString('hex'));
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

/** A value sealed the way every release before key ids did: `v1.` + iv, body, tag, no key id. */
function legacySeal(key: Buffer, plaintext: string, context: string): string {
  const encryptionKey = Buffer.from(hkdfSync('sha256', key, Buffer.from('twofold/hkdf/v1'), Buffer.from('twofold/secretbox/aes-256-gcm'), 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `v1.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`;
}

test('SecretBox still opens legacy v1 values, with the current or an accepted key', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const legacy = legacySeal(oldKey, 'JBSWY3DPEHPK3PXP', 'totp:f1');
  assert.equal(sealedKeyId(legacy), null);
  assert.equal(new SecretBox(oldKey).decrypt(legacy, 'totp:f1'), 'JBSWY3DPEHPK3PXP');
  assert.equal(new SecretBox({ current: newKey, accepted: [oldKey] }).decrypt(legacy, 'totp:f1'), 'JBSWY3DPEHPK3PXP');
  assertCode(() => new SecretBox(newKey).decrypt(legacy, 'totp:f1'), 'decrypt_failed');
  assertCode(() => new SecretBox(oldKey).decrypt(legacy, 'totp:f2'), 'decrypt_failed');
});

test('a key ring seals under the current key and opens under any key it holds', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = new SecretBox(oldKey).encrypt('secret', 'ctx');
  const ring = new SecretBox({ current: newKey, accepted: [oldKey] });
  assert.equal(ring.currentKeyId, keyIdOf(newKey));
  assert.notEqual(keyIdOf(newKey), keyIdOf(oldKey));
  assert.equal(ring.isCurrent(before), false);
  assert.equal(ring.decrypt(before, 'ctx'), 'secret');
  const after = ring.encrypt('secret', 'ctx');
  assert.equal(ring.isCurrent(after), true);
  assert.equal(sealedKeyId(after), keyIdOf(newKey));
  // Once the old key is gone, only what was sealed again opens.
  const newOnly = new SecretBox(newKey);
  assert.equal(newOnly.decrypt(after, 'ctx'), 'secret');
  assertCode(() => newOnly.decrypt(before, 'ctx'), 'decrypt_failed');
  // The old key alone cannot open what the new key sealed.
  assertCode(() => new SecretBox(oldKey).decrypt(after, 'ctx'), 'decrypt_failed');
});

test('derived keys follow the derivation root, not the current key', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const pepper = new SecretBox(oldKey).deriveKey('backup-codes');
  assert.deepEqual(new SecretBox({ current: newKey, derivationRoot: oldKey }).deriveKey('backup-codes'), pepper);
  assert.notDeepEqual(new SecretBox(newKey).deriveKey('backup-codes'), pepper);
});
