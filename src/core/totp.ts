/**
 * TOTP (RFC 6238) with the parameters every authenticator app supports:
 * SHA-1, 6 digits, 30-second steps. The HOTP arithmetic itself is delegated to
 * `otpauth`; this module only fixes the parameters and adds the parts that
 * are security decisions of ours (input normalisation, constant-time matching,
 * reporting the matched step so callers can refuse replays).
 */
import { randomBytes } from 'node:crypto';
import { HOTP, Secret } from 'otpauth';
import { constantTimeEqual } from './crypto.js';
import { invalidInput } from './errors.js';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;

const TOTP_ALGORITHM = 'SHA1';
const SECRET_BYTES = 20; // RFC 4226 recommends 160 bits, the SHA-1 block output size
const PERIOD_MS = TOTP_PERIOD_SECONDS * 1000;

function toSecret(secret: string): Secret {
  try {
    const parsed = Secret.fromBase32(secret);
    if (parsed.bytes.length > 0) return parsed;
  } catch {
    // fall through to our own error so callers see a TwofoldError
  }
  throw invalidInput('totp_secret_invalid', 'TOTP secret must be non-empty base32');
}

/** Base32 (RFC 4648, no padding) of 20 CSPRNG bytes: 32 characters. */
export function generateTotpSecret(): string {
  // Copy into a fresh Uint8Array so the ArrayBuffer is exactly 20 bytes and
  // never a slice of a shared pool.
  return new Secret({ buffer: new Uint8Array(randomBytes(SECRET_BYTES)).buffer }).base32;
}

/**
 * Google Authenticator Key URI. Built by hand rather than with otpauth's
 * toString() because that puts `issuer` before `secret`; the order here
 * matches the published examples and our documentation byte for byte.
 * encodeURIComponent yields %20 for spaces (the format forbids `+`).
 *
 * Colons: the format lets the issuer/account separator be written either
 * literally or as %3A, so apps split the label at the first colon in either
 * spelling. A colon in the *account* is therefore harmless (it comes after the
 * first one) and is simply percent-encoded, but a colon in the *issuer* would
 * move the split and make apps show a mangled account name — so it is refused.
 */
export function totpKeyUri(opts: { issuer: string; account: string; secret: string }): string {
  if (opts.issuer.length === 0 || opts.issuer.includes(':')) {
    throw invalidInput('totp_issuer_invalid', 'Issuer must be non-empty and must not contain ":"');
  }
  if (opts.account.length === 0) throw invalidInput('totp_account_invalid', 'Account must not be empty');
  const secret = toSecret(opts.secret).base32;
  const e = encodeURIComponent;
  return (
    `otpauth://totp/${e(opts.issuer)}:${e(opts.account)}` +
    `?secret=${secret}` +
    `&issuer=${e(opts.issuer)}` +
    `&algorithm=${TOTP_ALGORITHM}` +
    `&digits=${TOTP_DIGITS}` +
    `&period=${TOTP_PERIOD_SECONDS}`
  );
}

/** For manual entry: "ABCD EFGH ..." is far easier to type than 32 solid characters. */
export function formatSecretForDisplay(secret: string): string {
  return (secret.replace(/\s+/g, '').match(/.{1,4}/g) ?? []).join(' ');
}

export function totpStepAt(timeMs: number): number {
  return Math.floor(timeMs / PERIOD_MS);
}

function codeForStep(secret: Secret, step: number): string {
  return HOTP.generate({ secret, algorithm: TOTP_ALGORITHM, digits: TOTP_DIGITS, counter: step });
}

export function totpCodeAt(secret: string, timeMs: number): string {
  return codeForStep(toSecret(secret), totpStepAt(timeMs));
}

/**
 * Returns the time step whose code matches, or null. `window` is how many
 * steps of clock drift to tolerate on each side (1 → 3 candidate codes).
 *
 * Every candidate is computed and compared even after a hit so the response
 * time does not reveal which step (or whether any) matched. If two steps
 * happen to share a code, the one nearest to now wins.
 */
export function matchTotpCode(opts: { secret: string; code: string; nowMs: number; window: number }): number | null {
  if (!Number.isInteger(opts.window) || opts.window < 0) {
    throw invalidInput('totp_window_invalid', 'TOTP window must be a non-negative integer');
  }
  const secret = toSecret(opts.secret);
  // Apps often display "123 456"; users paste that with the space.
  const code = opts.code.replace(/\s+/g, '');
  // ASCII digits only (\d without the u flag). Returning early here leaks
  // nothing: the shape of the input is already known to whoever sent it.
  if (!/^\d{6}$/.test(code)) return null;

  const now = totpStepAt(opts.nowMs);
  let matched: number | null = null;
  for (let step = now - opts.window; step <= now + opts.window; step++) {
    if (step < 0) continue;
    const equal = constantTimeEqual(codeForStep(secret, step), code);
    if (equal && (matched === null || Math.abs(step - now) < Math.abs(matched - now))) {
      matched = step;
    }
  }
  return matched;
}
