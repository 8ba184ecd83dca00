import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { startTestServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { auditTypes, createMember, dbOf, passwordStep, signedInClient } from '../helpers/authenticator.js';
import { SoftAuthenticator, otherKey } from '../helpers/soft-authenticator.js';
import type { AssertionOverrides, SoftAuthenticatorOptions } from '../helpers/soft-authenticator.js';
import { checkAssertion } from '../../src/services/second-factor/webauthn-strategy.js';
import { issueChallenge, signInChallengeScope } from '../../src/services/second-factor/webauthn-challenges.js';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

interface KeyHolder {
  server: TestServer;
  clock: TestClock;
  client: TestClient;
  email: string;
  userId: string;
  key: SoftAuthenticator;
  factorId: string;
  backupCodes: string[];
}

type Options = { challenge: string; rpId?: string; rp: { id?: string; name: string }; user: { id: string; name: string }; allowCredentials?: Array<{ id: string }> };

/** A member who registered `key` (their first method) through the API, signed in with the password before. */
async function keyHolder(t: TestContext, keyOptions: SoftAuthenticatorOptions = {}): Promise<KeyHolder> {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const member = await createMember(server);
  const client = await signedInClient(server, member.email);
  const key = new SoftAuthenticator(server.url, keyOptions);
  const started = await client.post('/api/v1/factors/webauthn/options');
  assert.equal(started.status, 200, started.text);
  const registered = await client.post('/api/v1/factors/webauthn', { response: key.register(started.json?.options as Options), name: 'Blue key' });
  assert.equal(registered.status, 201, registered.text);
  const factor = registered.json?.factor as { id: string; type: string; label: string };
  assert.equal(factor.type, 'webauthn');
  return { server, clock, client, email: member.email, userId: member.user.id, key, factorId: factor.id, backupCodes: registered.json?.backupCodes as string[] };
}

/** Password step, then the options for the key: the sign-in challenge and the WebAuthn options. */
async function toKeyStep(h: KeyHolder, client = new TestClient(h.server.url)) {
  const challenge = await passwordStep(client, h.email);
  const res = await client.post('/api/v1/auth/second-factor/webauthn/options', { challenge });
  assert.equal(res.status, 200, res.text);
  return { client, challenge, options: res.json?.options as Options };
}

function submit(client: TestClient, challenge: string, assertion: unknown) {
  return client.post('/api/v1/auth/second-factor', { challenge, method: 'webauthn', assertion });
}

async function failureReasons(server: TestServer, userId: string): Promise<string[]> {
  const rows = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'second_factor.failed').where('subject_user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => (JSON.parse(r.details) as { reason: string }).reason);
}

test('a registered security key is offered at the second step and signs in with amr hwk+pwd+mfa, naming the key in the audit', async (t) => {
  const h = await keyHolder(t);
  assert.equal(h.backupCodes.length, 10, 'a first method comes with backup codes');
  const row = await dbOf(h.server).selectFrom('webauthn_credentials').selectAll().where('factor_id', '=', h.factorId).executeTakeFirstOrThrow();
  assert.equal(row.credential_id, h.key.id);
  assert.equal(Number(row.sign_count), 0);
  assert.deepEqual(JSON.parse(row.transports), ['usb']);
  assert.equal(row.aaguid, '00000000-0000-0000-0000-000000000000');
  const factorRow = await dbOf(h.server).selectFrom('factors').selectAll().where('id', '=', h.factorId).executeTakeFirstOrThrow();
  assert.equal(factorRow.label, 'Blue key');
  assert.equal(factorRow.status, 'active');

  const step = await passwordStep(new TestClient(h.server.url), h.email);
  assert.ok(step);
  const signIn = await new TestClient(h.server.url).post('/api/v1/auth/sign-in', { email: h.email, password: 'correct horse battery staple 42' });
  assert.deepEqual(signIn.json?.methods, ['webauthn', 'backup_code']);

  const { client, challenge, options } = await toKeyStep(h);
  assert.deepEqual(options.allowCredentials?.map((c) => c.id), [h.key.id]);
  assert.equal(options.rpId, '127.0.0.1');
  const res = await submit(client, challenge, h.key.assert(options));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([...(res.json?.amr as string[])].sort(), ['hwk', 'mfa', 'pwd']);
  const stored = await dbOf(h.server).selectFrom('webauthn_credentials').select('sign_count').where('factor_id', '=', h.factorId).executeTakeFirstOrThrow();
  assert.equal(Number(stored.sign_count), 1, 'the counter moved on');
  const succeeded = await dbOf(h.server).selectFrom('audit_events').select('details').where('event_type', '=', 'second_factor.succeeded').where('subject_user_id', '=', h.userId).executeTakeFirstOrThrow();
  const details = JSON.parse(succeeded.details) as { method: string; credentialId: string; label: string };
  assert.equal(details.method, 'webauthn');
  assert.equal(details.credentialId, h.key.id);
  assert.equal(details.label, 'Blue key');
  // Challenges are kept only as hashes.
  const challenges = await dbOf(h.server).selectFrom('webauthn_challenges').selectAll().execute();
  assert.ok(!JSON.stringify(challenges).includes(options.challenge));
});

test('a synced passkey that verified the person adds swk and user', async (t) => {
  const h = await keyHolder(t, { backupEligible: true, userVerifying: true, counting: false });
  const { client, challenge, options } = await toKeyStep(h);
  const res = await submit(client, challenge, h.key.assert(options));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual([...(res.json?.amr as string[])].sort(), ['mfa', 'pwd', 'swk', 'user']);
});

const refusals: Array<{ name: string; overrides: (h: KeyHolder) => AssertionOverrides; code: string }> = [
  { name: 'an assertion made for another origin (a look-alike site)', overrides: () => ({ origin: 'https://twofold.example.evil' }), code: 'webauthn_origin_mismatch' },
  { name: 'an assertion for another relying party id', overrides: () => ({ rpId: 'evil.example' }), code: 'webauthn_rp_id_mismatch' },
  { name: 'an assertion signed by another key', overrides: () => ({ signWith: otherKey() }), code: 'webauthn_assertion_invalid' },
  { name: 'an assertion for a challenge this sign-in never issued', overrides: () => ({ challenge: Buffer.alloc(32, 7).toString('base64url') }), code: 'webauthn_challenge_invalid' },
  { name: 'a registration answer sent as an assertion', overrides: () => ({ type: 'webauthn.create' }), code: 'webauthn_assertion_invalid' },
];

for (const r of refusals) {
  test(`${r.name} is refused with ${r.code}, signs nobody in and is audited`, async (t) => {
    const h = await keyHolder(t);
    const { client, challenge, options } = await toKeyStep(h);
    const res = await submit(client, challenge, h.key.assert(options, r.overrides(h)));
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json?.error?.code, r.code);
    assert.equal(client.cookies.get('twofold_session'), undefined);
    assert.deepEqual(await failureReasons(h.server, h.userId), [r.code]);
  });
}

