import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeNext } from '../../src/http/pages/reauth.js';
import { users } from '../../src/store/index.js';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail, startSmtpPeer } from '../delivery/peers.js';
import { freshSessionActor } from '../helpers/actors.js';
import { PASSWORD } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { SYSTEM, TWILIO_SID, TWILIO_TOKEN, codeFromMail, deliveryWorld, newMember, twilioConfig, withTwilio } from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const SMTP_USER = 'mailer';
const SMTP_PASSWORD = 'smtp-relay-password-9876';
const REAUTH_WINDOW_PASSED = 6 * 60_000;

async function adminUser(world: DeliveryWorld) {
  const user = await users.findUser(world.server.runtime.database.db, world.adminId);
  assert.ok(user);
  return user;
}

/** The organisation's services as the admin service shows them, read through a fresh session of the admin (the browser's may be stale). */
async function servicesOf(world: DeliveryWorld, orgId = world.orgId) {
  return world.server.services.providers.list(await freshSessionActor(world.server, world.adminId), orgId);
}

/** The form token a browser on `path` would submit. */
async function csrfOf(client: TestClient, path: string): Promise<string> {
  const { _csrf } = await hiddenFields(client, path);
  assert.ok(_csrf, `no form token on ${path}`);
  return _csrf;
}

async function smtpWithLogin(t: { after(fn: () => Promise<void>): void }): Promise<SmtpPeer> {
  const smtp = await startSmtpPeer({ credentials: { user: SMTP_USER, pass: SMTP_PASSWORD } });
  t.after(() => smtp.close());
  return smtp;
}

function smtpFields(smtp: SmtpPeer, overrides: Record<string, string> = {}): Record<string, string> {
  return { kind: 'smtp', name: 'Office mail', host: '127.0.0.1', port: String(smtp.port), tlsMode: 'none', user: SMTP_USER, password: SMTP_PASSWORD, from: 'Acme Widgets <security@acme.test>', ...overrides };
}

