/**
 * Forgotten password through the HTML forms, with the link read out of a real SMTP server:
 * the same answer for every address, a link that works once, every session ended, a notice
 * afterwards, and the second factor still asked for.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail } from '../delivery/peers.js';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { SYSTEM, auditEvents, bindChannel, deliveryWorld, eventually, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const NEW_PASSWORD = 'a brand new passphrase 2026';

function visible(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function alertText(html: string): string {
  const m = /<div class="alert error" role="alert">([\s\S]*?)<\/div>/.exec(html);
  return m ? visible(m[1]!).trim() : '';
}

/** Mails to `to` whose subject matches, parsed. */
function mailsTo(smtp: SmtpPeer, to: string, subject: RegExp) {
  return smtp.received
    .filter((m) => m.rcptTo.includes(to))
    .map((m) => parseMail(m.raw))
    .filter((m) => subject.test(m.headers.get('subject') ?? ''));
}

async function requestReset(browser: TestClient, email: string) {
  const { _csrf } = await hiddenFields(browser, '/forgot-password');
  return postForm(browser, '/forgot-password', { _csrf: _csrf!, email });
}

test('forgotten password by email: the link sets a new password once, ends every session, sends a notice, and 2FA is still asked', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const email = 'gwen@example.com';
  const user = await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, SYSTEM);

  // Gwen has an authenticator app, and two live sessions.
  const oldClient = await signedInClient(world.server, email);
  const started = await oldClient.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(started.status, 201, started.text);
  const confirmed = await oldClient.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(started.json?.secret as string, world.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  const secondOld = new TestClient(world.server.url);
  const step = await secondOld.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(step.json?.status, 'second_factor_required');
  const backup = await secondOld.post('/api/v1/auth/second-factor', { challenge: step.json?.challenge, method: 'backup_code', code: (confirmed.json?.backupCodes as string[])[0] });
  assert.equal(backup.status, 200, backup.text);

  const browser = new TestClient(world.server.url);
  const signIn = await browser.get('/sign-in');
  assert.match(signIn.text, /<a href="\/forgot-password">Forgot your password\?<\/a>/);

  const answer = await requestReset(browser, email);
  assert.equal(answer.status, 200, answer.text);
  assert.match(visible(answer.text), /If an account uses that address, a link is on its way\./);

  const [mail] = await eventually(() => {
    const found = mailsTo(smtp, email, /reset your password/);
    return found.length > 0 ? found : undefined;
  }, 'the reset mail');
  assert.equal(mail!.headers.get('subject'), 'Acme Widgets: reset your password');
  // The link names the configured public URL; test servers are configured before their port is known.
  const link = /http:\/\/127\.0\.0\.1:\d+\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(mail!.text ?? '');
  assert.ok(link, `no link in: ${mail!.text}`);
  const token = link[1]!;

  const form = await browser.get(`/reset-password?token=${token}`);
  assert.equal(form.status, 200);
  assert.match(form.text, /Choose a new password/);
  assert.ok(form.text.includes(email));
  const fields = await hiddenFields(browser, `/reset-password?token=${token}`);
  assert.equal(fields.token, token);

  const mismatch = await postForm(browser, '/reset-password', { ...fields, password: NEW_PASSWORD, confirmPassword: `${NEW_PASSWORD}!` });
  assert.equal(mismatch.status, 400);
  assert.match(alertText(mismatch.text), /not the same/);
  const weak = await postForm(browser, '/reset-password', { ...fields, password: 'password1', confirmPassword: 'password1' });
  assert.equal(weak.status, 400);
  assert.ok(alertText(weak.text).length > 0);
  assert.match(weak.text, /name="token" value="/, 'the form is offered again');
  assert.equal((await oldClient.get('/api/v1/session')).status, 200, 'refusals change nothing');

  const done = await postForm(browser, '/reset-password', { ...fields, password: NEW_PASSWORD, confirmPassword: NEW_PASSWORD });
  assert.equal(done.status, 200, alertText(done.text));
  assert.match(done.text, /Password changed/);
  assert.match(visible(done.text), /you will still be asked for your second factor/);

  assert.equal((await oldClient.get('/api/v1/session')).status, 401, 'the old session has ended');
  assert.equal((await secondOld.get('/api/v1/session')).status, 401, 'so has the other one');

  const [notice] = await eventually(() => {
    const found = mailsTo(smtp, email, /password was reset/i);
    return found.length > 0 ? found : undefined;
  }, 'the notice mail');
  assert.match(notice!.headers.get('subject') ?? '', /^Acme Widgets: /);

  const fresh = new TestClient(world.server.url);
  assert.equal((await fresh.post('/api/v1/auth/sign-in', { email, password: PASSWORD })).status, 401, 'the old password is gone');
  const again = await fresh.post('/api/v1/auth/sign-in', { email, password: NEW_PASSWORD });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json?.status, 'second_factor_required');

  // Once only.
  const reused = await browser.get(`/reset-password?token=${token}`);
  assert.equal(reused.status, 410);
  assert.match(visible(reused.text), /This link has expired or was used/);
  assert.doesNotMatch(reused.text, /name="password"/);
  const replay = await postForm(browser, '/reset-password', { ...fields, password: 'yet another passphrase 99', confirmPassword: 'yet another passphrase 99' });
  assert.equal(replay.status, 410);
  assert.equal((await fresh.post('/api/v1/auth/sign-in', { email, password: NEW_PASSWORD })).json?.status, 'second_factor_required');

  // A link that was never issued reads like a spent one: 410, the same code and page.
  const garbage = await browser.get('/reset-password?token=not-a-real-token-at-all-xyz');
  assert.equal(garbage.status, 410);
  assert.match(visible(garbage.text), /This link has expired or was used/);
  assert.equal((await auditEvents(world.server, 'password_reset.completed', { subjectUserId: user.id })).length, 1);
});

test('an unknown address gets the identical page and no mail; asking too often is refused with a message', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const known = 'hana@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email: known, password: PASSWORD }, SYSTEM);
  const unknown = 'nobody-here@example.com';

  const browser = new TestClient(world.server.url);
  const forKnown = await requestReset(browser, known);
  const forUnknown = await requestReset(browser, unknown);
  assert.equal(forUnknown.status, forKnown.status);
  assert.equal(forUnknown.text, forKnown.text, 'the same page, byte for byte');

  await eventually(() => (mailsTo(smtp, known, /reset your password/).length > 0 ? true : undefined), 'the mail to the known address');
  // Give a stray mail time to arrive before saying there is none.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(smtp.received.filter((m) => m.rcptTo.includes(unknown)).length, 0);
  const tokens = await world.server.runtime.database.db.selectFrom('password_reset_tokens').select('user_id').execute();
  assert.equal(tokens.length, 1);

  // Five requests an hour per address: the sixth is refused, and the page says why.
  for (let i = 0; i < 4; i++) assert.equal((await requestReset(browser, unknown)).status, 200);
  const limited = await requestReset(browser, unknown);
  assert.equal(limited.status, 429);
  assert.match(alertText(limited.text), /Too many reset requests/);
  assert.match(limited.text, new RegExp(`value="${unknown}"`), 'the address stays in the field');
});
