import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { WebhookPayload } from '../../src/delivery/index.js';
import { DELIVERY_ID_HEADER, SIGNATURE_HEADER, verifyWebhookSignature } from '../../src/delivery/index.js';
import type { HttpPeer, RecordedRequest } from '../delivery/peers.js';
import { json, startHttpPeer } from '../delivery/peers.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { auditEvents, bindChannel, codeRows, deliveryWorld, newMember, passwordStepIn } from '../helpers/delivery.js';

const LICENSE = 'f01d89fd-5155-5455-5585-e84ab8de8591';
const MESSAGE_ID = '1627aea5-8e0a-4371-9022-9b504344e724';
const WEBHOOK_SECRET = 'whsec-0123456789abcdef-shared';

function codeIn(text: string): string {
  const match = /\b(\d{6})\b/.exec(text);
  assert.ok(match, `no code in: ${text}`);
  return match[1]!;
}

/** A Cdyne SMS Notify! stand-in: accepts every message as Ready. */
async function withCdyne(t: { after(fn: () => Promise<void>): void }): Promise<HttpPeer> {
  const peer = await startHttpPeer(json(200, [{ MessageID: MESSAGE_ID, MessageStatus: 'Ready', To: '14155552671', From: '15559080983', Attachments: null }]));
  t.after(() => peer.close());
  return peer;
}

/** The latest Cdyne SendMessage request for a number (Cdyne wants it without the "+"). */
function cdyneMessageTo(peer: HttpPeer, digits: string): { LicenseKey: string; Body: string; To: string[]; From?: string } {
  const request = [...peer.requests].reverse().find((r) => (JSON.parse(r.body) as { To: string[] }).To.includes(digits));
  assert.ok(request, `no Cdyne message to ${digits}`);
  assert.equal(request.path, '/Messaging.svc/SendMessage');
  return JSON.parse(request.body) as { LicenseKey: string; Body: string; To: string[]; From?: string };
}

interface Receiver {
  peer: HttpPeer;
  /** Payloads whose signature checked out. */
  accepted: WebhookPayload[];
}

/** A webhook receiver as an integrator would write it: verify the raw body's signature, answer 401 if it fails. */
async function withReceiver(t: { after(fn: () => Promise<void>): void }, secret: string): Promise<Receiver> {
  const accepted: WebhookPayload[] = [];
  const peer = await startHttpPeer((req: RecordedRequest, res) => {
    const ok = verifyWebhookSignature(secret, req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined, req.body, Date.now() / 1000);
    if (!ok) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'bad signature' }));
      return;
    }
    accepted.push(JSON.parse(req.body) as WebhookPayload);
    res.writeHead(204);
    res.end();
  });
  t.after(() => peer.close());
  return { peer, accepted };
}

function webhookConfig(receiver: Receiver, channels: string[], secret = WEBHOOK_SECRET): Record<string, unknown> {
  return { kind: 'webhook', url: `${receiver.peer.url}/twofold/messages`, secret, channels, timeoutMs: 2000 };
}

async function enrolPhone(world: DeliveryWorld, readCode: () => string) {
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/sms', { country: 'US', number: '415 555 2671' });
  assert.equal(started.status, 201, started.text);
  const confirmed = await member.client.post(`/api/v1/factors/sms/${started.json?.id}/confirm`, { code: readCode() });
  assert.equal(confirmed.status, 200, confirmed.text);
  return { ...member, factorId: started.json?.id as string };
}

test('Cdyne carries the text messages: enrolment and a real sign-in code go through SendMessage', async (t) => {
  const world = await deliveryWorld(t);
  const cdyne = await withCdyne(t);
  await bindChannel(world, 'sms', { kind: 'cdyne', licenseKey: LICENSE, from: '15559080983', baseUrl: cdyne.url, timeoutMs: 2000 });

  const member = await enrolPhone(world, () => codeIn(cdyneMessageTo(cdyne, '14155552671').Body));
  const enrolMessage = cdyneMessageTo(cdyne, '14155552671');
  assert.equal(enrolMessage.LicenseKey, LICENSE);
  assert.equal(enrolMessage.From, '15559080983');
  assert.match(enrolMessage.Body, /Acme Widgets/);

  const { browser, challenge } = await passwordStepIn(world, member.email);
  const sent = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  assert.equal(sent.status, 200, sent.text);
  assert.equal(cdyne.requests.length, 2);
  const signInMessage = cdyneMessageTo(cdyne, '14155552671');
  assert.match(signInMessage.Body, /Acme Widgets/);
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code: codeIn(signInMessage.Body) });
  assert.equal(done.status, 200, done.text);
  assert.ok((done.json?.amr as string[]).includes('sms'));

  const audit = await auditEvents(world.server, 'code.sent', { subjectUserId: member.userId });
  assert.deepEqual(
    audit.map((a) => [a.details.provider, a.details.purpose, a.details.providerMessageId]),
    [
      ['cdyne', 'enrolment', MESSAGE_ID],
      ['cdyne', 'sign_in', MESSAGE_ID],
    ],
  );
});

