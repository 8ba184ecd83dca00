import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskEmail, maskPhone, parseEmailAddress, parsePhoneNumber } from '../../src/delivery/phone.js';

test('US numbers, by ISO country or by calling code, in any common notation', () => {
  for (const typed of ['(415) 555-2671', '415.555.2671', '1 415 555 2671', '+1 415-555-2671']) {
    assert.equal(parsePhoneNumber('US', typed).e164, '+14155552671', typed);
  }
  assert.equal(parsePhoneNumber('us', '4155552671').e164, '+14155552671');
  assert.equal(parsePhoneNumber('+1', '415 555 2671').e164, '+14155552671');
  assert.equal(parsePhoneNumber('1', '415 555 2671').e164, '+14155552671');
});

test('UK and India mobiles; an explicit +country wins over the chosen country', () => {
  const uk = parsePhoneNumber('GB', '07400 123456');
  assert.deepEqual(uk, { e164: '+447400123456', country: 'GB', type: 'MOBILE' });
  assert.equal(parsePhoneNumber('+44', '7400 123456').e164, '+447400123456');
  assert.equal(parsePhoneNumber('IN', '98765 43210').e164, '+919876543210');
  assert.equal(parsePhoneNumber('IN', '098765 43210').e164, '+919876543210');
  assert.equal(parsePhoneNumber('+91', '9876543210').e164, '+919876543210');
  assert.equal(parsePhoneNumber('US', '+44 7400 123456').e164, '+447400123456');
  assert.equal(parsePhoneNumber('', '+91 98765 43210').e164, '+919876543210');
});

test('garbage, wrong lengths, unknown countries and extensions: phone_invalid with a clear message', () => {
  const cases: Array<[string, string, RegExp, string]> = [
    ['US', 'garbage', /doesn't look like a phone number/, 'number'],
    ['US', '', /Enter a phone number/, 'number'],
    ['US', '123', /too short|right number of digits/, 'number'],
    ['US', '415 555 2671 555 1234 99', /too long|right number of digits|valid/, 'number'],
    ['GB', '07700 900123', /isn't a valid phone number for GB/, 'number'], // Ofcom's range reserved for drama
    ['IN', '55555 55555', /isn't a valid phone number for IN/, 'number'],
    ['XX', '4155552671', /not a country/, 'country'],
    ['USA', '4155552671', /two-letter country code/, 'country'],
    ['', '4155552671', /Choose the country/, 'country'],
    ['US', '415 555 2671 ext. 12', /extension/, 'number'],
    ['US', '4'.repeat(41), /too long/, 'number'],
  ];
  for (const [country, number, message, field] of cases) {
    assert.throws(
      () => parsePhoneNumber(country, number),
      (e: unknown) => {
        const err = e as { kind?: string; code?: string; message: string; details?: { field?: string } };
        assert.equal(err.kind, 'invalid_input');
        assert.equal(err.code, 'phone_invalid');
        assert.match(err.message, message);
        assert.equal(err.details?.field, field);
        return true;
      },
      `${country} ${number}`,
    );
  }
});

test('mobileOnly refuses numbers the plan knows to be landlines', () => {
  assert.equal(parsePhoneNumber('GB', '020 7946 0958').type, 'FIXED_LINE');
  assert.throws(() => parsePhoneNumber('GB', '020 7946 0958', { mobileOnly: true }), { code: 'phone_invalid', message: /landline/ });
  assert.equal(parsePhoneNumber('US', '415 555 2671', { mobileOnly: true }).e164, '+14155552671');
});

test('maskPhone keeps the country code and the last four digits', () => {
  assert.equal(maskPhone('+14155551234'), '+1 ••• ••• 1234');
  assert.equal(maskPhone('+447400123456'), '+44 ••• ••• 3456');
  assert.equal(maskPhone('+919876543210'), '+91 ••• ••• 3210');
  assert.equal(maskPhone('+35312345678'), '+353 • ••• 5678'); // shorter group first
  assert.equal(maskPhone('+8613812345678'), '+86 • ••• ••• 5678');
  assert.equal(maskPhone('not a number'), '••••er');
});

test('maskEmail keeps the first character and the domain', () => {
  assert.equal(maskEmail('alice@example.com'), 'a••••@example.com');
  assert.equal(maskEmail('b@example.com'), '•@example.com');
  assert.equal(maskEmail('élise@exemple.fr'), 'é••••@exemple.fr');
  assert.equal(maskEmail('no-at-sign'), '••••••••••');
});

test('parseEmailAddress trims, lower-cases the domain, and refuses what is not an address', () => {
  assert.equal(parseEmailAddress('  Alice.Smith@Example.COM '), 'Alice.Smith@example.com');
  for (const bad of ['', 'alice', 'alice@', '@example.com', 'alice@example', 'a b@example.com', 'alice@example.com\r\nBcc: eve@evil.test', 'alice@-bad-.com']) {
    assert.throws(() => parseEmailAddress(bad), { kind: 'invalid_input', code: 'email_invalid' }, JSON.stringify(bad));
  }
});
