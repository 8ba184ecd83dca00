import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import type { SmtpPeer } from '../delivery/peers.js';
import { startSmtpPeer } from '../delivery/peers.js';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import type { TestClient } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import {
  SYSTEM,
  TWILIO_TOKEN,
  auditEvents,
  bindChannel,
  codeFromMail,
  deliveryWorld,
  factorRows,
  newMember,
  reauthenticate,
  smtpConfig,
  twilioConfig,
  withSmtp,
  withTwilio,
} from '../helpers/delivery.js';

const SMTP_USER = 'mailer@acme.test';
const SMTP_PASSWORD = 'smtp-password-for-acme-relay';

async function withAuthSmtp(t: { after(fn: () => Promise<void>): void }): Promise<SmtpPeer> {
  const smtp = await startSmtpPeer({ credentials: { user: SMTP_USER, pass: SMTP_PASSWORD } });
  t.after(() => smtp.close());
  return smtp;
}

function authSmtpConfig(smtp: SmtpPeer, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...smtpConfig(smtp), user: SMTP_USER, password: SMTP_PASSWORD, ...overrides };
}

async function createProvider(world: DeliveryWorld, config: Record<string, unknown>, name = 'Relay', orgId = world.orgId) {
  const res = await world.admin.post(`/api/v1/organisations/${orgId}/providers`, { name, config });
  assert.equal(res.status, 201, res.text);
  return res.json as { id: string; config: Record<string, unknown> };
}

