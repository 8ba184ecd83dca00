import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SECRET_FIELDS, createProvider, mergeProviderSecrets, parseProviderConfig, redactProviderConfig } from '../../src/delivery/index.js';
import type { ProviderConfig } from '../../src/delivery/index.js';

const ACCOUNT = `AC${'a1'.repeat(16)}`;
const twilio = { kind: 'twilio', accountSid: ACCOUNT, authToken: 'abcdef0123456789token', from: '+15005550006' } as const;
const smtp = { kind: 'smtp', host: 'smtp.acme.test', port: 587, tlsMode: 'starttls', user: 'mailer', password: 'relay-password-wxyz', from: 'Acme <no-reply@acme.test>' } as const;

test('parseProviderConfig accepts each kind, dropping blank optional fields and coercing form values', () => {
  assert.deepEqual(parseProviderConfig({ ...twilio, baseUrl: '', messagingServiceSid: '' }), twilio);
  assert.deepEqual(parseProviderConfig({ ...smtp, port: '587', allowInvalidCertificates: 'false' }), { ...smtp, allowInvalidCertificates: false });
  assert.deepEqual(parseProviderConfig({ kind: 'webhook', url: ' https://hooks.acme.test/x ', secret: 'webhook secret 0123456', channels: 'sms' }), {
    kind: 'webhook',
    url: 'https://hooks.acme.test/x',
    secret: 'webhook secret 0123456',
    channels: ['sms'],
  });
  assert.deepEqual(parseProviderConfig({ kind: 'cdyne', licenseKey: 'f01d89fd-5155-5455-5585-e84ab8de8591' }), {
    kind: 'cdyne',
    licenseKey: 'f01d89fd-5155-5455-5585-e84ab8de8591',
  });
  assert.deepEqual(parseProviderConfig({ kind: 'console' }), { kind: 'console' });
  assert.deepEqual(parseProviderConfig({ kind: 'file', fileName: 'codes.jsonl' }), { kind: 'file', fileName: 'codes.jsonl' });
});

test('parseProviderConfig refuses bad shapes with provider_config_invalid and a message naming the field', () => {
  const cases: Array<[unknown, RegExp]> = [
    [null, /object/],
    [{ kind: 'carrier-pigeon' }, /kind must be one of/],
    [{ ...twilio, region: 'us1' }, /Unknown field "region"/],
    [{ ...twilio, accountSid: '' }, /accountSid is required/],
    [{ ...twilio, timeoutMs: 'soon' }, /timeoutMs must be a number/],
    [{ ...smtp, port: 0 }, /port/],
    [{ ...smtp, allowInvalidCertificates: 'maybe' }, /true or false/],
    [{ kind: 'webhook', url: 'https://h.test', secret: 'webhook secret 0123456', channels: ['fax'] }, /channels/],
    [{ kind: 'webhook', url: 'http://h.test', secret: 'webhook secret 0123456' }, /https/],
    [{ kind: 'file', fileName: '../../etc/cron.d/x.jsonl' }, /plain file name/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => parseProviderConfig(input), { code: 'provider_config_invalid', kind: 'invalid_input', message }, JSON.stringify(input));
  }
});

test('redactProviderConfig shows secrets only by their last four characters', () => {
  assert.deepEqual(SECRET_FIELDS, {
    smtp: ['password'],
    twilio: ['authToken', 'apiKeySecret'],
    cdyne: ['licenseKey'],
    webhook: ['secret'],
    console: [],
    file: [],
  });
  assert.deepEqual(redactProviderConfig(twilio), { ...twilio, authToken: '••••oken' });
  assert.deepEqual(redactProviderConfig(smtp), { ...smtp, password: '••••wxyz' });
  assert.deepEqual(redactProviderConfig({ kind: 'webhook', url: 'https://h.test', secret: 'tiny secret' }), {
    kind: 'webhook',
    url: 'https://h.test',
    secret: '••••',
  });
  assert.deepEqual(redactProviderConfig({ ...smtp, password: 'tiny' }).password, '••••');
  const redacted = JSON.stringify(redactProviderConfig(twilio));
  assert.ok(!redacted.includes('abcdef0123456789'), redacted);
});

test('mergeProviderSecrets keeps a blank or echoed secret only while it still goes to the same place', () => {
  const previous: ProviderConfig = smtp;
  const shown = redactProviderConfig(smtp);
  assert.equal(mergeProviderSecrets(previous, { ...shown }).password, smtp.password);
  assert.equal(mergeProviderSecrets(previous, { ...shown, password: '', port: '587' }).password, smtp.password);
  assert.equal(mergeProviderSecrets(previous, { ...shown, password: 'a new password' }).password, 'a new password');
  // Pointing the stored password at another host requires typing it again.
  const moved = mergeProviderSecrets(previous, { ...shown, host: 'smtp.attacker.test' });
  assert.equal(moved.password, undefined);
  assert.throws(() => parseProviderConfig(moved), { code: 'provider_config_invalid' });
  // Another kind shares nothing.
  assert.deepEqual(mergeProviderSecrets(previous, { kind: 'console' }), { kind: 'console' });
  assert.deepEqual(parseProviderConfig(mergeProviderSecrets(twilio, { ...redactProviderConfig(twilio) })), twilio);
});

test('createProvider builds every kind; the file provider needs the data directory', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-delivery-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const kinds: ProviderConfig[] = [
    smtp,
    twilio,
    { kind: 'cdyne', licenseKey: 'f01d89fd-5155-5455-5585-e84ab8de8591' },
    { kind: 'webhook', url: 'https://hooks.acme.test/x', secret: 'webhook secret 0123456' },
    { kind: 'console' },
    { kind: 'file' },
  ];
  const made = kinds.map((c) => createProvider(c, { dataDir, log: () => undefined }));
  assert.deepEqual(
    made.map((p) => [p.kind, p.channels.join('+')]),
    [
      ['smtp', 'email'],
      ['twilio', 'sms'],
      ['cdyne', 'sms'],
      ['webhook', 'email+sms'],
      ['console', 'email+sms'],
      ['file', 'email+sms'],
    ],
  );
  assert.throws(() => createProvider({ kind: 'file' }), { code: 'provider_config_invalid', message: /data directory/ });
  assert.throws(() => createProvider({ kind: 'nope' } as unknown as ProviderConfig), { code: 'provider_config_invalid' });
});
