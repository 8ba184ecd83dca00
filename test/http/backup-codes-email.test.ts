import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { SYSTEM, auditEvents, bindChannel, codeFromMail, deliveryWorld, enrolTotp, newMember, reauthenticate, smtpConfig, withSmtp } from '../helpers/delivery.js';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail } from '../delivery/peers.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

/** Mails carrying backup codes to `to`, oldest first, as plain text. */
function backupCodeMails(smtp: SmtpPeer, to: string): string[] {
  return smtp.received
    .filter((m) => m.rcptTo.includes(to))
    .map((m) => parseMail(m.raw))
    .filter((p) => /your new backup codes/.test(p.headers.get('subject') ?? ''))
    .map((p) => p.text ?? '');
}

async function setting(world: DeliveryWorld, orgId = world.orgId): Promise<boolean> {
  const res = await world.admin.get(`/api/v1/organisations/${orgId}/settings`);
  assert.equal(res.status, 200, res.text);
  return res.json?.emailBackupCodes as boolean;
}

/** Enrols an email factor for the member's own account address: that proves the address. */
async function enrolOwnEmail(smtp: SmtpPeer, client: TestClient, email: string): Promise<Record<string, unknown>> {
  const started = await client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const confirmed = await client.post(`/api/v1/factors/email/${started.json?.id}/confirm`, { code: codeFromMail(smtp, email).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  return confirmed.json ?? {};
}

test('emailing backup codes is off by default: enrolment and regeneration send none', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  assert.equal(await setting(world), false);
  const member = await newMember(world);
  const enrolled = await enrolOwnEmail(smtp, member.client, member.email);
  assert.equal((enrolled.backupCodes as string[]).length, 10);
  assert.deepEqual(enrolled.backupCodesEmail, { status: 'off' });
  await reauthenticate(member.client);
  const regenerated = await member.client.post('/api/v1/backup-codes', {});
  assert.equal(regenerated.status, 200, regenerated.text);
  assert.deepEqual(regenerated.json?.email, { status: 'off' });
  assert.deepEqual(backupCodeMails(smtp, member.email), []);
});

test('when on, new codes are emailed once to the verified address, at enrolment and at regeneration; the page says so', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const on = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true });
  assert.equal(on.status, 200, on.text);
  assert.deepEqual(on.json, { orgId: world.orgId, emailBackupCodes: true });
  const changed = await auditEvents(world.server, 'organisation.settings_changed', { orgId: world.orgId });
  assert.equal(changed.length, 1);
  assert.deepEqual(changed[0]?.details, { setting: 'emailBackupCodes', before: false, after: true });

  const member = await newMember(world);
  const enrolled = await enrolOwnEmail(smtp, member.client, member.email);
  assert.deepEqual(enrolled.backupCodesEmail, { status: 'sent', to: member.email });
  let mails = backupCodeMails(smtp, member.email);
  assert.equal(mails.length, 1);
  for (const code of enrolled.backupCodes as string[]) assert.ok(mails[0]?.includes(code), `mail lacks ${code}`);

  await reauthenticate(member.client);
  const regenerated = await member.client.post('/api/v1/backup-codes', {});
  assert.equal(regenerated.status, 200, regenerated.text);
  assert.deepEqual(regenerated.json?.email, { status: 'sent', to: member.email });
  mails = backupCodeMails(smtp, member.email);
  assert.equal(mails.length, 2);
  for (const code of regenerated.json?.codes as string[]) assert.ok(mails[1]?.includes(code), `mail lacks ${code}`);
  // Nobody else got a copy.
  assert.equal(smtp.received.filter((m) => /backup codes/.test(parseMail(m.raw).headers.get('subject') ?? '')).length, 2);

  // The page after regenerating names the address.
  const page = await postForm(member.client, '/account/security/backup-codes', await hiddenFields(member.client, '/account/security/backup-codes/new'));
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, new RegExp(`A copy was emailed to ${member.email.replace('.', '\\.')}`));
  assert.equal(backupCodeMails(smtp, member.email).length, 3);
});

test('when on, an address never verified gets nothing, and the answer says why', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  assert.equal((await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true })).status, 200);
  const member = await newMember(world);
  const enrolled = await enrolTotp(world, member.client);
  assert.equal(enrolled.backupCodes.length, 10);
  await reauthenticate(member.client);
  const regenerated = await member.client.post('/api/v1/backup-codes', {});
  assert.equal(regenerated.status, 200, regenerated.text);
  assert.deepEqual(regenerated.json?.email, { status: 'unverified', to: member.email });
  assert.ok(smtp.received.some((m) => m.rcptTo.includes(member.email)), 'the security notice reaches the address, so the channel works');
  assert.deepEqual(backupCodeMails(smtp, member.email), []);
});

