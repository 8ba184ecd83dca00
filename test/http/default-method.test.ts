import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { SYSTEM, auditEvents, bindChannel, codeFromMail, deliveryWorld, enrolTotp, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

test('a person with several methods chooses the default: the second step opens on it and an email code goes out by itself (pages, and the API when asked)', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const email = 'fox@example.com';
  const user = await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, SYSTEM);
  const client = await signedInClient(world.server, email);
  await enrolTotp(world, client);
  const started = await client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  const emailFactorId = started.json?.id as string;
  const confirmed = await client.post(`/api/v1/factors/email/${emailFactorId}/confirm`, { code: codeFromMail(smtp, email).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  world.clock.advance(31_000);

  // Before any choice: the authenticator comes first and nothing is sent.
  const listed = await client.get('/api/v1/factors');
  assert.deepEqual((listed.json?.factors as Array<{ type: string; default: boolean }>).map((f) => [f.type, f.default]), [['totp', false], ['email', false]]);
  // Codes sent to the person (notices by email are not counted: only code.sent events are).
  const codesSent = async () => (await auditEvents(world.server, 'code.sent', { subjectUserId: user.id })).length;
  const mailsBefore = await codesSent();
  const plain = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD, sendCode: true });
  assert.deepEqual(plain.json?.methods, ['totp', 'email', 'backup_code']);
  assert.equal(plain.json?.codeSent, undefined);
  assert.equal(await codesSent(), mailsBefore, 'no code mailed while the step opens on the authenticator');

  // Refusals change nothing: another person's factor, an unknown one, a malformed id, no session.
  const other = await world.server.services.accounts.createUser({ orgId: world.orgId, email: 'other@example.com', password: PASSWORD }, SYSTEM);
  const otherClient = await signedInClient(world.server, 'other@example.com');
  const otherTotp = await enrolTotp(world, otherClient);
  for (const id of [otherTotp.factorId, randomUUID(), 'not-an-id']) {
    const refused = await client.request('PUT', `/api/v1/factors/${id}/default`);
    assert.equal(refused.status, 404, refused.text);
    assert.equal(refused.json?.error?.code, 'factor_not_found');
  }
  const anonymous = await new TestClient(world.server.url).request('PUT', `/api/v1/factors/${emailFactorId}/default`);
  assert.equal(anonymous.status, 401, anonymous.text);
  assert.deepEqual(await auditEvents(world.server, 'factor.default_chosen', { subjectUserId: user.id }), []);
  assert.deepEqual(await auditEvents(world.server, 'factor.default_chosen', { subjectUserId: other.id }), []);

  // The person makes email the default (the API answers with the list).
  const chosen = await client.request('PUT', `/api/v1/factors/${emailFactorId}/default`);
  assert.equal(chosen.status, 200, chosen.text);
  assert.deepEqual((chosen.json?.factors as Array<{ type: string; default: boolean }>).map((f) => [f.type, f.default]), [['totp', false], ['email', true]]);
  const audited = await auditEvents(world.server, 'factor.default_chosen', { subjectUserId: user.id });
  assert.equal(audited.length, 1);
  assert.equal(audited[0]?.details.factorId, emailFactorId);

  // API: the step opens on email; asked to, it mails the code by itself and says so.
  const api = new TestClient(world.server.url);
  const step = await api.post('/api/v1/auth/sign-in', { email, password: PASSWORD, sendCode: true });
  assert.equal(step.status, 200, step.text);
  assert.deepEqual(step.json?.methods, ['email', 'totp', 'backup_code']);
  const codeSent = step.json?.codeSent as { method: string; factorId: string; sentTo: string; resendAt: string };
  assert.equal(codeSent.method, 'email');
  assert.equal(codeSent.factorId, emailFactorId);
  assert.equal(codeSent.sentTo, 'f••@example.com');
  assert.equal(await codesSent(), mailsBefore + 1);
  const mailed = codeFromMail(smtp, email).code;
  // Still rate limited: no second code within 30 seconds.
  const tooSoon = await api.post('/api/v1/auth/second-factor/send', { challenge: step.json?.challenge, method: 'email' });
  assert.equal(tooSoon.status, 429, tooSoon.text);
  assert.equal(tooSoon.json?.error?.code, 'resend_too_soon');
  const done = await api.post('/api/v1/auth/second-factor', { challenge: step.json?.challenge, method: 'email', code: mailed });
  assert.equal(done.status, 200, done.text);
  // Without sendCode the API sends nothing by itself (clients that ask for the code themselves keep working).
  world.clock.advance(31_000);
  const quiet = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.deepEqual(quiet.json?.methods, ['email', 'totp', 'backup_code']);
  assert.equal(quiet.json?.codeSent, undefined);
  assert.equal(await codesSent(), mailsBefore + 1);

  // Pages: the sign-in form lands on the email step with the code already sent.
  world.clock.advance(31_000);
  const browser = new TestClient(world.server.url);
  const fields = await hiddenFields(browser, '/sign-in');
  const signedIn = await postForm(browser, '/sign-in', { ...fields, email, password: PASSWORD });
  assert.equal(signedIn.status, 303, signedIn.text);
  assert.equal(signedIn.headers.get('location'), `/sign-in/second-factor?method=email&sent=${emailFactorId}`);
  assert.equal(await codesSent(), mailsBefore + 2);

  // The Security page marks the default and offers the other method as the new default.
  const page = await client.get('/account/security');
  assert.match(page.text, /<span class="badge">Default<\/span>/);
  assert.equal([...page.text.matchAll(/action="\/account\/security\/factors\/[\w-]+\/default"/g)].length, 1);
  const totpId = (listed.json?.factors as Array<{ id: string; type: string }>).find((f) => f.type === 'totp')?.id as string;
  const { _csrf } = await hiddenFields(client, '/account/security');
  const back = await postForm(client, `/account/security/factors/${totpId}/default`, { _csrf: _csrf ?? '' });
  assert.equal(back.status, 200, back.text);
  assert.match(back.text, /Your second step now opens on/);
  const reordered = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD, sendCode: true });
  assert.deepEqual(reordered.json?.methods, ['totp', 'email', 'backup_code']);
  assert.equal(reordered.json?.codeSent, undefined);
  // A form post without its token changes nothing.
  const forged = await postForm(client, `/account/security/factors/${emailFactorId}/default`, {});
  assert.equal(forged.status, 403, forged.text);
  assert.equal(((await client.get('/api/v1/factors')).json?.factors as Array<{ id: string; default: boolean }>).find((f) => f.default)?.id, totpId);
});