async function rawRow(world: DeliveryWorld, id: string) {
  return world.server.runtime.database.db.selectFrom('delivery_providers').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function testSend(client: TestClient, providerId: string, to = 'ops@example.com') {
  return client.post(`/api/v1/providers/${providerId}/test`, { channel: 'email', to });
}

test('providers through the API: secrets only ever redacted, sealed at rest, and audited without them', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  const created = await createProvider(world, twilioConfig(twilio), 'Twilio main');
  assert.equal(created.config.authToken, `••••${TWILIO_TOKEN.slice(-4)}`);
  assert.equal(created.config.accountSid, twilioConfig(twilio).accountSid, 'non-secret fields are shown as they are');

  const one = await world.admin.get(`/api/v1/providers/${created.id}`);
  assert.equal(one.status, 200, one.text);
  assert.equal((one.json?.config as Record<string, unknown>).authToken, `••••${TWILIO_TOKEN.slice(-4)}`);
  const listed = await world.admin.get(`/api/v1/organisations/${world.orgId}/services`);
  assert.equal(listed.status, 200, listed.text);
  for (const res of [created, one.json, listed.json]) assert.ok(!JSON.stringify(res).includes(TWILIO_TOKEN), 'never the whole token');

  const row = await rawRow(world, created.id);
  assert.ok(!JSON.stringify(row).includes(TWILIO_TOKEN), 'the row holds the token sealed, not in clear');
  assert.ok(!JSON.stringify(row).includes(TWILIO_TOKEN.slice(0, 12)));
  const audit = await world.server.runtime.database.db.selectFrom('audit_events').select('details').execute();
  assert.ok(!JSON.stringify(audit).includes(TWILIO_TOKEN), 'nor in the audit log');

  // A test text goes out through it, as a text (no email subject).
  const tested = await world.admin.post(`/api/v1/providers/${created.id}/test`, { channel: 'sms', to: '+14155552671' });
  assert.equal(tested.status, 200, tested.text);
  assert.deepEqual(tested.json, { ok: true, attempts: 1, providerMessageId: 'SM0123456789abcdef0123456789abcdef' });
  const form = new URLSearchParams(twilio.requests.at(-1)?.body);
  assert.equal(form.get('To'), '+14155552671');
  assert.equal(form.get('Body'), 'Acme Widgets: this is a test message from Twilio main. If you received it, the provider works.');
  const mismatch = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/channels/email`, { providerId: created.id, title: 'Email', allowed: true });
  assert.equal(mismatch.status, 400, mismatch.text);
  assert.equal(mismatch.json?.error?.code, 'provider_channel_mismatch');
  const kindChange = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { config: { kind: 'console' } });
  assert.equal(kindChange.status, 400, kindChange.text);
  assert.equal(kindChange.json?.error?.code, 'provider_kind_fixed');

  const renamed = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { name: 'Twilio (primary)' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json?.name, 'Twilio (primary)');

  // Bound, it cannot be deleted; unbound, it can.
  const bind = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/channels/sms`, { providerId: created.id, title: 'Text message', allowed: true });
  assert.equal(bind.status, 200, bind.text);
  const inUse = await world.admin.delete(`/api/v1/providers/${created.id}`);
  assert.equal(inUse.status, 409, inUse.text);
  assert.equal(inUse.json?.error?.code, 'provider_in_use');
  assert.ok(await rawRow(world, created.id));
  const unbind = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/channels/sms`, { providerId: null, title: 'Text message', allowed: false });
  assert.equal(unbind.status, 200, unbind.text);
  assert.equal((await world.admin.delete(`/api/v1/providers/${created.id}`)).status, 204);
  assert.equal((await world.admin.get(`/api/v1/providers/${created.id}`)).status, 404);

  const types = (await world.server.runtime.database.db.selectFrom('audit_events').select('event_type').where('org_id', '=', world.orgId).orderBy('id').execute()).map((r) => r.event_type);
  for (const type of ['provider.created', 'provider.tested', 'provider.changed', 'channel.changed', 'channel.allowed', 'channel.disallowed', 'provider.deleted']) assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
  const [changed] = await auditEvents(world.server, 'provider.changed', { orgId: world.orgId });
  assert.deepEqual((changed?.details.before as { name: string }).name, 'Twilio main');
  assert.equal(((changed?.details.after as { config: Record<string, unknown> }).config).authToken, `••••${TWILIO_TOKEN.slice(-4)}`);
});

test('PATCH with the password left blank (or sent back redacted) keeps it: the test send still logs in', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withAuthSmtp(t);
  const created = await createProvider(world, authSmtpConfig(smtp));
  assert.equal(created.config.password, `••••${SMTP_PASSWORD.slice(-4)}`);

  const first = await testSend(world.admin, created.id);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.json?.ok, true);
  assert.equal(smtp.received.at(-1)?.user, SMTP_USER, 'authenticated');
  assert.match(codeFromMailSubject(smtp), /Acme Widgets: test message/);

  const blank = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { config: authSmtpConfig(smtp, { password: '', from: 'Acme Security <security@acme.test>' }) });
  assert.equal(blank.status, 200, blank.text);
  assert.equal((blank.json?.config as Record<string, unknown>).password, `••••${SMTP_PASSWORD.slice(-4)}`);
  assert.equal((blank.json?.config as Record<string, unknown>).from, 'Acme Security <security@acme.test>');
  const second = await testSend(world.admin, created.id);
  assert.equal(second.status, 200, second.text);
  assert.equal(smtp.received.length, 2);
  assert.equal(smtp.received.at(-1)?.user, SMTP_USER);
  assert.equal(smtp.received.at(-1)?.mailFrom, 'security@acme.test');

  const redacted = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { config: { ...(blank.json?.config as Record<string, unknown>), socketTimeoutMs: 5000 } });
  assert.equal(redacted.status, 200, redacted.text);
  assert.equal((await testSend(world.admin, created.id)).status, 200);
  assert.equal(smtp.received.length, 3);

  const tested = await auditEvents(world.server, 'provider.tested', { orgId: world.orgId });
  assert.deepEqual(
    tested.map((e) => e.details.ok),
    [true, true, true],
  );
});

test('PATCH that moves the provider (host or port) without retyping the password is refused and changes nothing', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withAuthSmtp(t);
  const other = await withAuthSmtp(t);
  const created = await createProvider(world, authSmtpConfig(smtp));
  const before = await rawRow(world, created.id);

  // A stored password must never follow an edit to another server: the admin types it again.
  for (const change of [{ host: 'localhost' }, { port: other.port }]) {
    for (const password of ['', `••••${SMTP_PASSWORD.slice(-4)}`, undefined]) {
      const config = authSmtpConfig(smtp, { ...change, password });
      if (password === undefined) delete config.password;
      const res = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { config });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.json?.error?.code, 'provider_config_invalid');
      assert.match(res.json?.error?.message ?? '', /type the password again/i);
    }
  }
  const after = await rawRow(world, created.id);
  assert.equal(after.config_encrypted, before.config_encrypted);
  assert.equal(after.updated_at, before.updated_at);
  assert.equal(other.received.length, 0);
  assert.equal((await testSend(world.admin, created.id)).status, 200, 'still the old server, still logs in');
  assert.equal(smtp.received.length, 1);

  // Retyped, the move goes through and the new server gets the login.
  const moved = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { config: authSmtpConfig(smtp, { port: other.port }) });
  assert.equal(moved.status, 200, moved.text);
  assert.equal((await testSend(world.admin, created.id)).status, 200);
  assert.equal(other.received.at(-1)?.user, SMTP_USER);

  // Dropping the login on purpose (user and password both blank) is allowed.
  const noLogin = await world.admin.request('PATCH', `/api/v1/providers/${created.id}`, { config: authSmtpConfig(smtp, { user: '', password: '' }) });
  assert.equal(noLogin.status, 200, noLogin.text);
  assert.equal((noLogin.json?.config as Record<string, unknown>).password, undefined);
});

test('test send: a wrong password is a generic delivery_failed for the admin, the server’s reply goes to the server log, audited as failed', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withAuthSmtp(t);
  const logged: Array<Record<string, unknown>> = [];
  world.server.services.providers.log = (msg, fields) => logged.push({ msg, ...fields });
  const created = await createProvider(world, authSmtpConfig(smtp, { password: 'not-the-right-password' }));
  const res = await testSend(world.admin, created.id);
  assert.equal(res.status, 503, res.text);
  assert.deepEqual(res.json, { error: { code: 'delivery_failed', message: "The test message could not be delivered. Check the provider's settings; the server log has the details." } });
  assert.ok(!/535|login|auth/i.test(res.text), 'the remote reply is not echoed to the admin');
  assert.match(JSON.stringify(logged), /535/, 'the operator finds it in the server log');
  const [tested] = await auditEvents(world.server, 'provider.tested', { orgId: world.orgId });
  assert.deepEqual(tested?.details, { providerId: created.id, channel: 'email', ok: false }, 'nor in the audit log, which admins read');
  assert.ok(!JSON.stringify(logged).includes('not-the-right-password'));

  const bad = await world.admin.post(`/api/v1/providers/${created.id}/test`, { channel: 'email', to: 'nobody' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json?.error?.code, 'email_invalid');
  const badConfig = await world.admin.post(`/api/v1/organisations/${world.orgId}/providers`, { name: 'Broken', config: { kind: 'twilio', accountSid: 'nope' } });
  assert.equal(badConfig.status, 400);
  assert.equal(badConfig.json?.error?.code, 'provider_config_invalid');
});

test('tenancy: an admin of a sibling sub-organisation sees 404 for the other’s providers and services and changes nothing', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  const services = world.server.services;
  const left = await services.accounts.createOrganisation('Left', world.orgId, SYSTEM);
  const right = await services.accounts.createOrganisation('Right', world.orgId, SYSTEM);
  const rightProvider = await createProvider(world, twilioConfig(twilio), 'Right texts', right.id);
  assert.equal((await world.admin.request('PUT', `/api/v1/organisations/${right.id}/channels/sms`, { providerId: rightProvider.id, title: 'Texts', allowed: true })).status, 200);
  const parentProvider = await createProvider(world, twilioConfig(twilio), 'Parent texts');

  const leftAdminEmail = `left-admin-${randomUUID().slice(0, 8)}@example.com`;
  await services.accounts.createUser({ orgId: left.id, email: leftAdminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const leftAdmin = await signedInClient(world.server, leftAdminEmail);
  const auditBefore = (await world.server.runtime.database.db.selectFrom('audit_events').select('id').execute()).length;
  const rowBefore = await rawRow(world, rightProvider.id);

  const attempts: Array<[string, string, unknown?]> = [
    ['GET', `/api/v1/organisations/${right.id}/services`],
    ['POST', `/api/v1/organisations/${right.id}/providers`, { name: 'Mine now', config: twilioConfig(twilio) }],
    ['PUT', `/api/v1/organisations/${right.id}/channels/sms`, { providerId: null, title: 'Gone', allowed: false }],
    ['GET', `/api/v1/providers/${rightProvider.id}`],
    ['PATCH', `/api/v1/providers/${rightProvider.id}`, { name: 'Hijacked' }],
    ['DELETE', `/api/v1/providers/${rightProvider.id}`],
    ['POST', `/api/v1/providers/${rightProvider.id}/test`, { channel: 'sms', to: '+14155552671' }],
    ['GET', `/api/v1/organisations/${world.orgId}/services`],
    ['GET', `/api/v1/providers/${parentProvider.id}`],
    // Its own channel cannot be pointed at a sibling's or the parent's provider either.
    ['PUT', `/api/v1/organisations/${left.id}/channels/sms`, { providerId: rightProvider.id, title: 'Texts', allowed: true }],
    ['PUT', `/api/v1/organisations/${left.id}/channels/sms`, { providerId: parentProvider.id, title: 'Texts', allowed: true }],
  ];
  for (const [method, path, body] of attempts) {
    const res = await leftAdmin.request(method, path, body);
    assert.equal(res.status, 404, `${method} ${path}: ${res.text}`);
    assert.match(res.json?.error?.code ?? '', /^(organisation|provider)_not_found$/);
  }
  assert.equal(twilio.requests.length, 0, 'no test message went out');
  assert.deepEqual(await rawRow(world, rightProvider.id), rowBefore);
  assert.equal((await world.server.runtime.database.db.selectFrom('audit_events').select('id').execute()).length, auditBefore);
  assert.equal((await world.server.runtime.database.db.selectFrom('channel_entries').selectAll().where('org_id', '=', left.id).execute()).length, 0);

  // Its own organisation is fine.
  assert.equal((await leftAdmin.get(`/api/v1/organisations/${left.id}/services`)).status, 200);
});

test('a member is refused with not_admin; an admin must have re-authenticated in the last 5 minutes', async (t) => {
  const world = await deliveryWorld(t);
  const member = await newMember(world);
  for (const [method, path] of [
    ['GET', `/api/v1/organisations/${world.orgId}/services`],
    ['POST', `/api/v1/organisations/${world.orgId}/providers`],
  ] as const) {
    const res = await member.client.request(method, path, method === 'POST' ? { name: 'x', config: { kind: 'console' } } : undefined);
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json?.error?.code, 'not_admin');
  }

  world.clock.advance(6 * 60_000);
  const stale = await world.admin.get(`/api/v1/organisations/${world.orgId}/services`);
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  const staleCreate = await world.admin.post(`/api/v1/organisations/${world.orgId}/providers`, { name: 'Console', config: { kind: 'console' } });
  assert.equal(staleCreate.json?.error?.code, 'reauthentication_required');
  assert.equal((await world.server.runtime.database.db.selectFrom('delivery_providers').select('id').execute()).length, 0);

  await reauthenticate(world.admin);
  assert.equal((await world.admin.get(`/api/v1/organisations/${world.orgId}/services`)).status, 200);
});

test("a sub-organisation without its own entry uses its parent's; its own entry overrides it", async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const child = await world.server.services.accounts.createOrganisation('Acme Retail', world.orgId, SYSTEM);

  const view = await world.admin.get(`/api/v1/organisations/${child.id}/services`);
  assert.equal(view.status, 200, view.text);
  const email = (view.json?.channels as Array<Record<string, unknown>>).find((c) => c.channel === 'email') as { own: unknown; effective: Record<string, unknown> };
  assert.equal(email.own, null);
  assert.equal(email.effective.available, true);
  assert.equal(email.effective.fromOrgId, world.orgId);
  assert.deepEqual(view.json?.providers, [], "the parent's provider is not listed as the child's own");

  const member = await newMember(world, child.id);
  const started = await member.client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const confirmed = await member.client.post(`/api/v1/factors/email/${started.json?.id}/confirm`, { code: codeFromMail(smtp, member.email).code });
  assert.equal(confirmed.status, 200, confirmed.text);

  // The child switches email off for itself; the parent's members are unaffected.
  const off = await world.admin.request('PUT', `/api/v1/organisations/${child.id}/channels/email`, { providerId: null, title: 'Email', allowed: false });
  assert.equal(off.status, 200, off.text);
  const childMember = await newMember(world, child.id);
  const refused = await childMember.client.post('/api/v1/factors/email', {});
  assert.equal(refused.status, 403);
  assert.equal(refused.json?.error?.code, 'method_unavailable');
  assert.deepEqual(await factorRows(world.server, childMember.userId), []);
  const parentMember = await newMember(world);
  assert.equal((await parentMember.client.post('/api/v1/factors/email', {})).status, 201);
});

function codeFromMailSubject(smtp: SmtpPeer): string {
  const raw = smtp.received.at(-1)?.raw ?? '';
  return /^Subject: (.*)$/m.exec(raw)?.[1] ?? '';
}
