import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { PASSWORD, auditTypes, dbOf, freshCode } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { SYSTEM, auditEvents, bindChannel, deliveryWorld, smtpConfig, withSmtp } from '../helpers/delivery.js';
import type { DeliveryWorld } from '../helpers/delivery.js';
import { GEO_ENV, IP, UA, browserAt, mailsTo } from '../helpers/security.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import type { SoftAuthenticatorOptions } from '../helpers/soft-authenticator.js';

type CreationOptions = { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } };
type RequestOptions = { challenge: string; rpId?: string; allowCredentials?: unknown[]; userVerification?: string };

interface Holder {
  world: DeliveryWorld;
  email: string;
  userId: string;
  key: SoftAuthenticator;
  factorId: string;
  /** The browser that registered the key (signed in with the password). */
  laptop: TestClient;
}

/** A member of an organisation with an admin, who registered `key` through the API from a laptop in San Francisco. */
async function holder(t: TestContext, keyOptions: SoftAuthenticatorOptions, world?: DeliveryWorld, env: Record<string, string> = {}): Promise<Holder> {
  const w = world ?? (await deliveryWorld(t, { clock: new TestClock(), env }));
  const email = `p-${Math.random().toString(36).slice(2, 10)}@example.com`;
  const user = await w.server.services.accounts.createUser({ orgId: w.orgId, email, password: PASSWORD }, SYSTEM);
  const laptop = browserAt(w.server.url, UA.chromeMac, IP.sanFrancisco);
  assert.equal((await laptop.post('/api/v1/auth/sign-in', { email, password: PASSWORD })).json?.status, 'signed_in');
  const key = new SoftAuthenticator(w.server.url, keyOptions);
  const started = await laptop.post('/api/v1/factors/webauthn/options');
  assert.equal(started.status, 200, started.text);
  const registered = await laptop.post('/api/v1/factors/webauthn', { response: key.register(started.json?.options as CreationOptions), name: 'Laptop passkey' });
  assert.equal(registered.status, 201, registered.text);
  return { world: w, email, userId: user.id, key, factorId: (registered.json?.factor as { id: string }).id, laptop };
}

async function passkeyOptions(client: TestClient): Promise<{ handle: string; options: RequestOptions }> {
  const res = await client.post('/api/v1/auth/passkey/options');
  assert.equal(res.status, 200, res.text);
  return { handle: res.json?.handle as string, options: res.json?.options as RequestOptions };
}

async function passkeySignIn(client: TestClient, key: SoftAuthenticator) {
  const { handle, options } = await passkeyOptions(client);
  return client.post('/api/v1/auth/passkey', { handle, assertion: key.assert(options) });
}

