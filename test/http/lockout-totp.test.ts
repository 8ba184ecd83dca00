import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCodeAt } from '../../src/core/totp.js';
import { TestClient } from '../helpers/client.js';
import { PASSWORD, auditTypes, freshCode, passwordStep, userRow, wrongCode, serverWithEnrolledMember } from '../helpers/authenticator.js';

const SECOND = 1000;

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const { clock, server, member } = await serverWithEnrolledMember(t);
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, member.email);
  const attempt = (code: string, flow = challenge) => client.post('/api/v1/auth/second-factor', { challenge: flow, method: 'totp', code });
  const wrong = () => attempt(wrongCode(member.secret, clock.now()));
  return { clock, server, member, client, challenge, attempt, wrong };
}

function assertLocked(res: { status: number; headers: Headers; json?: { error?: { code: string } } | undefined }, retryAfter: number) {
  assert.equal(res.status, 429);
  assert.equal(res.json?.error?.code, 'second_factor_locked');
  assert.equal(res.headers.get('retry-after'), String(retryAfter));
}

test('5 wrong codes are free, then 60 s lock; after it one more try, then 120 s, then 240 s', async (t) => {
  const { clock, server, member, attempt, wrong } = await setup(t);
  for (let i = 1; i <= 5; i++) {
    const res = await wrong();
    assert.equal(res.status, 401, `attempt ${i}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json?.error?.code, 'code_invalid');
  }
  // Locked: even the right code is not looked at.
  const valid = totpCodeAt(member.secret, clock.now());
  assertLocked(await attempt(valid), 60);
  assert.equal((await userRow(server, member.user.id)).second_factor_failures, 5);
  clock.advance(30 * SECOND);
  assertLocked(await wrong(), 30);

  clock.advance(30 * SECOND);
  assert.equal((await wrong()).status, 401, 'one attempt after the lock');
  assertLocked(await wrong(), 120);
  clock.advance(119 * SECOND);
  assertLocked(await wrong(), 1);
  clock.advance(1 * SECOND);
  assert.equal((await wrong()).status, 401);
  assertLocked(await wrong(), 240);

  const types = await auditTypes(server, member.user.id);
  assert.equal(types.filter((e) => e === 'second_factor.failed').length, 7);
  assert.equal(types.filter((e) => e === 'second_factor.locked_out').length, 3);
  assert.equal((await userRow(server, member.user.id)).second_factor_failures, 7);
});

test('the lock covers every sign-in of the account, not just one flow', async (t) => {
  const { server, clock, member, wrong } = await setup(t);
  for (let i = 0; i < 5; i++) assert.equal((await wrong()).status, 401);
  const other = new TestClient(server.url, { 'user-agent': 'another browser' });
  const res = await other.post('/api/v1/auth/second-factor', { challenge: await passwordStep(other, member.email), method: 'totp', code: freshCode(member.secret, clock) });
  assertLocked(res, 30);
});

test('a valid backup code during the lock signs in and clears the lock', async (t) => {
  const { server, clock, member, challenge, attempt, wrong, client } = await setup(t);
  for (let i = 0; i < 5; i++) assert.equal((await wrong()).status, 401);
  assertLocked(await attempt(totpCodeAt(member.secret, clock.now())), 60);

  const res = await client.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: member.backupCodes[0] });
  assert.equal(res.status, 200, res.text);
  const row = await userRow(server, member.user.id);
  assert.equal(row.second_factor_failures, 0);
  assert.equal(row.second_factor_locked_until, null);

  // The authenticator works again at once.
  const next = new TestClient(server.url);
  const ok = await next.post('/api/v1/auth/second-factor', { challenge: await passwordStep(next, member.email), method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(ok.status, 200, ok.text);
});

test('wrong codes from another device stay counted when the owner signs in: the owner forgives only their own', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const attacker = new TestClient(server.url, { 'user-agent': 'attacker-tool/1.0' });
  const attackerFlow = await passwordStep(attacker, member.email);
  for (let i = 0; i < 5; i++) {
    assert.equal((await attacker.post('/api/v1/auth/second-factor', { challenge: attackerFlow, method: 'totp', code: wrongCode(member.secret, clock.now()) })).status, 401);
  }
  const locked = await userRow(server, member.user.id);
  assert.equal(locked.second_factor_failures, 5);
  assert.notEqual(locked.second_factor_locked_until, null);

  // The owner, on their own browser, gets in with a backup code (not gated by the lock)...
  const owner = new TestClient(server.url, { 'user-agent': 'owner-browser/1.0' });
  const ok = await owner.post('/api/v1/auth/second-factor', { challenge: await passwordStep(owner, member.email), method: 'backup_code', code: member.backupCodes[0] });
  assert.equal(ok.status, 200, ok.text);
  // ...which does not hand the attacker fresh guesses: their five failures and the lock stay.
  const after = await userRow(server, member.user.id);
  assert.equal(after.second_factor_failures, 5);
  assert.equal(after.second_factor_locked_until, locked.second_factor_locked_until);
  assertLocked(await attacker.post('/api/v1/auth/second-factor', { challenge: await passwordStep(attacker, member.email), method: 'totp', code: freshCode(member.secret, clock) }), 30); // freshCode moved the clock on 30 s
});

test('a correct code resets the count of wrong ones', async (t) => {
  const { server, clock, member, attempt, wrong } = await setup(t);
  for (let i = 0; i < 4; i++) assert.equal((await wrong()).status, 401);
  assert.equal((await attempt(freshCode(member.secret, clock))).status, 200);
  assert.equal((await userRow(server, member.user.id)).second_factor_failures, 0);

  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, member.email);
  for (let i = 0; i < 4; i++) {
    const res = await attempt(wrongCode(member.secret, clock.now()), challenge);
    assert.equal(res.status, 401, 'still within the free budget');
  }
});

test('wrong re-authentication codes count toward the same lock', async (t) => {
  const { clock, member, wrong } = await setup(t);
  for (let i = 0; i < 3; i++) assert.equal((await wrong()).status, 401);
  const reauth = (code: string) => member.client.post('/api/v1/auth/reauthenticate', { method: 'totp', code });
  for (let i = 0; i < 2; i++) assert.equal((await reauth(wrongCode(member.secret, clock.now()))).status, 401);
  assertLocked(await reauth(freshCode(member.secret, clock)), 30);
  assertLocked(await wrong(), 30);
});

test('the API says the lock too: a password step while codes are locked names until when (issue 15)', async (t) => {
  const { server, clock, member, wrong } = await setup(t);
  const fresh = new TestClient(server.url, { 'user-agent': 'a third browser' });
  const before = await fresh.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(before.json?.codesLockedUntil, null);
  for (let i = 0; i < 5; i++) assert.equal((await wrong()).status, 401);
  const during = await fresh.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(during.status, 200, during.text);
  assert.equal(during.json?.codesLockedUntil, new Date(clock.now() + 60 * SECOND).toISOString());
});
