import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCodeAt } from '../../src/core/totp.js';
import { TestClient } from '../helpers/client.js';
import { PASSWORD, dbOf, freshCode, passwordStep, userRow, wrongCode, serverWithEnrolledMember } from '../helpers/authenticator.js';

const setup = serverWithEnrolledMember;

test('the password step asks for a second factor, offering totp and backup_code, and signs nobody in', async (t) => {
  const { server, clock, member } = await setup(t);
  const client = new TestClient(server.url);
  const res = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'second_factor_required');
  assert.deepEqual(res.json?.methods, ['totp', 'backup_code']);
  assert.match(res.json?.challenge as string, /^[\w-]{32,}$/);
  assert.equal(Date.parse(res.json?.expiresAt as string), clock.now() + 10 * 60_000);
  assert.equal(res.json?.user, undefined);
  assert.equal(client.cookies.size, 0, 'no session before the second factor');
  const flows = await dbOf(server).selectFrom('sign_in_flows').selectAll().where('user_id', '=', member.user.id).execute();
  assert.equal(flows.length, 1);
  assert.ok(!JSON.stringify(flows).includes(res.json?.challenge as string), 'the challenge is stored only as a hash');
  assert.equal((await client.get('/api/v1/session')).status, 401);
});

test('a valid code signs in with amr pwd+otp+mfa and a session token unlike anything issued before', async (t) => {
  const { server, clock, member } = await setup(t);
  // The member's client already holds the session from before the factor existed.
  const client = member.client;
  const oldToken = client.cookies.get('twofold_session');
  assert.ok(oldToken);
  const challenge = await passwordStep(client, member.email);
  assert.equal(client.cookies.get('twofold_session'), oldToken, 'the password step issues nothing');

  const res = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'signed_in');
  assert.equal((res.json?.user as { email: string }).email, member.email);
  const amr = res.json?.amr as string[];
  for (const m of ['pwd', 'otp', 'mfa']) assert.ok(amr.includes(m), `amr ${JSON.stringify(amr)} has ${m}`);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('twofold_session='));
  assert.ok(setCookie && /;\s*HttpOnly/i.test(setCookie) && /;\s*SameSite=Lax/i.test(setCookie), setCookie);

  const newToken = client.cookies.get('twofold_session');
  assert.ok(newToken);
  assert.notEqual(newToken, oldToken);
  assert.notEqual(newToken, challenge);
  assert.ok(!res.text.includes(newToken), 'the token travels only in the cookie');

  const session = await client.get('/api/v1/session');
  assert.equal(session.status, 200);
  const sessionAmr = (session.json?.session as { amr: string[] }).amr;
  assert.deepEqual([...sessionAmr].sort(), ['mfa', 'otp', 'pwd']);
  // The row for the new session stores only a hash of the token.
  const rows = await dbOf(server).selectFrom('sessions').select(['token_hash']).where('user_id', '=', member.user.id).execute();
  assert.equal(rows.length, 2);
  for (const r of rows) assert.ok(r.token_hash !== newToken && r.token_hash !== oldToken);
});

test('replaying a code that already signed in is refused like a wrong code (401 code_invalid) and is not counted as a guess', async (t) => {
  const { server, clock, member } = await setup(t);
  const code = freshCode(member.secret, clock);
  const first = new TestClient(server.url);
  const ok = await first.post('/api/v1/auth/second-factor', { challenge: await passwordStep(first, member.email), method: 'totp', code });
  assert.equal(ok.status, 200, ok.text);

  const attacker = new TestClient(server.url);
  const challenge = await passwordStep(attacker, member.email);
  const replay = await attacker.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code });
  assert.equal(replay.status, 401);
  assert.equal(replay.json?.error?.code, 'code_invalid') // a replay reads like a wrong code;
  assert.equal(attacker.cookies.get('twofold_session'), undefined);
  // The previous step's code is older than the one used: refused the same way.
  const older = await attacker.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: totpCodeAt(member.secret, clock.now() - 30_000) });
  assert.equal(older.status, 401);
  assert.equal(older.json?.error?.code, 'code_invalid') // a replay reads like a wrong code;
  // Replays are not guesses: the lockout count is untouched, and the audit keeps the true reason.
  assert.equal(Number((await dbOf(server).selectFrom('users').select('second_factor_failures').where('id', '=', member.user.id).executeTakeFirstOrThrow()).second_factor_failures), 0);
  const reasons = (await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'second_factor.failed').where('subject_user_id', '=', member.user.id).execute()).map((r) => (JSON.parse(r.details) as { reason: string }).reason);
  assert.deepEqual(reasons, ['code_already_used', 'code_already_used']);
  // The flow itself is still open: the next code works.
  const next = await attacker.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(next.status, 200, next.text);
});

