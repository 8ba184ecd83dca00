import type * as PhoneNumbering from 'libphonenumber-js/max';
import { loadOnFirstUse } from './load-on-first-use.js';

/**
 * libphonenumber-js with its full metadata, loaded at the first phone number (an enrolment form,
 * a number typed) rather than at start: the metadata holds about 12 MiB of resident memory that a
 * server whose people never use text messages does not need.
 */
export function phoneNumbering(): typeof PhoneNumbering {
  return loadOnFirstUse<typeof PhoneNumbering>('libphonenumber-js/max');
}
