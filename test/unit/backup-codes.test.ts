import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKUP_CODE_ALPHABET,
  BACKUP_CODE_BITS,
  BACKUP_CODE_COUNT,
  BACKUP_CODE_LENGTH,
  formatBackupCode,
  generateBackupCodes,
  normaliseBackupCode,
} from '../../src/core/backup-codes.js';

const FORMAT = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

test('alphabet: 32 distinct symbols, no i/l/o/u, power of two so masking is unbiased', () => {
  assert.equal(BACKUP_CODE_ALPHABET.length, 32);
  assert.equal(new Set(BACKUP_CODE_ALPHABET).size, 32);
  assert.equal(BACKUP_CODE_ALPHABET.length & (BACKUP_CODE_ALPHABET.length - 1), 0);
  for (const ch of 'ilou') assert.ok(!BACKUP_CODE_ALPHABET.includes(ch), ch);
  assert.equal(BACKUP_CODE_ALPHABET, BACKUP_CODE_ALPHABET.toLowerCase());
});

test('entropy', () => {
  assert.equal(BACKUP_CODE_LENGTH, 12);
  assert.equal(BACKUP_CODE_BITS, 60);
  assert.ok(BACKUP_CODE_BITS >= 50);
});

test('generates 10 distinct, well-formed codes', () => {
  const codes = generateBackupCodes();
  assert.equal(BACKUP_CODE_COUNT, 10);
  assert.equal(codes.length, 10);
  assert.equal(new Set(codes).size, 10);
  for (const c of codes) assert.match(c, FORMAT);
  assert.equal(generateBackupCodes(3).length, 3);
  assert.throws(() => generateBackupCodes(0));
});

test('symbol distribution is roughly uniform over the whole alphabet', () => {
  // 2000 codes × 12 symbols = 24000 draws, 750 expected per symbol. A chi-square
  // over 31 degrees of freedom above ~70 would happen with p < 1e-4 if uniform.
  const counts = new Map<string, number>();
  for (const code of generateBackupCodes(2000)) {
    for (const ch of code.replaceAll('-', '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  assert.equal(counts.size, 32);
  let chi = 0;
  for (const n of counts.values()) chi += (n - 750) ** 2 / 750;
  assert.ok(chi < 70, `chi-square ${chi.toFixed(1)}`);
});

test('normalisation round trip', () => {
  for (const code of generateBackupCodes()) {
    const n = normaliseBackupCode(code);
    assert.ok(n !== null);
    assert.equal(n.length, 12);
    assert.equal(formatBackupCode(n), code);
    assert.equal(normaliseBackupCode(code.toUpperCase()), n);
    assert.equal(normaliseBackupCode(` ${code.replaceAll('-', ' ')} `), n);
    assert.equal(normaliseBackupCode(code.replaceAll('-', '')), n);
    assert.equal(normaliseBackupCode(code.replaceAll('-', '\u2013')), n);
  }
});

test('confusables fold onto the digit', () => {
  assert.equal(normaliseBackupCode('OoIL-il10-abcd'), '00111110abcd');
  assert.equal(normaliseBackupCode('oooo-iiii-llll'), '000011111111');
  assert.equal(normaliseBackupCode('ＡＢＣＤ-efgh-2345'), 'abcdefgh2345');
});

test('garbage is rejected', () => {
  for (const bad of ['', 'abcd-efgh-234', 'abcd-efgh-23456', 'abcd-efgh-234u', 'abcd_efgh_2345', 'abcd-efgh-234!', 'äbcd-efgh-2345', '123456', 'abcd-efgh-2345-abcd']) {
    assert.equal(normaliseBackupCode(bad), null, bad);
  }
  assert.throws(() => formatBackupCode('abcd-efgh-2345'));
  assert.throws(() => formatBackupCode('ABCDEFGH2345'));
});
