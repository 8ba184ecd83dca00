import assert from 'node:assert/strict';
import { test } from 'node:test';
import { factorDestinationContext } from '../../src/services/secret-contexts.js';
import { PASSWORD } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import {
  TWILIO_SID,
  TWILIO_TOKEN,
  auditEvents,
  bindChannel,
  codeFromTwilio,
  deliveryWorld,
  factorRows,
  memberWithPhone,
  newMember,
  otherCode,
  passwordStepIn,
  twilioConfig,
  withTwilio,
} from '../helpers/delivery.js';

const PHONE = { country: 'US', number: '(415) 555-2671', e164: '+14155552671' };

test('a phone typed in national format is stored as E.164, texted through Twilio, shown masked, and confirmed', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await newMember(world);

  const started = await member.client.post('/api/v1/factors/sms', { country: PHONE.country, number: PHONE.number });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json?.type, 'sms');
  assert.equal(started.json?.channel, 'sms');
  // Country code and last four digits only, the rest hidden in groups of three.
  assert.equal(started.json?.sentTo, '+1 ••• ••• 2671');
  assert.ok(!started.text.includes('555'), 'the full number is never echoed');
  assert.ok(Date.parse(started.json?.resendAt as string) > world.clock.now());
  assert.equal(Date.parse(started.json?.expiresAt as string), world.clock.now() + 10 * 60_000);

  // What Twilio was asked to do, exactly as its API wants it.
  assert.equal(twilio.requests.length, 1);
  const request = twilio.requests[0]!;
  assert.equal(request.method, 'POST');
  assert.equal(request.path, `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
  assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
  assert.equal(request.headers.authorization, `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
  const form = new URLSearchParams(request.body);
  assert.equal(form.get('To'), PHONE.e164);
  assert.equal(form.get('From'), '+15005550006');
  const { code, body } = codeFromTwilio(twilio, PHONE.e164);
  assert.match(body, /Acme Widgets/);
  assert.ok(body.includes(code));

  // Stored normalised and sealed: the row holds the masked form, never the number in clear.
  const [row] = await factorRows(world.server, member.userId);
  assert.equal(row?.status, 'pending');
  assert.equal(row?.destination_masked, '+1 ••• ••• 2671');
  assert.ok(!row?.secret_encrypted.includes('4155552671'));
  assert.equal(world.server.runtime.box.decrypt(row!.secret_encrypted, factorDestinationContext(row!.id)), PHONE.e164);

  // Listed only once confirmed.
  assert.deepEqual((await member.client.get('/api/v1/factors')).json?.factors, []);
  const wrong = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code: otherCode(code) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json?.error?.code, 'code_invalid');
  const confirmed = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal((confirmed.json?.backupCodes as string[]).length, 10);
  const listed = (await member.client.get('/api/v1/factors')).json?.factors as Array<Record<string, unknown>>;
  assert.equal(listed.length, 1);
  assert.equal(listed[0]?.type, 'sms');
  assert.equal(listed[0]?.status, 'active');
  assert.equal(listed[0]?.destination, '+1 ••• ••• 2671');
  assert.equal(listed[0]?.label, 'Text message to +1 ••• ••• 2671');

  const sent = await auditEvents(world.server, 'code.sent', { subjectUserId: member.userId });
  assert.equal(sent.length, 1);
  assert.equal(sent[0]?.details.to, '+1 ••• ••• 2671');
  assert.equal(sent[0]?.details.provider, 'twilio');
  assert.equal(sent[0]?.details.providerMessageId, 'SM0123456789abcdef0123456789abcdef');
  assert.ok(!JSON.stringify(sent).includes('4155552671'), 'the audit log holds the masked number only');
  assert.equal((await auditEvents(world.server, 'factor.confirmed', { subjectUserId: member.userId })).length, 1);
});

test('sign-in by text message: the code texted for this sign-in gives a session with amr sms + mfa', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);

  const { browser, challenge, body } = await passwordStepIn(world, member.email);
  assert.deepEqual(body.methods, ['sms', 'backup_code']);
  assert.deepEqual(body.sendTargets, [{ id: member.factorId, type: 'sms', destination: '+1 ••• ••• 2671', title: 'Text message' }]);
  assert.deepEqual(body.unavailable, []);

  // No code is sent until asked for.
  const before = twilio.requests.length;
  const early = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: '123456' });
  assert.equal(early.status, 401);
  assert.equal(early.json?.error?.code, 'code_expired');
  assert.equal(twilio.requests.length, before);

  const sent = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms', factorId: member.factorId });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(sent.json?.sentTo, '+1 ••• ••• 2671');
  assert.equal(twilio.requests.length, before + 1);
  const { code, body: text } = codeFromTwilio(twilio, PHONE.e164);
  assert.match(text, /Acme Widgets/);

  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual((done.json?.amr as string[]).sort(), ['mfa', 'pwd', 'sms']);
  assert.equal((await browser.get('/api/v1/factors')).status, 200, 'the session works');
  const verified = await auditEvents(world.server, 'code.verified', { subjectUserId: member.userId });
  assert.equal(verified.at(-1)?.details.purpose, 'sign_in');
  assert.equal(verified.at(-1)?.details.factorId, member.factorId);

  // The flow is finished: the same code cannot complete it twice.
  const again = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code });
  assert.equal(again.status, 401);
});

