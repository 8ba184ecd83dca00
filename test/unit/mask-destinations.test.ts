import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskDestinations } from '../../src/services/messaging/sender.js';

test("a provider's words keep their sense with phone numbers and email addresses masked; dates, times and codes stay", () => {
  const cases: Array<[string, string]> = [
    ["The 'To' number +4915112345678 is not a valid phone number.", "The 'To' number …78 is not a valid phone number."],
    ['Recipient address rejected: <alice.smith@example.co.uk>', 'Recipient address rejected: <a…@example.co.uk>'],
    ['number 015112345678 invalid', 'number …78 invalid'],
    ['+1 (415) 555-0123 blocked', '…23 blocked'],
    ['Error 21614: 415 555 0123 is not a mobile number', 'Error 21614: …23 is not a mobile number'],
    ['HTTP 400 (code 21211) at 2026-11-30 12:00:01', 'HTTP 400 (code 21211) at 2026-11-30 12:00:01'],
    ['550 5.1.1 user unknown', '550 5.1.1 user unknown'],
    ['timeout after 10000 ms', 'timeout after 10000 ms'],
  ];
  for (const [given, expected] of cases) assert.equal(maskDestinations(given), expected, given);
  assert.equal(maskDestinations('x'.repeat(2000)).length, 500);
});