test('a passkey that verifies the person signs in without a password: amr hwk+user+mfa, under a policy that requires 2FA, audited with the key', async (t) => {
  const h = await holder(t, { userVerifying: true });
  const policy = await h.world.admin.request('PUT', `/api/v1/organisations/${h.world.orgId}/policy`, {
    mode: 'required',
    appliesToSubOrganisations: false,
    triggers: ['every_sign_in'],
    allowedMethods: ['totp', 'webauthn'],
    trustBrowserDays: 30,
  });
  assert.equal(policy.status, 200, policy.text);
  // With the password, this policy asks for the key as a second step.
  const withPassword = await new TestClient(h.world.server.url).post('/api/v1/auth/sign-in', { email: h.email, password: PASSWORD });
  assert.equal(withPassword.json?.status, 'second_factor_required');

  const client = new TestClient(h.world.server.url);
  const { handle, options } = await passkeyOptions(client);
  assert.deepEqual(options.allowCredentials ?? [], [], 'nobody is named: the browser offers its discoverable credentials');
  assert.equal(options.userVerification, 'preferred');
  const res = await client.post('/api/v1/auth/passkey', { handle, assertion: h.key.assert(options) });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'signed_in');
  assert.deepEqual([...(res.json?.amr as string[])].sort(), ['hwk', 'mfa', 'user']);
  assert.equal((await client.get('/api/v1/session')).status, 200);
  // No password was proven: the session says so, and re-authentication that wants one asks for it.
  const rows = await h.world.server.runtime.database.db.selectFrom('sessions').select(['amr', 'password_at', 'second_factor_at']).where('user_id', '=', h.userId).execute();
  const row = rows.find((r) => JSON.stringify(r.amr).includes('user'));
  assert.ok(row, JSON.stringify(rows));
  assert.equal(row.password_at, null);
  assert.notEqual(row.second_factor_at, null);
  const [succeeded] = await auditEvents(h.world.server, 'sign_in.succeeded', { subjectUserId: h.userId }).then((rows) => rows.filter((r) => r.details.firstFactor === 'passkey'));
  assert.ok(succeeded, 'the sign-in is audited as a passkey sign-in');
  assert.equal(succeeded.details.label, 'Laptop passkey');
  assert.equal(succeeded.details.factorId, h.factorId);
  // The challenge is single use: the same answer again is refused.
  const again = await client.post('/api/v1/auth/passkey', { handle, assertion: h.key.assert(options) });
  assert.equal(again.status, 401);
  assert.equal(again.json?.error?.code, 'webauthn_challenge_used');
});

test('a synced passkey with user verification gives swk', async (t) => {
  const h = await holder(t, { userVerifying: true, backupEligible: true, counting: false });
  const res = await passkeySignIn(new TestClient(h.world.server.url), h.key);
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([...(res.json?.amr as string[])].sort(), ['mfa', 'swk', 'user']);
});

test('a passkey that did not verify the person is one factor: the second step follows with the other methods, not that key', async (t) => {
  const h = await holder(t, { userVerifying: false });
  const totp = await h.laptop.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(totp.status, 201, totp.text);
  const secret = totp.json?.secret as string;
  const confirmed = await h.laptop.post(`/api/v1/factors/totp/${totp.json?.id as string}/confirm`, { code: freshCode(secret, h.world.clock) });
  assert.equal(confirmed.status, 200, confirmed.text);
  h.world.clock.advance(30_000);

  const client = new TestClient(h.world.server.url);
  const res = await passkeySignIn(client, h.key);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'second_factor_required');
  const methods = res.json?.methods as string[];
  assert.ok(methods.includes('totp'));
  assert.ok(!methods.includes('webauthn'), `the same key is not offered again: ${methods.join(',')}`);
  assert.equal(client.cookies.get('twofold_session'), undefined, 'no session yet');
  const done = await client.post('/api/v1/auth/second-factor', { challenge: res.json?.challenge, method: 'totp', code: freshCode(secret, h.world.clock) });
  assert.equal(done.status, 200, done.text);
  assert.deepEqual([...(done.json?.amr as string[])].sort(), ['hwk', 'mfa', 'otp']);
});

test('an unknown credential and a replayed assertion are refused with stable codes, audited, and sign nobody in', async (t) => {
  const h = await holder(t, { userVerifying: true });
  const stranger = new SoftAuthenticator(h.world.server.url, { userVerifying: true });
  const client = new TestClient(h.world.server.url);
  const unknown = await passkeySignIn(client, stranger);
  assert.equal(unknown.status, 401, unknown.text);
  assert.equal(unknown.json?.error?.code, 'webauthn_credential_unknown');

  const { handle, options } = await passkeyOptions(client);
  const assertion = h.key.assert(options);
  assert.equal((await client.post('/api/v1/auth/passkey', { handle, assertion })).status, 200);
  const other = new TestClient(h.world.server.url);
  const replayed = await other.post('/api/v1/auth/passkey', { handle, assertion });
  assert.equal(replayed.status, 401);
  assert.equal(replayed.json?.error?.code, 'webauthn_challenge_used');
  // The assertion under another handle: the challenge was not issued for it.
  const { handle: otherHandle } = await passkeyOptions(other);
  const moved = await other.post('/api/v1/auth/passkey', { handle: otherHandle, assertion });
  assert.equal(moved.status, 401);
  assert.equal(moved.json?.error?.code, 'webauthn_challenge_invalid');
  assert.equal(other.cookies.get('twofold_session'), undefined);

  const origin = await (async () => {
    const o = await passkeyOptions(other);
    return other.post('/api/v1/auth/passkey', { handle: o.handle, assertion: h.key.assert(o.options, { origin: 'https://twofold.example.evil' }) });
  })();
  assert.equal(origin.json?.error?.code, 'webauthn_origin_mismatch');

  const failed = await auditEvents(h.world.server, 'sign_in.failed');
  assert.deepEqual(
    failed.map((f) => f.details.reason),
    ['webauthn_credential_unknown', 'webauthn_challenge_used', 'webauthn_challenge_invalid', 'webauthn_origin_mismatch'],
  );
  assert.ok(failed.every((f) => f.details.method === 'passkey'));
});

