import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Handler, HttpPeer } from '../delivery/peers.js';
import { closedPort, hang, json } from '../delivery/peers.js';
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
  withTwilio,
} from '../helpers/delivery.js';

const ATTEMPTS = 2;
const TIMEOUT_MS = 300;
const PHONE = { country: 'US', number: '415 555 2671', e164: '+14155552671' };
const PROVIDER_SECRET_TEXT = 'upstream database on fire (node sms-7)';

/** Small timeout and attempts so a hanging provider is given up on quickly. */
function outageWorld(t: { after(fn: () => Promise<void>): void }) {
  return deliveryWorld(t, { env: { TWOFOLD_DELIVERY_TIMEOUT_MS: String(TIMEOUT_MS), TWOFOLD_DELIVERY_ATTEMPTS: String(ATTEMPTS) } });
}

/** A Twilio stand-in whose behaviour the test switches: it works until told to fail. */
async function switchableTwilio(t: { after(fn: () => Promise<void>): void }) {
  const state: { failing: Handler | null } = { failing: null };
  const ok = json(201, { sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued' });
  const peer = await withTwilio(t, (req, res) => (state.failing ?? ok)(req, res));
  return { peer, state };
}

async function boundToClosedPort(world: DeliveryWorld): Promise<void> {
  const port = await closedPort();
  await bindChannel(world, 'sms', { ...twilioConfig({ url: '' } as HttpPeer), baseUrl: `http://127.0.0.1:${port}` });
}

function assertUserSafeFailure(res: TestResponse, kind: 'a text message' | 'an email') {
  assert.equal(res.status, 503, res.text);
  assert.equal(res.json?.error?.code, 'delivery_failed');
  assert.equal(res.json?.error?.message, `We could not send ${kind} just now. Try again in a minute, or choose another method.`);
  for (const leak of ['Twilio', 'SMTP', 'HTTP', '500', 'ECONNREFUSED', 'did not answer', PROVIDER_SECRET_TEXT, '127.0.0.1']) {
    assert.ok(!res.text.includes(leak), `the answer does not mention ${leak}: ${res.text}`);
  }
  assert.equal(res.json?.error && 'details' in res.json.error, false, 'no provider details in the answer');
}

/** A sign-in whose text cannot be sent: 503, nothing live, audited; the backup code finishes it. */
async function signInDuringOutage(world: DeliveryWorld, member: { userId: string; email: string; backupCodes: string[] }, expectAudit: (details: Record<string, unknown>) => void) {
  const { browser, challenge } = await passwordStepIn(world, member.email);
  const codesBefore = (await codeRows(world.server, member.userId)).length;
  const started = Date.now();
  const failed = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  const tookMs = Date.now() - started;
  assertUserSafeFailure(failed, 'a text message');

  const rows = await codeRows(world.server, member.userId);
  assert.equal(rows.length, codesBefore, 'no code row for a text that never went out');
  assert.equal(rows.filter((r) => r.status === 'live').length, 0);
  const audit = await auditEvents(world.server, 'code.send_failed', { subjectUserId: member.userId });
  assert.equal(audit.length, 1);
  assert.equal(audit[0]?.details.purpose, 'sign_in');
  assert.equal(audit[0]?.details.to, '+1 ••• ••• 2671');
  assert.ok(typeof audit[0]?.details.error === 'string' && audit[0].details.error !== '', 'the provider error is kept for the admin');
  expectAudit(audit[0]!.details);

  // Nothing was stored, so asking again is not "too soon": it fails the same way.
  const again = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  assertUserSafeFailure(again, 'a text message');

  const backup = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: member.backupCodes[0] });
  assert.equal(backup.status, 200, backup.text);
  return { tookMs };
}

test('provider down (connection refused): 503 delivery_failed in plain words, retried, audited, and a backup code still signs in', async (t) => {
  const world = await outageWorld(t);
  const { peer } = await switchableTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(peer));
  const member = await memberWithPhone(world, peer, PHONE);
  await boundToClosedPort(world);

  await signInDuringOutage(world, member, (details) => {
    assert.equal(details.provider, 'twilio');
    assert.equal(details.attempts, ATTEMPTS);
    assert.equal(details.transient, true);
    assert.match(details.error as string, /could not be reached/);
  });
});

