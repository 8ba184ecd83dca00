import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeActivity } from '../../src/services/activity-log.js';

test('a wrong code is described by what it was for: a typo while adding a method does not read like an attack on the sign-in', () => {
  assert.equal(describeActivity('second_factor.failed', { purpose: 'enrolment', method: 'totp' }), 'Wrong code while adding a method');
  // Since enrolment failures have their own type, this is what the activity log shows for them.
  assert.equal(describeActivity('factor.enrolment_failed', { purpose: 'enrolment', method: 'totp' }), 'Wrong code while adding an authenticator app');
  assert.equal(describeActivity('factor.enrolment_failed', { purpose: 'enrolment', method: 'sms' }), 'Wrong code while adding a phone');
  assert.equal(describeActivity('second_factor.failed', { purpose: 'sign_in', method: 'totp' }), 'Wrong second-step code at sign-in');
  assert.equal(describeActivity('second_factor.failed', { purpose: 'reauthentication' }), 'Wrong code while confirming it was you');
  assert.equal(describeActivity('second_factor.failed', {}), 'Wrong second-step code at sign-in');
});

test('places are named as the pages name them, also in events that kept only the key', () => {
  assert.equal(describeActivity('location.blocked', { location: 'US/CA', label: 'California, United States', endedSessions: 0 }), 'Blocked location California, United States');
  assert.equal(describeActivity('location.unblocked', { location: 'US' }), 'Unblocked location United States');
  assert.equal(describeActivity('location.unblocked', { location: 'DE/BE' }), 'Unblocked location BE, Germany');
});