test('"trust this browser" with a text-message code: the next sign-in from that browser skips the step, another browser does not', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);

  const { browser, challenge } = await passwordStepIn(world, member.email);
  assert.equal((await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' })).status, 200);
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: codeFromTwilio(twilio, PHONE.e164).code, trustBrowser: true });
  assert.equal(done.status, 200, done.text);
  assert.ok(browser.cookies.get('twofold_trust'), 'trust cookie set');
  assert.equal((await browser.post('/api/v1/auth/sign-out')).status, 204);

  const textsBefore = twilio.requests.length;
  const trusted = await browser.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(trusted.status, 200, trusted.text);
  assert.equal(trusted.json?.status, 'signed_in');
  assert.deepEqual(trusted.json?.amr, ['pwd']);
  assert.equal(twilio.requests.length, textsBefore, 'no text for a trusted browser');

  const stranger = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(stranger.json?.status, 'second_factor_required');
});

test('forced enrolment by text message: policy requires 2FA, the member enrols a phone during sign-in and is signed in by its code', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const policy = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/policy`, {
    mode: 'required',
    appliesToSubOrganisations: false,
    triggers: ['every_sign_in'],
    allowedMethods: ['totp', 'sms'],
    trustBrowserDays: 30,
  });
  assert.equal(policy.status, 200, policy.text);
  const email = `forced-${Date.now()}@example.com`;
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, { userId: null, meta: null });

  const browser = new TestClient(world.server.url);
  const first = await browser.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(first.json?.status, 'enrolment_required', first.text);
  assert.deepEqual(first.json?.methods, ['totp', 'sms']);
  const challenge = first.json?.challenge as string;
  assert.equal((await browser.get('/api/v1/factors')).status, 401, 'no session before enrolling');

  const email2 = await browser.post('/api/v1/auth/enrolment/email', { challenge });
  assert.equal(email2.status, 400, 'email is not among the allowed methods');
  const started = await browser.post('/api/v1/auth/enrolment/sms', { challenge, country: PHONE.country, number: PHONE.number });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json?.sentTo, '+1 ••• ••• 2671');
  const tooSoon = await browser.post('/api/v1/auth/enrolment/resend', { challenge, id: started.json?.id });
  assert.equal(tooSoon.status, 429);
  world.clock.advance(31_000);
  const resent = await browser.post('/api/v1/auth/enrolment/resend', { challenge, id: started.json?.id });
  assert.equal(resent.status, 200, resent.text);
  assert.equal(twilio.requests.length, 2);

  const done = await browser.post('/api/v1/auth/enrolment/confirm', { challenge, id: started.json?.id, code: codeFromTwilio(twilio, PHONE.e164).code });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json?.status, 'signed_in');
  assert.deepEqual((done.json?.amr as string[]).sort(), ['mfa', 'pwd', 'sms']);
  assert.equal((done.json?.backupCodes as string[]).length, 10);
  assert.equal((await browser.get('/api/v1/factors')).status, 200);
  const again = await browser.post('/api/v1/auth/enrolment/confirm', { challenge, id: started.json?.id, code: '000000' });
  assert.ok(again.status >= 400 && again.status < 500, again.text);
});

test('re-authentication by a texted code', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);
  world.clock.advance(6 * 60_000);
  assert.equal((await member.client.post('/api/v1/backup-codes')).json?.error?.code, 'reauthentication_required');

  const sent = await member.client.post('/api/v1/auth/reauthenticate/send', { method: 'sms' });
  assert.equal(sent.status, 200, sent.text);
  const code = codeFromTwilio(twilio, PHONE.e164).code;
  const wrong = await member.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code: otherCode(code) });
  assert.equal(wrong.status, 401);
  const ok = await member.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await member.client.post('/api/v1/backup-codes')).status, 200);
  const reused = await member.client.post('/api/v1/auth/reauthenticate', { method: 'sms', code });
  assert.equal(reused.status, 401, 'a spent code does not work twice');
});

test('the same enrolment confirmed three times at once is switched on once, with one set of backup codes', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/sms', { country: PHONE.country, number: PHONE.number });
  assert.equal(started.status, 201, started.text);
  const code = codeFromTwilio(twilio, PHONE.e164).code;

  const results = await Promise.all(Array.from({ length: 3 }, () => member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code })));
  assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.text).join('\n'));
  assert.ok(results.every((r) => r.status === 200 || (r.status >= 400 && r.status < 500)));
  const sets = await world.server.runtime.database.db.selectFrom('backup_codes').select('id').where('user_id', '=', member.userId).execute();
  assert.equal(sets.length, 10);
  assert.equal((await auditEvents(world.server, 'factor.confirmed', { subjectUserId: member.userId })).length, 1);
});
