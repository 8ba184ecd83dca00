import { randomInt } from 'node:crypto';

/** Codes sent by text message or email: six digits, uniformly random. */
export const CODE_DIGITS = 6;

export function generateNumericCode(digits = CODE_DIGITS): string {
  return String(randomInt(0, 10 ** digits)).padStart(digits, '0');
}

/** Accepts what people type ("123 456", "123-456"); returns null for anything that cannot be a code. */
export function normaliseNumericCode(input: string, digits = CODE_DIGITS): string | null {
  const compact = input.replace(/[\s-]/g, '');
  return compact.length === digits && /^\d+$/.test(compact) ? compact : null;
}

/** Wrong guesses one code survives before it stops working (the account lockout still applies on top). */
export const MAX_ATTEMPTS_PER_CODE = 5;
