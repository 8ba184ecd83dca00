import { test } from 'node:test';
import assert from 'node:assert/strict';
import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { createCdyneProvider } from '../../src/delivery/cdyne.js';
import type { ProviderConfig } from '../../src/delivery/config.js';
import { checkProviderAddresses } from '../../src/delivery/config.js';
import { hostAllowedForSaving, isAddressAllowed, isPublicAddress } from '../../src/delivery/network.js';
import { createSmtpProvider } from '../../src/delivery/smtp.js';
import { createTwilioProvider } from '../../src/delivery/twilio.js';
import { createWebhookProvider } from '../../src/delivery/webhook.js';
import type { DeliveryProvider } from '../../src/delivery/types.js';
import { rejectsDelivery } from './assert.js';
import { startHttpPeer, startSmtpPeer } from './peers.js';
import type { Handler } from './peers.js';

const SECRET = 'shared webhook secret 0123456789';
const sms = { channel: 'sms' as const, to: '+14155552671', text: 'Acme: your sign-in code is 123456.' };
const email = { channel: 'email' as const, to: 'alice@example.com', subject: 'Code', text: 'Acme: your sign-in code is 123456.' };
const TWILIO = { accountSid: `AC${'a1'.repeat(16)}`, authToken: 'twilio auth token 0123456789abcdef', from: '+15005550006' };
const LICENSE = 'f01d89fd-5155-5455-5585-e84ab8de8591';

/** Accepts whatever it is sent, in the answer each provider expects (Cdyne wants a message status). */
const accepting: Handler = (req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(req.path.startsWith('/Messaging.svc/') ? [{ MessageID: 'm-1', MessageStatus: 'Ready' }] : {}));
};

const NOT_PUBLIC = [
  '127.0.0.1',
  '127.1.2.3',
  '0.0.0.0',
  '10.0.0.1',
  '10.255.255.255',
  '172.16.0.1',
  '172.31.255.254',
  '192.168.1.1',
  '169.254.169.254',
  '100.64.0.1',
  '100.127.255.255',
  '192.0.0.8',
  '192.0.2.1',
  '198.18.0.1',
  '198.51.100.7',
  '203.0.113.9',
  '224.0.0.251',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '::',
  '::1',
  '[::1]',
  '0:0:0:0:0:0:0:1',
  '::ffff:127.0.0.1',
  '[::ffff:127.0.0.1]',
  '::ffff:7f00:1',
  '::ffff:10.1.2.3',
  '::ffff:169.254.169.254',
  '64:ff9b::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '::127.0.0.1',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'fe80::1%1',
  'fec0::1',
  'ff02::1',
  'ff05::2',
  '100::1',
  '2001::1',
  '2001:db8::1',
  '2002:7f00:1::1',
  '3fff::1',
  'not an address',
  'example.com',
];
const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '100.128.0.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'];

test('address classes: loopback, private, link-local, unique-local, CGNAT, multicast, unspecified and reserved are not public (IPv4, IPv6, mapped)', () => {
  for (const address of NOT_PUBLIC) assert.equal(isPublicAddress(address), false, address);
  for (const address of PUBLIC) assert.equal(isPublicAddress(address), true, address);
  for (const address of NOT_PUBLIC.slice(0, 5)) assert.equal(isAddressAllowed(address, true), true, `${address} when the operator allows it`);
});

test('save-time host check: every spelling of an internal IP literal and localhost names are refused; other names wait for the connection', () => {
  const refused = ['127.0.0.1', '2130706433', '0x7f.0.0.1', '0177.0.0.1', '127.1', '[::1]', '::1', '[::ffff:127.0.0.1]', '10.1.2.3', '169.254.169.254', '0.0.0.0', 'localhost', 'LOCALHOST', 'localhost.', 'api.localhost', '[fd00::1]'];
  for (const host of refused) {
    assert.equal(hostAllowedForSaving(host, false), false, host);
    assert.equal(hostAllowedForSaving(host, true), true, `${host} when the operator allows it`);
  }
  for (const host of ['smtp.example.com', 'api.twilio.com', '8.8.8.8', '[2606:4700:4700::1111]']) assert.equal(hostAllowedForSaving(host, false), true, host);
});

test('checkProviderAddresses looks at the SMTP host, the webhook URL and the Twilio/Cdyne base URLs', () => {
  const configs: ProviderConfig[] = [
    { kind: 'smtp', host: '127.0.0.1', port: 25, tlsMode: 'none', from: 'a@acme.test' },
    { kind: 'smtp', host: '::1', tlsMode: 'starttls', from: 'a@acme.test' },
    { kind: 'webhook', url: 'http://localhost:8080/hook', secret: SECRET },
    { kind: 'webhook', url: 'https://169.254.169.254/latest/meta-data', secret: SECRET },
    { kind: 'twilio', ...TWILIO, baseUrl: 'https://10.0.0.5' },
    { kind: 'twilio', ...TWILIO, baseUrl: 'http://[::ffff:127.0.0.1]:9000' },
    { kind: 'cdyne', licenseKey: LICENSE, baseUrl: 'https://192.168.0.10' },
  ];
  for (const config of configs) {
    assert.throws(() => checkProviderAddresses(config, false), { code: 'provider_address_not_allowed', kind: 'invalid_input', message: /internal address/ }, JSON.stringify(config));
    checkProviderAddresses(config, true);
  }
  for (const config of [
    { kind: 'smtp', host: 'smtp.example.com', tlsMode: 'starttls', from: 'a@acme.test' },
    { kind: 'webhook', url: 'https://hooks.example.com/x', secret: SECRET },
    { kind: 'twilio', ...TWILIO },
    { kind: 'cdyne', licenseKey: LICENSE },
    { kind: 'console' },
    { kind: 'file' },
  ] as ProviderConfig[]) {
    checkProviderAddresses(config, false);
  }
});

