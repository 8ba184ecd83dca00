import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { CODE_SENDS_PER_DESTINATION, CODE_SENDS_PER_IP, CODE_SENDS_PER_USER } from '../../src/services/messaging/code-sender.js';
import { STEP_MS, tally, userRow } from '../helpers/authenticator.js';
import type { TestClient, TestResponse } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import {
  auditEvents,
  bindChannel,
  codeFromTwilio,
  codeRows,
  deliveryWorld,
  factorRows,
  memberWithPhone,
  newMember,
  otherCode,
  passwordStepIn,
  twilioConfig,
  withTwilio,
} from '../helpers/delivery.js';

const RESEND_MS = 30_000;
const phone = (n: number) => ({ country: 'US', number: `415 555 ${String(2600 + n)}`, e164: `+1415555${String(2600 + n)}` });

async function smsWorld(t: { after(fn: () => Promise<void>): void }, env: Record<string, string> = {}) {
  const world = await deliveryWorld(t, { env });
  const twilio = await withTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(twilio));
  return { world, twilio };
}

function send(browser: TestClient, challenge: string, factorId?: string) {
  return browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms', ...(factorId ? { factorId } : {}) });
}

function assertTooManyCodes(res: TestResponse) {
  assert.equal(res.status, 429, res.text);
  assert.equal(res.json?.error?.code, 'too_many_codes');
  assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After says when');
}

/** Sends codes in one sign-in flow, waiting out the resend pause before each. */
async function sendRepeatedly(world: DeliveryWorld, browser: TestClient, challenge: string, times: number, factorId?: string) {
  for (let i = 0; i < times; i++) {
    world.clock.advance(RESEND_MS + 1000);
    const res = await send(browser, challenge, factorId);
    assert.equal(res.status, 200, `send ${i + 1}: ${res.text}`);
  }
}

test('resend waits TWOFOLD_CODE_RESEND_SECONDS (429 resend_too_soon with Retry-After); the new code voids the old', async (t) => {
  const { world, twilio } = await smsWorld(t);
  const member = await memberWithPhone(world, twilio, phone(1));
  const { browser, challenge } = await passwordStepIn(world, member.email);

  const first = await send(browser, challenge);
  assert.equal(first.status, 200, first.text);
  assert.equal(Date.parse(first.json?.resendAt as string), world.clock.now() + RESEND_MS);
  const oldCode = codeFromTwilio(twilio, phone(1).e164).code;
  const texts = twilio.requests.length;

  world.clock.advance(10_000);
  const tooSoon = await send(browser, challenge);
  assert.equal(tooSoon.status, 429, tooSoon.text);
  assert.equal(tooSoon.json?.error?.code, 'resend_too_soon');
  assert.equal(tooSoon.headers.get('retry-after'), '20');
  assert.equal(twilio.requests.length, texts, 'nothing sent while waiting');

  world.clock.advance(20_000);
  const second = await send(browser, challenge);
  assert.equal(second.status, 200, second.text);
  assert.equal(twilio.requests.length, texts + 1);
  const newCode = codeFromTwilio(twilio, phone(1).e164).code;

  const rows = await codeRows(world.server, member.userId);
  assert.deepEqual(
    rows.filter((r) => r.purpose === 'sign_in').map((r) => r.status),
    ['voided', 'live'],
  );
  if (newCode !== oldCode) {
    const stale = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: oldCode });
    assert.equal(stale.status, 401, 'the replaced code no longer works');
  }
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: newCode });
  assert.equal(done.status, 200, done.text);
});

test('the resend pause is per flow and configurable: TWOFOLD_CODE_RESEND_SECONDS=5', async (t) => {
  const { world, twilio } = await smsWorld(t, { TWOFOLD_CODE_RESEND_SECONDS: '5' });
  const member = await memberWithPhone(world, twilio, phone(1));
  const a = await passwordStepIn(world, member.email);
  const b = await passwordStepIn(world, member.email);
  assert.equal((await send(a.browser, a.challenge)).status, 200);
  // Another sign-in (another browser) is not held up by the first one's pause.
  assert.equal((await send(b.browser, b.challenge)).status, 200);
  world.clock.advance(4_000);
  const early = await send(a.browser, a.challenge);
  assert.equal(early.json?.error?.code, 'resend_too_soon');
  assert.equal(early.headers.get('retry-after'), '1');
  world.clock.advance(1_000);
  assert.equal((await send(a.browser, a.challenge)).status, 200);
});

