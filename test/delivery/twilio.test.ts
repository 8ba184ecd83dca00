import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sendWithRetry } from '../../src/delivery/retry.js';
import { createTwilioProvider } from '../../src/delivery/twilio.js';
import type { TwilioProviderConfig } from '../../src/delivery/twilio.js';
import { rejectsDelivery } from './assert.js';
import { closedPort, hang, json, startHttpPeer, timed } from './peers.js';
import type { RecordedRequest } from './peers.js';

/** The peers listen on 127.0.0.1, which providers reach only when internal addresses are allowed. */
const LOCAL = { allowPrivateAddresses: true };

const ACCOUNT = `AC${'a1'.repeat(16)}`;
const TOKEN = 'twilio auth token 0123456789abcdef';
const message = { channel: 'sms' as const, to: '+14155552671', text: 'Acme: your sign-in code is 123456.' };
const created = json(201, { sid: `SM${'b2'.repeat(16)}`, status: 'queued' });

function config(baseUrl: string, overrides: Partial<TwilioProviderConfig> = {}): TwilioProviderConfig {
  return { kind: 'twilio', accountSid: ACCOUNT, authToken: TOKEN, from: '+15005550006', baseUrl, timeoutMs: 10_000, ...overrides };
}

function basicAuth(request: RecordedRequest): string {
  const header = String(request.headers.authorization ?? '');
  assert.match(header, /^Basic /);
  return Buffer.from(header.slice(6), 'base64').toString('utf8');
}

