import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createWebhookProvider, signWebhookBody, verifyWebhookSignature } from '../../src/delivery/webhook.js';
import type { WebhookPayload } from '../../src/delivery/webhook.js';
import { rejectsDelivery } from './assert.js';
import { json, startHttpPeer } from './peers.js';
import type { Handler } from './peers.js';

/** The peers listen on 127.0.0.1, which providers reach only when internal addresses are allowed. */
const LOCAL = { allowPrivateAddresses: true };

const SECRET = 'shared webhook secret 0123456789';
const NOW_MS = Date.UTC(2025, 0, 2, 3, 4, 5);
const NOW_S = NOW_MS / 1000;
const message = { channel: 'sms' as const, to: '+14155552671', text: 'Acme: your sign-in code is 123456.' };

/** A receiver doing what the docs tell receivers to do: verify the raw body, then parse it. */
const verifyingReceiver: Handler = (req, res) => {
  const ok = verifyWebhookSignature(SECRET, String(req.headers['x-twofold-signature'] ?? ''), req.body, NOW_S);
  res.writeHead(ok ? 204 : 401);
  res.end();
};

async function deliverOnce(): Promise<{ header: string; body: string; id: string; payload: WebhookPayload; providerMessageId?: string }> {
  const peer = await startHttpPeer(verifyingReceiver);
  try {
    const result = await createWebhookProvider({ kind: 'webhook', url: `${peer.url}/hooks/twofold`, secret: SECRET }, () => NOW_MS, LOCAL).send(message);
    const request = peer.requests[0]!;
    assert.equal(request.path, '/hooks/twofold');
    assert.equal(request.headers['content-type'], 'application/json');
    return {
      header: String(request.headers['x-twofold-signature']),
      body: request.body,
      id: String(request.headers['x-twofold-delivery-id']),
      payload: JSON.parse(request.body) as WebhookPayload,
      ...result,
    };
  } finally {
    await peer.close();
  }
}

test('the receiver verifies the signature and gets the message as JSON', async () => {
  const { header, id, payload, providerMessageId } = await deliverOnce(); // the receiver answered 204, else send() would throw
  assert.match(header, /^t=\d+,v1=[0-9a-f]{64}$/);
  assert.equal(header.split(',')[0], `t=${NOW_S}`);
  assert.deepEqual(payload, {
    id,
    channel: 'sms',
    to: '+14155552671',
    subject: null,
    text: message.text,
    sentAt: '2025-01-02T03:04:05.000Z',
  });
  assert.match(id, /^[0-9a-f-]{36}$/);
  assert.equal(providerMessageId, id);
});

test('a tampered body, another secret or a mangled header fail verification', async () => {
  const { header, body } = await deliverOnce();
  assert.equal(verifyWebhookSignature(SECRET, header, body, NOW_S), true);
  assert.equal(verifyWebhookSignature(SECRET, header, body.replace('123456', '654321'), NOW_S), false);
  assert.equal(verifyWebhookSignature(SECRET, header, `${body} `, NOW_S), false);
  assert.equal(verifyWebhookSignature('another secret of enough length', header, body, NOW_S), false);
  const flipped = header.replace(/v1=(.)/, (_m, c: string) => `v1=${c === '0' ? '1' : '0'}`);
  assert.notEqual(flipped, header);
  assert.equal(verifyWebhookSignature(SECRET, flipped, body, NOW_S), false);
  assert.equal(verifyWebhookSignature(SECRET, header.replace(`t=${NOW_S}`, `t=${NOW_S + 1}`), body, NOW_S), false);
  assert.equal(verifyWebhookSignature(SECRET, '', body, NOW_S), false);
  assert.equal(verifyWebhookSignature(SECRET, undefined, body, NOW_S), false);
  assert.equal(verifyWebhookSignature(SECRET, `t=${NOW_S}`, body, NOW_S), false);
  assert.equal(verifyWebhookSignature(SECRET, header, Buffer.from(body, 'utf8'), NOW_S), true);
});

