import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { auditEvents, deliveryWorld, newMember, otherCode } from '../helpers/delivery.js';

test('a wrong code while adding a method is logged as an enrolment failure of its own, not as a failed sign-in step', async (t) => {
  const world = await deliveryWorld(t);
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/totp', {});
  assert.equal(started.status, 201, started.text);
  const right = totpCodeAt(started.json?.secret as string, world.clock.now());
  const wrong = await member.client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: otherCode(right) });
  assert.equal(wrong.status, 401, wrong.text);
  assert.equal(wrong.json?.error?.code, 'code_invalid');

  const enrolment = await auditEvents(world.server, 'factor.enrolment_failed', { subjectUserId: member.userId });
  assert.equal(enrolment.length, 1);
  assert.equal(enrolment[0]?.details.method, 'totp');
  assert.equal(enrolment[0]?.details.purpose, 'enrolment');
  assert.deepEqual(await auditEvents(world.server, 'second_factor.failed', { subjectUserId: member.userId }), []);

  // The person's activity log words it as what it was.
  const activity = await member.client.get('/api/v1/activity');
  assert.equal(activity.status, 200, activity.text);
  const summaries = (activity.json?.events as Array<{ summary: string }>).map((e) => e.summary);
  assert.ok(summaries.includes('Wrong code while adding an authenticator app'), summaries.join(' | '));
  assert.ok(!summaries.some((s) => /at sign-in/.test(s)), summaries.join(' | '));

  // The right code still switches it on (the same pending factor).
  const confirmed = await member.client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: right });
  assert.equal(confirmed.status, 200, confirmed.text);
});