test('bad input to the passkey endpoints is a 4xx with a stable code, never a 500', async (t) => {
  const h = await holder(t, { userVerifying: true });
  const client = new TestClient(h.world.server.url);
  const { handle } = await passkeyOptions(client);
  for (const body of [{}, { handle }, { handle, assertion: 'text' }, { handle: 'x'.repeat(500), assertion: {} }, { handle, assertion: { id: 1 } }, { handle, assertion: {}, extra: 1 }]) {
    const res = await client.post('/api/v1/auth/passkey', body);
    assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body)}: ${res.status} ${res.text}`);
    assert.equal(typeof res.json?.error?.code, 'string');
  }
  const malformed = await client.post('/api/v1/auth/passkey', { handle, assertion: { id: 'a', rawId: 'a', type: 'public-key', response: {} } });
  assert.equal(malformed.json?.error?.code, 'webauthn_assertion_invalid');
  assert.deepEqual(await auditTypes(h.world.server, h.userId).then((types) => types.filter((x) => x === 'sign_in.succeeded').length), 1, 'only the registering sign-in');
});

test('a blocked location refuses a passkey sign-in as it does a password; a new place is told by email', async (t) => {
  const smtp = await withSmtp(t);
  const w = await deliveryWorld(t, { clock: new TestClock(), env: GEO_ENV });
  await bindChannel(w, 'email', smtpConfig(smtp));
  const h = await holder(t, { userVerifying: true }, w);
  const phone = browserAt(w.server.url, UA.iphone, IP.london);
  const first = await passkeySignIn(phone, h.key);
  assert.equal(first.status, 200, first.text);
  const notice = mailsTo(smtp, h.email).find((m) => /new device and location/.test(m.subject));
  assert.ok(notice, 'a passkey sign-in from a new device and place is told like a password one');

  const locations = (await h.laptop.get('/api/v1/locations')).json?.locations as Array<{ id: string; key: string }>;
  const london = locations.find((l) => l.key === 'GB/ENG');
  assert.ok(london);
  const blocked = await h.laptop.post(`/api/v1/locations/${london.id}/block`);
  assert.equal(blocked.status, 200, blocked.text);

  const tablet = browserAt(w.server.url, UA.firefoxLinux, IP.london);
  const refused = await passkeySignIn(tablet, h.key);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'sign_in_refused');
  assert.equal(tablet.cookies.get('twofold_session'), undefined);
  const audits = await auditEvents(w.server, 'sign_in.blocked', { subjectUserId: h.userId });
  assert.equal(audits.length, 1);
  assert.equal(audits[0]?.details.blockedBy, 'location');
  // The key still works from the laptop's place.
  assert.equal((await passkeySignIn(browserAt(w.server.url, UA.chromeMac, IP.sanFrancisco), h.key)).status, 200);
});

test('passkey sign-ins share the password sign-in limits of the account', async (t) => {
  const h = await holder(t, { userVerifying: true });
  const db = dbOf(h.world.server);
  // Ten failed password attempts fill the account's window: the passkey is refused too, before its assertion is judged.
  for (let i = 0; i < 10; i++) await new TestClient(h.world.server.url).post('/api/v1/auth/sign-in', { email: h.email, password: 'wrong password here' });
  const res = await passkeySignIn(new TestClient(h.world.server.url), h.key);
  assert.equal(res.status, 429, res.text);
  assert.equal(res.json?.error?.code, 'too_many_attempts');
  const limited = await db.selectFrom('audit_events').select('details').where('event_type', '=', 'sign_in.limited').where('subject_user_id', '=', h.userId).execute();
  assert.ok(limited.some((r) => (JSON.parse(r.details) as { method?: string }).method === 'passkey'));
});

test('the options need no session, and the session a passkey opens belongs to the key owner', async (t) => {
  const h = await holder(t, { userVerifying: true });
  const client = new TestClient(h.world.server.url);
  const res = await passkeySignIn(client, h.key);
  assert.equal(res.status, 200, res.text);
  const me = await client.get('/api/v1/session');
  assert.equal(me.status, 200, me.text);
  assert.ok(me.text.includes(h.email), 'signed in as the owner of the key');
});

test('renaming a key: bad names are 400 label_invalid and change nothing; a good one is audited, and the activity log names the key each sign-in used', async (t) => {
  const h = await holder(t, { userVerifying: true });
  const signIn = await passkeySignIn(new TestClient(h.world.server.url), h.key);
  assert.equal(signIn.status, 200, signIn.text);
  for (const name of ['', '   ', 'x'.repeat(65)]) {
    const res = await h.laptop.request('PATCH', `/api/v1/factors/${h.factorId}`, { name });
    assert.equal(res.status, 400, `${JSON.stringify(name)}: ${res.text}`);
    assert.equal(res.json?.error?.code, 'label_invalid');
  }
  assert.equal((await h.laptop.request('PATCH', `/api/v1/factors/${h.factorId}`, {})).status, 400);
  assert.equal((await h.laptop.request('PATCH', `/api/v1/factors/${h.factorId}`, { name: 7 })).status, 400);
  const unknown = await h.laptop.request('PATCH', '/api/v1/factors/00000000-0000-0000-0000-000000000000', { name: 'Mine' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.json?.error?.code, 'factor_not_found');
  assert.equal((await new TestClient(h.world.server.url).request('PATCH', `/api/v1/factors/${h.factorId}`, { name: 'Anon' })).status, 401);
  const row = await dbOf(h.world.server).selectFrom('factors').select('label').where('id', '=', h.factorId).executeTakeFirstOrThrow();
  assert.equal(row.label, 'Laptop passkey', 'refused renames changed nothing');

  const renamed = await h.laptop.request('PATCH', `/api/v1/factors/${h.factorId}`, { name: '  Yellow key  ' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal((renamed.json?.factor as { label: string }).label, 'Yellow key');
  const audits = await auditEvents(h.world.server, 'factor.renamed', { subjectUserId: h.userId });
  assert.deepEqual([audits[0]?.details.from, audits[0]?.details.to], ['Laptop passkey', 'Yellow key']);
  assert.equal((await passkeySignIn(new TestClient(h.world.server.url), h.key)).status, 200);

  const activity = await h.laptop.get('/api/v1/activity');
  assert.equal(activity.status, 200, activity.text);
  const summaries = (activity.json?.events as Array<{ summary: string }>).map((e) => e.summary);
  assert.ok(summaries.some((s) => s.startsWith('Signed in with passkey “Yellow key”')), summaries.join(' | '));
  assert.ok(summaries.some((s) => s.startsWith('Signed in with passkey “Laptop passkey”')), 'the earlier sign-in keeps the name it had then');
  assert.ok(summaries.includes('Renamed security key “Laptop passkey” to “Yellow key”'), summaries.join(' | '));
});
