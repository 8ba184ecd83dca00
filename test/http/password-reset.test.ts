import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { RESET_REQUESTS_PER_ADDRESS } from '../../src/services/password-reset.js';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail } from '../delivery/peers.js';
import { PASSWORD } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { auditEvents, bindChannel, deliveryWorld, enrolTotp, eventually, newMember, smtpConfig, withSmtp } from '../helpers/delivery.js';

const NEW_PASSWORD = 'a brand new passphrase for 2025';

async function resetWorld(t: { after(fn: () => Promise<void>): void }) {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  return { world, smtp };
}

function mailsTo(smtp: SmtpPeer, to: string) {
  return smtp.received.filter((m) => m.rcptTo.includes(to)).map((m) => parseMail(m.raw));
}

/** Asks for a link and reads the token out of the mail that arrives (after the answer). */
async function requestLink(world: DeliveryWorld, smtp: SmtpPeer, email: string): Promise<{ token: string; link: string; subject: string }> {
  const already = mailsTo(smtp, email).length;
  const res = await new TestClient(world.server.url).post('/api/v1/auth/password-reset', { email });
  assert.equal(res.status, 202, res.text);
  const mail = await eventually(() => mailsTo(smtp, email)[already], `reset mail to ${email}`);
  const link = /(http:\/\/\S+\/reset-password\?token=\S+)/.exec(mail.text ?? '')?.[1];
  assert.ok(link, `a link in: ${mail.text}`);
  return { token: new URL(link).searchParams.get('token') ?? '', link, subject: mail.headers.get('subject') ?? '' };
}

function complete(world: DeliveryWorld, token: string, password: string) {
  return new TestClient(world.server.url).post('/api/v1/auth/password-reset/complete', { token, password });
}

test('the request answers the same for a known and an unknown address; only the known one gets mail', async (t) => {
  const { world, smtp } = await resetWorld(t);
  const member = await newMember(world);
  const anonymous = new TestClient(world.server.url);

  const unknown = await anonymous.post('/api/v1/auth/password-reset', { email: 'nobody-here@example.com' });
  const known = await anonymous.post('/api/v1/auth/password-reset', { email: member.email.toUpperCase() });
  assert.equal(unknown.status, 202);
  assert.equal(known.status, 202);
  assert.equal(known.text, unknown.text, 'identical bodies');
  assert.equal(known.headers.get('content-type'), unknown.headers.get('content-type'));

  const mail = await eventually(() => mailsTo(smtp, member.email)[0], 'the reset mail');
  assert.match(mail.headers.get('subject') ?? '', /Acme Widgets: reset your password/);
  const link = /(\S+\/reset-password\?token=\S+)/.exec(mail.text ?? '')?.[1] ?? '';
  assert.ok(link.startsWith(`${world.server.config.publicUrl}/reset-password?token=`), link);
  assert.ok((new URL(link).searchParams.get('token') ?? '').length >= 40, 'a long random token');
  assert.match(mail.text ?? '', /expires in 30 minutes/);
  assert.equal(mailsTo(smtp, 'nobody-here@example.com').length, 0);
  assert.equal(smtp.received.length, 1);

  // The token is stored hashed only.
  const rows = await world.server.runtime.database.db.selectFrom('password_reset_tokens').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(new URL(link).searchParams.get('token') ?? 'x'));
  assert.equal((await auditEvents(world.server, 'password_reset.requested', { subjectUserId: member.userId })).length, 1);
});

test('completing a reset: weak password refused (link still good), then the new password works once, everything else is signed out', async (t) => {
  const { world, smtp } = await resetWorld(t);
  const member = await newMember(world);
  const totp = await enrolTotp(world, member.client);
  // A trusted browser from before the reset.
  const trusted = new TestClient(world.server.url);
  const first = await trusted.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  const trustedSignIn = await trusted.post('/api/v1/auth/second-factor', { challenge: first.json?.challenge, method: 'totp', code: totpCodeAt(totp.secret, world.clock.now()), trustBrowser: true });
  assert.equal(trustedSignIn.status, 200, trustedSignIn.text);
  world.clock.advance(30_000);
  assert.equal((await member.client.get('/api/v1/factors')).status, 200);

  const { token } = await requestLink(world, smtp, member.email);
  const weak = await complete(world, token, 'short');
  assert.equal(weak.status, 400, weak.text);
  assert.equal(weak.json?.error?.code, 'password_too_short');
  const common = await complete(world, token, 'password123');
  assert.equal(common.status, 400, common.text);

  const done = await complete(world, token, NEW_PASSWORD);
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json?.status, 'password_changed');

  const twice = await complete(world, token, `${NEW_PASSWORD} again`);
  assert.equal(twice.status, 410, twice.text);
  assert.equal(twice.json?.error?.code, 'reset_link_invalid');

  // Every session ended, every trusted browser forgotten.
  assert.equal((await member.client.get('/api/v1/factors')).status, 401);
  assert.equal((await trusted.get('/api/v1/factors')).status, 401);
  const browsers = await world.server.runtime.database.db.selectFrom('trusted_browsers').selectAll().where('user_id', '=', member.userId).execute();
  assert.ok(browsers.length > 0 && browsers.every((b) => b.revoked_at !== null));

  // The old password is gone; the new one still needs the second factor, even in the once-trusted browser.
  assert.equal((await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD })).status, 401);
  const again = await trusted.post('/api/v1/auth/sign-in', { email: member.email, password: NEW_PASSWORD });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json?.status, 'second_factor_required');
  assert.deepEqual(again.json?.methods, ['totp', 'backup_code']);
  const signedIn = await trusted.post('/api/v1/auth/second-factor', { challenge: again.json?.challenge, method: 'totp', code: totpCodeAt(totp.secret, world.clock.now()) });
  assert.equal(signedIn.status, 200, signedIn.text);

  // A notice tells the owner.
  const notice = mailsTo(smtp, member.email).find((m) => /reset/i.test(m.headers.get('subject') ?? '') && /password was reset/i.test(m.text ?? ''));
  assert.ok(notice, 'a "your password was reset" notice');
  assert.match(notice.text ?? '', /signed out everywhere/);

  const completed = await auditEvents(world.server, 'password_reset.completed', { subjectUserId: member.userId });
  assert.equal(completed.length, 1);
  assert.ok((completed[0]?.details.endedSessions as number) >= 2);
  assert.equal(completed[0]?.details.revokedBrowsers, 1);
});

