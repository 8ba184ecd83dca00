/**
 * Text-message and email pages, driven through their HTML forms the way a browser without
 * script would: enrolment on the security page, the sign-in second step, forced enrolment,
 * a switched-off channel and a provider outage.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { COOKIE } from '../../src/http/request-context.js';
import { closedPort, json } from '../delivery/peers.js';
import { PASSWORD, wrongCodes } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import {
  bindChannel,
  codeFromMail,
  codeFromTwilio,
  deliveryWorld,
  factorRows,
  memberWithPhone,
  newMember,
  otherCode,
  passwordStepIn,
  smtpConfig,
  twilioConfig,
  withSmtp,
  withTwilio,
} from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const PHONE = { country: 'US', number: '(415) 555-2671', e164: '+14155552671', masked: '+1 ••• ••• 2671' };
const TWILIO_OK = json(201, { sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued' });

/** Text with tags dropped and entities that matter here decoded, for assertions on wording. */
function visible(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ');
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function alertText(html: string): string {
  // A page-wide refusal, or one shown next to its field (code pages).
  const m = /<div class="alert error" role="alert">([\s\S]*?)<\/div>/.exec(html) ?? /<p class="field-error"[^>]*role="alert">([\s\S]*?)<\/p>/.exec(html);
  return m ? visible(m[1]!).trim() : '';
}

function formAction(html: string, pattern: RegExp): string {
  const m = pattern.exec(html);
  assert.ok(m, `no form matching ${pattern} in: ${visible(html).slice(0, 400)}`);
  return m[1]!;
}

/** The password step through the sign-in form; returns the browser sitting on `landing`. */
async function passwordForm(world: DeliveryWorld, email: string, landing: string | RegExp): Promise<TestClient> {
  const browser = new TestClient(world.server.url);
  const { _csrf } = await hiddenFields(browser, '/sign-in');
  const res = await postForm(browser, '/sign-in', { _csrf: _csrf!, email, password: PASSWORD });
  assert.equal(res.status, 303, res.text);
  if (typeof landing === 'string') assert.equal(res.headers.get('location'), landing);
  else assert.match(res.headers.get('location') ?? '', landing);
  landings.set(browser, res.headers.get('location') ?? '');
  assert.ok(browser.cookies.has(COOKIE.flow));
  assert.equal(browser.cookies.has(COOKIE.session), false);
  return browser;
}

/** Where each browser's password step landed (a sent code's page carries the factor). */
const landings = new WeakMap<TestClient, string>();

async function csrfOf(client: TestClient, path: string): Promise<string> {
  const fields = await hiddenFields(client, path);
  assert.ok(fields._csrf);
  return fields._csrf;
}

test('a phone is added on the security page: a wrong code can be retried, an early resend is refused with the wait, then sign-in by text', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t, TWILIO_OK);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await newMember(world);
  const client = member.client;

  const security = await client.get('/account/security');
  assert.equal(security.status, 200);
  assert.match(security.text, /Add a phone \(text message\)/);
  assert.match(security.text, /action="\/account\/security\/sms"/);
  // Email has no provider here: the option is replaced by the reason.
  assert.match(visible(security.text), /Email codes cannot be sent: your organisation has not set up a provider for them/);
  assert.doesNotMatch(security.text, /action="\/account\/security\/email"/);

  const _csrf = await csrfOf(client, '/account/security');
  const invalid = await postForm(client, '/account/security/sms', { _csrf, country: 'US', number: '12' });
  assert.equal(invalid.status, 400);
  assert.match(alertText(invalid.text), /phone number/i);
  assert.match(invalid.text, /value="12"/, 'what was typed stays in the field');
  assert.equal(twilio.requests.length, 0);

  const started = await postForm(client, '/account/security/sms', { _csrf, country: PHONE.country, number: PHONE.number });
  assert.equal(started.status, 200, alertText(started.text));
  assert.match(started.text, /Confirm your phone/);
  assert.match(visible(started.text), new RegExp(`We sent a text message with a 6-digit code to ${escaped(PHONE.masked)}\\. It works until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d`));
  assert.match(visible(started.text), /You can ask for a new code in 30 seconds/);
  assert.ok(!started.text.includes('555'), 'the page never shows the full number');
  const confirmAction = formAction(started.text, /action="(\/account\/security\/delivered\/[^/"]+\/confirm)"/);
  const resendAction = confirmAction.replace(/confirm$/, 'resend');
  const hidden = { channel: 'sms', sentTo: PHONE.masked };
  const { code } = codeFromTwilio(twilio, PHONE.e164);

  const wrong = await postForm(client, confirmAction, { _csrf, ...hidden, code: otherCode(code) });
  assert.equal(wrong.status, 401);
  assert.ok(alertText(wrong.text).length > 0, 'the refusal is said');
  assert.match(wrong.text, /Confirm your phone/);
  assert.ok(wrong.text.includes(`action="${confirmAction}"`), 'the code form is still there to try again');

  const early = await postForm(client, resendAction, { _csrf, ...hidden });
  assert.equal(early.status, 429);
  assert.match(alertText(early.text), /Wait a moment before asking for another\. \(try again in \d+ seconds\)/);
  assert.ok(early.text.includes(`action="${confirmAction}"`));
  assert.equal(twilio.requests.length, 1, 'no second text went out');

  // After the wait, a new code goes out and the first one stops working.
  world.clock.advance(31_000);
  const resent = await postForm(client, resendAction, { _csrf, ...hidden });
  assert.equal(resent.status, 200, alertText(resent.text));
  assert.ok(visible(resent.text).includes(`A new code is on its way to ${PHONE.masked}`));
  assert.equal(twilio.requests.length, 2);
  const stale = await postForm(client, confirmAction, { _csrf, ...hidden, code });
  assert.equal(stale.status, 401);
  const fresh = codeFromTwilio(twilio, PHONE.e164).code;

  const confirmed = await postForm(client, confirmAction, { _csrf, ...hidden, code: fresh });
  assert.equal(confirmed.status, 200, alertText(confirmed.text));
  assert.match(confirmed.text, /Your backup codes/);
  assert.equal([...confirmed.text.matchAll(/data-backup-code/g)].length, 10);

  const after = await client.get('/account/security');
  assert.ok(after.text.includes(PHONE.masked), 'the factor list shows the masked number');
  assert.match(after.text, /Change number/);

  // The API's view of the same step names the channel as the organisation titled it.
  const { body } = await passwordStepIn(world, member.email);
  assert.deepEqual((body.sendTargets as Array<{ type: string; title?: string }>).map((t) => [t.type, t.title]), [['sms', 'Text message']]);

  // Sign in again, by text: the phone is the only method, so the code goes out as the step opens.
  world.clock.advance(31_000);
  const browser = await passwordForm(world, member.email, /^\/sign-in\/second-factor\?method=sms&sent=[\w-]+$/);
  assert.equal(twilio.requests.length, 3, 'the code was texted as the step opened');
  const sent = await browser.get(landings.get(browser)!);
  assert.equal(sent.status, 200);
  const factorId = formAction(sent.text, /name="factorId" value="([^"]+)"/);
  const stepCsrf = await csrfOf(browser, '/sign-in/second-factor');
  // The channel's title (bindChannel names it "Text message") is the sender the page names.
  assert.match(visible(sent.text), new RegExp(`Enter the 6-digit code we sent by Text message to ${escaped(PHONE.masked)}`));
  assert.match(sent.text, /Code from the text message/);
  assert.match(sent.text, /Send a new code/);
  assert.equal(twilio.requests.length, 3, 'a reload sends nothing');

  const tooSoon = await postForm(browser, '/sign-in/second-factor/send', { _csrf: stepCsrf, method: 'sms', factorId });
  assert.equal(tooSoon.status, 429);
  assert.match(alertText(tooSoon.text), /try again in \d+ seconds/);
  assert.match(tooSoon.text, /name="code"/, 'the code form stays while the first code is on its way');
  assert.equal(twilio.requests.length, 3);

  world.clock.advance(31_000);
  const newCode = await postForm(browser, '/sign-in/second-factor/send', { _csrf: stepCsrf, resend: '1', method: 'sms', factorId });
  assert.equal(newCode.status, 200, alertText(newCode.text));
  assert.ok(visible(newCode.text).includes(`A new code is on its way to ${PHONE.masked}`));
  assert.equal(twilio.requests.length, 4);

  const signInCode = codeFromTwilio(twilio, PHONE.e164).code;
  const wrongStep = await postForm(browser, '/sign-in/second-factor', { _csrf: stepCsrf, method: 'sms', factorId, code: otherCode(signInCode) });
  assert.equal(wrongStep.status, 401);
  assert.match(wrongStep.text, /name="code"/);

  const done = await postForm(browser, '/sign-in/second-factor', { _csrf: stepCsrf, method: 'sms', factorId, code: signInCode, trustBrowser: '1' });
  assert.equal(done.status, 303, alertText(done.text));
  assert.equal(done.headers.get('location'), '/account');
  assert.ok(browser.cookies.has(COOKIE.trust), 'trust this browser works for text codes too');
  const session = await browser.get('/api/v1/session');
  assert.equal(session.status, 200);
  assert.ok(((session.json?.session as { amr: string[] }).amr).includes('sms'), session.text);
});

