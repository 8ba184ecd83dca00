import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestResponse } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import {
  auditEvents,
  bindChannel,
  codeRows,
  deliveryWorld,
  factorRows,
  memberWithPhone,
  newMember,
  passwordStepIn,
  smtpConfig,
  twilioConfig,
  withSmtp,
  withTwilio,
} from '../helpers/delivery.js';

const PHONE = { country: 'US', number: '415 555 2671', e164: '+14155552671' };

function assertRefused(res: TestResponse, status: number, code: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.json?.error?.code, code, res.text);
  assert.ok((res.json?.error?.message ?? '').length > 0);
}

/** Nothing was created or sent for this user. */
async function assertNothingFor(world: DeliveryWorld, userId: string) {
  assert.deepEqual(await factorRows(world.server, userId), []);
  assert.deepEqual(await codeRows(world.server, userId), []);
  assert.deepEqual(await auditEvents(world.server, 'factor.enrolment_started', { subjectUserId: userId }), []);
}

test('phone numbers that cannot take a text are refused with 400 phone_invalid; nothing is created or sent', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await newMember(world);

  const cases: Array<[string, { country: string; number: string }, string]> = [
    ['letters', { country: 'US', number: 'call me maybe' }, 'number'],
    ['too short', { country: 'US', number: '12' }, 'number'],
    ['too many digits', { country: 'US', number: '415 555 2671 4444 5555' }, 'number'],
    ['longer than any number', { country: 'US', number: '4'.repeat(41) }, 'number'],
    ['blank', { country: 'US', number: '   ' }, 'number'],
    ['unknown country', { country: 'ZZ', number: '415 555 2671' }, 'country'],
    ['country as a word', { country: 'USA!', number: '415 555 2671' }, 'country'],
    ['unknown calling code', { country: '+999', number: '123 456 789' }, 'country'],
    ['no country for a national number', { country: '', number: '415 555 2671' }, 'country'],
    ['not a valid US number', { country: 'US', number: '(123) 456-7890' }, 'number'],
    ['an extension', { country: 'US', number: '415-555-2671 ext. 12' }, 'number'],
    ['a landline (UK fixed line)', { country: 'GB', number: '020 7946 0018' }, 'number'],
  ];
  for (const [what, body, field] of cases) {
    const res = await member.client.post('/api/v1/factors/sms', body);
    assertRefused(res, 400, 'phone_invalid');
    assert.equal((res.json?.error as { details?: { field?: string } }).details?.field, field, `${what}: ${res.text}`);
  }
  assert.equal(twilio.requests.length, 0);
  await assertNothingFor(world, member.userId);

  // The same number written well is fine, in any common form.
  for (const number of ['+1 415-555-2671', '4155552671']) {
    const ok = await member.client.post('/api/v1/factors/sms', { country: 'US', number });
    assert.equal(ok.status, 201, `${number}: ${ok.text}`);
    assert.equal(new URLSearchParams(twilio.requests.at(-1)!.body).get('To'), PHONE.e164);
  }
});

test('email addresses that cannot take a code are refused with 400 email_invalid; nothing is created or sent', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);

  for (const email of ['not-an-email', 'dana@', '@example.com', 'dana@example', 'dana smith@example.com', 'dana@exa_mple.com', 'a@b@example.com', `${'x'.repeat(250)}@example.com`]) {
    const res = await member.client.post('/api/v1/factors/email', { email });
    assertRefused(res, 400, email.length > 254 ? 'invalid_request' : 'email_invalid');
  }
  assert.equal(smtp.received.length, 0);
  await assertNothingFor(world, member.userId);
});

test('a channel with no provider: 403 method_unavailable for both, /methods says why, nothing created', async (t) => {
  const world = await deliveryWorld(t);
  const member = await newMember(world);

  assertRefused(await member.client.post('/api/v1/factors/sms', { country: PHONE.country, number: PHONE.number }), 403, 'method_unavailable');
  assertRefused(await member.client.post('/api/v1/factors/email', {}), 403, 'method_unavailable');
  const methods = (await member.client.get('/api/v1/methods')).json?.methods as Array<{ method: string; available: boolean; reason?: string }>;
  assert.deepEqual(
    methods.map((m) => [m.method, m.available]),
    [
      ['totp', true],
      ['sms', false],
      ['email', false],
      // Security keys and phone approvals need no provider.
      ['webauthn', true],
      ['push', true],
    ],
  );
  assert.match(methods[1]?.reason ?? '', /not set up a provider/);
  await assertNothingFor(world, member.userId);
});

test('a channel switched off (allowed: false): enrolment refused; an enrolled user is not offered it and is told why', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  const providerId = await bindChannel(world, 'sms', twilioConfig(twilio));
  const enrolled = await memberWithPhone(world, twilio, PHONE);
  const disallow = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/channels/sms`, { providerId, title: 'Text message', allowed: false });
  assert.equal(disallow.status, 200, disallow.text);
  const texts = twilio.requests.length;

  const newcomer = await newMember(world);
  const refused = await newcomer.client.post('/api/v1/factors/sms', { country: PHONE.country, number: '415 555 2672' });
  assertRefused(refused, 403, 'method_unavailable');
  assert.match(refused.json?.error?.message ?? '', /switched off/);
  await assertNothingFor(world, newcomer.userId);

  // The member keeps the factor, but sign-in offers only what works, and says why the phone is missing.
  const { browser, challenge, body } = await passwordStepIn(world, enrolled.email);
  assert.deepEqual(body.methods, ['backup_code']);
  assert.deepEqual(body.unavailable, [{ method: 'sms', reason: 'Text message codes are switched off by your organisation. Use another method.' }]);
  assert.deepEqual(body.sendTargets, [], 'no target to send to on a switched-off channel');
  const send = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  assert.equal(send.status, 400, send.text);
  assert.equal(send.json?.error?.code, 'method_not_allowed');
  const another = await enrolled.client.post('/api/v1/factors/sms', { country: PHONE.country, number: '415 555 2673' });
  assertRefused(another, 403, 'method_unavailable');
  assert.equal(twilio.requests.length, texts, 'no text on a switched-off channel');
  assert.equal((await factorRows(world.server, enrolled.userId)).length, 1);

  const backup = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: enrolled.backupCodes[0] });
  assert.equal(backup.status, 200, backup.text);
  assert.equal((await auditEvents(world.server, 'channel.disallowed', { orgId: world.orgId })).length, 1);
});