test(`per user: at most ${CODE_SENDS_PER_USER.max} codes an hour across all of a user's numbers, then 429 too_many_codes and nothing is sent`, async (t) => {
  const { world, twilio } = await smsWorld(t);
  // Two numbers, so neither reaches the per-destination limit before the user reaches theirs.
  const member = await memberWithPhone(world, twilio, phone(1));
  const second = await member.client.post('/api/v1/factors/sms', { country: 'US', number: phone(2).number });
  assert.equal(second.status, 201, second.text);
  const secondId = second.json?.id as string;
  assert.equal((await member.client.post(`/api/v1/factors/sms/${secondId}/confirm`, { code: codeFromTwilio(twilio, phone(2).e164).code })).status, 200);

  const { browser, challenge } = await passwordStepIn(world, member.email);
  const sentSoFar = 2;
  for (let i = sentSoFar; i < CODE_SENDS_PER_USER.max; i++) {
    world.clock.advance(RESEND_MS + 1000);
    const res = await send(browser, challenge, i % 2 === 0 ? member.factorId : secondId);
    assert.equal(res.status, 200, `send ${i + 1}: ${res.text}`);
  }
  const texts = twilio.requests.length;
  assert.equal(texts, CODE_SENDS_PER_USER.max);

  world.clock.advance(RESEND_MS + 1000);
  assertTooManyCodes(await send(browser, challenge, member.factorId));
  assertTooManyCodes(await send(browser, challenge, secondId));
  // A new sign-in does not get around it.
  const other = await passwordStepIn(world, member.email);
  assertTooManyCodes(await send(other.browser, other.challenge));
  assert.equal(twilio.requests.length, texts, 'no message once limited');
  assert.equal((await auditEvents(world.server, 'code.sent', { subjectUserId: member.userId })).length, CODE_SENDS_PER_USER.max);

  // The window passes and codes flow again.
  world.clock.advance(CODE_SENDS_PER_USER.windowMs);
  const later = await passwordStepIn(world, member.email);
  assert.equal((await send(later.browser, later.challenge)).status, 200);
});

test(`per destination: one number gets at most ${CODE_SENDS_PER_DESTINATION.max} codes an hour, however many accounts use it`, async (t) => {
  const { world, twilio } = await smsWorld(t);
  const shared = phone(7);
  const alice = await memberWithPhone(world, twilio, shared);
  const bob = await memberWithPhone(world, twilio, shared);
  const carol = await memberWithPhone(world, twilio, phone(8));

  const a = await passwordStepIn(world, alice.email);
  const b = await passwordStepIn(world, bob.email);
  // 2 enrolments + 3 + 3 = 8 texts to the shared number; each account has sent only 4.
  await sendRepeatedly(world, a.browser, a.challenge, 3);
  await sendRepeatedly(world, b.browser, b.challenge, 3);
  const toShared = () => twilio.requests.filter((r) => new URLSearchParams(r.body).get('To') === shared.e164).length;
  assert.equal(toShared(), CODE_SENDS_PER_DESTINATION.max);

  world.clock.advance(RESEND_MS + 1000);
  const texts = twilio.requests.length;
  assertTooManyCodes(await send(b.browser, b.challenge));
  assertTooManyCodes(await send(a.browser, a.challenge));
  assert.equal(twilio.requests.length, texts, 'no message once limited');
  assert.equal(toShared(), CODE_SENDS_PER_DESTINATION.max);

  // Other numbers are not affected.
  const c = await passwordStepIn(world, carol.email);
  assert.equal((await send(c.browser, c.challenge)).status, 200);
  assert.equal(twilio.requests.length, texts + 1);
});