test('changing the number needs a fresh confirmation, and the old number keeps working until the new one is confirmed', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t, TWILIO_OK);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);
  const client = member.client;
  world.clock.advance(10 * 60_000); // past the re-authentication window
  const _csrf = await csrfOf(client, '/account/security');
  const changeAction = `/account/security/factors/${member.factorId}/change`;
  const NEW = { number: '+44 7911 123456', e164: '+447911123456', masked: '+44 ••• ••• 3456' };

  const refused = await postForm(client, changeAction, { _csrf, country: '', number: NEW.number });
  assert.equal(refused.status, 403);
  assert.match(alertText(refused.text), /Confirm it is you/);
  assert.match(refused.text, /Text me a code/, 'the re-authentication form offers a text code');

  // Re-authenticate with a text code sent from the security page.
  const before = twilio.requests.length;
  const sent = await postForm(client, '/account/security/reauthenticate/send', { _csrf, method: 'sms' });
  assert.equal(sent.status, 200, alertText(sent.text));
  assert.equal(twilio.requests.length, before + 1);
  assert.match(sent.text, /Confirm with sent code/);
  const reauthCode = codeFromTwilio(twilio, PHONE.e164).code;
  const wrongReauth = await postForm(client, '/account/security/reauthenticate', { _csrf, method: 'sms', code: otherCode(reauthCode) });
  assert.equal(wrongReauth.status, 401);
  assert.match(wrongReauth.text, /Confirm with sent code/, 'the code form stays after a wrong code');
  const reauth = await postForm(client, '/account/security/reauthenticate', { _csrf, method: 'sms', code: reauthCode });
  assert.equal(reauth.status, 303, alertText(reauth.text));

  const started = await postForm(client, changeAction, { _csrf, country: '', number: NEW.number });
  assert.equal(started.status, 200, alertText(started.text));
  assert.match(started.text, /Confirm your new number/);
  const confirmAction = formAction(started.text, /action="(\/account\/security\/delivered\/[^/"]+\/confirm)"/);
  const sentTo = formAction(started.text, /name="sentTo" value="([^"]+)"/);
  const newCode = codeFromTwilio(twilio, NEW.e164).code;

  // Until confirmed, the old number is still the factor.
  let rows = (await factorRows(world.server, member.userId)).filter((f) => f.status === 'active');
  assert.deepEqual(rows.map((f) => f.id), [member.factorId]);

  const done = await postForm(client, confirmAction, { _csrf, channel: 'sms', sentTo, replacing: '1', code: newCode });
  assert.equal(done.status, 200, alertText(done.text));
  assert.ok(visible(done.text).includes(`Codes now go to ${NEW.masked}`), visible(done.text).slice(0, 600));
  rows = (await factorRows(world.server, member.userId)).filter((f) => f.status === 'active');
  assert.equal(rows.length, 1);
  assert.notEqual(rows[0]!.id, member.factorId);
  assert.ok(!done.text.includes(PHONE.masked), 'the old number is gone from the list');
});