test('POSTs the form to the Messages resource with Basic auth and returns the sid', async (t) => {
  const peer = await startHttpPeer(created);
  t.after(() => peer.close());

  const result = await createTwilioProvider(config(peer.url), LOCAL).send(message);

  assert.deepEqual(result, { providerMessageId: `SM${'b2'.repeat(16)}` });
  assert.equal(peer.requests.length, 1);
  const request = peer.requests[0]!;
  assert.equal(request.method, 'POST');
  assert.equal(request.path, `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
  assert.equal(basicAuth(request), `${ACCOUNT}:${TOKEN}`);
  assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
  const form = new URLSearchParams(request.body);
  assert.deepEqual(Object.fromEntries(form), { To: '+14155552671', Body: message.text, From: '+15005550006' });
});

test('API key credentials and a messaging service instead of a From number', async (t) => {
  const peer = await startHttpPeer(created);
  t.after(() => peer.close());
  const apiKeySid = `SK${'c3'.repeat(16)}`;
  const service = `MG${'d4'.repeat(16)}`;
  await createTwilioProvider(
    config(peer.url, { authToken: undefined, apiKeySid, apiKeySecret: 'api key secret value', from: undefined, messagingServiceSid: service }), LOCAL,
  ).send(message);

  const request = peer.requests[0]!;
  assert.equal(request.path, `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
  assert.equal(basicAuth(request), `${apiKeySid}:api key secret value`);
  const form = new URLSearchParams(request.body);
  assert.equal(form.get('MessagingServiceSid'), service);
  assert.equal(form.has('From'), false);
});

test("a 400 is permanent and carries Twilio's error code and message", async (t) => {
  const peer = await startHttpPeer(
    json(400, { code: 21211, message: "The 'To' number +14155552671 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 }),
  );
  t.after(() => peer.close());
  const error = await rejectsDelivery(createTwilioProvider(config(peer.url), LOCAL).send(message), {
    transient: false,
    status: 400,
    providerCode: 21211,
    message: /HTTP 400, error 21211\): The 'To' number/,
  });
  assert.equal(error.details.provider, 'twilio');
});

test('401 (bad credentials) is permanent; 429 and 503 are transient', async (t) => {
  const unauthorized = await startHttpPeer(json(401, { code: 20003, message: 'Authenticate', status: 401 }));
  const limited = await startHttpPeer(json(429, { code: 20429, message: 'Too Many Requests', status: 429 }));
  const down = await startHttpPeer(json(503, { message: 'Service Unavailable' }));
  t.after(() => Promise.all([unauthorized.close(), limited.close(), down.close()]));
  await rejectsDelivery(createTwilioProvider(config(unauthorized.url), LOCAL).send(message), { transient: false, status: 401, providerCode: 20003 });
  await rejectsDelivery(createTwilioProvider(config(limited.url), LOCAL).send(message), { transient: true, status: 429 });
  await rejectsDelivery(createTwilioProvider(config(down.url), LOCAL).send(message), { transient: true, status: 503 });
});

test('with retry: 503 then 201 succeeds on the second attempt', async (t) => {
  const peer = await startHttpPeer(json(503, { message: 'Service Unavailable' }), created);
  t.after(() => peer.close());
  const result = await sendWithRetry(createTwilioProvider(config(peer.url), LOCAL), message, { attempts: 3, baseDelayMs: 10 });
  assert.equal(result.attempts, 2);
  assert.equal(result.providerMessageId, `SM${'b2'.repeat(16)}`);
  assert.equal(peer.requests.length, 2);
});

test('with retry: a 400 is not retried', async (t) => {
  const peer = await startHttpPeer(json(400, { code: 21211, message: 'Invalid To', status: 400 }), created);
  t.after(() => peer.close());
  const error = await rejectsDelivery(sendWithRetry(createTwilioProvider(config(peer.url), LOCAL), message, { attempts: 3, baseDelayMs: 10 }), {
    transient: false,
  });
  assert.equal(error.details.attempts, 1);
  assert.equal(peer.requests.length, 1);
});

test('a hanging response times out (transient), and retries stay bounded', async (t) => {
  const peer = await startHttpPeer(hang);
  t.after(() => peer.close());
  const provider = createTwilioProvider(config(peer.url, { timeoutMs: 200 }), LOCAL);

  const single = await timed(() => provider.send(message));
  await rejectsDelivery(Promise.reject((single.result as PromiseRejectedResult).reason), { transient: true, message: /within 200 ms/ });
  assert.ok(single.ms >= 190 && single.ms < 1_500, `took ${single.ms} ms`);

  const retried = await timed(() => sendWithRetry(provider, message, { attempts: 2, baseDelayMs: 10, timeoutMs: 1_000 }));
  const error = await rejectsDelivery(Promise.reject((retried.result as PromiseRejectedResult).reason), { transient: true });
  assert.equal(error.details.attempts, 2);
  assert.equal(peer.requests.length, 3);
  assert.ok(retried.ms < 2_000, `took ${retried.ms} ms`);
});

test('nothing listening: transient', async () => {
  const port = await closedPort();
  await rejectsDelivery(createTwilioProvider(config(`http://127.0.0.1:${port}`), LOCAL).send(message), {
    transient: true,
    providerCode: 'ECONNREFUSED',
  });
});

test('refuses email and non-E.164 destinations without calling Twilio', async (t) => {
  const peer = await startHttpPeer(created);
  t.after(() => peer.close());
  const provider = createTwilioProvider(config(peer.url), LOCAL);
  await rejectsDelivery(provider.send({ channel: 'email', to: 'a@example.com', text: 'x' }), { transient: false });
  await rejectsDelivery(provider.send({ ...message, to: '4155552671' }), { transient: false, message: /E\.164/ });
  assert.equal(peer.requests.length, 0);
});

test('configuration is checked when the provider is made', () => {
  const base = 'https://api.twilio.com';
  const bad: Array<Partial<TwilioProviderConfig>> = [
    { accountSid: 'AC123' },
    { authToken: undefined },
    { apiKeySid: `SK${'0'.repeat(32)}`, apiKeySecret: 'x' }, // both token and key
    { from: undefined },
    { messagingServiceSid: `MG${'0'.repeat(32)}` }, // both from and service
    { from: 'not a sender id!' },
    { baseUrl: 'http://api.twilio.com' }, // plain http off loopback
    { baseUrl: 'https://user:pw@api.twilio.com' },
    { timeoutMs: 0 },
  ];
  for (const overrides of bad) {
    assert.throws(() => createTwilioProvider(config(base, overrides), LOCAL), { code: 'provider_config_invalid' }, JSON.stringify(overrides));
  }
  assert.equal(createTwilioProvider(config(base, { from: 'Acme' }), LOCAL).kind, 'twilio');
});
