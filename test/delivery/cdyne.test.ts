import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCdyneProvider } from '../../src/delivery/cdyne.js';
import type { CdyneProviderConfig } from '../../src/delivery/cdyne.js';
import { sendWithRetry } from '../../src/delivery/retry.js';
import { rejectsDelivery } from './assert.js';
import { hang, json, startHttpPeer } from './peers.js';

/** The peers listen on 127.0.0.1, which providers reach only when internal addresses are allowed. */
const LOCAL = { allowPrivateAddresses: true };

const LICENSE = 'f01d89fd-5155-5455-5585-e84ab8de8591';
const MESSAGE_ID = '1627aea5-8e0a-4371-9022-9b504344e724';
const message = { channel: 'sms' as const, to: '+14155552671', text: 'Acme: your sign-in code is 123456.' };

function config(baseUrl: string, overrides: Partial<CdyneProviderConfig> = {}): CdyneProviderConfig {
  return { kind: 'cdyne', licenseKey: LICENSE, from: '15559080983', baseUrl, timeoutMs: 10_000, ...overrides };
}

function accepted(status: string | number) {
  return json(200, [{ MessageID: MESSAGE_ID, MessageStatus: status, To: '14155552671', From: '15559080983', Attachments: null }]);
}

test('POSTs SendMessage JSON with the license key and returns the MessageID', async (t) => {
  const peer = await startHttpPeer(accepted('Ready'));
  t.after(() => peer.close());

  const result = await createCdyneProvider(config(peer.url), LOCAL).send(message);

  assert.deepEqual(result, { providerMessageId: MESSAGE_ID });
  const request = peer.requests[0]!;
  assert.equal(request.method, 'POST');
  assert.equal(request.path, '/Messaging.svc/SendMessage');
  assert.equal(request.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(request.body), {
    LicenseKey: LICENSE,
    Body: message.text,
    To: ['14155552671'],
    From: '15559080983',
    Concatenate: true,
    IsUnicode: false,
    UseMMS: false,
  });
});

test('understands MessageStatus as a name or as its number; non-GSM text is sent as Unicode', async (t) => {
  const peer = await startHttpPeer(accepted(201));
  t.after(() => peer.close());
  const result = await createCdyneProvider(config(peer.url, { from: undefined }), LOCAL).send({ ...message, text: 'Acme: код 123456' });
  assert.equal(result.providerMessageId, MESSAGE_ID);
  const body = JSON.parse(peer.requests[0]!.body) as Record<string, unknown>;
  assert.equal(body.IsUnicode, true);
  assert.equal('From' in body, false);
});

test('a refused message is permanent and names the status', async (t) => {
  const invalidKey = await startHttpPeer(accepted('InvalidLicenseKey'));
  const badNumber = await startHttpPeer(accepted(406));
  t.after(() => Promise.all([invalidKey.close(), badNumber.close()]));
  await rejectsDelivery(createCdyneProvider(config(invalidKey.url), LOCAL).send(message), { transient: false, providerCode: 'InvalidLicenseKey' });
  await rejectsDelivery(createCdyneProvider(config(badNumber.url), LOCAL).send(message), { transient: false, providerCode: 'InvalidDestination' });
});

test("'Failed' (not handed to the carrier) and HTTP 500 are transient; HTTP 400 is permanent", async (t) => {
  const failed = await startHttpPeer(accepted('Failed'));
  const error500 = await startHttpPeer(json(500, { Message: 'Internal error' }));
  const error400 = await startHttpPeer(json(400, { Message: 'Bad request' }));
  t.after(() => Promise.all([failed.close(), error500.close(), error400.close()]));
  await rejectsDelivery(createCdyneProvider(config(failed.url), LOCAL).send(message), { transient: true, providerCode: 'Failed' });
  await rejectsDelivery(createCdyneProvider(config(error500.url), LOCAL).send(message), { transient: true, status: 500 });
  await rejectsDelivery(createCdyneProvider(config(error400.url), LOCAL).send(message), { transient: false, status: 400 });
});

test('a garbled 200 answer is transient, not success', async (t) => {
  const peer = await startHttpPeer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>maintenance</html>');
  });
  t.after(() => peer.close());
  await rejectsDelivery(createCdyneProvider(config(peer.url), LOCAL).send(message), { transient: true });
});

test('retry: 500 then accepted; a hanging server times out', async (t) => {
  const flaky = await startHttpPeer(json(500, {}), accepted('Sent'));
  const slow = await startHttpPeer(hang);
  t.after(() => Promise.all([flaky.close(), slow.close()]));
  const result = await sendWithRetry(createCdyneProvider(config(flaky.url), LOCAL), message, { baseDelayMs: 5 });
  assert.equal(result.attempts, 2);
  await rejectsDelivery(createCdyneProvider(config(slow.url, { timeoutMs: 150 }), LOCAL).send(message), { transient: true, message: /within 150 ms/ });
});

test('configuration is checked when the provider is made', () => {
  assert.throws(() => createCdyneProvider(config('https://messaging.cdyne.com', { licenseKey: 'not-a-guid' }), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createCdyneProvider(config('https://messaging.cdyne.com', { from: 'ACME' }), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createCdyneProvider(config('ftp://messaging.cdyne.com'), LOCAL), { code: 'provider_config_invalid' });
  assert.equal(createCdyneProvider({ kind: 'cdyne', licenseKey: LICENSE }, LOCAL).channels.join(), 'sms');
});
