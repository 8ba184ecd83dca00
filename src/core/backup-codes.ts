/**
 * One-time backup codes for when the authenticator is lost.
 *
 * Alphabet: Crockford's base32, lowercased — the digits 0-9 plus the 22
 * letters left after dropping i, l, o and u. Thirty-two symbols cannot be had
 * from lowercase letters and digits once *every* member of the 0/o and 1/i/l
 * families is removed (only 30 remain), so instead each family keeps exactly
 * one member (the digit) and input normalisation folds the others onto it:
 * o → 0, i → 1, l → 1. A user who misreads "0" as "o" still succeeds, and no
 * two alphabet symbols are confusable. `u` is dropped, as in Crockford, to
 * avoid accidental words; it is not mapped to anything.
 *
 * 32 is a power of two, so masking a random byte to 5 bits is exactly uniform
 * (no modulo bias, no rejection loop needed).
 */
import { randomBytes } from 'node:crypto';
import { invalidInput } from './errors.js';

export const BACKUP_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
export const BACKUP_CODE_LENGTH = 12;
export const BACKUP_CODE_COUNT = 10;
export const BACKUP_CODE_BITS = Math.log2(BACKUP_CODE_ALPHABET.length) * BACKUP_CODE_LENGTH;

const GROUP = 4;
const SYMBOL_MASK = BACKUP_CODE_ALPHABET.length - 1;
const CONFUSABLES: Readonly<Record<string, string>> = { o: '0', i: '1', l: '1' };
const NORMALISED_RE = new RegExp(`^[${BACKUP_CODE_ALPHABET}]{${BACKUP_CODE_LENGTH}}$`);
// Hyphen-minus plus the Unicode dashes and minus sign that word processors
// and password managers substitute when a code is copied around.
const SEPARATORS_RE = /[\s\-\u2010-\u2015\u2212]+/g;

function randomNormalisedCode(): string {
  let out = '';
  for (const byte of randomBytes(BACKUP_CODE_LENGTH)) {
    out += BACKUP_CODE_ALPHABET[byte & SYMBOL_MASK];
  }
  return out;
}

/** Formatted codes (`xxxx-xxxx-xxxx`), all distinct so each one is a separate credential. */
export function generateBackupCodes(count = BACKUP_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1) {
    throw invalidInput('backup_code_count_invalid', 'Backup code count must be a positive integer');
  }
  const codes = new Set<string>();
  while (codes.size < count) codes.add(randomNormalisedCode());
  return [...codes].map(formatBackupCode);
}

/** Canonical storage/lookup form, or null if the input cannot be a backup code. */
export function normaliseBackupCode(input: string): string | null {
  // NFKC folds full-width digits and letters from some mobile keyboards.
  const compact = input.normalize('NFKC').toLowerCase().replace(SEPARATORS_RE, '');
  let out = '';
  for (const ch of compact) out += CONFUSABLES[ch] ?? ch;
  return NORMALISED_RE.test(out) ? out : null;
}

export function formatBackupCode(normalised: string): string {
  if (!NORMALISED_RE.test(normalised)) {
    throw invalidInput('backup_code_invalid', 'Not a normalised backup code');
  }
  const groups: string[] = [];
  for (let i = 0; i < normalised.length; i += GROUP) groups.push(normalised.slice(i, i + GROUP));
  return groups.join('-');
}