test('provider answering 500: retried at most TWOFOLD_DELIVERY_ATTEMPTS times, then 503; the provider text stays in the audit log', async (t) => {
  const world = await outageWorld(t);
  const { peer, state } = await switchableTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(peer));
  const member = await memberWithPhone(world, peer, PHONE);
  state.failing = json(500, { code: 20500, message: PROVIDER_SECRET_TEXT, more_info: 'https://www.twilio.com/docs/errors/20500', status: 500 });

  const before = peer.requests.length;
  await signInDuringOutage(world, member, (details) => {
    assert.equal(details.status, 500);
    assert.equal(details.providerCode, 20500);
    assert.equal(details.attempts, ATTEMPTS);
    assert.match(details.error as string, new RegExp(PROVIDER_SECRET_TEXT.replace(/[()]/g, '\\$&')));
  });
  // Two sends were asked for, each tried ATTEMPTS times and no more.
  assert.equal(peer.requests.length - before, 2 * ATTEMPTS);
});

test('a permanent refusal (HTTP 400, invalid number) is not retried', async (t) => {
  const world = await outageWorld(t);
  const { peer, state } = await switchableTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(peer));
  const member = await memberWithPhone(world, peer, PHONE);
  state.failing = json(400, { code: 21211, message: `The 'To' number ${PHONE.e164} is not a valid phone number.`, status: 400 });

  const before = peer.requests.length;
  const { browser, challenge } = await passwordStepIn(world, member.email);
  assertUserSafeFailure(await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' }), 'a text message');
  assert.equal(peer.requests.length - before, 1);
  const [audit] = await auditEvents(world.server, 'code.send_failed', { subjectUserId: member.userId });
  assert.equal(audit?.details.providerCode, 21211);
  assert.equal(audit?.details.transient, false);
  // The provider's words are kept, with the number masked as everywhere else an admin looks.
  assert.match(audit?.details.error as string, /The 'To' number …\d\d is not a valid phone number/);
  assert.ok(!JSON.stringify(audit?.details).includes(PHONE.e164.slice(1)), JSON.stringify(audit?.details));
});

test('provider hanging past TWOFOLD_DELIVERY_TIMEOUT_MS: each attempt is cut off, the answer comes in bounded time', async (t) => {
  const world = await outageWorld(t);
  const { peer, state } = await switchableTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(peer));
  const member = await memberWithPhone(world, peer, PHONE);
  state.failing = hang;

  const before = peer.requests.length;
  const { tookMs } = await signInDuringOutage(world, member, (details) => {
    assert.equal(details.timeout, true);
    assert.equal(details.attempts, ATTEMPTS);
  });
  assert.ok(tookMs >= TIMEOUT_MS * ATTEMPTS, `waited for each attempt (${tookMs} ms)`);
  // Attempts × timeout plus one short pause, with room for a busy machine; were the server's
  // timeout ignored, the provider's own 2 s per attempt would take at least 4 s.
  assert.ok(tookMs < TIMEOUT_MS * ATTEMPTS + 2500, `gave up in time (${tookMs} ms)`);
  assert.equal(peer.requests.length - before, 2 * ATTEMPTS);
});

test('enrolling a phone during an outage leaves no pending factor and no code; it works once the provider is back', async (t) => {
  const world = await outageWorld(t);
  const { peer, state } = await switchableTwilio(t);
  await bindChannel(world, 'sms', twilioConfig(peer));
  const member = await newMember(world);
  state.failing = json(503, { code: 20503, message: PROVIDER_SECRET_TEXT });

  const failed = await member.client.post('/api/v1/factors/sms', { country: PHONE.country, number: PHONE.number });
  assertUserSafeFailure(failed, 'a text message');
  assert.deepEqual(await factorRows(world.server, member.userId), []);
  assert.deepEqual(await codeRows(world.server, member.userId), []);
  const [audit] = await auditEvents(world.server, 'code.send_failed', { subjectUserId: member.userId });
  assert.equal(audit?.details.purpose, 'enrolment');
  assert.deepEqual((await member.client.get('/api/v1/factors')).json?.factors, []);

  state.failing = null;
  const retried = await member.client.post('/api/v1/factors/sms', { country: PHONE.country, number: PHONE.number });
  assert.equal(retried.status, 201, retried.text);
  assert.equal((await factorRows(world.server, member.userId)).length, 1);
});

test('email enrolment while the SMTP server is down: 503 in plain words, no pending factor', async (t) => {
  const world = await outageWorld(t);
  const port = await closedPort();
  await bindChannel(world, 'email', { ...smtpConfig({ port, received: [], close: async () => undefined }), connectionTimeoutMs: TIMEOUT_MS });
  const member = await newMember(world);

  const failed = await member.client.post('/api/v1/factors/email', {});
  assertUserSafeFailure(failed, 'an email');
  assert.deepEqual(await factorRows(world.server, member.userId), []);
  assert.deepEqual(await codeRows(world.server, member.userId), []);
  const [audit] = await auditEvents(world.server, 'code.send_failed', { subjectUserId: member.userId });
  assert.equal(audit?.details.provider, 'smtp');
  assert.equal(audit?.details.attempts, ATTEMPTS);
});