test('the API says what the pages do after an administrator reset: the signed-in answer carries setUpAgain until a method is set up', async (t) => {
  const world = await deliveryWorld(t);
  const email = 'mulder@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, SYSTEM);
  const client = await signedInClient(world.server, email);
  const before = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(before.json?.status, 'signed_in');
  assert.equal(before.json?.setUpAgain, undefined, 'never had a method: nothing to set up again');
  const user = (await client.get('/api/v1/session')).json?.user as { id: string };
  await enrolTotp(world, client);

  const reset = await world.admin.post(`/api/v1/users/${user.id}/reset-factors`);
  assert.equal(reset.status, 200, reset.text);
  const browser = new TestClient(world.server.url);
  const after = await browser.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(after.status, 200, after.text);
  assert.equal(after.json?.status, 'signed_in');
  assert.equal(after.json?.setUpAgain, true);
  // The page face of the same sign-in opens the set-up-again page.
  const pageBrowser = new TestClient(world.server.url);
  const fields = await hiddenFields(pageBrowser, '/sign-in');
  const form = await postForm(pageBrowser, '/sign-in', { ...fields, email, password: PASSWORD });
  assert.equal(form.headers.get('location'), '/account/set-up-again');

  // Once a method is set up again, the signal is gone.
  await enrolTotp(world, browser);
  const later = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(later.json?.status, 'second_factor_required');
  assert.equal(later.json?.setUpAgain, undefined);
});
