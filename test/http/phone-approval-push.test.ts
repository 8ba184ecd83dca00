import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { TestClient } from '../helpers/client.js';
import { FakePhone } from '../helpers/approver.js';
import { dbOf, enrolledMember } from '../helpers/authenticator.js';
import type { EnrolledMember } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import { TestPushService } from '../helpers/push-service.js';
import type { TestSubscription } from '../helpers/push-service.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const push = await TestPushService.start();
  t.after(() => push.close());
  const member = await enrolledMember(server, clock);
  return { clock, server, push, member };
}

async function pairWith(server: TestServer, member: EnrolledMember, subscription: TestSubscription): Promise<FakePhone> {
  const link = await member.client.post('/api/v1/approvers/pairings');
  assert.equal(link.status, 201, link.text);
  const phone = new FakePhone();
  const { decrypt: _decrypt, ...plain } = subscription;
  await phone.pair(new TestClient(server.url), link.json?.url as string, 'Pixel 8', plain);
  return phone;
}

async function requestApproval(server: TestServer, member: EnrolledMember, phone: FakePhone) {
  const laptop = new TestClient(server.url, { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36' });
  const signIn = await laptop.post('/api/v1/auth/sign-in', { email: member.email, password: member.password });
  const challenge = signIn.json?.challenge as string;
  const started = await laptop.post('/api/v1/auth/approvals', { challenge, approverId: phone.deviceId });
  assert.equal(started.status, 201, started.text);
  return { laptop, challenge, started: started.json as { requestId: string; number: number; pushed: boolean } };
}

/** The JWT of a `vapid t=…, k=…` Authorization header, checked as a push service checks it (RFC 8292). */
function checkVapid(header: string, expectedKey: string, audience: string, nowMs: number): Record<string, unknown> {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(header);
  assert.ok(match, header);
  const [, jwt, k] = match;
  assert.equal(k, expectedKey, 'k is the VAPID public key the approver app subscribes with');
  const [head, body, sig] = jwt!.split('.') as [string, string, string];
  assert.deepEqual(JSON.parse(Buffer.from(head, 'base64url').toString()), { typ: 'JWT', alg: 'ES256' });
  const raw = Buffer.from(k!, 'base64url');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: raw.subarray(1, 33).toString('base64url'), y: raw.subarray(33, 65).toString('base64url') }, format: 'jwk' });
  assert.ok(verify('sha256', Buffer.from(`${head}.${body}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(sig, 'base64url')), 'the VAPID JWT is signed by that key');
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { aud: string; exp: number; sub: string };
  assert.equal(claims.aud, audience);
  assert.ok(claims.exp * 1000 > Date.now() && claims.exp * 1000 <= Date.now() + 24 * 3600_000 + 60_000, `exp ${claims.exp}`);
  assert.match(claims.sub, /^(mailto:|https:)/);
  void nowMs;
  return claims;
}

test('a sign-in request reaches the phone by Web Push: VAPID-signed, aes128gcm-encrypted, carrying the request id and a description and no secret', async (t) => {
  const { clock, server, push, member } = await setup(t);
  const subscription = push.subscription('pixel');
  const phone = await pairWith(server, member, subscription);
  const stored = await dbOf(server).selectFrom('approver_devices').select('push_subscription_encrypted').executeTakeFirstOrThrow();
  assert.ok(stored.push_subscription_encrypted && !stored.push_subscription_encrypted.includes(subscription.endpoint) && !stored.push_subscription_encrypted.includes(subscription.keys.auth), 'the subscription is sealed at rest');

  const { challenge, started } = await requestApproval(server, member, phone);
  assert.equal(started.pushed, true);
  assert.equal(push.received.length, 1);
  const [message] = push.received;
  assert.equal(message!.path, '/push/pixel');
  assert.equal(message!.headers['content-encoding'], 'aes128gcm');
  assert.equal(message!.headers.ttl, '60');
  const vapidKey = (await new TestClient(server.url).get('/api/v1/approver/vapid-key')).json?.publicKey as string;
  checkVapid(String(message!.headers.authorization), vapidKey, push.url, clock.now());

  const payload = JSON.parse(subscription.decrypt(message!.body)) as { type: string; requestId: string; description: Record<string, unknown> };
  assert.equal(payload.type, 'approval');
  assert.equal(payload.requestId, started.requestId);
  assert.equal(payload.description.action, 'Sign in');
  assert.equal(payload.description.browser, 'Chrome on macOS');
  const row = await dbOf(server).selectFrom('approval_requests').select(['challenge', 'number']).where('id', '=', started.requestId).executeTakeFirstOrThrow();
  const text = JSON.stringify(payload);
  assert.ok(!text.includes(row.challenge) && !text.includes(challenge), 'no challenge in the push');
  assert.ok(!/"number"|"choices"/.test(text), 'the number stays on the signing-in screen');

  // The stored VAPID private key is sealed too.
  const vapid = await dbOf(server).selectFrom('key_material').select('sealed').where('name', '=', 'vapid-keys').executeTakeFirstOrThrow();
  assert.ok(!vapid.sealed.includes(vapidKey));
});

test('a push service that fails does not break the sign-in: the request stands, the phone lists it, the failure is audited; a gone subscription is dropped', async (t) => {
  const { clock, server, push, member } = await setup(t);
  const phone = await pairWith(server, member, push.subscription());
  push.status = 500;
  const first = await requestApproval(server, member, phone);
  assert.equal(first.started.pushed, false);
  const listed = await phone.pending(new TestClient(server.url), clock.now());
  assert.deepEqual(listed.map((r) => r.requestId), [first.started.requestId]);
  const decided = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(listed[0]!, 'approve', first.started.number));
  assert.equal(decided.status, 200, decided.text);
  const signedIn = await first.laptop.post('/api/v1/auth/second-factor', { challenge: first.challenge, method: 'push', code: first.started.requestId });
  assert.equal(signedIn.status, 200, signedIn.text);

  push.status = 410;
  clock.advance(1000);
  const second = await requestApproval(server, member, phone);
  assert.equal(second.started.pushed, false);
  const reasons = (await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'approval.push_failed').orderBy('id').execute()).map((r) => (JSON.parse(r.details) as { reason: string; status: number }));
  assert.deepEqual(reasons.map((r) => [r.reason, r.status]), [['refused', 500], ['gone', 410]]);
  const devices = (await member.client.get('/api/v1/approvers')).json?.approvers as Array<{ push: boolean }>;
  assert.deepEqual(devices.map((d) => d.push), [false], 'a subscription the push service calls gone is forgotten');

  // An unreachable push service: same outcome, no error for the person signing in.
  await push.close();
  const third = await pairWith(server, member, push.subscription());
  clock.advance(61_000);
  const laptop = new TestClient(server.url);
  const challenge = (await laptop.post('/api/v1/auth/sign-in', { email: member.email, password: member.password })).json?.challenge as string;
  const started = await laptop.post('/api/v1/auth/approvals', { challenge, approverId: third.deviceId });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json?.pushed, false);
});
