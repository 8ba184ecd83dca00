/**
 * New-password policy in the spirit of NIST SP 800-63B: a length floor, a
 * generous ceiling, a block-list of known-breached passwords, and no
 * composition rules (they push people towards predictable patterns).
 */
import { createRequire } from 'node:module';
import type { dictionary as ZxcvbnDictionary } from '@zxcvbn-ts/language-common';

export const MIN_PASSWORD_LENGTH = 8;
/** Caps the work a single request can make the password hasher do. */
export const MAX_PASSWORD_LENGTH = 1024;

export type PasswordRuleCode =
  | 'password_too_short'
  | 'password_too_long'
  | 'password_too_common'
  | 'password_contains_email';

export type PasswordCheck = { ok: true } | { ok: false; code: PasswordRuleCode; message: string };

let commonPasswords: ReadonlySet<string> | undefined;

/**
 * The list (~49k entries, already lowercase) and the package's keyboard
 * graphs cost several MB, so they are loaded on the first password check
 * rather than at start-up of every process that imports core.
 */
function getCommonPasswords(): ReadonlySet<string> {
  if (commonPasswords === undefined) {
    const load = createRequire(import.meta.url);
    const pkg = load('@zxcvbn-ts/language-common') as { dictionary: typeof ZxcvbnDictionary };
    commonPasswords = new Set(pkg.dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return commonPasswords;
}

/** Size of the block-list, exposed so tests can prove it actually loaded. */
export function commonPasswordCount(): number {
  return getCommonPasswords().size;
}

export function isCommonPassword(password: string): boolean {
  return getCommonPasswords().has(password.toLowerCase());
}

function codePointLength(s: string, limit: number): number {
  // Each code point is at most two UTF-16 units; skip spreading a huge string
  // when the answer is already certain.
  if (s.length > limit * 2) return s.length;
  return [...s].length;
}

/** Lowercase, letters and digits only, so "J. Smith" and "j-smith" compare equal. */
function compact(s: string): string {
  return s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
}

export function checkNewPassword(
  password: string,
  context: { email?: string; displayName?: string },
): PasswordCheck {
  const length = codePointLength(password, MAX_PASSWORD_LENGTH);
  if (length < MIN_PASSWORD_LENGTH) {
    return {
      ok: false,
      code: 'password_too_short',
      message: `Password must be at least ${MIN_PASSWORD_LENGTH} characters`,
    };
  }
  if (length > MAX_PASSWORD_LENGTH) {
    return {
      ok: false,
      code: 'password_too_long',
      message: `Password must be at most ${MAX_PASSWORD_LENGTH} characters`,
    };
  }

  const lower = password.toLowerCase();
  const compactPassword = compact(password);
  const email = context.email?.trim().toLowerCase() ?? '';
  if (email.length > 0) {
    // The address is often public, and "<user name><digits>" is a favourite
    // first guess, so the full address and the user name (plus trailing
    // digits) are out. Merely containing the user name is allowed, or every
    // passphrase with a common word in it would trip over short user names.
    const stem = (s: string) => s.replace(/\p{N}+$/u, '');
    const localStem = stem(compact(email.split('@')[0] ?? ''));
    if (lower.includes(email) || (localStem.length > 0 && stem(compactPassword) === localStem)) {
      return {
        ok: false,
        code: 'password_contains_email',
        message: 'Password must not contain your email address',
      };
    }
  }

  // The display name is shown to others; a password equal to it is as guessable
  // as a block-listed one, so it is reported under the same code.
  const name = compact(context.displayName ?? '');
  if (isCommonPassword(password) || (name.length > 0 && compactPassword === name)) {
    return {
      ok: false,
      code: 'password_too_common',
      message: 'Password is too easy to guess; choose a longer or less common one',
    };
  }
  return { ok: true };
}
