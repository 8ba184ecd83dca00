import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSmtpProvider } from '../../src/delivery/smtp.js';
import type { SmtpProviderConfig } from '../../src/delivery/smtp.js';
import { rejectsDelivery } from './assert.js';
import { closedPort, parseMail, startSilentServer, startSmtpPeer, timed } from './peers.js';

/** The peers listen on 127.0.0.1, which providers reach only when internal addresses are allowed. */
const LOCAL = { allowPrivateAddresses: true };

const credentials = { user: 'mailer', pass: 'relay password 1' };
const message = {
  channel: 'email' as const,
  to: 'alice@example.com',
  subject: 'Acme sign-in code: 123456',
  text: 'Acme: your sign-in code is 123456. It expires in 10 minutes.',
  html: '<p>Your code is <b>123456</b></p>',
};

function config(port: number, overrides: Partial<SmtpProviderConfig> = {}): SmtpProviderConfig {
  return {
    kind: 'smtp',
    host: '127.0.0.1',
    port,
    tlsMode: 'none',
    user: credentials.user,
    password: credentials.pass,
    from: 'Acme Security <no-reply@acme.test>',
    connectionTimeoutMs: 2_000,
    socketTimeoutMs: 2_000,
    ...overrides,
  };
}

test('delivers through a real SMTP server with AUTH: envelope, headers, text and HTML', async (t) => {
  const server = await startSmtpPeer({ credentials });
  t.after(() => server.close());

  const result = await createSmtpProvider(config(server.port), LOCAL).send(message);

  assert.equal(server.received.length, 1);
  const mail = server.received[0]!;
  assert.equal(mail.user, 'mailer');
  assert.equal(mail.mailFrom, 'no-reply@acme.test');
  assert.deepEqual(mail.rcptTo, ['alice@example.com']);
  const parsed = parseMail(mail.raw);
  assert.equal(parsed.headers.get('subject'), 'Acme sign-in code: 123456');
  assert.equal(parsed.headers.get('from'), 'Acme Security <no-reply@acme.test>');
  assert.equal(parsed.headers.get('to'), 'alice@example.com');
  assert.equal(parsed.headers.get('auto-submitted'), 'auto-generated');
  assert.equal(parsed.text, message.text);
  assert.equal(parsed.html, message.html);
  assert.equal(result.providerMessageId, parsed.headers.get('message-id'));
});

test('a relay without login works when user and password are left out', async (t) => {
  const server = await startSmtpPeer();
  t.after(() => server.close());
  await createSmtpProvider(config(server.port, { user: undefined, password: undefined }), LOCAL).send(message);
  assert.equal(server.received.length, 1);
  assert.equal(server.received[0]!.user, undefined);
});

test('a wrong password is a permanent failure carrying the 535 reply', async (t) => {
  const server = await startSmtpPeer({ credentials });
  t.after(() => server.close());
  await rejectsDelivery(createSmtpProvider(config(server.port, { password: 'wrong password' }), LOCAL).send(message), {
    transient: false,
    status: 535,
    message: /refused the login/,
  });
  assert.equal(server.received.length, 0);
});

test('recipient refused: 550 is permanent, 451 is transient', async (t) => {
  const hard = await startSmtpPeer({ credentials, rejectRecipient: 550 });
  const soft = await startSmtpPeer({ credentials, rejectRecipient: 451 });
  t.after(() => Promise.all([hard.close(), soft.close()]));
  await rejectsDelivery(createSmtpProvider(config(hard.port), LOCAL).send(message), { transient: false, status: 550 });
  await rejectsDelivery(createSmtpProvider(config(soft.port), LOCAL).send(message), { transient: true, status: 451 });
});

test('nothing listening: transient (connection refused)', async () => {
  const port = await closedPort();
  await rejectsDelivery(createSmtpProvider(config(port), LOCAL).send(message), { transient: true, message: /could not be reached \(ECONNREFUSED\)/ });
});

test('a server that never greets: transient, within the connection timeout', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const provider = createSmtpProvider(config(silent.port, { connectionTimeoutMs: 300 }), LOCAL);
  const { ms, result } = await timed(() => provider.send(message));
  assert.equal(result.status, 'rejected');
  await rejectsDelivery(Promise.reject((result as PromiseRejectedResult).reason), { transient: true });
  assert.ok(ms < 2_000, `took ${ms} ms`);
});

test('implicit TLS: a self-signed certificate is refused (permanent) unless explicitly allowed', async (t) => {
  const server = await startSmtpPeer({ credentials, server: { secure: true } });
  t.after(() => server.close());
  await rejectsDelivery(createSmtpProvider(config(server.port, { tlsMode: 'tls' }), LOCAL).send(message), {
    transient: false,
    message: /certificate/,
  });
  await createSmtpProvider(config(server.port, { tlsMode: 'tls', allowInvalidCertificates: true }), LOCAL).send(message);
  assert.equal(server.received.length, 1);
});

test('starttls mode upgrades the connection, and refuses a server that does not offer STARTTLS', async (t) => {
  const withTls = await startSmtpPeer({ credentials, server: { disabledCommands: [] } });
  const plainOnly = await startSmtpPeer({ credentials });
  t.after(() => Promise.all([withTls.close(), plainOnly.close()]));

  await createSmtpProvider(config(withTls.port, { tlsMode: 'starttls', allowInvalidCertificates: true }), LOCAL).send(message);
  assert.equal(withTls.received.length, 1);

  await rejectsDelivery(createSmtpProvider(config(plainOnly.port, { tlsMode: 'starttls' }), LOCAL).send(message), { transient: false });
  assert.equal(plainOnly.received.length, 0);
});

test('refuses text messages and malformed addresses before connecting', async () => {
  const provider = createSmtpProvider(config(await closedPort()), LOCAL);
  await rejectsDelivery(provider.send({ channel: 'sms', to: '+14155552671', text: 'hi' }), { transient: false, message: /cannot send text/ });
  await rejectsDelivery(provider.send({ ...message, to: 'alice@example.com\r\nBcc: eve@evil.test' }), { transient: false, message: /not a valid email/ });
});

test('configuration is checked when the provider is made', () => {
  assert.throws(() => createSmtpProvider(config(25, { host: 'bad host!' }), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createSmtpProvider(config(70000), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createSmtpProvider(config(25, { from: 'Acme <not an address>' }), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createSmtpProvider(config(25, { from: 'a@b.test\r\nBcc: x@y.test' }), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createSmtpProvider(config(25, { password: undefined }), LOCAL), { code: 'provider_config_invalid' });
  assert.throws(() => createSmtpProvider(config(25, { tlsMode: 'ssl' as never }), LOCAL), { code: 'provider_config_invalid' });
  // A login in clear text only to a relay on this host.
  assert.throws(() => createSmtpProvider(config(25, { host: 'smtp.example.com' }), LOCAL), { code: 'provider_config_invalid', message: /only over TLS/ });
  assert.equal(createSmtpProvider(config(25, { host: 'smtp.example.com', tlsMode: 'starttls' }), LOCAL).kind, 'smtp');
  assert.equal(createSmtpProvider(config(25, { host: 'smtp.example.com', user: undefined, password: undefined }), LOCAL).kind, 'smtp');
});
