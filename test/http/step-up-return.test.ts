import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, createMember, freshCode, serverWithEnrolledMember, signedInClient } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { startTestServer } from '../helpers/server.js';

const MINUTE = 60_000;

test('removing a method outside the re-authentication window: confirm it is you, come back to the removal, confirm it, done', async (t) => {
  const { clock, server, member } = await serverWithEnrolledMember(t);
  const browser = member.client;
  const removal = `/account/security/factors/${member.factorId}/remove`;
  clock.advance(server.config.reauthMinutes * MINUTE + 1_000);

  // The Security page links to the removal step; outside the window that step sends the person to confirm first.
  const security = await browser.get('/account/security');
  assert.ok(security.text.includes(`href="${removal}"`), 'Remove leads to its own step');
  const asked = await browser.get(removal);
  assert.equal(asked.status, 303, asked.text);
  const reauthUrl = asked.headers.get('location')!;
  assert.equal(reauthUrl, `/reauthenticate?next=${encodeURIComponent(removal)}&ask=code`);

  // A form posted from a stale page goes the same way, and removes nothing.
  const { _csrf } = await hiddenFields(browser, '/account/security');
  const stale = await postForm(browser, removal, { _csrf: _csrf! });
  assert.equal(stale.status, 303);
  assert.equal(stale.headers.get('location'), reauthUrl);
  assert.equal(((await browser.get('/api/v1/factors')).json?.factors as unknown[]).length, 1);

  // The re-authentication page asks for a code (not the password) and carries the removal as its return address.
  const reauthPage = await browser.get(reauthUrl);
  assert.equal(reauthPage.status, 200, reauthPage.text);
  assert.doesNotMatch(reauthPage.text, /name="password"/);
  const fields = await hiddenFields(browser, reauthUrl);
  assert.equal(fields.next, removal);
  const proved = await postForm(browser, '/reauthenticate', { _csrf: fields._csrf!, next: fields.next!, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(proved.status, 303, proved.text);
  assert.equal(proved.headers.get('location'), removal, 'back to the very action asked for');

  // The removal step is a confirmation of the destructive action: it says what happens and posts it.
  const confirmPage = await browser.get(removal);
  assert.equal(confirmPage.status, 200, confirmPage.text);
  assert.match(confirmPage.text, /Remove “Phone”\?/);
  assert.match(confirmPage.text, /two-step verification turns off/);
  assert.ok(confirmPage.text.includes(`action="${removal}"`));
  assert.equal(((await browser.get('/api/v1/factors')).json?.factors as unknown[]).length, 1, 'nothing removed before the confirmation');
  const done = await postForm(browser, removal, { _csrf: (await hiddenFields(browser, removal))._csrf! });
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /The method was removed\./);
  assert.equal(((await browser.get('/api/v1/factors')).json?.factors as unknown[]).length, 0);
});

test('new backup codes: outside the window the person confirms first and returns to a confirmation that says the old codes stop working', async (t) => {
  const { clock, server, member } = await serverWithEnrolledMember(t);
  const browser = member.client;
  clock.advance(server.config.reauthMinutes * MINUTE + 1_000);
  const asked = await browser.get('/account/security/backup-codes/new');
  assert.equal(asked.status, 303);
  const fields = await hiddenFields(browser, asked.headers.get('location')!);
  const proved = await postForm(browser, '/reauthenticate', { _csrf: fields._csrf!, next: fields.next!, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(proved.headers.get('location'), '/account/security/backup-codes/new');
  const confirmPage = await browser.get('/account/security/backup-codes/new');
  assert.match(confirmPage.text, /Your 10 unused backup codes stop working at once/);
  const made = await postForm(browser, '/account/security/backup-codes', { _csrf: (await hiddenFields(browser, '/account/security/backup-codes/new'))._csrf! });
  assert.equal(made.status, 200, made.text);
  assert.equal((made.text.match(/data-backup-code/g) ?? []).length, 10);
  assert.ok(!made.text.includes(member.backupCodes[0]!), 'a new set');
});

test('TWOFOLD_ADMIN_REAUTH_MINUTES sets the admin window apart from the person’s own', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock, env: { TWOFOLD_ADMIN_REAUTH_MINUTES: '15' } });
  t.after(() => server.close());
  assert.equal(server.config.adminReauthMinutes, 15);
  const member = await createMember(server);
  const org = member.user.org_id;
  const admins = await server.services.accounts.createUser({ orgId: org, email: 'boss@example.com', password: PASSWORD, roles: ['admin'] }, { userId: null, meta: null });
  const admin = await signedInClient(server, admins.email);
  const policy = () => admin.get(`/api/v1/organisations/${org}/policy`);
  assert.equal((await policy()).status, 200);
  clock.advance(10 * MINUTE); // past the person's 5 minutes, inside the admin's 15
  assert.equal((await policy()).status, 200);
  clock.advance(6 * MINUTE);
  const stale = await policy();
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
});
