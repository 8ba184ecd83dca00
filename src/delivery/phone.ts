/**
 * Phone numbers and email addresses as users type them and as we show them back.
 * Parsing uses libphonenumber-js with its full metadata ("max"), so a number is checked against
 * the real numbering plan of its country, not only its length.
 */
import type { CountryCode, NumberType, PhoneNumber } from 'libphonenumber-js/max';
import { TwofoldError } from '../core/errors.js';
import { phoneNumbering } from '../core/phone-numbering.js';
import { isEmailAddress } from './message.js';

export interface ParsedPhone {
  /** +14155552671 */
  e164: string;
  /** ISO 3166 country of the number when known (several countries can share a calling code). */
  country?: string;
  /** MOBILE, FIXED_LINE_OR_MOBILE, FIXED_LINE, VOIP, ...; undefined when the plan does not say. */
  type?: NumberType;
}

export interface ParsePhoneOptions {
  /** Reject numbers the numbering plan knows to be landlines (FIXED_LINE). Default false. */
  mobileOnly?: boolean;
}

function phoneInvalid(message: string, field: 'country' | 'number', reason: string): TwofoldError {
  return new TwofoldError('invalid_input', 'phone_invalid', message, { details: { field, reason } });
}

const PARSE_MESSAGES: Record<string, string> = {
  NOT_A_NUMBER: "That doesn't look like a phone number.",
  INVALID_COUNTRY: 'Choose the country of the phone number, or start it with + and the country code.',
  TOO_SHORT: 'That phone number is too short.',
  TOO_LONG: 'That phone number is too long.',
  INVALID_LENGTH: "That phone number doesn't have the right number of digits.",
};

/**
 * `countryCode` is an ISO country ('US', 'gb') or a calling code ('+1', '44'); `number` is what
 * the user typed, national or international (a number starting with + wins over the country).
 * Throws invalid_input `phone_invalid` with a message fit to show next to the form field.
 */
export function parsePhoneNumber(countryCode: string, number: string, options: ParsePhoneOptions = {}): ParsedPhone {
  const { ParseError, isSupportedCountry, parsePhoneNumberWithError } = phoneNumbering();
  const country = countryCode.trim();
  let parseOptions: { defaultCountry: CountryCode } | { defaultCallingCode: string } | undefined;
  if (/^[A-Za-z]{2}$/.test(country)) {
    const iso = country.toUpperCase();
    if (!isSupportedCountry(iso)) throw phoneInvalid(`"${iso}" is not a country we can send text messages to.`, 'country', 'unknown_country');
    parseOptions = { defaultCountry: iso };
  } else if (/^\+?[1-9]\d{0,2}$/.test(country)) {
    parseOptions = { defaultCallingCode: country.replace(/^\+/, '') };
  } else if (country !== '') {
    throw phoneInvalid('The country must be a two-letter country code (like US) or a calling code (like +1).', 'country', 'bad_country');
  }

  const typed = number.trim();
  if (typed === '') throw phoneInvalid('Enter a phone number.', 'number', 'empty');
  if (typed.length > 40) throw phoneInvalid('That phone number is too long.', 'number', 'TOO_LONG');

  let parsed: PhoneNumber;
  try {
    parsed = parseOptions ? parsePhoneNumberWithError(typed, parseOptions) : parsePhoneNumberWithError(typed);
  } catch (error) {
    if (error instanceof ParseError) {
      const reason = error.message;
      throw phoneInvalid(PARSE_MESSAGES[reason] ?? "That doesn't look like a phone number.", reason === 'INVALID_COUNTRY' ? 'country' : 'number', reason);
    }
    throw error;
  }
  if (parsed.ext) throw phoneInvalid('Text messages cannot go to an extension; enter the number without it.', 'number', 'extension');
  if (!parsed.isPossible()) throw phoneInvalid("That phone number doesn't have the right number of digits.", 'number', 'impossible');
  if (!parsed.isValid()) {
    const where = parsed.country ? ` for ${parsed.country}` : '';
    throw phoneInvalid(`That isn't a valid phone number${where}. Check the digits and the country.`, 'number', 'invalid');
  }
  const type = parsed.getType();
  if (options.mobileOnly && type === 'FIXED_LINE') {
    throw phoneInvalid('That number is a landline, which cannot receive text messages. Use a mobile number.', 'number', 'landline');
  }
  return { e164: parsed.number, ...(parsed.country ? { country: parsed.country } : {}), ...(type ? { type } : {}) };
}

/** The calling code of an ISO country ('US' → '1'), or undefined when unknown. */
export function callingCodeOf(country: string): string | undefined {
  const iso = country.toUpperCase();
  const { getCountryCallingCode, isSupportedCountry } = phoneNumbering();
  return isSupportedCountry(iso) ? getCountryCallingCode(iso) : undefined;
}

/**
 * "+1 ••• ••• 1234": the country calling code and the last four digits, the rest as dots in
 * groups of three. Input that is not E.164 is masked entirely but for its last two characters.
 */
export function maskPhone(e164: string): string {
  if (!/^\+[1-9]\d{6,14}$/.test(e164)) return `${'•'.repeat(4)}${e164.slice(-2)}`;
  let callingCode = '';
  try {
    callingCode = phoneNumbering().parsePhoneNumberWithError(e164).countryCallingCode;
  } catch {
    callingCode = e164.slice(1, 2);
  }
  const national = e164.slice(1 + callingCode.length);
  const hidden = national.slice(0, -4).length;
  const groups: string[] = [];
  for (let left = hidden; left > 0; left -= 3) groups.unshift('•'.repeat(Math.min(3, left)));
  // Put the short group first: "•• ••• 1234" reads better than "••• •• 1234".
  return [`+${callingCode}`, ...groups, national.slice(-4)].join(' ');
}

/** "a••••@example.com": the first character of the local part, then one dot per hidden character. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '•'.repeat(Math.max(4, Math.min(email.length, 12)));
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const chars = Array.from(local);
  const masked = chars.length === 1 ? '•' : `${chars[0] ?? ''}${'•'.repeat(chars.length - 1)}`;
  return `${masked}@${domain}`;
}

/**
 * An email address as typed, trimmed and with its domain lower-cased (the local part is left
 * alone: it may be case-sensitive). Throws invalid_input `email_invalid`.
 */
export function parseEmailAddress(input: string): string {
  const trimmed = input.trim();
  const at = trimmed.lastIndexOf('@');
  const address = at > 0 ? `${trimmed.slice(0, at)}@${trimmed.slice(at + 1).toLowerCase()}` : trimmed;
  if (!isEmailAddress(address)) {
    throw new TwofoldError('invalid_input', 'email_invalid', "That doesn't look like an email address (name@example.com).");
  }
  return address;
}