test('a challenge older than 10 minutes gives 410 challenge_expired and spends nothing', async (t) => {
  const { server, clock, member } = await setup(t);
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, member.email);
  clock.advance(10 * 60_000 + 1000);
  const code = totpCodeAt(member.secret, clock.now());
  const res = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code });
  assert.equal(res.status, 410);
  assert.equal(res.json?.error?.code, 'challenge_expired');
  assert.equal(client.cookies.get('twofold_session'), undefined);
  // The code was not claimed: a fresh sign-in may still use it.
  const retry = await client.post('/api/v1/auth/second-factor', { challenge: await passwordStep(client, member.email), method: 'totp', code });
  assert.equal(retry.status, 200, retry.text);
});

test('a challenge cannot be used again after it succeeded', async (t) => {
  const { server, clock, member } = await setup(t);
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, member.email);
  const ok = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(ok.status, 200, ok.text);

  const other = new TestClient(server.url);
  const code = freshCode(member.secret, clock);
  const reuse = await other.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code });
  assert.equal(reuse.status, 401);
  assert.equal(reuse.json?.error?.code, 'challenge_invalid');
  assert.equal(other.cookies.get('twofold_session'), undefined);
  const withBackup = await other.post('/api/v1/auth/second-factor', { challenge, method: 'backup_code', code: member.backupCodes[0] });
  assert.equal(withBackup.status, 401);
  const unused = await dbOf(server).selectFrom('backup_codes').select('id').where('user_id', '=', member.user.id).where('used_at', 'is', null).execute();
  assert.equal(unused.length, 10, 'the refused attempt spent no backup code');
});

test('bad second-step requests get stable 4xx codes and change nothing', async (t) => {
  const { server, clock, member } = await setup(t);
  const client = new TestClient(server.url);
  const challenge = await passwordStep(client, member.email);
  const before = await userRow(server, member.user.id);
  const code = totpCodeAt(member.secret, clock.now());

  const cases: Array<[unknown, number, string]> = [
    [{ challenge: 'x'.repeat(43), method: 'totp', code }, 401, 'challenge_invalid'],
    [{ challenge, method: 'sms', code }, 400, 'method_not_allowed'],
    [{ challenge, method: 'totp' }, 400, 'invalid_request'],
    [{ challenge, method: 'totp', code: 123456 }, 400, 'invalid_request'],
    [{ challenge, method: 'totp', code, trustBrowser: 'yes' }, 400, 'invalid_request'],
    [{ challenge: 'x'.repeat(129), method: 'totp', code }, 400, 'invalid_request'],
  ];
  for (const [body, status, errorCode] of cases) {
    const res = await client.post('/api/v1/auth/second-factor', body);
    assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.text}`);
    assert.equal(res.json?.error?.code, errorCode);
  }
  const after = await userRow(server, member.user.id);
  assert.equal(after.totp_last_step, before.totp_last_step);
  assert.equal(after.second_factor_failures, 0);
  // Only a well-formed request is judged: a wrong code counts, and the flow stays open.
  const wrong = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: wrongCode(member.secret, clock.now()) });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.json?.error?.code, 'code_invalid');
  assert.equal((await userRow(server, member.user.id)).second_factor_failures, 1);
  const ok = await client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code });
  assert.equal(ok.status, 200, ok.text);
});
