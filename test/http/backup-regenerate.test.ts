import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { auditTypes, dbOf, freshCode, passwordStep, wrongCode, serverWithEnrolledMember } from '../helpers/authenticator.js';

const MINUTE = 60_000;

async function setup(t: { after(fn: () => Promise<void>): void }) {
  const { clock, server, member } = await serverWithEnrolledMember(t);
  // The sign-in itself counts as recent authentication; let it age past the 5-minute window.
  clock.advance(6 * MINUTE);
  return { clock, server, member };
}

async function hashes(server: TestServer, userId: string): Promise<string[]> {
  const rows = await dbOf(server).selectFrom('backup_codes').select('code_hash').where('user_id', '=', userId).orderBy('code_hash').execute();
  return rows.map((r) => r.code_hash);
}

async function signInWithBackupCode(server: TestServer, email: string, code: string) {
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, email);
  return client.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code });
}

test('regenerating needs re-authentication with a code, then replaces the whole set', async (t) => {
  const { server, clock, member } = await setup(t);
  const { client } = member;
  const before = await hashes(server, member.user.id);

  const refused = await client.post('/api/v1/backup-codes');
  assert.equal(refused.status, 403);
  assert.equal(refused.json?.error?.code, 'reauthentication_required');
  assert.deepEqual(await hashes(server, member.user.id), before);

  const tokenBefore = client.cookies.get('twofold_session');
  const reauth = await client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(reauth.status, 200, reauth.text);
  assert.notEqual(client.cookies.get('twofold_session'), tokenBefore, 'the session token rotates');

  const res = await client.post('/api/v1/backup-codes');
  assert.equal(res.status, 200, res.text);
  const codes = res.json?.codes as string[];
  assert.equal(codes.length, 10);
  for (const c of codes) assert.match(c, /^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
  assert.equal(codes.filter((c) => member.backupCodes.includes(c)).length, 0);
  const after = await hashes(server, member.user.id);
  assert.equal(after.length, 10);
  assert.equal(after.filter((h) => before.includes(h)).length, 0);
  assert.deepEqual((await client.get('/api/v1/backup-codes')).json, { remaining: 10, total: 10, low: false });

  const old = await signInWithBackupCode(server, member.email, member.backupCodes[0]!);
  assert.equal(old.status, 401);
  assert.equal(old.json?.error?.code, 'code_invalid');
  assert.equal((await signInWithBackupCode(server, member.email, codes[0]!)).status, 200);
  assert.ok((await auditTypes(server, member.user.id)).includes('backup_codes.regenerated'));
});

test('a wrong re-authentication code does not unlock regeneration', async (t) => {
  const { server, clock, member } = await setup(t);
  const before = await hashes(server, member.user.id);
  const wrong = await member.client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: wrongCode(member.secret, clock.now()) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json?.error?.code, 'code_invalid');
  const res = await member.client.post('/api/v1/backup-codes');
  assert.equal(res.status, 403);
  assert.equal(res.json?.error?.code, 'reauthentication_required');
  assert.deepEqual(await hashes(server, member.user.id), before);
});

test('re-authentication lasts 5 minutes', async (t) => {
  const { clock, member } = await setup(t);
  const reauth = await member.client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(reauth.status, 200, reauth.text);
  clock.advance(4 * MINUTE);
  assert.equal((await member.client.post('/api/v1/backup-codes')).status, 200);
  clock.advance(2 * MINUTE);
  const late = await member.client.post('/api/v1/backup-codes');
  assert.equal(late.status, 403);
  assert.equal(late.json?.error?.code, 'reauthentication_required');
});

test('regenerating is refused without a session', async (t) => {
  const { server } = await setup(t);
  const res = await new TestClient(server.url).post('/api/v1/backup-codes');
  assert.equal(res.status, 401);
  assert.equal(res.json?.error?.code, 'not_signed_in');
});
