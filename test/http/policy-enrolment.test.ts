import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCodeAt } from '../../src/core/totp.js';
import { PASSWORD, STEP_MS, dbOf, freshCode } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { COOKIE } from '../../src/http/request-context.js';
import { addMember, agencyTree, requireForSubs } from '../helpers/policy.js';

async function signIn(url: string, email: string) {
  const client = new TestClient(url);
  const res = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  return { client, res };
}

test('a parent that requires 2FA for its subs sends a sub-org member without a factor to enrol, with no session', async (t) => {
  const tree = await agencyTree(t);
  await requireForSubs(tree);
  const member = await addMember(tree.server, tree.clientOrgId);

  const { client, res } = await signIn(tree.server.url, member.email);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'enrolment_required');
  assert.deepEqual(res.json?.methods, ['totp']);
  assert.equal(typeof res.json?.challenge, 'string');
  assert.ok(!Number.isNaN(Date.parse(res.json?.expiresAt as string)));
  assert.equal(client.cookies.has(COOKIE.session), false);
  assert.equal((await client.get('/api/v1/session')).status, 401);
  const sessions = await dbOf(tree.server).selectFrom('sessions').select('id').where('user_id', '=', member.user.id).execute();
  assert.equal(sessions.length, 0);
});

test('completing enrolment signs in with pwd+otp+mfa and returns backup codes once', async (t) => {
  const tree = await agencyTree(t);
  await requireForSubs(tree);
  const member = await addMember(tree.server, tree.clientOrgId);
  const { client, res } = await signIn(tree.server.url, member.email);
  const challenge = res.json?.challenge as string;

  const started = await client.post('/api/v1/auth/enrolment/totp', { challenge, label: 'Phone' });
  assert.equal(started.status, 201, started.text);
  const id = started.json?.id as string;
  const secret = started.json?.secret as string;
  assert.match(started.json?.uri as string, /^otpauth:\/\/totp\//);
  assert.match(started.json?.qrSvg as string, /^<svg/);

  const wrong = await client.post('/api/v1/auth/enrolment/totp/confirm', { challenge, id, code: '000000' === totpCodeAt(secret, tree.clock.now()) ? '111111' : '000000' });
  assert.equal(wrong.status, 401, wrong.text);
  assert.equal(client.cookies.has(COOKIE.session), false);

  const done = await client.post('/api/v1/auth/enrolment/totp/confirm', { challenge, id, code: freshCode(secret, tree.clock) });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.json?.status, 'signed_in');
  assert.deepEqual([...(done.json?.amr as string[])].sort(), ['mfa', 'otp', 'pwd']);
  assert.equal((done.json?.backupCodes as string[]).length, 10);
  assert.equal((await client.get('/api/v1/session')).status, 200);
  const factors = await client.get('/api/v1/factors');
  assert.equal((factors.json?.factors as unknown[]).length, 1);

  // The flow is closed: the same challenge cannot sign in a second time.
  const again = await new TestClient(tree.server.url).post('/api/v1/auth/enrolment/totp/confirm', { challenge, id, code: freshCode(secret, tree.clock) });
  assert.equal(again.status, 401, again.text);
  assert.equal(again.json?.error?.code, 'challenge_invalid');

  // Next sign-in is the ordinary second step.
  const next = await signIn(tree.server.url, member.email);
  assert.equal(next.res.json?.status, 'second_factor_required');
});

test('leaving half-way means the next sign-in asks again; a bogus challenge gets nothing', async (t) => {
  const tree = await agencyTree(t);
  await requireForSubs(tree);
  const member = await addMember(tree.server, tree.clientOrgId);
  const first = await signIn(tree.server.url, member.email);
  const started = await first.client.post('/api/v1/auth/enrolment/totp', { challenge: first.res.json?.challenge });
  assert.equal(started.status, 201, started.text);

  tree.clock.advance(STEP_MS);
  const second = await signIn(tree.server.url, member.email);
  assert.equal(second.res.json?.status, 'enrolment_required', second.res.text);
  assert.equal(second.client.cookies.has(COOKIE.session), false);

  const bogus = await new TestClient(tree.server.url).post('/api/v1/auth/enrolment/totp', { challenge: 'not-a-challenge' });
  assert.equal(bogus.status, 401);
  assert.equal(bogus.json?.error?.code, 'challenge_invalid');
  // A second-factor challenge cannot be used to enrol, nor an enrolment challenge for the second step.
  const misuse = await second.client.post('/api/v1/auth/second-factor', { challenge: second.res.json?.challenge, method: 'totp', code: '123456' });
  assert.equal(misuse.status, 401);
  assert.equal(misuse.json?.error?.code, 'challenge_invalid');
  const active = await dbOf(tree.server).selectFrom('factors').select('id').where('user_id', '=', member.user.id).where('status', '=', 'active').execute();
  assert.equal(active.length, 0);
});

test('members outside the policy reach are signed in directly; the agency policy without sub reach does not apply below', async (t) => {
  const tree = await agencyTree(t);
  const res = await tree.admin.request('PUT', `/api/v1/organisations/${tree.agencyId}/policy`, {
    mode: 'required',
    appliesToSubOrganisations: false,
    triggers: ['every_sign_in'],
    allowedMethods: ['totp'],
    trustBrowserDays: 30,
  });
  assert.equal(res.status, 200, res.text);
  const sub = await addMember(tree.server, tree.clientOrgId);
  assert.equal((await signIn(tree.server.url, sub.email)).res.json?.status, 'signed_in');
  const own = await addMember(tree.server, tree.agencyId);
  assert.equal((await signIn(tree.server.url, own.email)).res.json?.status, 'enrolment_required');
});
