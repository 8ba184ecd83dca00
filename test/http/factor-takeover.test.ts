/**
 * Security finding 1: a stolen session cookie alone must not take over the second factor.
 * The attack chain was: add an authenticator (no re-authentication asked), confirm it,
 * re-authenticate with it, regenerate backup codes, delete the owner's factors, with no email
 * to the owner. Each step is tried here and must stop at the first; every factor added or
 * removed by the owner is emailed to them (real SMTP capture).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCodeAt } from '../../src/core/totp.js';
import { PASSWORD, freshCode, passwordStep } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { bindChannel, deliveryWorld, newMember, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { parseMail } from '../delivery/peers.js';
import type { SmtpPeer } from '../delivery/peers.js';

const MINUTE = 60_000;

function mailsTo(smtp: SmtpPeer, to: string): Array<{ subject: string; text: string }> {
  return smtp.received.filter((m) => m.rcptTo.includes(to)).map((m) => {
    const parsed = parseMail(m.raw);
    return { subject: parsed.headers.get('subject') ?? '', text: parsed.text ?? '' };
  });
}

async function waitForMail(smtp: SmtpPeer, to: string, subject: RegExp): Promise<{ subject: string; text: string }> {
  for (let i = 0; i < 100; i++) {
    const found = mailsTo(smtp, to).find((m) => subject.test(m.subject) || subject.test(m.text));
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`no mail matching ${subject} to ${to}; got ${JSON.stringify(mailsTo(smtp, to).map((m) => m.subject))}`);
}

/** A member with an authenticator, signed in with password and code; the session is then left to age. */
async function victim(t: Parameters<typeof deliveryWorld>[0]) {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);
  const started = await member.client.post('/api/v1/factors/totp', { label: 'Owner phone' });
  assert.equal(started.status, 201, started.text);
  const secret = started.json?.secret as string;
  const factorId = started.json?.id as string;
  const confirmed = await member.client.post(`/api/v1/factors/totp/${factorId}/confirm`, { code: totpCodeAt(secret, world.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  await waitForMail(smtp, member.email, /Two-step verification is on/);
  // A full sign-in, password and code, then the cookie is stolen and used a while later.
  const stolen = new TestClient(world.server.url);
  const challenge = await passwordStep(stolen, member.email);
  const done = await stolen.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(secret, world.clock) });
  assert.equal(done.status, 200, done.text);
  world.clock.advance(11 * MINUTE); // past TWOFOLD_REAUTH_MINUTES (5) and the 10-minute settling, inside the idle timeout
  return { world, smtp, member, secret, factorId, stolen };
}

test('a stolen session cookie cannot add a factor of any kind, remove one, or regenerate backup codes', async (t) => {
  const { world, member, factorId, stolen } = await victim(t);
  const attempts = [
    () => stolen.post('/api/v1/factors/totp', { label: 'Thief' }),
    () => stolen.post('/api/v1/factors/sms', { country: 'US', number: '201 555 0123' }),
    () => stolen.post('/api/v1/factors/email', { email: 'thief@example.net' }),
    () => stolen.request('DELETE', `/api/v1/factors/${factorId}`),
    () => stolen.post('/api/v1/backup-codes', {}),
  ];
  for (const attempt of attempts) {
    const res = await attempt();
    assert.equal(res.status, 403, res.text);
    assert.equal(res.json?.error?.code, 'reauthentication_required');
  }
  const rows = await world.server.runtime.database.db.selectFrom('factors').select(['id', 'status']).where('user_id', '=', member.userId).execute();
  assert.deepEqual(rows, [{ id: factorId, status: 'active' }], 'nothing was added or removed');
});

test('a password alone (re-entered, or a trusted-browser sign-in) does not unlock adding or removing a factor when one is held', async (t) => {
  const { factorId, stolen } = await victim(t);
  const reauth = await stolen.post('/api/v1/auth/reauthenticate', { password: PASSWORD });
  assert.equal(reauth.status, 200, reauth.text);
  const added = await stolen.post('/api/v1/factors/totp', { label: 'Thief' });
  assert.equal(added.status, 403, added.text);
  assert.deepEqual((added.json?.error as { details?: unknown } | undefined)?.details, { missing: ['second_factor'] });
  const removed = await stolen.request('DELETE', `/api/v1/factors/${factorId}`);
  assert.equal(removed.status, 403, removed.text);
});

test('the owner proves a current factor, adds and removes methods, and is emailed for each change', async (t) => {
  const { world, smtp, member, secret, stolen: owner } = await victim(t);
  const reauth = await owner.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(secret, world.clock) });
  assert.equal(reauth.status, 200, reauth.text);

  const second = await owner.post('/api/v1/factors/totp', { label: 'Tablet' });
  assert.equal(second.status, 201, second.text);
  const tabletSecret = second.json?.secret as string;
  const on = await owner.post(`/api/v1/factors/totp/${second.json?.id as string}/confirm`, { code: freshCode(tabletSecret, world.clock) });
  assert.equal(on.status, 200, on.text);
  const addedMail = await waitForMail(smtp, member.email, /A sign-in method was added/);
  assert.match(addedMail.text, /Tablet/);
  assert.match(addedMail.text, /\/account\/security/, 'the notice links to the security page');

  const removed = await owner.request('DELETE', `/api/v1/factors/${second.json?.id as string}`);
  assert.equal(removed.status, 204, removed.text);
  const removedMail = await waitForMail(smtp, member.email, /A sign-in method was removed/);
  assert.match(removedMail.text, /Tablet/);
});

test('a factor added minutes ago cannot re-authenticate while an older one exists; after 10 minutes it can', async (t) => {
  const { world, secret, stolen: owner } = await victim(t);
  assert.equal((await owner.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(secret, world.clock) })).status, 200);
  const second = await owner.post('/api/v1/factors/totp', { label: 'Tablet' });
  const tabletSecret = second.json?.secret as string;
  assert.equal((await owner.post(`/api/v1/factors/totp/${second.json?.id as string}/confirm`, { code: freshCode(tabletSecret, world.clock) })).status, 200);

  const tooSoon = await owner.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(tabletSecret, world.clock) });
  assert.equal(tooSoon.status, 401, tooSoon.text);
  assert.equal(tooSoon.json?.error?.code, 'code_invalid');

  // The older authenticator still works at the same moment.
  const older = await owner.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(secret, world.clock) });
  assert.equal(older.status, 200, older.text);

  world.clock.advance(10 * MINUTE);
  // Keep the session alive: idle timeout is 30 minutes, and the step has moved on.
  const settled = await owner.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(tabletSecret, world.clock) });
  assert.equal(settled.status, 200, settled.text);
});