test(`per IP: at most ${CODE_SENDS_PER_IP.max} codes an hour from one address across accounts and numbers`, async (t) => {
  const { world, twilio } = await smsWorld(t);
  // Each account sends 6 (1 enrolment + 5 sign-in codes): under its own and its number's limit.
  const perMember = 6;
  let sent = 0;
  let n = 0;
  while (sent + perMember <= CODE_SENDS_PER_IP.max) {
    const member = await memberWithPhone(world, twilio, phone(n++));
    const { browser, challenge } = await passwordStepIn(world, member.email);
    await sendRepeatedly(world, browser, challenge, perMember - 1);
    sent += perMember;
  }
  while (sent < CODE_SENDS_PER_IP.max) {
    await memberWithPhone(world, twilio, phone(n++));
    sent += 1;
  }
  assert.equal(twilio.requests.length, CODE_SENDS_PER_IP.max);

  // A new account with a new number, which has sent nothing, is refused: the address is spent.
  const fresh = await newMember(world);
  const refused = await fresh.client.post('/api/v1/factors/sms', { country: 'US', number: phone(n).number });
  assertTooManyCodes(refused);
  assert.equal(twilio.requests.length, CODE_SENDS_PER_IP.max, 'no message once limited');
  assert.deepEqual(await factorRows(world.server, fresh.userId), [], 'the refused enrolment leaves no pending factor');
});

test('a code expires after TWOFOLD_CODE_MINUTES (10): enrolment and sign-in both answer code_expired', async (t) => {
  // The sign-in flow outlives its code here, so the code's own expiry is what is seen.
  const { world, twilio } = await smsWorld(t, { TWOFOLD_SIGN_IN_FLOW_MINUTES: '30' });
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/sms', { country: 'US', number: phone(1).number });
  assert.equal(started.status, 201, started.text);
  const enrolCode = codeFromTwilio(twilio, phone(1).e164).code;
  world.clock.advance(10 * 60_000);
  const late = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code: enrolCode });
  assert.equal(late.status, 401);
  assert.equal(late.json?.error?.code, 'code_expired');
  // The enrolment itself (15 minutes) is still open: a new code finishes it.
  assert.equal((await member.client.post(`/api/v1/factors/${started.json?.id}/resend`)).status, 200);
  const confirmed = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code: codeFromTwilio(twilio, phone(1).e164).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  world.clock.advance(RESEND_MS);

  const { browser, challenge } = await passwordStepIn(world, member.email);
  assert.equal((await send(browser, challenge)).status, 200);
  const code = codeFromTwilio(twilio, phone(1).e164).code;
  world.clock.advance(10 * 60_000);
  const expired = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code });
  assert.equal(expired.status, 401);
  assert.equal(expired.json?.error?.code, 'code_expired');

  // Rows of codes dead for over a day are swept when the user is next sent one.
  assert.equal((await codeRows(world.server, member.userId)).length, 3);
  world.clock.advance(24 * 60 * 60_000);
  const next = await passwordStepIn(world, member.email);
  assert.equal((await send(next.browser, next.challenge)).status, 200);
  assert.deepEqual(
    (await codeRows(world.server, member.userId)).map((r) => r.status),
    ['live'],
  );
});

test('a code works once: spent in one sign-in, it is refused in the next', async (t) => {
  const { world, twilio } = await smsWorld(t);
  const member = await memberWithPhone(world, twilio, phone(1));
  const first = await passwordStepIn(world, member.email);
  assert.equal((await send(first.browser, first.challenge)).status, 200);
  const code = codeFromTwilio(twilio, phone(1).e164).code;
  assert.equal((await first.browser.post('/api/v1/auth/second-factor', { challenge: first.challenge, method: 'sms', code })).status, 200);
  const row = (await codeRows(world.server, member.userId)).find((r) => r.purpose === 'sign_in');
  assert.equal(row?.status, 'used');
  assert.ok(row?.used_at);

  const second = await passwordStepIn(world, member.email);
  const reuse = await second.browser.post('/api/v1/auth/second-factor', { challenge: second.challenge, method: 'sms', code });
  assert.equal(reuse.status, 401);
  assert.equal(reuse.json?.error?.code, 'code_expired');
});