test('a replayed assertion is refused: on its own sign-in once used, on another sign-in, and after a failed attempt spent its challenge', async (t) => {
  const h = await keyHolder(t);
  const first = await toKeyStep(h);
  const assertion = h.key.assert(first.options);
  assert.equal((await submit(first.client, first.challenge, assertion)).status, 200);
  // The sign-in it completed is closed.
  const again = await submit(first.client, first.challenge, assertion);
  assert.equal(again.status, 401);
  assert.equal(again.json?.error?.code, 'challenge_invalid');
  // Another sign-in has its own challenge: the old answer does not fit it.
  const second = await toKeyStep(h);
  const replay = await submit(second.client, second.challenge, assertion);
  assert.equal(replay.status, 401);
  assert.equal(replay.json?.error?.code, 'webauthn_challenge_invalid');
  // A challenge is spent by the first answer judged, right or wrong: the genuine answer after a forged one is a replay.
  const third = await toKeyStep(h);
  const forged = await submit(third.client, third.challenge, h.key.assert(third.options, { signWith: otherKey() }));
  assert.equal(forged.json?.error?.code, 'webauthn_assertion_invalid');
  const late = await submit(third.client, third.challenge, h.key.assert(third.options));
  assert.equal(late.status, 401);
  assert.equal(late.json?.error?.code, 'webauthn_challenge_used');
});