test('only admins of the organisation change the setting; bad input is refused; nothing changes', async (t) => {
  const world = await deliveryWorld(t);
  const member = await newMember(world);
  const byMember = await member.client.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true });
  assert.equal(byMember.status, 403, byMember.text);
  assert.equal(byMember.json?.error?.code, 'not_admin');

  const other = await world.server.services.accounts.createOrganisation('Other', null, SYSTEM);
  await world.server.services.accounts.createUser({ orgId: other.id, email: 'other-admin@example.com', password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const otherAdmin = await signedInClient(world.server, 'other-admin@example.com');
  const byOtherAdmin = await otherAdmin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true });
  // Another tree's organisation is not found, as everywhere else (its existence is not confirmed).
  assert.equal(byOtherAdmin.status, 404, byOtherAdmin.text);
  assert.equal(byOtherAdmin.json?.error?.code, 'organisation_not_found');

  for (const body of [{ emailBackupCodes: 'yes' }, {}, { emailBackupCodes: true, extra: 1 }, { emailBackupCodes: 1 }]) {
    const bad = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, body);
    assert.equal(bad.status, 400, `${JSON.stringify(body)}: ${bad.text}`);
    assert.equal(bad.json?.error?.code, 'invalid_request', bad.text);
  }
  assert.equal(await setting(world), false);
  assert.equal(await setting(world, other.id).catch(() => 'refused'), 'refused');
  assert.deepEqual(await auditEvents(world.server, 'organisation.settings_changed'), []);
});

test('when the emailed copy cannot be sent, the new codes still hold and the answer says so', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  assert.equal((await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true })).status, 200);
  const member = await newMember(world);
  await enrolOwnEmail(smtp, member.client, member.email);
  await reauthenticate(member.client);
  await smtp.close();
  const regenerated = await member.client.post('/api/v1/backup-codes', {});
  assert.equal(regenerated.status, 200, regenerated.text);
  assert.deepEqual(regenerated.json?.email, { status: 'failed', to: member.email });
  const status = await member.client.get('/api/v1/backup-codes');
  assert.deepEqual(status.json, { remaining: 10, total: 10, low: false });
  const revealed = await world.server.services.backupCodes.reveal(member.userId);
  assert.deepEqual(revealed.map((c) => c.code).sort(), [...(regenerated.json?.codes as string[])].sort());
  assert.equal((await auditEvents(world.server, 'backup_codes.email_failed', { subjectUserId: member.userId })).length, 1);
});

test('the organisations admin page switches the setting on and off; a member posting the form changes nothing', async (t) => {
  const world = await deliveryWorld(t);
  const page = `/admin/organisations?org=${world.orgId}`;
  const shown = await world.admin.get(page);
  assert.equal(shown.status, 200, shown.text);
  assert.match(shown.text, /Backup codes by email/);
  assert.doesNotMatch(shown.text, /name="emailBackupCodes" value="on" checked/);

  const fields = (await hiddenFields(world.admin, page)) as Record<string, string>;
  const on = await postForm(world.admin, '/admin/organisations/settings', { ...fields, org: world.orgId, emailBackupCodes: 'on' });
  assert.equal(on.status, 200, on.text);
  assert.match(on.text, /now also emailed/);
  assert.match(on.text, /name="emailBackupCodes" value="on" checked/);
  assert.equal(await setting(world), true);

  const member = await newMember(world);
  const csrf = (await hiddenFields(member.client, '/account/security'))._csrf ?? '';
  const byMember = await postForm(member.client, '/admin/organisations/settings', { _csrf: csrf, org: world.orgId });
  assert.notEqual(byMember.status, 200);
  assert.equal(await setting(world), true);

  const off = await postForm(world.admin, '/admin/organisations/settings', { ...fields, org: world.orgId });
  assert.equal(off.status, 200, off.text);
  assert.equal(await setting(world), false);
});