test('a signed webhook carries text messages: the receiver verifies the HMAC, a tampered body fails, and the code signs in', async (t) => {
  const world = await deliveryWorld(t);
  const receiver = await withReceiver(t, WEBHOOK_SECRET);
  await bindChannel(world, 'sms', webhookConfig(receiver, ['sms']));

  const member = await enrolPhone(world, () => codeIn(receiver.accepted.at(-1)!.text));
  const { browser, challenge } = await passwordStepIn(world, member.email);
  assert.equal((await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' })).status, 200);

  assert.equal(receiver.peer.requests.length, 2);
  const request = receiver.peer.requests[1]!;
  assert.equal(request.path, '/twofold/messages');
  assert.equal(request.headers['content-type'], 'application/json');
  const payload = JSON.parse(request.body) as WebhookPayload;
  assert.equal(payload.channel, 'sms');
  assert.equal(payload.to, '+14155552671');
  assert.equal(payload.subject, null);
  assert.match(payload.text, /Acme Widgets/);
  assert.equal(request.headers[DELIVERY_ID_HEADER.toLowerCase()], payload.id);
  const signature = request.headers[SIGNATURE_HEADER.toLowerCase()] as string;
  assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);

  // The signature covers the exact bytes: one changed digit, another secret, or an old timestamp all fail.
  const now = Date.now() / 1000;
  assert.equal(verifyWebhookSignature(WEBHOOK_SECRET, signature, request.body, now), true);
  const code = codeIn(payload.text);
  const forged = request.body.replace(code, code === '000000' ? '111111' : '000000');
  assert.notEqual(forged, request.body);
  assert.equal(verifyWebhookSignature(WEBHOOK_SECRET, signature, forged, now), false);
  assert.equal(verifyWebhookSignature(`${WEBHOOK_SECRET}-other`, signature, request.body, now), false);
  assert.equal(verifyWebhookSignature(WEBHOOK_SECRET, signature, request.body, now + 3600), false);

  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'sms', code });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual((done.json?.amr as string[]).sort(), ['mfa', 'pwd', 'sms']);
});

test('a signed webhook as the email channel: enrol the account address and sign in with the code from the payload', async (t) => {
  const world = await deliveryWorld(t);
  const receiver = await withReceiver(t, WEBHOOK_SECRET);
  await bindChannel(world, 'email', webhookConfig(receiver, ['email']));
  const member = await newMember(world);

  const started = await member.client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const enrolment = receiver.accepted.at(-1)!;
  assert.equal(enrolment.channel, 'email');
  assert.equal(enrolment.to, member.email);
  assert.match(enrolment.subject ?? '', /Acme Widgets/);
  assert.equal((await member.client.post(`/api/v1/factors/email/${started.json?.id}/confirm`, { code: codeIn(enrolment.text) })).status, 200);

  const { browser, challenge } = await passwordStepIn(world, member.email);
  assert.equal((await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'email' })).status, 200);
  const signIn = receiver.accepted.at(-1)!;
  assert.notEqual(signIn.id, enrolment.id, 'each delivery has its own id');
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'email', code: codeIn(signIn.text) });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual((done.json?.amr as string[]).sort(), ['mfa', 'otp', 'pwd']);
});

test('a receiver that rejects the signature (secrets out of step) is a failed send: 503, nothing stored, the reason audited', async (t) => {
  const world = await deliveryWorld(t);
  const receiver = await withReceiver(t, WEBHOOK_SECRET);
  await bindChannel(world, 'sms', webhookConfig(receiver, ['sms'], 'a-different-secret-than-the-receiver-has'));
  const member = await newMember(world);

  const started = await member.client.post('/api/v1/factors/sms', { country: 'US', number: '415 555 2671' });
  assert.equal(started.status, 503, started.text);
  assert.equal(started.json?.error?.code, 'delivery_failed');
  assert.ok(!/401|signature|webhook/i.test(started.json?.error?.message ?? ''), started.json?.error?.message);
  assert.equal(receiver.peer.requests.length, 1, 'a 401 is permanent: not retried');
  assert.equal(receiver.accepted.length, 0);
  assert.deepEqual(await codeRows(world.server, member.userId), []);
  const failed = await auditEvents(world.server, 'code.send_failed', { subjectUserId: member.userId });
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.details.status, 401);
  assert.equal(failed[0]?.details.provider, 'webhook');
});