test('a channel the organisation switched off is not offered at sign-in, the reason is shown, and a backup code still works', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t, TWILIO_OK);
  const providerId = await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);
  const off = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/channels/sms`, { providerId, title: 'Text message', allowed: false });
  assert.equal(off.status, 200, off.text);

  const browser = await passwordForm(world, member.email, '/sign-in/second-factor');
  const step = await browser.get('/sign-in/second-factor');
  assert.equal(step.status, 200);
  assert.match(visible(step.text), /Text message codes are switched off by your organisation\. Use another method\./);
  assert.doesNotMatch(step.text, /Send code to/);
  assert.doesNotMatch(step.text, /method=sms/);
  assert.match(step.text, /<label for="code">Backup code<\/label>/, 'the backup code is what is left');

  const _csrf = await csrfOf(browser, '/sign-in/second-factor');
  const forced = await postForm(browser, '/sign-in/second-factor/send', { _csrf, method: 'sms', factorId: member.factorId });
  assert.equal(forced.status, 400);
  assert.ok(alertText(forced.text).length > 0);
  assert.equal(twilio.requests.length, 1, 'nothing was texted');

  const done = await postForm(browser, '/sign-in/second-factor', { _csrf, method: 'backup_code', code: member.backupCodes[0]! });
  assert.equal(done.status, 200, alertText(done.text));
  assert.match(visible(done.text), /You have 9 backup codes left\./, 'a spent backup code is counted for the person');
  assert.equal((await browser.get('/api/v1/session')).status, 200);

  // The security page says why no phone can be added.
  const security = await browser.get('/account/security');
  assert.match(visible(security.text), /Text message codes are switched off by your organisation/);
  assert.doesNotMatch(security.text, /action="\/account\/security\/sms"/);
});

test('a text provider that is down: the page says so plainly and the backup code still signs in', async (t) => {
  const world = await deliveryWorld(t, { env: { TWOFOLD_DELIVERY_ATTEMPTS: '2', TWOFOLD_DELIVERY_TIMEOUT_MS: '500' } });
  // The enrolment text goes through; every request after that gets a 500.
  const twilio = await withTwilio(t, TWILIO_OK, json(500, { code: 20500, message: 'upstream on fire' }));
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);

  const browser = await passwordForm(world, member.email, '/sign-in/second-factor');
  const _csrf = await csrfOf(browser, '/sign-in/second-factor');
  const failed = await postForm(browser, '/sign-in/second-factor/send', { _csrf, method: 'sms', factorId: member.factorId });
  assert.equal(failed.status, 503);
  assert.equal(alertText(failed.text), 'We could not send a text message just now. Try again in a minute, or choose another method.');
  for (const leak of ['Twilio', 'upstream', '500', '127.0.0.1']) assert.ok(!alertText(failed.text).includes(leak));
  assert.match(failed.text, /href="\/sign-in\/second-factor\?method=backup_code">Backup code</, 'the other method is offered');
  assert.match(visible(failed.text), new RegExp(`Send code to ${escaped(PHONE.masked)}`), 'trying again stays possible');

  const backup = await browser.get('/sign-in/second-factor?method=backup_code');
  assert.match(backup.text, /<label for="code">Backup code<\/label>/);
  const done = await postForm(browser, '/sign-in/second-factor', { _csrf, method: 'backup_code', code: member.backupCodes[1]! });
  assert.equal(done.status, 200, alertText(done.text));
  assert.match(visible(done.text), /You signed in with a backup code/);
  assert.equal((await browser.get('/api/v1/session')).status, 200);
});

test('a text provider nobody answers for (closed port): the same clear message', async (t) => {
  const world = await deliveryWorld(t, { env: { TWOFOLD_DELIVERY_ATTEMPTS: '1', TWOFOLD_DELIVERY_TIMEOUT_MS: '500' } });
  const twilio = await withTwilio(t, TWILIO_OK);
  const providerId = await bindChannel(world, 'sms', twilioConfig(twilio));
  const member = await memberWithPhone(world, twilio, PHONE);
  const port = await closedPort();
  const moved = await world.admin.request('PATCH', `/api/v1/providers/${providerId}`, { config: { ...twilioConfig(twilio), baseUrl: `http://127.0.0.1:${port}` } });
  assert.equal(moved.status, 200, moved.text);

  const browser = await passwordForm(world, member.email, '/sign-in/second-factor');
  const _csrf = await csrfOf(browser, '/sign-in/second-factor');
  const failed = await postForm(browser, '/sign-in/second-factor/send', { _csrf, method: 'sms', factorId: member.factorId });
  assert.equal(failed.status, 503);
  assert.equal(alertText(failed.text), 'We could not send a text message just now. Try again in a minute, or choose another method.');
  assert.match(failed.text, />Backup code</);
});