test('an expired challenge is refused with webauthn_challenge_expired', async (t) => {
  const h = await keyHolder(t);
  const { client, challenge, options } = await toKeyStep(h);
  h.clock.advance(5 * 60_000 + 1);
  const res = await submit(client, challenge, h.key.assert(options));
  assert.equal(res.status, 401, res.text);
  assert.equal(res.json?.error?.code, 'webauthn_challenge_expired');
});

test('a newer options request replaces the earlier challenge', async (t) => {
  const h = await keyHolder(t);
  const { client, challenge, options } = await toKeyStep(h);
  assert.equal((await client.post('/api/v1/auth/second-factor/webauthn/options', { challenge })).status, 200);
  const res = await submit(client, challenge, h.key.assert(options));
  assert.equal(res.json?.error?.code, 'webauthn_challenge_invalid');
});

test('a counter that goes backwards (a cloned key) is refused with webauthn_counter_regressed and its own audit event', async (t) => {
  const h = await keyHolder(t);
  const ok = await toKeyStep(h);
  assert.equal((await submit(ok.client, ok.challenge, h.key.assert(ok.options, { counter: 9 }))).status, 200);
  const { client, challenge, options } = await toKeyStep(h);
  const res = await submit(client, challenge, h.key.assert(options, { counter: 5 }));
  assert.equal(res.status, 401, res.text);
  assert.equal(res.json?.error?.code, 'webauthn_counter_regressed');
  assert.ok((await auditTypes(h.server, h.userId)).includes('webauthn.counter_regressed'));
  const event = await dbOf(h.server).selectFrom('audit_events').select('details').where('event_type', '=', 'webauthn.counter_regressed').executeTakeFirstOrThrow();
  const details = JSON.parse(event.details) as { credentialId: string; storedCounter: number; receivedCounter: number };
  assert.deepEqual([details.credentialId, details.storedCounter, details.receivedCounter], [h.key.id, 9, 5]);
  const stored = await dbOf(h.server).selectFrom('webauthn_credentials').select('sign_count').where('factor_id', '=', h.factorId).executeTakeFirstOrThrow();
  assert.equal(Number(stored.sign_count), 9, 'the stored counter did not move back');
});

test('parallel answers for one sign-in: exactly one signs in', async (t) => {
  const h = await keyHolder(t, { counting: false });
  const { challenge, options } = await toKeyStep(h);
  const assertion = h.key.assert(options);
  const results = await Promise.all(Array.from({ length: 6 }, () => submit(new TestClient(h.server.url), challenge, assertion)));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 401, 401, 401, 401, 401], results.map((r) => r.text).join('\n'));
  for (const r of results.filter((x) => x.status === 401)) assert.ok(['webauthn_challenge_used', 'challenge_invalid'].includes(r.json?.error?.code ?? ''), r.text);
});