test('wrong text-message codes count into the shared lockout: after 5, sms and the authenticator are both locked; a backup code still works', async (t) => {
  const { world, twilio } = await smsWorld(t);
  const member = await memberWithPhone(world, twilio, phone(1));
  // The same member also has an authenticator.
  const totp = await member.client.post('/api/v1/factors/totp', {});
  assert.equal(totp.status, 201, totp.text);
  const secret = totp.json?.secret as string;
  assert.equal((await member.client.post(`/api/v1/factors/totp/${totp.json?.id}/confirm`, { code: totpCodeAt(secret, world.clock.now()) })).status, 200);
  world.clock.advance(STEP_MS);

  const { browser, challenge, body } = await passwordStepIn(world, member.email);
  assert.deepEqual(body.methods, ['totp', 'sms', 'backup_code']);
  assert.equal((await send(browser, challenge)).status, 200);
  const code = codeFromTwilio(twilio, phone(1).e164).code;
  for (let i = 1; i <= 5; i++) {
    const res = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: otherCode(code) });
    assert.equal(res.status, 401, `attempt ${i}: ${res.text}`);
    assert.equal(res.json?.error?.code, 'code_invalid');
  }
  assert.equal((await userRow(world.server, member.userId)).second_factor_failures, 5);

  const rightSms = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code });
  assert.equal(rightSms.status, 429, rightSms.text);
  assert.equal(rightSms.json?.error?.code, 'second_factor_locked');
  assert.equal(rightSms.headers.get('retry-after'), '60');
  const rightTotp = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: totpCodeAt(secret, world.clock.now()) });
  assert.equal(rightTotp.status, 429);
  assert.equal(rightTotp.json?.error?.code, 'second_factor_locked');
  assert.ok((await auditEvents(world.server, 'second_factor.locked_out', { subjectUserId: member.userId })).length >= 1);
  assert.equal((await auditEvents(world.server, 'code.failed', { subjectUserId: member.userId })).length, 5);
  // While locked no new code is sent: it could not be used, and texts cost money.
  world.clock.advance(31_000);
  const textsBefore = twilio.requests.length;
  const lockedSend = await send(browser, challenge);
  assert.equal(lockedSend.status, 429, lockedSend.text);
  assert.equal(lockedSend.json?.error?.code, 'second_factor_locked');
  assert.equal(twilio.requests.length, textsBefore);

  // Five wrong guesses also used up the code itself: after the lock it is void.
  world.clock.advance(60_000 - 31_000);
  const voided = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code });
  assert.equal(voided.status, 401);
  assert.equal(voided.json?.error?.code, 'code_expired');

  const backup = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: member.backupCodes[0] });
  assert.equal(backup.status, 200, backup.text);
  assert.equal((await userRow(world.server, member.userId)).second_factor_failures, 0, 'a proven factor clears the count');
});

test('the same right code submitted four times at once signs in exactly once', async (t) => {
  const { world, twilio } = await smsWorld(t);
  const member = await memberWithPhone(world, twilio, phone(1));
  const { browser, challenge } = await passwordStepIn(world, member.email);
  assert.equal((await send(browser, challenge)).status, 200);
  const code = codeFromTwilio(twilio, phone(1).e164).code;

  const results = await Promise.all(Array.from({ length: 4 }, () => browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code })));
  assert.deepEqual(tally(results.map((r) => r.status)), { 200: 1, 401: 3 }, results.map((r) => r.text).join('\n'));
  const sessions = await world.server.runtime.database.db.selectFrom('sessions').select('id').where('user_id', '=', member.userId).execute();
  // One from enrolling (password only) and one from this sign-in.
  assert.equal(sessions.length, 2);
  assert.equal((await auditEvents(world.server, 'code.verified', { subjectUserId: member.userId })).filter((e) => e.details.purpose === 'sign_in').length, 1);
});

test('two sends at the same moment in one sign-in: one text goes out, the other is told to wait', async (t) => {
  const { world, twilio } = await smsWorld(t);
  const member = await memberWithPhone(world, twilio, phone(1));
  const { browser, challenge } = await passwordStepIn(world, member.email);
  const texts = twilio.requests.length;

  const results = await Promise.all([send(browser, challenge), send(browser, challenge), send(browser, challenge)]);
  assert.deepEqual(tally(results.map((r) => r.status)), { 200: 1, 429: 2 }, results.map((r) => r.text).join('\n'));
  assert.ok(results.filter((r) => r.status === 429).every((r) => r.json?.error?.code === 'resend_too_soon'));
  assert.equal(twilio.requests.length, texts + 1, 'one text, not three');
  const live = (await codeRows(world.server, member.userId)).filter((r) => r.purpose === 'sign_in' && r.status === 'live');
  assert.equal(live.length, 1);
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: codeFromTwilio(twilio, phone(1).e164).code });
  assert.equal(done.status, 200, done.text);
});
