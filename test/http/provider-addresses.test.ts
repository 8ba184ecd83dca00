/**
 * Delivery providers cannot be pointed at the server's own ports or its internal network: saving
 * an internal address is refused, a name that resolves to one is refused when connecting, and a
 * failed test message says the same thing whatever the far end did (refused, reset, HTTP 500, an
 * SMTP reply), so "send test message" is no port scanner. Internal addresses are allowed only when
 * the operator sets TWOFOLD_DELIVERY_ALLOW_PRIVATE=true (the test helper does, for its 127.0.0.1
 * peers; these tests turn it off where they need the production rule).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { HttpPeer } from '../delivery/peers.js';
import { closedPort, json, startHttpPeer } from '../delivery/peers.js';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { SYSTEM, TWILIO_SID, TWILIO_TOKEN, auditEvents, bindChannel, deliveryWorld, newMember, withSmtp } from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const STRICT = { TWOFOLD_DELIVERY_ALLOW_PRIVATE: 'false' };
const SECRET = 'whsec-0123456789abcdef-shared';
const LICENSE = 'f01d89fd-5155-5455-5585-e84ab8de8591';
const GENERIC = { code: 'delivery_failed', message: "The test message could not be delivered. Check the provider's settings; the server log has the details." };

const INTERNAL_URLS = [
  'http://127.0.0.1:8080/hook',
  'http://[::1]:8080/hook',
  'https://10.0.0.1/hook',
  'https://169.254.169.254/latest/meta-data',
  'https://[::ffff:127.0.0.1]:8080/hook',
  'https://[::ffff:169.254.169.254]/hook',
  'http://localhost:8080/hook',
  'https://2130706433/hook',
];
const INTERNAL_HOSTS = ['127.0.0.1', '::1', '[::1]', '10.1.2.3', '169.254.169.254', '::ffff:127.0.0.1', 'localhost', '192.168.0.25', '0.0.0.0'];

function smtpAt(host: string, port = 2525): Record<string, unknown> {
  return { kind: 'smtp', host, port, tlsMode: 'none', from: 'Acme Widgets <security@acme.test>' };
}

async function providerRows(server: TestServer) {
  return server.runtime.database.db.selectFrom('delivery_providers').selectAll().execute();
}

test('without TWOFOLD_DELIVERY_ALLOW_PRIVATE, saving a webhook, SMTP, Twilio or Cdyne provider at an internal address is a 400 provider_address_not_allowed and changes nothing', async (t) => {
  const world = await deliveryWorld(t, { env: STRICT });
  const configs: Array<Record<string, unknown>> = [
    ...INTERNAL_URLS.map((url) => ({ kind: 'webhook', url, secret: SECRET })),
    ...INTERNAL_HOSTS.map((host) => smtpAt(host)),
    ...INTERNAL_URLS.map((baseUrl) => ({ kind: 'twilio', accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, from: '+15005550006', baseUrl })),
    { kind: 'cdyne', licenseKey: LICENSE, baseUrl: 'http://127.0.0.1:9000' },
    { kind: 'cdyne', licenseKey: LICENSE, baseUrl: 'https://169.254.169.254' },
  ];
  for (const config of configs) {
    const res = await world.admin.post(`/api/v1/organisations/${world.orgId}/providers`, { name: 'Internal', config });
    assert.equal(res.status, 400, `${JSON.stringify(config)}: ${res.text}`);
    assert.equal(res.json?.error?.code, 'provider_address_not_allowed', JSON.stringify(config));
    assert.match(res.json?.error?.message ?? '', /internal address/);
  }
  assert.deepEqual(await providerRows(world.server), []);
  assert.deepEqual(await auditEvents(world.server, 'provider.created'), []);

  // Public places are fine; moving one to an internal address afterwards is refused just the same.
  const created = await world.admin.post(`/api/v1/organisations/${world.orgId}/providers`, { name: 'Hooks', config: { kind: 'webhook', url: 'https://hooks.example.com/twofold', secret: SECRET } });
  assert.equal(created.status, 201, created.text);
  const relay = await world.admin.post(`/api/v1/organisations/${world.orgId}/providers`, { name: 'Relay', config: { ...smtpAt('smtp.example.com'), tlsMode: 'starttls' } });
  assert.equal(relay.status, 201, relay.text);
  const before = await providerRows(world.server);
  for (const url of INTERNAL_URLS) {
    const moved = await world.admin.request('PATCH', `/api/v1/providers/${created.json?.id as string}`, { config: { kind: 'webhook', url, secret: SECRET } });
    assert.equal(moved.status, 400, moved.text);
    assert.equal(moved.json?.error?.code, 'provider_address_not_allowed');
  }
  for (const host of INTERNAL_HOSTS) {
    const moved = await world.admin.request('PATCH', `/api/v1/providers/${relay.json?.id as string}`, { config: smtpAt(host) });
    assert.equal(moved.status, 400, moved.text);
    assert.equal(moved.json?.error?.code, 'provider_address_not_allowed');
  }
  assert.deepEqual(await providerRows(world.server), before);
  assert.deepEqual(await auditEvents(world.server, 'provider.changed'), []);

  // The Services Manager form says why.
  const newForm = `/admin/services/providers/new?kind=smtp&org=${world.orgId}`;
  const { _csrf } = await hiddenFields(world.admin, newForm);
  assert.ok(_csrf);
  const page = await postForm(world.admin, '/admin/services/providers', { _csrf, org: world.orgId, kind: 'smtp', name: 'Loopback relay', host: '127.0.0.1', port: '25', tlsMode: 'none', from: 'security@acme.test' });
  assert.equal(page.status, 400, page.text);
  assert.match(page.text, /host points at 127\.0\.0\.1, a loopback, private or otherwise internal address/);
  assert.equal((await providerRows(world.server)).length, 2);
});

/** Two nodes on one database: one allows internal addresses (where the providers were saved), the other does not. */
async function twoPolicies(t: { after(fn: () => Promise<void>): void }) {
  const clock = new TestClock();
  const started: TestServer[] = [];
  t.after(async () => {
    for (const server of started.reverse()) await server.close();
  });
  const lenient = await startTestServer({ clock, env: { TWOFOLD_COMPANY_NAME: 'Acme Widgets' } });
  started.push(lenient);
  const strict = await startTestServer({ clock, location: lenient.location, env: { TWOFOLD_COMPANY_NAME: 'Acme Widgets', ...STRICT } });
  started.push(strict);
  const org = await lenient.services.accounts.createOrganisation('Acme', null, SYSTEM);
  const adminEmail = `admin-${randomUUID().slice(0, 8)}@example.com`;
  const admin = await lenient.services.accounts.createUser({ orgId: org.id, email: adminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const world: DeliveryWorld = { clock, server: lenient, orgId: org.id, adminId: admin.id, admin: await signedInClient(lenient, adminEmail) };
  return { world, strict, strictAdmin: await signedInClient(strict, adminEmail) };
}

test('a provider whose host name resolves to loopback (localhost) is refused when connecting: no test message, no code, nothing reaches the port', async (t) => {
  const { world, strict, strictAdmin } = await twoPolicies(t);
  const logged: Array<Record<string, unknown>> = [];
  strict.services.providers.log = (msg, fields) => logged.push({ msg, ...fields });
  const receiver = await startHttpPeer(json(204, {}));
  t.after(() => receiver.close());
  const smtp = await withSmtp(t);
  const port = new URL(receiver.url).port;
  // Saved where internal addresses were allowed (or by name before it resolved to loopback).
  const webhookId = await bindChannel(world, 'sms', { kind: 'webhook', url: `http://localhost:${port}/hook`, secret: SECRET, channels: ['sms'] });
  const smtpId = await bindChannel(world, 'email', smtpAt('localhost', smtp.port));

  const webhookTest = await strictAdmin.post(`/api/v1/providers/${webhookId}/test`, { channel: 'sms', to: '+14155552671' });
  assert.equal(webhookTest.status, 503, webhookTest.text);
  assert.deepEqual(webhookTest.json, { error: GENERIC });
  assert.match(JSON.stringify(logged), /localhost \((127\.0\.0\.1|::1)\) is not a public address/, 'the server log says why');
  const smtpTest = await strictAdmin.post(`/api/v1/providers/${smtpId}/test`, { channel: 'email', to: 'ops@acme.test' });
  assert.equal(smtpTest.status, 503, smtpTest.text);
  assert.deepEqual(smtpTest.json, { error: GENERIC });

  // A member's codes go through the same rule.
  const member = await newMember(world);
  const onStrict = await signedInClient(strict, member.email);
  const sms = await onStrict.post('/api/v1/factors/sms', { country: 'US', number: '415 555 2671' });
  assert.equal(sms.status, 503, sms.text);
  assert.equal(sms.json?.error?.code, 'delivery_failed');
  const email = await onStrict.post('/api/v1/factors/email', {});
  assert.equal(email.status, 503, email.text);
  assert.equal(email.json?.error?.code, 'delivery_failed');
  const failed = await auditEvents(strict, 'code.send_failed', { subjectUserId: member.userId });
  assert.deepEqual(
    failed.map((e) => [e.details.provider, e.details.reason, e.details.transient]),
    [
      ['webhook', 'address_not_allowed', false],
      ['smtp', 'address_not_allowed', false],
    ],
    'refused once, not retried',
  );
  assert.equal(receiver.requests.length, 0);
  assert.equal(smtp.received.length, 0);

  // The node that allows internal addresses still delivers through the same providers.
  const allowed = await world.admin.post(`/api/v1/providers/${webhookId}/test`, { channel: 'sms', to: '+14155552671' });
  assert.equal(allowed.status, 200, allowed.text);
  assert.equal(receiver.requests.length, 1);
});

/** A TCP server that answers every connection with a reset (RST). */
async function resettingPort(t: { after(fn: () => Promise<void>): void }): Promise<number> {
  const server = createServer((socket) => socket.resetAndDestroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

test('a failed test message reads the same whatever the far end did: refused, reset, HTTP 500 or an SMTP refusal; the difference is only in the server log', async (t) => {
  const world = await deliveryWorld(t);
  const logged: Array<Record<string, unknown>> = [];
  world.server.services.providers.log = (msg, fields) => logged.push({ msg, ...fields });
  const failing: HttpPeer = await startHttpPeer(json(500, { error: 'internal secret stack trace' }));
  t.after(() => failing.close());
  const smtp = await withSmtp(t);
  const webhookAt = (port: number | string) => ({ kind: 'webhook', url: `http://127.0.0.1:${port}/hook`, secret: SECRET });
  const targets: Array<[string, Record<string, unknown>, 'sms' | 'email']> = [
    ['refused', webhookAt(await closedPort()), 'sms'],
    ['reset', webhookAt(await resettingPort(t)), 'sms'],
    ['HTTP 500', webhookAt(new URL(failing.url).port), 'sms'],
    ['Twilio at a refused port', { kind: 'twilio', accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, from: '+15005550006', baseUrl: `http://127.0.0.1:${await closedPort()}` }, 'sms'],
    ['SMTP at a refused port', smtpAt('127.0.0.1', await closedPort()), 'email'],
    ['SMTP refusing the login', { ...smtpAt('127.0.0.1', smtp.port), user: 'nobody', password: 'wrong-password-123' }, 'email'],
  ];
  const answers: Array<{ what: string; status: number; body: unknown; page: string }> = [];
  const { _csrf } = await hiddenFields(world.admin, '/admin/services');
  assert.ok(_csrf);
  for (const [what, config, channel] of targets) {
    const created = await world.admin.post(`/api/v1/organisations/${world.orgId}/providers`, { name: 'Probe', config });
    assert.equal(created.status, 201, created.text);
    const id = created.json?.id as string;
    const to = channel === 'sms' ? '+14155552671' : 'ops@acme.test';
    const res = await world.admin.post(`/api/v1/providers/${id}/test`, { channel, to });
    const page = await postForm(world.admin, `/admin/services/providers/${id}/test`, { _csrf, channel, to });
    assert.equal(page.status, res.status, what);
    const shown = /could not send the test message: ([^<]*)</.exec(page.text)?.[1];
    assert.ok(shown, `${what}: the page shows the failure`);
    answers.push({ what, status: res.status, body: res.json, page: shown });
  }
  for (const answer of answers) {
    assert.deepEqual({ status: answer.status, body: answer.body, page: answer.page }, { status: 503, body: { error: GENERIC }, page: answers[0]!.page }, answer.what);
  }
  assert.match(answers[0]!.page, /The test message could not be delivered/);
  const text = JSON.stringify(answers.map(({ status, body, page }) => ({ status, body, page })));
  for (const leak of ['ECONNREFUSED', 'ECONNRESET', '500', 'internal secret', '535', 'reached', 'refused']) assert.ok(!text.includes(leak), leak);

  // Nor does the audit log (which admins read) tell them apart; the server log does.
  const tested = await auditEvents(world.server, 'provider.tested', { orgId: world.orgId });
  assert.equal(tested.length, targets.length * 2);
  assert.deepEqual(new Set(tested.map((e) => JSON.stringify({ ...e.details, providerId: null }))).size, 2, 'one shape per channel');
  const log = JSON.stringify(logged);
  for (const detail of ['ECONNREFUSED', 'ECONNRESET', '"status":500', '535']) assert.ok(log.includes(detail), `${detail} in the server log`);
});