test('an admin adds an SMTP provider through the pages, binds email to it, tests it, and edits it without retyping the password', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await smtpWithLogin(t);
  const admin = world.admin;

  const overview = await admin.get('/admin/services');
  assert.equal(overview.status, 200, overview.text);
  assert.match(overview.text, /href="\/admin\/services"/, 'the header links admins to the services');
  for (const kind of ['smtp', 'twilio', 'cdyne', 'webhook', 'console', 'file']) assert.ok(overview.text.includes(`/admin/services/providers/new?kind=${kind}&amp;org=${world.orgId}`), kind);
  assert.match(overview.text, /No provider sends emails/);

  const newForm = `/admin/services/providers/new?kind=smtp&org=${world.orgId}`;
  const _csrf = await csrfOf(admin, newForm);
  const formPage = await admin.get(newForm);
  assert.match(formPage.text, /<input id="field-password" name="password" type="password"/);
  assert.match(formPage.text, /<select id="field-tlsMode" name="tlsMode"/);

  // Bad input re-renders the form with the reason and creates nothing.
  const badPort = await postForm(admin, '/admin/services/providers', { _csrf, org: world.orgId, ...smtpFields(smtp, { port: 'abc' }) });
  assert.equal(badPort.status, 400);
  assert.match(badPort.text, /port must be a number/);
  assert.ok(!badPort.text.includes(SMTP_PASSWORD), 'a refused form does not echo the password');
  assert.match(badPort.text, /value="Office mail"/, 'the other values stay filled in');
  const noHost = await postForm(admin, '/admin/services/providers', { _csrf, org: world.orgId, ...smtpFields(smtp, { host: '' }) });
  assert.equal(noHost.status, 400);
  assert.match(noHost.text, /host is required/);
  assert.equal((await servicesOf(world)).providers.length, 0);

  const created = await postForm(admin, '/admin/services/providers', { _csrf, org: world.orgId, ...smtpFields(smtp) });
  assert.equal(created.status, 200, created.text);
  assert.match(created.text, /Added Office mail/);
  assert.ok(!created.text.includes(SMTP_PASSWORD), 'the list shows the password redacted');
  assert.match(created.text, /••••9876/);
  const [provider] = (await servicesOf(world)).providers;
  assert.ok(provider);
  assert.equal(provider.kind, 'smtp');

  // Bind email to it and allow it.
  const bound = await postForm(admin, '/admin/services/channels/email', { _csrf, org: world.orgId, providerId: provider.id, title: 'Work email', allowed: 'on' });
  assert.equal(bound.status, 200, bound.text);
  assert.match(bound.text, /Email saved/);
  assert.match(bound.text, /Users can get codes by email through Office mail, shown as “Work email”/);
  const email = (await servicesOf(world)).channels.find((c) => c.channel === 'email');
  assert.deepEqual(email?.own, { providerId: provider.id, title: 'Work email', allowed: true, updatedAt: email?.own?.updatedAt });
  assert.equal(email?.effective.available, true);

  // A test message reaches the real SMTP server, logged in with the stored password.
  const tested = await postForm(admin, `/admin/services/providers/${provider.id}/test`, { _csrf, channel: 'email', to: 'ops@acme.test' });
  assert.equal(tested.status, 200, tested.text);
  assert.match(tested.text, /Test message sent to ops@acme.test through Office mail/);
  assert.equal(smtp.received.length, 1);
  assert.deepEqual(smtp.received[0]?.rcptTo, ['ops@acme.test']);
  assert.equal(smtp.received[0]?.user, SMTP_USER);
  const mail = parseMail(smtp.received[0]!.raw);
  assert.match(mail.headers.get('subject') ?? '', /Acme Widgets/);
  assert.match(mail.text ?? '', /Acme Widgets/);

  // The edit page shows the settings but never the password.
  const editPath = `/admin/services/providers/${provider.id}/edit`;
  const edit = await admin.get(editPath);
  assert.equal(edit.status, 200, edit.text);
  assert.ok(!edit.text.includes(SMTP_PASSWORD));
  assert.match(edit.text, /Leave blank to keep ••••9876/);
  assert.match(edit.text, /value="127.0.0.1"/);
  assert.match(edit.text, /<option value="none" selected>/);

  // Saved with the password left blank: the stored one is kept and still logs in.
  const saved = await postForm(admin, `/admin/services/providers/${provider.id}`, { _csrf, ...smtpFields(smtp, { name: 'Office relay', password: '' }) });
  assert.equal(saved.status, 200, saved.text);
  assert.match(saved.text, /Saved Office relay/);
  const retest = await postForm(admin, `/admin/services/providers/${provider.id}/test`, { _csrf, channel: 'email', to: 'ops2@acme.test' });
  assert.equal(retest.status, 200, retest.text);
  assert.equal(smtp.received.length, 2);
  assert.equal(smtp.received[1]?.user, SMTP_USER);

  // A kept password cannot be paired with another login.
  const otherUser = await postForm(admin, `/admin/services/providers/${provider.id}`, { _csrf, ...smtpFields(smtp, { user: 'someone-else', password: '' }) });
  assert.equal(otherUser.status, 400);
  assert.match(otherUser.text, /type the password again/);
  assert.equal((await servicesOf(world)).providers[0]?.name, 'Office relay', 'a refused edit changes nothing');

  // A wrong password: the page says only that nothing was delivered; the server's reply goes to the server log.
  const logged: Array<Record<string, unknown>> = [];
  world.server.services.providers.log = (msg, fields) => logged.push({ msg, ...fields });
  const wrong = await postForm(admin, `/admin/services/providers/${provider.id}`, { _csrf, ...smtpFields(smtp, { name: 'Office relay', password: 'not-the-relay-password' }) });
  assert.equal(wrong.status, 200, wrong.text);
  const failed = await postForm(admin, `/admin/services/providers/${provider.id}/test`, { _csrf, channel: 'email', to: 'ops3@acme.test' });
  assert.equal(failed.status, 503);
  assert.match(failed.text, /Office relay could not send the test message: The test message could not be delivered\. Check the provider&#x27;s settings|Office relay could not send the test message: The test message could not be delivered\. Check the provider's settings/);
  assert.ok(!/535|refused the login|Invalid username/i.test(failed.text), 'the SMTP server\'s reply is not shown');
  assert.match(JSON.stringify(logged), /535/, 'it is in the server log');
  assert.equal(smtp.received.length, 2);

  // In use, it cannot be deleted; once unbound, it can.
  const inUse = await postForm(admin, `/admin/services/providers/${provider.id}/delete`, { _csrf });
  assert.equal(inUse.status, 409);
  assert.match(inUse.text, /carries email/);
  const unbound = await postForm(admin, '/admin/services/channels/email', { _csrf, org: world.orgId, providerId: '', title: 'Work email' });
  assert.equal(unbound.status, 200, unbound.text);
  assert.equal((await servicesOf(world)).channels.find((c) => c.channel === 'email')?.effective.reason, 'not_configured');
  const deleted = await postForm(admin, `/admin/services/providers/${provider.id}/delete`, { _csrf });
  assert.equal(deleted.status, 200, deleted.text);
  assert.match(deleted.text, /Deleted Office relay/);
  assert.equal((await servicesOf(world)).providers.length, 0);

  // An unknown provider is a 404 page, a forged form a 403.
  assert.equal((await admin.get('/admin/services/providers/nope/edit')).status, 404);
  assert.equal((await postForm(admin, '/admin/services/channels/email', { _csrf: 'x'.repeat(43), org: world.orgId, providerId: '', title: 'Email' })).status, 403);
});

