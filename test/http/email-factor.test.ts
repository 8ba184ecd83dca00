import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { SYSTEM, bindChannel, codeFromMail, deliveryWorld, smtpConfig, withSmtp } from '../helpers/delivery.js';

test('email factor through a real SMTP server: enrol with the mailed code, then sign in with a new one', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const email = 'dana@example.com';
  await world.server.services.accounts.createUser({ orgId: world.orgId, email, password: PASSWORD }, SYSTEM);
  const client = await signedInClient(world.server, email);

  const started = await client.post('/api/v1/factors/email', {});
  assert.equal(started.status, 201, started.text);
  assert.equal(started.json?.sentTo, 'd•••@example.com');
  const mail = codeFromMail(smtp, email);
  assert.match(mail.subject, /Acme Widgets/);
  assert.match(mail.text, /Acme Widgets/);

  const wrong = await client.post(`/api/v1/factors/email/${started.json?.id}/confirm`, { code: mail.code === '000000' ? '111111' : '000000' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json?.error?.code, 'code_invalid');
  const confirmed = await client.post(`/api/v1/factors/email/${started.json?.id}/confirm`, { code: mail.code });
  assert.equal(confirmed.status, 200, confirmed.text);
  assert.equal((confirmed.json?.backupCodes as string[]).length, 10);
  assert.equal((confirmed.json?.factor as { destination?: string }).destination, 'd•••@example.com');

  const browser = new TestClient(world.server.url);
  const first = await browser.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(first.json?.status, 'second_factor_required');
  assert.deepEqual(first.json?.methods, ['email', 'backup_code']);
  const challenge = first.json?.challenge as string;
  const sent = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'email' });
  assert.equal(sent.status, 200, sent.text);
  const signInCode = codeFromMail(smtp, email).code;
  const done = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'email', code: signInCode });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual((done.json?.amr as string[]).sort(), ['mfa', 'otp', 'pwd']);

  // The same code is spent: a second sign-in flow cannot reuse it.
  const again = await new TestClient(world.server.url).post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  const reuse = await browser.post('/api/v1/auth/second-factor', { challenge: again.json?.challenge, method: 'email', code: signInCode });
  assert.equal(reuse.status, 401);
  assert.equal(reuse.json?.error?.code, 'code_expired');
});