test('links expire after 30 minutes, a newer link voids the older one, and made-up tokens are refused', async (t) => {
  const { world, smtp } = await resetWorld(t);
  const member = await newMember(world);

  const old = await requestLink(world, smtp, member.email);
  const fresh = await requestLink(world, smtp, member.email);
  assert.notEqual(old.token, fresh.token);
  const superseded = await complete(world, old.token, NEW_PASSWORD);
  assert.equal(superseded.status, 410, superseded.text);
  assert.equal(superseded.json?.error?.code, 'reset_link_invalid');

  world.clock.advance(30 * 60_000);
  const expired = await complete(world, fresh.token, NEW_PASSWORD);
  assert.equal(expired.status, 410, expired.text);
  assert.equal(expired.json?.error?.code, 'reset_link_invalid');

  // A made-up token gets the same code and status as a spent or expired one (one code, one status).
  const madeUp = await complete(world, 'x'.repeat(43), NEW_PASSWORD);
  assert.equal(madeUp.status, 410, madeUp.text);
  assert.equal(madeUp.json?.error?.code, 'reset_link_invalid');
  const short = await complete(world, 'short', NEW_PASSWORD);
  assert.equal(short.status, 410, short.text);
  assert.equal(short.json?.error?.code, 'reset_link_invalid');

  // The password never changed.
  const signIn = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(signIn.json?.status, 'signed_in');
  assert.deepEqual(await auditEvents(world.server, 'password_reset.completed', { subjectUserId: member.userId }), []);
});

test(`at most ${RESET_REQUESTS_PER_ADDRESS.max} requests an hour per address, known or not; then 429 and no mail`, async (t) => {
  const { world, smtp } = await resetWorld(t);
  const member = await newMember(world);
  const anonymous = new TestClient(world.server.url);

  for (let i = 0; i < RESET_REQUESTS_PER_ADDRESS.max; i++) await requestLink(world, smtp, member.email);
  const mails = smtp.received.length;
  assert.equal(mails, RESET_REQUESTS_PER_ADDRESS.max);
  const limited = await anonymous.post('/api/v1/auth/password-reset', { email: member.email });
  assert.equal(limited.status, 429, limited.text);
  assert.equal(limited.json?.error?.code, 'too_many_requests');
  assert.ok(Number(limited.headers.get('retry-after')) > 0);

  // An unknown address is limited in exactly the same way, so the 429 tells nothing either.
  for (let i = 0; i < RESET_REQUESTS_PER_ADDRESS.max; i++) assert.equal((await anonymous.post('/api/v1/auth/password-reset', { email: 'ghost@example.com' })).status, 202);
  const ghost = await anonymous.post('/api/v1/auth/password-reset', { email: 'ghost@example.com' });
  assert.equal(ghost.status, 429);
  assert.equal(ghost.text.replace(/\d+/g, 'N'), limited.text.replace(/\d+/g, 'N'));

  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(smtp.received.length, mails, 'no mail once limited');
  assert.equal((await auditEvents(world.server, 'password_reset.requested', { subjectUserId: member.userId })).length, RESET_REQUESTS_PER_ADDRESS.max);

  world.clock.advance(RESET_REQUESTS_PER_ADDRESS.windowMs);
  await requestLink(world, smtp, member.email);
});

test('one link completed twice at the same moment changes the password once', async (t) => {
  const { world, smtp } = await resetWorld(t);
  const member = await newMember(world);
  const { token } = await requestLink(world, smtp, member.email);
  const results = await Promise.all([complete(world, token, NEW_PASSWORD), complete(world, token, `${NEW_PASSWORD} but different`)]);
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 410], results.map((r) => r.text).join('\n'));
  assert.equal((await auditEvents(world.server, 'password_reset.completed', { subjectUserId: member.userId })).length, 1);
  // Whichever won, its password is the one that works.
  const winner = results[0]?.status === 200 ? NEW_PASSWORD : `${NEW_PASSWORD} but different`;
  const signIn = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: winner });
  assert.equal(signIn.json?.status, 'signed_in', signIn.text);
});

test('a completed reset clears the lock that failed passwords put on password sign-in for that account (issue 15)', async (t) => {
  const { world, smtp } = await resetWorld(t);
  const member = await newMember(world);
  const guesser = new TestClient(world.server.url);
  const statuses: number[] = [];
  for (let i = 0; i < 10; i++) statuses.push((await guesser.post('/api/v1/auth/sign-in', { email: member.email, password: `wrong guess ${i}` })).status);
  assert.deepEqual([...new Set(statuses)], [401]);
  const locked = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(locked.status, 429, 'even the right password is refused while locked');

  const { token } = await requestLink(world, smtp, member.email);
  assert.equal((await complete(world, token, NEW_PASSWORD)).status, 200);
  const after = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: NEW_PASSWORD });
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json?.status, 'signed_in');
  const [event] = await auditEvents(world.server, 'password_reset.completed', { subjectUserId: member.userId });
  assert.equal(event?.details.clearedSignInLock, true);
});
