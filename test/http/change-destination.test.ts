import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HttpPeer } from '../delivery/peers.js';
import type { DeliveredMember, DeliveryWorld } from '../helpers/delivery.js';
import {
  auditEvents,
  bindChannel,
  codeFromMail,
  codeFromTwilio,
  deliveryWorld,
  factorRows,
  memberWithPhone,
  otherCode,
  passwordStepIn,
  reauthenticate,
  smtpConfig,
  twilioConfig,
  withSmtp,
  withTwilio,
} from '../helpers/delivery.js';

const OLD = { country: 'US', number: '415 555 2671', e164: '+14155552671' };
const NEW = { country: 'GB', number: '07400 123456', e164: '+447400123456' };

function textsTo(twilio: HttpPeer, e164: string): number {
  return twilio.requests.filter((r) => new URLSearchParams(r.body).get('To') === e164).length;
}

/** A full sign-in by text message; returns the number the code went to. */
async function signInBySms(world: DeliveryWorld, twilio: HttpPeer, member: DeliveredMember, expectTo: string) {
  world.clock.advance(31_000);
  const { browser, challenge, body } = await passwordStepIn(world, member.email);
  const sent = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  assert.equal(sent.status, 200, sent.text);
  const last = twilio.requests.at(-1)!;
  assert.equal(new URLSearchParams(last.body).get('To'), expectTo);
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: codeFromTwilio(twilio, expectTo).code });
  assert.equal(done.status, 200, done.text);
  return body;
}

async function phoneWorld(t: { after(fn: () => Promise<void>): void }) {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, OLD);
  return { world, twilio, member };
}

test('changing the number needs a fresh code from a held factor; a password alone is not enough', async (t) => {
  const { world, twilio, member } = await phoneWorld(t);
  world.clock.advance(6 * 60_000);
  const texts = twilio.requests.length;
  const stale = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: NEW.country, number: NEW.number });
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  assert.equal(twilio.requests.length, texts, 'nothing sent');
  assert.equal((await factorRows(world.server, member.userId)).length, 1);

  await reauthenticate(member.client);
  const passwordOnly = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: NEW.country, number: NEW.number });
  assert.equal(passwordOnly.status, 403, passwordOnly.text);
  assert.equal(twilio.requests.length, texts, 'still nothing sent');

  assert.equal((await member.client.post('/api/v1/auth/reauthenticate/send', { method: 'sms' })).status, 200);
  const proven = await member.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code: codeFromTwilio(twilio, OLD.e164).code });
  assert.equal(proven.status, 200, proven.text);
  const started = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: NEW.country, number: NEW.number });
  assert.equal(started.status, 201, started.text);
});

test('a new number gets a code; the old one keeps working until it is confirmed, then only the new one does', async (t) => {
  const { world, twilio, member } = await phoneWorld(t);
  const started = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: NEW.country, number: NEW.number });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json?.replaces, member.factorId);
  assert.equal(started.json?.sentTo, '+44 ••• ••• 3456');
  assert.equal(textsTo(twilio, NEW.e164), 1);
  const newId = started.json?.id as string;
  const code = codeFromTwilio(twilio, NEW.e164).code;

  // Meanwhile the old number is still the factor: it is listed and it signs in.
  const listed = (await member.client.get('/api/v1/factors')).json?.factors as Array<{ id: string }>;
  assert.deepEqual(
    listed.map((f) => f.id),
    [member.factorId],
  );
  const before = await signInBySms(world, twilio, member, OLD.e164);
  assert.deepEqual(before.sendTargets, [{ id: member.factorId, type: 'sms', destination: '+1 ••• ••• 2671', title: 'Text message' }]);

  const confirmed = await member.client.post(`/api/v1/factors/sms/${newId}/confirm`, { code });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal(confirmed.json?.backupCodes, undefined, 'a changed number keeps the existing backup codes');
  const rows = await factorRows(world.server, member.userId);
  assert.deepEqual(
    rows.map((r) => [r.id, r.status]),
    [[newId, 'active']],
  );
  const [audit] = await auditEvents(world.server, 'factor.confirmed', { subjectUserId: member.userId }).then((events) => events.slice(-1));
  assert.equal(audit?.details.replacedFactorId, member.factorId);
  assert.equal(audit?.details.replacedDestination, '+1 ••• ••• 2671');

  const oldTexts = textsTo(twilio, OLD.e164);
  const after = await signInBySms(world, twilio, member, NEW.e164);
  assert.deepEqual(after.sendTargets, [{ id: newId, type: 'sms', destination: started.json?.sentTo, title: 'Text message' }]);
  assert.equal(textsTo(twilio, OLD.e164), oldTexts, 'the old number gets nothing any more');
  // The old backup codes still work.
  const { browser, challenge } = await passwordStepIn(world, member.email);
  assert.equal((await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: member.backupCodes[0] })).status, 200);
});