test('an old (or far future) timestamp is refused; the tolerance is 300 s by default', async () => {
  const { header, body } = await deliverOnce();
  assert.equal(verifyWebhookSignature(SECRET, header, body, NOW_S + 300), true);
  assert.equal(verifyWebhookSignature(SECRET, header, body, NOW_S + 301), false);
  assert.equal(verifyWebhookSignature(SECRET, header, body, NOW_S - 301), false);
  assert.equal(verifyWebhookSignature(SECRET, header, body, NOW_S + 3_600, 7_200), true);
});

test('several v1 signatures (secret rotation): one match suffices', () => {
  const body = '{"id":"x"}';
  const current = signWebhookBody(SECRET, body, NOW_S);
  const old = signWebhookBody('the previous secret, rotated out', body, NOW_S);
  const both = `${current},${old.split(',')[1]}`;
  assert.equal(verifyWebhookSignature(SECRET, both, body, NOW_S), true);
  assert.equal(verifyWebhookSignature('the previous secret, rotated out', both, body, NOW_S), true);
  assert.equal(verifyWebhookSignature('a third secret, never used here', both, body, NOW_S), false);
});

test('a receiver refusing the signature (401) is permanent; a 500 is transient', async (t) => {
  const refusing = await startHttpPeer(verifyingReceiver);
  const broken = await startHttpPeer(json(500, {}));
  t.after(() => Promise.all([refusing.close(), broken.close()]));
  const wrongSecret = createWebhookProvider({ kind: 'webhook', url: refusing.url, secret: 'not the secret the receiver has' }, () => NOW_MS, LOCAL);
  await rejectsDelivery(wrongSecret.send(message), { transient: false, status: 401 });
  await rejectsDelivery(createWebhookProvider({ kind: 'webhook', url: broken.url, secret: SECRET }, undefined, LOCAL).send(message), { transient: true, status: 500 });
});

test('a redirect is not followed (the signed body stays where it was sent)', async (t) => {
  const target = await startHttpPeer(json(200, {}));
  const redirecting = await startHttpPeer((_req, res) => {
    res.writeHead(307, { location: `${target.url}/elsewhere` });
    res.end();
  });
  t.after(() => Promise.all([target.close(), redirecting.close()]));
  await rejectsDelivery(createWebhookProvider({ kind: 'webhook', url: redirecting.url, secret: SECRET }, undefined, LOCAL).send(message), {
    transient: false,
    status: 307,
  });
  assert.equal(target.requests.length, 0);
});

test('configuration: https (or loopback http), a long enough secret, known channels', () => {
  const make = (url: string, secret = SECRET, channels?: Array<'email' | 'sms'>) =>
    createWebhookProvider({ kind: 'webhook', url, secret, ...(channels ? { channels } : {}) }, undefined, LOCAL);
  assert.equal(make('https://hooks.example.com/twofold').kind, 'webhook');
  assert.equal(make('http://localhost:8080/x').kind, 'webhook');
  assert.equal(make('http://[::1]:8080/x').kind, 'webhook');
  assert.throws(() => make('http://hooks.example.com/twofold'), { code: 'provider_config_invalid' });
  assert.throws(() => make('http://10.0.0.1/twofold'), { code: 'provider_config_invalid' });
  assert.throws(() => make('not a url'), { code: 'provider_config_invalid' });
  assert.throws(() => make('https://hooks.example.com/x', 'short'), { code: 'provider_config_invalid' });
  assert.throws(() => make('https://hooks.example.com/x', SECRET, []), { code: 'provider_config_invalid' });
  assert.deepEqual(make('https://hooks.example.com/x', SECRET, ['email']).channels, ['email']);
});

test('a webhook limited to email refuses text messages', async () => {
  const provider = createWebhookProvider({ kind: 'webhook', url: 'https://hooks.example.com/x', secret: SECRET, channels: ['email'] }, undefined, LOCAL);
  await rejectsDelivery(provider.send(message), { transient: false, message: /cannot send text messages/ });
});
