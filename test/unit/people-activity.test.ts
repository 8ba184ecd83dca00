import assert from 'node:assert/strict';
import { test } from 'node:test';
import { activityTypes, describeActivity } from '../../src/services/activity-log.js';

test("a person's own activity log tells them an administrator switched off one of their methods, and that they accepted their invitation", () => {
  assert.equal(describeActivity('admin.factor_removed', { factor: { id: 'f1', type: 'totp', label: 'Old phone' }, remainingFactors: 1 }), 'An administrator switched off your authenticator app “Old phone”');
  assert.equal(describeActivity('admin.factor_removed', {}), 'An administrator switched off your method');
  assert.equal(describeActivity('invitation.accepted', { email: 'a@example.com' }), 'Chose a password from your invitation');
  assert.ok(activityTypes(['factors']).includes('admin.factor_removed'));
  assert.ok(activityTypes(['password']).includes('invitation.accepted'));
});