test('a wrong code leaves the old number in place; so does an abandoned change', async (t) => {
  const { world, twilio, member } = await phoneWorld(t);
  const started = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: NEW.country, number: NEW.number });
  assert.equal(started.status, 201, started.text);
  const code = codeFromTwilio(twilio, NEW.e164).code;

  const wrong = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code: otherCode(code) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json?.error?.code, 'code_invalid');
  const rows = await factorRows(world.server, member.userId);
  assert.deepEqual(
    rows.map((r) => [r.id, r.status]),
    [
      [member.factorId, 'active'],
      [started.json?.id, 'pending'],
    ],
  );
  await signInBySms(world, twilio, member, OLD.e164);

  // Left unconfirmed past the enrolment window, the change lapses and the right code is refused.
  world.clock.advance(15 * 60_000);
  const late = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code });
  assert.equal(late.status, 410, late.text);
  assert.equal(late.json?.error?.code, 'enrolment_expired');
  await signInBySms(world, twilio, member, OLD.e164);
  assert.equal((await factorRows(world.server, member.userId)).filter((r) => r.status === 'active').length, 1);
});

test('replace refuses the same number, an unknown factor and an authenticator; an email factor changes its address', async (t) => {
  const { world, twilio, member } = await phoneWorld(t);
  const same = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: 'US', number: '+1 (415) 555-2671' });
  assert.equal(same.status, 409, same.text);
  assert.equal(same.json?.error?.code, 'factor_exists');
  const unknown = await member.client.post('/api/v1/factors/00000000-0000-4000-8000-000000000000/replace', { country: NEW.country, number: NEW.number });
  assert.equal(unknown.status, 404, unknown.text);
  const bad = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: 'US', number: 'not a number' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json?.error?.code, 'phone_invalid');
  assert.equal(textsTo(twilio, NEW.e164), 0);
  assert.equal((await factorRows(world.server, member.userId)).length, 1);

  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const email = await member.client.post('/api/v1/factors/email', { email: 'old-address@example.com' });
  assert.equal(email.status, 201, email.text);
  assert.equal((await member.client.post(`/api/v1/factors/email/${email.json?.id}/confirm`, { code: codeFromMail(smtp, 'old-address@example.com').code })).status, 200);
  const moved = await member.client.post(`/api/v1/factors/${email.json?.id}/replace`, { email: 'new-address@example.com' });
  assert.equal(moved.status, 201, moved.text);
  assert.equal(moved.json?.type, 'email');
  assert.equal(moved.json?.sentTo, 'n••••••••••@example.com');
  assert.equal((await member.client.post(`/api/v1/factors/email/${moved.json?.id}/confirm`, { code: codeFromMail(smtp, 'new-address@example.com').code })).status, 200);
  const destinations = ((await member.client.get('/api/v1/factors')).json?.factors as Array<{ destination: string }>).map((f) => f.destination).sort();
  assert.deepEqual(destinations, ['+1 ••• ••• 2671', 'n••••••••••@example.com']);
});

test('a code already texted to the old number stops working once the number is changed or the factor removed', async (t) => {
  const { world, twilio, member } = await phoneWorld(t);
  // A sign-in is waiting with a code on the old phone (say, a phone that was just stolen).
  const pending = await passwordStepIn(world, member.email);
  assert.equal((await pending.browser.post('/api/v1/auth/second-factor/send', { challenge: pending.challenge, method: 'sms' })).status, 200);
  const oldCode = codeFromTwilio(twilio, OLD.e164).code;

  const started = await member.client.post(`/api/v1/factors/${member.factorId}/replace`, { country: NEW.country, number: NEW.number });
  assert.equal(started.status, 201, started.text);
  assert.equal((await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code: codeFromTwilio(twilio, NEW.e164).code })).status, 200);

  const stale = await pending.browser.post('/api/v1/auth/second-factor', { challenge: pending.challenge, method: 'sms', code: oldCode });
  assert.equal(stale.status, 401, stale.text);
  assert.equal(stale.json?.error?.code, 'code_expired');

  // The same for a factor removed outright.
  world.clock.advance(31_000);
  const next = await passwordStepIn(world, member.email);
  assert.equal((await next.browser.post('/api/v1/auth/second-factor/send', { challenge: next.challenge, method: 'sms' })).status, 200);
  const newCode = codeFromTwilio(twilio, NEW.e164).code;
  await reauthenticate(member.client);
  assert.equal((await member.client.delete(`/api/v1/factors/${started.json?.id}`)).status, 204);
  const removed = await next.browser.post('/api/v1/auth/second-factor', { challenge: next.challenge, method: 'sms', code: newCode });
  assert.equal(removed.status, 401, removed.text);
  assert.equal(removed.json?.error?.code, 'code_expired');
});