test('a Twilio provider through the form sends its test text as a form-encoded POST with Basic auth', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  const admin = world.admin;
  const _csrf = await csrfOf(admin, `/admin/services/providers/new?kind=twilio&org=${world.orgId}`);
  const fields = Object.fromEntries(Object.entries(twilioConfig(twilio)).map(([k, v]) => [k, String(v)]));
  const created = await postForm(admin, '/admin/services/providers', { _csrf, org: world.orgId, name: 'Twilio', ...fields });
  assert.equal(created.status, 200, created.text);
  assert.ok(!created.text.includes(TWILIO_TOKEN));
  const [provider] = (await servicesOf(world)).providers;
  assert.ok(provider);
  assert.equal(provider.kind, 'twilio');

  const edit = await admin.get(`/admin/services/providers/${provider.id}/edit`);
  assert.ok(!edit.text.includes(TWILIO_TOKEN));
  assert.match(edit.text, /Leave blank to keep ••••6789/);

  const tested = await postForm(admin, `/admin/services/providers/${provider.id}/test`, { _csrf, channel: 'sms', to: '+14155552671' });
  assert.equal(tested.status, 200, tested.text);
  assert.equal(twilio.requests.length, 1);
  const sent = twilio.requests[0]!;
  assert.equal(sent.method, 'POST');
  assert.equal(sent.path, `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json`);
  assert.match(String(sent.headers['content-type']), /^application\/x-www-form-urlencoded/);
  assert.equal(sent.headers.authorization, `Basic ${Buffer.from(`${TWILIO_SID}:${TWILIO_TOKEN}`).toString('base64')}`);
  const body = new URLSearchParams(sent.body);
  assert.equal(body.get('To'), '+14155552671');
  assert.equal(body.get('From'), '+15005550006');
  assert.match(body.get('Body') ?? '', /Acme Widgets/);

  // Text messages can be bound to it; email cannot.
  const wrongChannel = await postForm(admin, '/admin/services/channels/email', { _csrf, org: world.orgId, providerId: provider.id, title: 'Email', allowed: 'on' });
  assert.equal(wrongChannel.status, 400);
  assert.match(wrongChannel.text, /cannot carry emails/);
  assert.equal((await servicesOf(world)).channels.find((c) => c.channel === 'email')?.own, null);
});

