import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { backupCodeContext } from '../../src/services/secret-contexts.js';
import { TestClient } from '../helpers/client.js';
import type { TestServer } from '../helpers/server.js';
import { PASSWORD, auditTypes, dbOf, passwordStep, serverWithEnrolledMember } from '../helpers/authenticator.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const setup = serverWithEnrolledMember;

async function signInWithBackupCode(server: TestServer, email: string, code: string) {
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, email);
  const res = await client.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code });
  return { client, res };
}

test('a backup code signs in in place of an authenticator code, exactly once', async (t) => {
  const { server, member } = await setup(t);
  const code = member.backupCodes[0]!;
  const { client, res } = await signInWithBackupCode(server, member.email, code);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'signed_in');
  assert.deepEqual([...(res.json?.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
  assert.equal((await client.get('/api/v1/session')).status, 200);

  const again = await signInWithBackupCode(server, member.email, code);
  assert.equal(again.res.status, 401);
  assert.equal(again.res.json?.error?.code, 'code_invalid');
  assert.equal(again.client.cookies.get('twofold_session'), undefined);

  // Typed the way people copy codes: upper case, spaces instead of dashes.
  const sloppy = member.backupCodes[1]!.toUpperCase().replaceAll('-', ' ');
  assert.equal((await signInWithBackupCode(server, member.email, sloppy)).res.status, 200);

  const types = await auditTypes(server, member.user.id);
  assert.equal(types.filter((e) => e === 'backup_code.used').length, 2);
});

test('GET /api/v1/backup-codes counts what is left and says low at 3 or fewer', async (t) => {
  const { server, member } = await setup(t);
  const status = async () => (await member.client.get('/api/v1/backup-codes')).json as { remaining: number; total: number; low: boolean };
  assert.deepEqual(await status(), { remaining: 10, total: 10, low: false });

  for (let used = 1; used <= 10; used++) {
    const { res } = await signInWithBackupCode(server, member.email, member.backupCodes[used - 1]!);
    assert.equal(res.status, 200, res.text);
    const left = 10 - used;
    assert.deepEqual(await status(), { remaining: left, total: 10, low: left <= 3 }, `after ${used} used`);
  }
  // With none left, the password step no longer offers them.
  const res = await new TestClient(server.url).post('/api/v1/auth/sign-in', { email: member.email, password: member.password });
  assert.deepEqual(res.json?.methods, ['totp']);
  assert.equal((await new TestClient(server.url).get('/api/v1/backup-codes')).status, 401);
});

test('backup codes are stored keyed-hashed and encrypted, never in plaintext', async (t) => {
  const { server, member } = await setup(t);
  const rows = await dbOf(server).selectFrom('backup_codes').selectAll().where('user_id', '=', member.user.id).execute();
  assert.equal(rows.length, 10);
  const dump = JSON.stringify(rows);
  for (const code of member.backupCodes) {
    const compact = code.replaceAll('-', '');
    for (const form of [code, compact, code.toUpperCase(), compact.toUpperCase()]) {
      assert.ok(!dump.includes(form), `table must not contain ${form}`);
    }
    // Not a plain (unkeyed) hash either: those fall to a table of all codes' hashes.
    for (const input of [code, compact]) {
      for (const enc of ['hex', 'base64', 'base64url'] as const) {
        assert.ok(!dump.includes(createHash('sha256').update(input).digest(enc)), 'unkeyed sha256');
      }
    }
  }
  assert.equal(new Set(rows.map((r) => r.code_hash)).size, 10);
  // Each row opens (with the server key) to exactly one of the codes handed out.
  const opened = rows.map((r) => server.runtime.box.decrypt(r.code_encrypted, backupCodeContext(member.user.id))).sort();
  assert.deepEqual(opened, [...member.backupCodes].sort());
  for (const r of rows) assert.equal(r.used_at, null);
});

test('a refused backup code changes nothing', async (t) => {
  const { server, member } = await setup(t);
  const before = await dbOf(server).selectFrom('backup_codes').selectAll().orderBy('id').execute();
  for (const code of ['0000-0000-0000', 'not a code', member.backupCodes[0]!.slice(0, 9)]) {
    const { res } = await signInWithBackupCode(server, member.email, code);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json?.error?.code, 'code_invalid');
  }
  assert.deepEqual(await dbOf(server).selectFrom('backup_codes').selectAll().orderBy('id').execute(), before);
});

test('after a backup code at the sign-in page the person sees how many are left, and at 3 or fewer is pushed to make a new set (issue 15)', async (t) => {
  const { server, member } = await setup(t);
  for (const code of member.backupCodes.slice(0, 6)) assert.equal((await signInWithBackupCode(server, member.email, code)).res.status, 200);
  const browser = new TestClient(server.url);
  const { _csrf } = await hiddenFields(browser, '/sign-in');
  const step = await postForm(browser, '/sign-in', { _csrf: _csrf!, email: member.email, password: PASSWORD });
  assert.equal(step.status, 303);
  const page = await postForm(browser, '/sign-in/second-factor', { _csrf: _csrf!, method: 'backup_code', code: member.backupCodes[6]! });
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /You have 3 backup codes left\./);
  assert.match(page.text, /You are running out/);
  assert.match(page.text, /href="\/account\/security\/backup-codes\/new">\s*Make new backup codes/);
  assert.equal((await browser.get('/api/v1/session')).status, 200, 'signed in already: the page is a stop, not a gate');
});