/** Every network provider at `host` (a peer of the right kind listens on `httpPort` or `smtpPort`), made when used. */
function providers(host: string, httpPort: number, smtpPort: number, allowPrivateAddresses: boolean): Array<[string, () => DeliveryProvider, typeof sms | typeof email]> {
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
  const network = { allowPrivateAddresses };
  return [
    ['webhook', () => createWebhookProvider({ kind: 'webhook', url: `${base}/hook`, secret: SECRET }, undefined, network), sms],
    ['twilio', () => createTwilioProvider({ kind: 'twilio', ...TWILIO, baseUrl: base, timeoutMs: 2000 }, network), sms],
    ['cdyne', () => createCdyneProvider({ kind: 'cdyne', licenseKey: LICENSE, baseUrl: base, timeoutMs: 2000 }, network), sms],
    ['smtp', () => createSmtpProvider({ kind: 'smtp', host, port: smtpPort, tlsMode: 'none', from: 'a@acme.test', connectionTimeoutMs: 2000 }, network), email],
    ['smtp (implicit TLS)', () => createSmtpProvider({ kind: 'smtp', host, port: smtpPort, tlsMode: 'tls', from: 'a@acme.test', connectionTimeoutMs: 2000 }, network), email],
  ];
}

test('at send time, by default: a provider at 127.0.0.1, or at a name that resolves to loopback (localhost), never connects', async (t) => {
  const http = await startHttpPeer(accepting);
  const smtp = await startSmtpPeer();
  t.after(() => Promise.all([http.close(), smtp.close()]));
  const port = Number(new URL(http.url).port);
  for (const host of ['127.0.0.1', 'localhost']) {
    for (const [name, provider, message] of providers(host, port, smtp.port, false)) {
      const error = await rejectsDelivery(provider().send(message), { transient: false, message: /address providers may not connect to/ });
      assert.equal(error.details.reason, 'address_not_allowed', `${name} at ${host}`);
    }
  }
  assert.equal(http.requests.length, 0, 'nothing reached the HTTP peer');
  assert.equal(smtp.received.length, 0, 'nothing reached the SMTP peer');
});

test('the check is made on what the name resolves to when connecting: a name resolving to an internal address (alone or among public ones) is refused', async (t) => {
  const http = await startHttpPeer(accepting);
  const smtp = await startSmtpPeer();
  t.after(() => Promise.all([http.close(), smtp.close()]));
  const port = Number(new URL(http.url).port);
  // DNS answers the test controls. The rebinding case: a name that looked public when it was
  // saved answers with an internal address now. (Plain http is configurable only for localhost,
  // so the HTTP providers get a doctored localhost answer: a public address first, then loopback.)
  const answers: Record<string, LookupAddress[]> = {
    'rebound.example.com': [{ address: '127.0.0.1', family: 4 }],
    'mixed.example.com': [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ],
    'mapped.example.com': [{ address: '::ffff:127.0.0.1', family: 6 }],
    localhost: [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ],
  };
  const real = dns.lookup;
  const lookups: string[] = [];
  t.mock.method(dns, 'lookup', ((hostname: string, options: unknown, callback: (...args: unknown[]) => void) => {
    const answer = answers[hostname];
    if (!answer) return (real as (...args: unknown[]) => void)(hostname, options, callback);
    lookups.push(hostname);
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
    setImmediate(() => (all ? callback(null, answer) : callback(null, answer[0]?.address, answer[0]?.family)));
  }) as typeof dns.lookup);

  const refused = [
    ...providers('localhost', port, smtp.port, false),
    ...['rebound.example.com', 'mixed.example.com', 'mapped.example.com'].flatMap((host) => providers(host, port, smtp.port, false).filter(([name]) => name.startsWith('smtp'))),
  ];
  for (const [name, provider, message] of refused) {
    const error = await rejectsDelivery(provider().send(message), { transient: false });
    assert.equal(error.details.reason, 'address_not_allowed', name);
  }
  assert.equal(lookups.length, refused.length, 'each connection asked DNS itself');
  assert.equal(http.requests.length, 0);
  assert.equal(smtp.received.length, 0);

  // Allowed by the operator, the socket connects to exactly the address the lookup handed over.
  answers.localhost = [{ address: '127.0.0.1', family: 4 }];
  const allowed = [...providers('localhost', port, smtp.port, true).filter(([name]) => !name.startsWith('smtp')), ...providers('rebound.example.com', port, smtp.port, true).filter(([name]) => name === 'smtp')];
  for (const [, provider, message] of allowed) await provider().send(message);
  assert.equal(http.requests.length, 3, 'webhook, Twilio and Cdyne reached the peer through the checked lookup');
  assert.equal(smtp.received.length, 1, 'and so did SMTP, for a name only the doctored DNS knows');
});