test('forced enrolment offers the allowed methods; email is confirmed with the mailed code and signs in with backup codes', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const policy = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/policy`, {
    mode: 'required',
    appliesToSubOrganisations: true,
    triggers: ['every_sign_in'],
    allowedMethods: ['totp', 'sms', 'email'],
    trustBrowserDays: 30,
  });
  assert.equal(policy.status, 200, policy.text);
  const email = 'erin@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, { userId: null, meta: null });

  const browser = await passwordForm(world, email, '/sign-in/enrol');
  const page = await browser.get('/sign-in/enrol');
  assert.equal(page.status, 200);
  assert.match(page.text, /Set up two-step verification/);
  assert.match(page.text, /Use an authenticator app/);
  assert.match(page.text, /Email me a code/);
  assert.match(page.text, new RegExp(`name="email" type="email"[^>]*value="${email}"`), 'the account address is offered');
  assert.doesNotMatch(page.text, /Text me a code/, 'text messages have no provider, so they are not offered');

  const _csrf = await csrfOf(browser, '/sign-in/enrol');
  const started = await postForm(browser, '/sign-in/enrol/email', { _csrf, email });
  assert.equal(started.status, 200, alertText(started.text));
  assert.match(started.text, /Confirm your email/);
  assert.match(visible(started.text), /We sent an email with a 6-digit code to e•••@example\.com/);
  const confirmAction = formAction(started.text, /action="(\/sign-in\/enrol\/[^/"]+\/confirm)"/);
  const mail = codeFromMail(smtp, email);
  assert.match(mail.subject, /Acme Widgets/);

  const early = await postForm(browser, confirmAction.replace(/confirm$/, 'resend'), { _csrf, channel: 'email', sentTo: 'e•••@example.com' });
  assert.equal(early.status, 429);
  assert.match(alertText(early.text), /try again in \d+ seconds/);

  const wrong = await postForm(browser, confirmAction, { _csrf, channel: 'email', sentTo: 'e•••@example.com', code: otherCode(mail.code) });
  assert.equal(wrong.status, 401);
  assert.ok(wrong.text.includes(`action="${confirmAction}"`));
  assert.equal(browser.cookies.has(COOKIE.session), false);

  const done = await postForm(browser, confirmAction, { _csrf, channel: 'email', sentTo: 'e•••@example.com', code: mail.code });
  assert.equal(done.status, 200, alertText(done.text));
  assert.match(done.text, /Your backup codes/);
  assert.equal([...done.text.matchAll(/data-backup-code/g)].length, 10);
  assert.ok(browser.cookies.has(COOKIE.session));
  const session = await browser.get('/api/v1/session');
  assert.equal(session.status, 200);
  assert.deepEqual([...((session.json?.session as { amr: string[] }).amr)].sort(), ['mfa', 'otp', 'pwd']);
});

test('forced enrolment with an authenticator app through the pages; a wrong code keeps the same key on the page', async (t) => {
  const world = await deliveryWorld(t);
  const policy = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/policy`, {
    mode: 'required',
    appliesToSubOrganisations: true,
    triggers: ['every_sign_in'],
    allowedMethods: ['totp'],
    trustBrowserDays: 30,
  });
  assert.equal(policy.status, 200, policy.text);
  const email = 'finn@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, { userId: null, meta: null });

  const browser = await passwordForm(world, email, '/sign-in/enrol');
  const _csrf = await csrfOf(browser, '/sign-in/enrol');
  const started = await postForm(browser, '/sign-in/enrol/totp', { _csrf });
  assert.equal(started.status, 200, alertText(started.text));
  const secret = formAction(started.text, /data-testid="totp-secret">([^<]+)</).replace(/\s+/g, '');
  const confirmAction = formAction(started.text, /action="(\/sign-in\/enrol\/[^/"]+\/confirm)"/);
  const now = totpCodeAt(secret, world.clock.now());

  const wrong = await postForm(browser, confirmAction, { _csrf, code: wrongCodes(secret, world.clock.now(), 1)[0]! });
  assert.equal(wrong.status, 401);
  // The same key and QR code stay on screen (issue 15): the entry already in the app stays good.
  assert.match(wrong.text, /Add an authenticator app/);
  assert.equal(formAction(wrong.text, /data-testid="totp-secret">([^<]+)</).replace(/\s+/g, ''), secret);
  assert.ok(wrong.text.includes(`action="${confirmAction}"`));

  const done = await postForm(browser, confirmAction, { _csrf, code: now });
  assert.equal(done.status, 200, alertText(done.text));
  assert.match(done.text, /Your backup codes/);
  assert.equal((await browser.get('/api/v1/session')).status, 200);
});
