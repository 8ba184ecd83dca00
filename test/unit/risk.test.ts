import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChallengeTrigger } from '../../src/core/policy.js';
import type { SignInAssessment } from '../../src/core/risk.js';
import { assessSignIn, locationKey } from '../../src/core/risk.js';
import { deviceLabel, userAgentFamily } from '../../src/core/user-agent.js';

describe('assessSignIn', () => {
  const cases: Array<[string, { knownDevice: boolean; knownLocation: boolean | null; triggers: ChallengeTrigger[] }, SignInAssessment]> = [
    ['no triggers: never due', { knownDevice: false, knownLocation: false, triggers: [] }, { challengeDue: false, reasons: [] }],
    ['every sign-in: due on a known device at a known place', { knownDevice: true, knownLocation: true, triggers: ['every_sign_in'] }, { challengeDue: true, reasons: ['every_sign_in'] }],
    ['new device: due for an unknown device', { knownDevice: false, knownLocation: true, triggers: ['new_device'] }, { challengeDue: true, reasons: ['new_device'] }],
    ['new device: not due for a known device', { knownDevice: true, knownLocation: false, triggers: ['new_device'] }, { challengeDue: false, reasons: [] }],
    ['new location: due for a place not in the list', { knownDevice: true, knownLocation: false, triggers: ['new_location'] }, { challengeDue: true, reasons: ['new_location'] }],
    ['new location: not due for a listed place', { knownDevice: false, knownLocation: true, triggers: ['new_location'] }, { challengeDue: false, reasons: [] }],
    ['new location: an unknown place is not new', { knownDevice: true, knownLocation: null, triggers: ['new_location'] }, { challengeDue: false, reasons: [] }],
    ['unknown place still leaves new device to fire', { knownDevice: false, knownLocation: null, triggers: ['new_device', 'new_location'] }, { challengeDue: true, reasons: ['new_device'] }],
    ['both new: both reasons, in policy order', { knownDevice: false, knownLocation: false, triggers: ['new_location', 'new_device'] }, { challengeDue: true, reasons: ['new_location', 'new_device'] }],
    ['all triggers, all new', { knownDevice: false, knownLocation: false, triggers: ['every_sign_in', 'new_device', 'new_location'] }, { challengeDue: true, reasons: ['every_sign_in', 'new_device', 'new_location'] }],
    ['all triggers, all known: every sign-in alone', { knownDevice: true, knownLocation: true, triggers: ['every_sign_in', 'new_device', 'new_location'] }, { challengeDue: true, reasons: ['every_sign_in'] }],
    ['new device and location triggers, all known: not due', { knownDevice: true, knownLocation: true, triggers: ['new_device', 'new_location'] }, { challengeDue: false, reasons: [] }],
    ['a repeated trigger is one reason', { knownDevice: false, knownLocation: true, triggers: ['new_device', 'new_device'] }, { challengeDue: true, reasons: ['new_device'] }],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => assert.deepEqual(assessSignIn(input), expected));
  }
});

describe('locationKey', () => {
  test('country and region code', () => assert.equal(locationKey({ country: 'US', region: 'California', regionCode: 'CA' }), 'US/CA'));
  test('region name when the data has no code', () => assert.equal(locationKey({ country: 'US', region: 'California', regionCode: null }), 'US/California'));
  test('country alone from country-only data', () => assert.equal(locationKey({ country: 'DE', region: null, regionCode: null }), 'DE'));
  test('an unknown place has no key', () => assert.equal(locationKey(null), null));
});

const CHROME_MAC_126 = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const CHROME_MAC_127 = CHROME_MAC_126.replace('Chrome/126', 'Chrome/127');
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const FIREFOX_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0';

describe('device family and label', () => {
  test('a browser update keeps the family', () => assert.equal(userAgentFamily(CHROME_MAC_127), userAgentFamily(CHROME_MAC_126)));
  test('another operating system is another family', () => assert.notEqual(userAgentFamily(CHROME_WINDOWS), userAgentFamily(CHROME_MAC_126)));
  test('another browser is another family', () => assert.notEqual(userAgentFamily(FIREFOX_MAC), userAgentFamily(CHROME_MAC_126)));
  test('an unparsed agent: versions masked, names kept', () => {
    assert.equal(userAgentFamily('curl/8.5.0'), userAgentFamily('curl/8.6.1'));
    assert.notEqual(userAgentFamily('curl/8.5.0'), userAgentFamily('Wget/1.21'));
  });
  test('labels leave the version out', () => {
    assert.equal(deviceLabel(CHROME_MAC_126), 'Chrome on macOS');
    assert.equal(deviceLabel(FIREFOX_MAC), 'Firefox on macOS');
    assert.equal(deviceLabel(''), 'Unknown browser');
    assert.equal(deviceLabel('curl/8.5.0'), 'curl/8.5.0');
  });
});