test('admin areas: members get 403, strangers sign in, a stale session re-authenticates and comes back, and next never leaves the site', async (t) => {
  const world = await deliveryWorld(t);
  const member = await newMember(world);
  world.clock.advance(REAUTH_WINDOW_PASSED);

  // A member is refused outright, without being asked to re-authenticate first.
  const refused = await member.client.get('/admin/services');
  assert.equal(refused.status, 403);
  assert.match(refused.text, /Administrators only/);
  const memberCsrf = await csrfOf(member.client, '/account');
  const memberPost = await postForm(member.client, '/admin/services/channels/email', { _csrf: memberCsrf, org: world.orgId, providerId: '', title: 'Email', allowed: 'on' });
  assert.equal(memberPost.status, 403);
  assert.equal((await servicesOf(world)).channels.find((c) => c.channel === 'email')?.own, null);

  const stranger = new TestClient(world.server.url);
  const away = await stranger.get('/admin/services');
  assert.equal(away.status, 303);
  assert.equal(away.headers.get('location'), '/sign-in');
  assert.equal((await stranger.get('/reauthenticate')).headers.get('location'), '/sign-in');

  // The admin's sign-in is older than the window: pages redirect, forms ask to confirm and change nothing.
  const admin = world.admin;
  const page = `/admin/services?org=${world.orgId}`;
  const stale = await admin.get(page);
  assert.equal(stale.status, 303);
  const location = stale.headers.get('location') ?? '';
  assert.equal(location, `/reauthenticate?next=${encodeURIComponent(page)}`);
  const _csrf = await csrfOf(admin, location);
  const reauthPage = await admin.get(location);
  assert.match(reauthPage.text, /<input type="hidden" name="next" value="\/admin\/services\?org=/);
  assert.ok(!reauthPage.text.includes('name="method"'), 'no code methods without factors');
  const lateForm = await postForm(admin, '/admin/services/channels/email', { _csrf, org: world.orgId, providerId: '', title: 'Email', allowed: 'on' });
  assert.equal(lateForm.status, 403);
  assert.match(lateForm.text, /Confirm it is you, then send the form again/);
  assert.equal((await servicesOf(world)).channels.find((c) => c.channel === 'email')?.own, null);

  const wrong = await postForm(admin, '/reauthenticate', { _csrf, next: page, password: 'not my password' });
  assert.equal(wrong.status, 401);
  assert.match(wrong.text, /password is not correct/);
  assert.equal((await admin.get(page)).status, 303, 'still locked');

  const confirmed = await postForm(admin, '/reauthenticate', { _csrf, next: page, password: PASSWORD });
  assert.equal(confirmed.status, 303, confirmed.text);
  assert.equal(confirmed.headers.get('location'), page);
  assert.match(confirmed.headers.getSetCookie().join('\n'), /twofold_session=/, 'the session id rotates');
  const back = await admin.get(page);
  assert.equal(back.status, 200, back.text);
  assert.match(back.text, /Channels/);

  for (const next of ['//evil.example', '/\\evil.example', 'https://evil.example/', '/\t/evil.example', 'evil.example', '']) {
    world.clock.advance(REAUTH_WINDOW_PASSED);
    const res = await postForm(admin, '/reauthenticate', { _csrf, next, password: PASSWORD });
    assert.equal(res.status, 303, next);
    assert.equal(res.headers.get('location'), '/account', `next=${JSON.stringify(next)}`);
  }
  assert.equal(safeNext('/admin/services/providers/x/edit?org=1'), '/admin/services/providers/x/edit?org=1');
  assert.equal(safeNext('/%2F%2Fevil.example'), '/%2F%2Fevil.example', 'an encoded slash stays a path here');
});

test('admins who hold a factor confirm with the password and a code; the page sends an email code on request', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await smtpWithLogin(t);
  const admin = world.admin;
  const _csrf = await csrfOf(admin, '/admin/services');
  assert.equal((await postForm(admin, '/admin/services/providers', { _csrf, org: world.orgId, ...smtpFields(smtp) })).status, 200);
  const providerId = (await servicesOf(world)).providers[0]!.id;
  assert.equal((await postForm(admin, '/admin/services/channels/email', { _csrf, org: world.orgId, providerId, title: 'Work email', allowed: 'on' })).status, 200);
  // The channel's title is what people see: in the list of methods and where a code is sent.
  const methods = await admin.get('/api/v1/methods');
  assert.equal((methods.json?.methods as Array<{ method: string; title?: string }> | undefined)?.find((m) => m.method === 'email')?.title, 'Work email', methods.text);

  const adminEmail = (await adminUser(world)).email;
  const started = await admin.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const confirmed = await admin.post(`/api/v1/factors/email/${started.json?.id as string}/confirm`, { code: codeFromMail(smtp, adminEmail).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  const backupCodes = confirmed.json?.backupCodes as string[];

  world.clock.advance(REAUTH_WINDOW_PASSED);
  const next = '/admin/services';
  const page = await admin.get(`/reauthenticate?next=${encodeURIComponent(next)}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /enter your password and a current code/);
  assert.match(page.text, /name="password" type="password"/);
  assert.match(page.text, /<option value="email"/);
  assert.match(page.text, /<option value="backup_code"/);
  assert.match(page.text, /Send me a code by email to/);

  const mailsBefore = smtp.received.length;
  const sent = await postForm(admin, '/reauthenticate/send', { _csrf, next, method: 'email' });
  assert.equal(sent.status, 200, sent.text);
  assert.match(sent.text, /We sent a code by Work email to/);
  assert.match(sent.text, /<option value="email" selected>/);
  assert.equal(smtp.received.length, mailsBefore + 1);
  const code = codeFromMail(smtp, adminEmail).code;

  const bad = await postForm(admin, '/reauthenticate', { _csrf, next, password: PASSWORD, method: 'email', code: code === '000000' ? '111111' : '000000' });
  assert.equal(bad.status, 401);
  assert.equal((await admin.get(next)).status, 303, 'a wrong code unlocks nothing');
  const good = await postForm(admin, '/reauthenticate', { _csrf, next, password: PASSWORD, method: 'email', code });
  assert.equal(good.status, 303, good.text);
  assert.equal(good.headers.get('location'), next);
  assert.equal((await admin.get(next)).status, 200);

  // The password alone is not enough for an admin with a factor: the page then asks only for the code.
  world.clock.advance(REAUTH_WINDOW_PASSED);
  const passwordOnly = await postForm(admin, '/reauthenticate', { _csrf, next, password: PASSWORD });
  assert.equal(passwordOnly.status, 303);
  const again = await admin.get(next);
  assert.equal(again.status, 303);
  const codeOnly = await admin.get(again.headers.get('location') ?? '');
  assert.match(codeOnly.text, /enter a current code/);
  assert.ok(!codeOnly.text.includes('name="password"'));
  const withBackup = await postForm(admin, '/reauthenticate', { _csrf, next, method: 'backup_code', code: backupCodes[0]! });
  assert.equal(withBackup.status, 303, withBackup.text);
  assert.equal((await admin.get(next)).status, 200);
});

test('a sub-organisation inherits its parent entry, can bind the parent provider, and organisations outside the tree are not found', async (t) => {
  const world = await deliveryWorld(t);
  const twilio = await withTwilio(t);
  const admin = world.admin;
  const _csrf = await csrfOf(admin, '/admin/services');
  const fields = Object.fromEntries(Object.entries(twilioConfig(twilio)).map(([k, v]) => [k, String(v)]));
  assert.equal((await postForm(admin, '/admin/services/providers', { _csrf, org: world.orgId, name: 'Agency texts', ...fields })).status, 200);
  const providerId = (await servicesOf(world)).providers[0]!.id;
  assert.equal((await postForm(admin, '/admin/services/channels/sms', { _csrf, org: world.orgId, providerId, title: 'Text message', allowed: 'on' })).status, 200);

  const sub = await world.server.services.accounts.createOrganisation('Client One', world.orgId, SYSTEM);
  const subPage = await admin.get(`/admin/services?org=${sub.id}`);
  assert.equal(subPage.status, 200, subPage.text);
  assert.match(subPage.text, /How Client One sends codes/);
  assert.match(subPage.text, /Users can get codes by text message through Agency texts, shown as “Text message”\. Inherited from Acme\./);
  assert.match(subPage.text, /<option value="[^"]+">Agency texts \(Twilio, Acme\)<\/option>/, "the parent's provider can be bound here too");

  const own = await postForm(admin, '/admin/services/channels/sms', { _csrf, org: sub.id, providerId, title: 'Texts for Client One' });
  assert.equal(own.status, 200, own.text);
  assert.match(own.text, /Text message is set up but not allowed for two-step verification/);
  const subServices = await servicesOf(world, sub.id);
  assert.deepEqual(subServices.channels.find((c) => c.channel === 'sms')?.effective, { available: false, reason: 'not_allowed', fromOrgId: sub.id, providerId, title: 'Texts for Client One' });

  const elsewhere = await world.server.services.accounts.createOrganisation('Competitor', null, SYSTEM);
  const hidden = await admin.get(`/admin/services?org=${elsewhere.id}`);
  assert.equal(hidden.status, 404);
  assert.match(hidden.text, /No such organisation/);
  const foreignPost = await postForm(admin, '/admin/services/channels/sms', { _csrf, org: elsewhere.id, providerId, title: 'Stolen' });
  assert.equal(foreignPost.status, 404);
  assert.equal((await servicesOf(world)).channels.find((c) => c.channel === 'sms')?.own?.title, 'Text message');
});