test('parallel checks of one assertion against one challenge: exactly one passes (the challenge spend alone decides)', async (t) => {
  // A key without a counter, and no sign-in flow around the check: only the challenge stands between the two.
  const h = await keyHolder(t, { counting: false });
  const deps = { database: h.server.runtime.database, box: h.server.runtime.box, settings: h.server.services.settings, clock: h.clock.now };
  const ref = signInChallengeScope('race');
  const challenge = await issueChallenge(deps, deps.database.db, ref, h.userId);
  const assertion = h.key.assert({ challenge }) as unknown as AuthenticationResponseJSON;
  const user = await dbOf(h.server).selectFrom('users').selectAll().where('id', '=', h.userId).executeTakeFirstOrThrow();
  // Warm the pool first, so the checks start together rather than one per new connection.
  await Promise.all(Array.from({ length: 6 }, () => deps.database.db.transaction().execute((trx) => trx.selectFrom('users').select('id').where('id', '=', h.userId).execute())));
  const outcomes = await Promise.all(Array.from({ length: 6 }, () => deps.database.db.transaction().execute((trx) => checkAssertion(deps, trx, assertion, ref, user))));
  assert.equal(outcomes.filter((o) => o.ok).length, 1);
  for (const o of outcomes.filter((x) => !x.ok)) assert.equal(!o.ok && o.failureCode, 'webauthn_challenge_used');
});

test('bad input at the key step is a 4xx with a stable code, never a 500', async (t) => {
  const h = await keyHolder(t);
  const { client, challenge } = await toKeyStep(h);
  const garbage = await submit(client, challenge, { id: 'x', rawId: 'x', type: 'public-key', response: { clientDataJSON: '!!', authenticatorData: '', signature: '' } });
  assert.equal(garbage.status, 401);
  assert.equal(garbage.json?.error?.code, 'webauthn_assertion_invalid');
  const text = await client.post('/api/v1/auth/second-factor', { challenge, method: 'webauthn', code: 'not json' });
  assert.equal(text.json?.error?.code, 'webauthn_assertion_invalid');
  const neither = await client.post('/api/v1/auth/second-factor', { challenge, method: 'webauthn' });
  assert.equal(neither.status, 400);
  const noFlow = await client.post('/api/v1/auth/second-factor/webauthn/options', { challenge: 'nope' });
  assert.equal(noFlow.status, 401);
  assert.equal(noFlow.json?.error?.code, 'challenge_invalid');
  const badRegistration = await h.client.post('/api/v1/factors/webauthn', { response: { id: 1 } });
  assert.equal(badRegistration.status, 400);
  assert.equal(badRegistration.json?.error?.code, 'webauthn_registration_invalid');
});

test('registration: needs a fresh proof, refuses another origin, a reused challenge and a key registered twice', async (t) => {
  const h = await keyHolder(t);
  // The key holder's session proved the key moments ago (registering it): a second key is fine now.
  const options = (await h.client.post('/api/v1/factors/webauthn/options')).json?.options as Options;
  assert.deepEqual((options as unknown as { excludeCredentials: Array<{ id: string }> }).excludeCredentials.map((c) => c.id), [h.key.id]);
  const wrongOrigin = await h.client.post('/api/v1/factors/webauthn', { response: new SoftAuthenticator(h.server.url).register(options, { origin: 'https://evil.example' }) });
  assert.equal(wrongOrigin.json?.error?.code, 'webauthn_origin_mismatch');
  const twice = await h.client.post('/api/v1/factors/webauthn', { response: h.key.register(options) });
  assert.equal(twice.status, 409, twice.text);
  assert.equal(twice.json?.error?.code, 'webauthn_credential_exists');
  const spare = new SoftAuthenticator(h.server.url);
  const fresh = (await h.client.post('/api/v1/factors/webauthn/options')).json?.options as Options;
  const ok = await h.client.post('/api/v1/factors/webauthn', { response: spare.register(fresh), name: 'Spare' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.json?.backupCodes, undefined, 'backup codes only come with the first method');
  const reused = await h.client.post('/api/v1/factors/webauthn', { response: new SoftAuthenticator(h.server.url).register(fresh) });
  assert.equal(reused.json?.error?.code, 'webauthn_challenge_used');
  // Later, without a fresh proof, a stolen cookie cannot add a key.
  h.clock.advance(6 * 60_000);
  const stale = await h.client.post('/api/v1/factors/webauthn/options');
  assert.equal(stale.status, 403);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
});