/** The organisation requires two-step verification at every sign-in, so a new member signs in into forced enrolment. */
async function requireTwoStep(world: DeliveryWorld): Promise<void> {
  const policy = await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/policy`, { mode: 'required', appliesToSubOrganisations: true, triggers: ['every_sign_in'], allowedMethods: ['totp', 'email'], trustBrowserDays: 30 });
  assert.equal(policy.status, 200, policy.text);
}

test('forced enrolment at sign-in follows the setting: the page and the API say where the copy went, and only a verified address gets one', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  assert.equal((await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true })).status, 200);
  await requireTwoStep(world);

  // Pages: the member enrols their own address at sign-in; the backup-codes page names it and the mail holds the codes.
  const pageEmail = 'pat@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email: pageEmail, password: PASSWORD }, SYSTEM);
  const browser = new TestClient(world.server.url);
  const signIn = await postForm(browser, '/sign-in', { _csrf: (await hiddenFields(browser, '/sign-in'))._csrf ?? '', email: pageEmail, password: PASSWORD });
  assert.equal(signIn.headers.get('location'), '/sign-in/enrol', signIn.text);
  const _csrf = (await hiddenFields(browser, '/sign-in/enrol'))._csrf ?? '';
  const started = await postForm(browser, '/sign-in/enrol/email', { _csrf, email: pageEmail });
  assert.equal(started.status, 200);
  const confirmAction = /action="(\/sign-in\/enrol\/[^/"]+\/confirm)"/.exec(started.text)?.[1];
  assert.ok(confirmAction, 'the code page has its confirm form');
  const done = await postForm(browser, confirmAction, { _csrf, channel: 'email', code: codeFromMail(smtp, pageEmail).code });
  assert.equal(done.status, 200, done.text);
  const shown = [...done.text.matchAll(/<li data-backup-code[^>]*>([^<]+)<\/li>/g)].map((m) => m[1]!);
  assert.equal(shown.length, 10);
  assert.match(done.text, /data-testid="codes-emailed">A copy was emailed to pat@example\.com\./);
  const pageMails = backupCodeMails(smtp, pageEmail);
  assert.equal(pageMails.length, 1);
  for (const code of shown) assert.ok(pageMails[0]?.includes(code), `mail lacks ${code}`);

  // API, by email: the answer says the copy was sent.
  const apiEmail = 'quinn@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email: apiEmail, password: PASSWORD }, SYSTEM);
  const api = new TestClient(world.server.url);
  const challenge = (await api.post('/api/v1/auth/sign-in', { email: apiEmail, password: PASSWORD })).json?.challenge as string;
  const enrolling = await api.post('/api/v1/auth/enrolment/email', { challenge, email: apiEmail });
  assert.equal(enrolling.status, 201, enrolling.text);
  const confirmed = await api.post('/api/v1/auth/enrolment/confirm', { challenge, id: enrolling.json?.id, code: codeFromMail(smtp, apiEmail).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.deepEqual(confirmed.json?.backupCodesEmail, { status: 'sent', to: apiEmail });
  const apiMails = backupCodeMails(smtp, apiEmail);
  assert.equal(apiMails.length, 1);
  for (const code of confirmed.json?.backupCodes as string[]) assert.ok(apiMails[0]?.includes(code), `mail lacks ${code}`);

  // API, by authenticator app: the address was never proven, so nothing goes to it and the answer says why.
  const appEmail = 'rae@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email: appEmail, password: PASSWORD }, SYSTEM);
  const app = new TestClient(world.server.url);
  const appChallenge = (await app.post('/api/v1/auth/sign-in', { email: appEmail, password: PASSWORD })).json?.challenge as string;
  const totp = await app.post('/api/v1/auth/enrolment/totp', { challenge: appChallenge });
  assert.equal(totp.status, 201, totp.text);
  const appDone = await app.post('/api/v1/auth/enrolment/totp/confirm', { challenge: appChallenge, id: totp.json?.id, code: totpCodeAt(totp.json?.secret as string, world.clock.now()) });
  assert.equal(appDone.status, 200, appDone.text);
  assert.equal((appDone.json?.backupCodes as string[]).length, 10);
  assert.deepEqual(appDone.json?.backupCodesEmail, { status: 'unverified', to: appEmail });
  assert.deepEqual(backupCodeMails(smtp, appEmail), []);
});

test('codes an admin makes for someone follow the setting too: emailed to a verified address only, and the admin is told', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const verified = await newMember(world);
  await enrolOwnEmail(smtp, verified.client, verified.email);
  const unverified = await newMember(world);
  await enrolTotp(world, unverified.client);

  // Off: the admin's new set goes to nobody by email.
  const off = await world.admin.post(`/api/v1/users/${verified.userId}/backup-codes`, {});
  assert.equal(off.status, 200, off.text);
  assert.deepEqual(off.json?.email, { status: 'off' });
  assert.deepEqual(backupCodeMails(smtp, verified.email), []);

  assert.equal((await world.admin.request('PUT', `/api/v1/organisations/${world.orgId}/settings`, { emailBackupCodes: true })).status, 200);
  const sent = await world.admin.post(`/api/v1/users/${verified.userId}/backup-codes`, {});
  assert.equal(sent.status, 200, sent.text);
  assert.deepEqual(sent.json?.email, { status: 'sent', to: verified.email });
  const mails = backupCodeMails(smtp, verified.email);
  assert.equal(mails.length, 1);
  for (const code of sent.json?.codes as string[]) assert.ok(mails[0]?.includes(code), `mail lacks ${code}`);

  const refused = await world.admin.post(`/api/v1/users/${unverified.userId}/backup-codes`, {});
  assert.equal(refused.status, 200, refused.text);
  assert.deepEqual(refused.json?.email, { status: 'unverified', to: unverified.email });
  assert.deepEqual(backupCodeMails(smtp, unverified.email), []);

  // The admin page says where the copy went.
  const page = `/admin/users/${verified.userId}`;
  const made = await postForm(world.admin, `${page}/backup-codes`, await hiddenFields(world.admin, page));
  assert.equal(made.status, 200, made.text);
  assert.match(made.text, new RegExp(`a copy of the codes went to ${verified.email.replace('.', '\\.')}`));
  assert.equal(backupCodeMails(smtp, verified.email).length, 2);
});
