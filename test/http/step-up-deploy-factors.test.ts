/**
 * Security keys and phone approvals beyond sign-in (issues 18 and 19, step 4): re-authentication
 * with either, a deploy approved by a key whose challenge is derived from the digest and target,
 * and a deploy approved on a phone that signed the digest. Each proof is bound to its purpose:
 * a sign-in's challenge or approval does not re-authenticate, a step-up's does not deploy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { TestClient } from '../helpers/client.js';
import { FakePhone } from '../helpers/approver.js';
import type { PendingRequest } from '../helpers/approver.js';
import { PASSWORD, dbOf, passwordStep, serverWithEnrolledMember } from '../helpers/authenticator.js';
import type { EnrolledMember } from '../helpers/authenticator.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';
import { deployWorld } from '../helpers/deploys.js';
import type { DeployWorld, Person, Target } from '../helpers/deploys.js';
import type { TestServer } from '../helpers/server.js';
import type { TestClock } from '../helpers/clock.js';

/** A factor this recent does not confirm a sensitive action while an older one exists (verifier.ts). */
const SETTLED_MS = 11 * 60_000;

type RequestOptions = { challenge: string; rpId?: string; allowCredentials?: Array<{ id: string }> };
type CreationOptions = { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } };

async function registerKey(server: TestServer, client: TestClient): Promise<SoftAuthenticator> {
  const key = new SoftAuthenticator(server.url);
  const started = await client.post('/api/v1/factors/webauthn/options');
  assert.equal(started.status, 200, started.text);
  const registered = await client.post('/api/v1/factors/webauthn', { response: key.register(started.json?.options as CreationOptions), name: 'Blue key' });
  assert.equal(registered.status, 201, registered.text);
  return key;
}

async function pairPhone(server: TestServer, client: TestClient): Promise<FakePhone> {
  const link = await client.post('/api/v1/approvers/pairings');
  assert.equal(link.status, 201, link.text);
  const phone = new FakePhone();
  await phone.pair(new TestClient(server.url), link.json?.url as string);
  return phone;
}

async function approveOnPhone(server: TestServer, phone: FakePhone, clock: TestClock, requestId: string, number: number): Promise<PendingRequest> {
  const listed = await phone.pending(new TestClient(server.url), clock.now());
  const request = listed.find((r) => r.requestId === requestId);
  assert.ok(request, `the phone lists ${requestId}`);
  const decided = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(decided.status, 200, decided.text);
  return request;
}

function payloadOf(jws: string): Record<string, unknown> {
  const part = jws.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function signedChallenge(assertion: { response: { clientDataJSON: string } }): string {
  return (JSON.parse(Buffer.from(assertion.response.clientDataJSON, 'base64url').toString('utf8')) as { challenge: string }).challenge;
}

/** What a pipeline recomputes from the signed approval: SHA-256(nonce || target id || digest). */
function derivedChallenge(nonce: string, targetId: string, digest: string): string {
  return createHash('sha256').update(Buffer.from(nonce, 'base64url')).update(targetId, 'utf8').update(digest, 'utf8').digest('base64url');
}

async function auditDetails(server: TestServer, type: string, userId: string): Promise<Array<Record<string, unknown>>> {
  const rows = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', type).where('subject_user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => JSON.parse(r.details) as Record<string, unknown>);
}

// ---- Step-up with a security key -------------------------------------------------------------

test('step-up with a security key: offered, options bound to the session, re-authenticates; a sign-in challenge is refused and the reverse', async (t) => {
  const { server, member } = await serverWithEnrolledMember(t);
  const key = await registerKey(server, member.client);

  const step = await member.client.get('/api/v1/auth/reauthenticate');
  assert.equal(step.status, 200, step.text);
  assert.ok((step.json?.methods as Array<{ method: string }>).some((m) => m.method === 'webauthn'), step.text);

  // A challenge issued for a sign-in of the same person does not re-authenticate.
  const laptop = new TestClient(server.url);
  const challenge = await passwordStep(laptop, member.email);
  const signInOptions = (await laptop.post('/api/v1/auth/second-factor/webauthn/options', { challenge })).json?.options as RequestOptions;
  const crossed = await member.client.post('/api/v1/auth/reauthenticate', { method: 'webauthn', assertion: key.assert(signInOptions) });
  assert.equal(crossed.status, 401, crossed.text);
  assert.equal(crossed.json?.error && (crossed.json.error as { code: string }).code, 'webauthn_challenge_invalid');

  const options = await member.client.post('/api/v1/auth/reauthenticate/webauthn/options');
  assert.equal(options.status, 200, options.text);
  const reauthOptions = options.json?.options as RequestOptions;
  assert.deepEqual(reauthOptions.allowCredentials?.map((c) => c.id), [key.id]);

  // ... and the reverse: a step-up's challenge does not finish a sign-in.
  const reverse = await laptop.post('/api/v1/auth/second-factor', { challenge, method: 'webauthn', assertion: key.assert(reauthOptions) });
  assert.equal(reverse.status, 401, reverse.text);
  assert.equal((reverse.json?.error as { code: string }).code, 'webauthn_challenge_invalid');

  // The step-up challenge is still live (the sign-in looked it up under its own scope): it works here, once.
  const assertion = key.assert(reauthOptions);
  const ok = await member.client.post('/api/v1/auth/reauthenticate', { method: 'webauthn', assertion });
  assert.equal(ok.status, 200, ok.text);
  const succeeded = await auditDetails(server, 'reauthentication.succeeded', member.user.id);
  assert.deepEqual(succeeded.at(-1)?.methods, ['webauthn']);
  const again = await member.client.post('/api/v1/auth/reauthenticate', { method: 'webauthn', assertion });
  assert.equal(again.status, 401, again.text);
  assert.equal((again.json?.error as { code: string }).code, 'webauthn_challenge_used');
});

test('step-up options for a security key need one: a person without a key gets factor_not_found', async (t) => {
  const { member } = await serverWithEnrolledMember(t);
  const res = await member.client.post('/api/v1/auth/reauthenticate/webauthn/options');
  assert.equal(res.status, 404, res.text);
  assert.equal((res.json?.error as { code: string }).code, 'factor_not_found');
});

// ---- Step-up with a phone --------------------------------------------------------------------

async function memberWithPhone(t: Parameters<typeof serverWithEnrolledMember>[0]): Promise<{ server: TestServer; clock: TestClock; member: EnrolledMember; phone: FakePhone }> {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await pairPhone(server, member.client);
  clock.advance(SETTLED_MS);
  return { server, clock, member, phone };
}

test('step-up approved on a phone re-authenticates the session once; the approval is bound to the step-up', async (t) => {
  const { server, clock, member, phone } = await memberWithPhone(t);
  const step = await member.client.get('/api/v1/auth/reauthenticate');
  assert.ok((step.json?.methods as Array<{ method: string }>).some((m) => m.method === 'push'), step.text);
  assert.deepEqual(step.json?.approvers, [{ id: phone.deviceId, name: 'Pixel 8' }]);

  const started = await member.client.post('/api/v1/auth/reauthenticate/approvals', { approverId: phone.deviceId });
  assert.equal(started.status, 201, started.text);
  const requestId = started.json?.requestId as string;
  assert.equal((await member.client.post('/api/v1/auth/reauthenticate/approvals/status', { requestId })).json?.state, 'pending');
  const request = await approveOnPhone(server, phone, clock, requestId, started.json?.number as number);
  assert.equal(request.description.action, 'Confirm it is you');
  assert.match(request.binding, /^reauthentication:session:/);
  assert.equal((await member.client.post('/api/v1/auth/reauthenticate/approvals/status', { requestId })).json?.state, 'approved');

  const ok = await member.client.post('/api/v1/auth/reauthenticate', { method: 'push', code: requestId });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((await auditDetails(server, 'reauthentication.succeeded', member.user.id)).at(-1)?.methods, ['push']);
  const replay = await member.client.post('/api/v1/auth/reauthenticate', { method: 'push', code: requestId });
  assert.equal(replay.status, 401, replay.text);
  assert.equal((replay.json?.error as { code: string }).code, 'code_invalid');
});

test("a sign-in's phone approval does not re-authenticate, and a step-up's approval does not sign in", async (t) => {
  const { server, clock, member, phone } = await memberWithPhone(t);
  // A sign-in approval, approved on the phone, carried to the step-up.
  const laptop = new TestClient(server.url);
  const signIn = await laptop.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  const challenge = signIn.json?.challenge as string;
  const asked = await laptop.post('/api/v1/auth/approvals', { challenge, approverId: phone.deviceId });
  assert.equal(asked.status, 201, asked.text);
  await approveOnPhone(server, phone, clock, asked.json?.requestId as string, asked.json?.number as number);
  const crossed = await member.client.post('/api/v1/auth/reauthenticate', { method: 'push', code: asked.json?.requestId as string });
  assert.equal(crossed.status, 401, crossed.text);
  assert.equal((crossed.json?.error as { code: string }).code, 'code_invalid');
  // Still good for the sign-in it was made for.
  const signedIn = await laptop.post('/api/v1/auth/second-factor', { challenge, method: 'push', code: asked.json?.requestId as string });
  assert.equal(signedIn.status, 200, signedIn.text);

  // The reverse: a step-up approval carried to a sign-in.
  const started = await member.client.post('/api/v1/auth/reauthenticate/approvals', { approverId: phone.deviceId });
  assert.equal(started.status, 201, started.text);
  await approveOnPhone(server, phone, clock, started.json?.requestId as string, started.json?.number as number);
  const laptop2 = new TestClient(server.url);
  const signIn2 = await laptop2.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  const reverse = await laptop2.post('/api/v1/auth/second-factor', { challenge: signIn2.json?.challenge as string, method: 'push', code: started.json?.requestId as string });
  assert.equal(reverse.status, 401, reverse.text);
  assert.equal((reverse.json?.error as { code: string }).code, 'code_invalid');
});

// ---- Holding a factor: a paired phone counts -------------------------------------------------

test('a paired phone counts as holding a factor: removing the only TOTP leaves the person enrolled for step-up and as a deployer', async (t) => {
  const world = await deployWorld(t);
  const person = await world.person();
  const phone = await pairPhone(world.server, person.client);
  assert.ok(phone.deviceId);
  // Drop the authenticator: the phone is now the only factor.
  const removed = await person.client.request('DELETE', `/api/v1/factors/${person.factorId}`);
  assert.equal(removed.status, 204, removed.text);
  // Not the last method, so the backup codes stay (they go with the last one).
  const left = await dbOf(world.server).selectFrom('backup_codes').select('id').where('user_id', '=', person.user.id).where('used_at', 'is', null).execute();
  assert.equal(left.length, 10, 'backup codes kept while a phone is paired');
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const candidates = await world.admin.client.get(`/api/v1/deploy-targets/${target.id}/deployer-candidates`);
  assert.ok((candidates.json?.candidates as Array<{ id: string }>).some((c) => c.id === person.user.id), candidates.text);
  const authorised = await world.authorise(target, [person]);
  assert.equal(authorised.deployers.find((d) => d.id === person.user.id)?.enrolled, true);
  // The admin list of people without 2FA leaves them out.
  await world.sudo();
  const bare = await world.person(world.agencyId, { enrol: false });
  const without = await world.admin.client.get(`/api/v1/users?org=${world.agencyId}&filter=no_2fa`);
  assert.equal(without.status, 200, without.text);
  assert.ok(JSON.stringify(without.json).includes(bare.email), 'someone without any factor is listed');
  assert.ok(!JSON.stringify(without.json).includes(person.email), 'someone with only a phone is not');
  // The full list names the phone as their method, and does not say they must enrol.
  const all = await world.admin.client.get(`/api/v1/users?org=${world.agencyId}`);
  const listed = (all.json?.users as Array<{ email: string; methods: string[]; mustEnrol: boolean }>).find((u) => u.email === person.email);
  assert.deepEqual(listed && { methods: listed.methods, mustEnrol: listed.mustEnrol }, { methods: ['push'], mustEnrol: false }, all.text);
  // Step-up asks for a second factor (the phone), not only the password, once the proofs are stale.
  world.clock.advance(world.server.services.settings.adminReauthMs + 1000);
  const step = await person.client.get('/api/v1/auth/reauthenticate');
  assert.equal(step.status, 200, step.text);
  assert.ok((step.json?.missing as string[]).includes('second_factor'), step.text);
  assert.deepEqual(step.json?.approvers, [{ id: phone.deviceId, name: 'Pixel 8' }]);

  // Confirmed on the phone, the person removes it: now the last method, so the backup codes go with it.
  const asked = await person.client.post('/api/v1/auth/reauthenticate/approvals', { approverId: phone.deviceId });
  assert.equal(asked.status, 201, asked.text);
  await approveOnPhone(world.server, phone, world.clock, asked.json?.requestId as string, asked.json?.number as number);
  const confirmed = await person.client.post('/api/v1/auth/reauthenticate', { method: 'push', code: asked.json?.requestId as string });
  assert.equal(confirmed.status, 200, confirmed.text);
  const gone = await person.client.request('DELETE', `/api/v1/approvers/${phone.deviceId}`);
  assert.equal(gone.status, 204, gone.text);
  const orphans = await dbOf(world.server).selectFrom('backup_codes').select('id').where('user_id', '=', person.user.id).where('used_at', 'is', null).execute();
  assert.equal(orphans.length, 0, 'no backup codes without a method');
});

// ---- Deploy with a security key --------------------------------------------------------------

async function keyDeployer(world: DeployWorld): Promise<{ person: Person; key: SoftAuthenticator; target: Target }> {
  const person = await world.person(world.agencyId, { enrol: false });
  const key = await registerKey(world.server, person.client);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  await world.authorise(target, [person]);
  return { person, key, target };
}

async function keyOptions(person: Person, target: Target, digest: string): Promise<{ options: RequestOptions; nonce: string }> {
  const res = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/webauthn/options`, { digest });
  assert.equal(res.status, 200, res.text);
  return res.json as unknown as { options: RequestOptions; nonce: string };
}

test('a deploy approved with a security key: the assertion verifies against the digest and the JWS names the method and credential', async (t) => {
  const world = await deployWorld(t);
  const { person, key, target } = await keyDeployer(world);
  const { digest } = await world.addChange(person.client, target, 'feature.flag', true, 'Turn the flag on');
  const { options, nonce } = await keyOptions(person, target, digest);
  assert.equal(options.challenge, derivedChallenge(nonce, target.id, digest), 'the challenge is SHA-256(nonce || target || digest)');
  const stored = await dbOf(world.server).selectFrom('webauthn_challenges').selectAll().where('purpose', '=', 'deploy').execute();
  assert.equal(stored.length, 1);
  assert.ok(!JSON.stringify(stored).includes(nonce) && !JSON.stringify(stored).includes(options.challenge), 'nonce and challenge are stored only hashed');

  const assertion = key.assert(options);
  const res = await world.deploy(person, target, { digest, method: 'webauthn', assertion, nonce } as never);
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json?.method, 'webauthn');
  const claims = payloadOf(res.json?.approval as string);
  assert.equal(claims.method, 'webauthn');
  assert.equal(claims.digest, digest);
  const evidence = claims.webauthn as { credentialId: string; nonce: string; challenge: string; clientDataJSON: string };
  assert.equal(evidence.credentialId, key.id);
  // What a pipeline can check offline: the signed clientDataJSON carries the challenge derived from this digest.
  assert.equal(signedChallenge(assertion), derivedChallenge(evidence.nonce, target.id, digest));
  assert.equal(evidence.challenge, signedChallenge(assertion));
  assert.equal(evidence.clientDataJSON, assertion.response.clientDataJSON, 'the signed client data travels in the approval');
});

test('a deploy assertion is refused once the bundle changed, and a replayed one is refused for the same digest', async (t) => {
  const world = await deployWorld(t);
  const { person, key, target } = await keyDeployer(world);
  const first = await world.addChange(person.client, target, 'a', 1, 'A');
  const { options, nonce } = await keyOptions(person, target, first.digest);
  const assertion = key.assert(options);

  // The bundle changes after the review: the old digest is refused, and the assertion does not fit the new one.
  const second = await world.addChange(person.client, target, 'b', 2, 'B');
  const stale = await world.deploy(person, target, { digest: first.digest, method: 'webauthn', assertion, nonce } as never);
  assert.equal(stale.status, 409, stale.text);
  assert.equal((stale.json?.error as { code: string }).code, 'bundle_changed');
  const moved = await world.deploy(person, target, { digest: second.digest, method: 'webauthn', assertion, nonce } as never);
  assert.equal(moved.status, 401, moved.text);
  assert.equal((moved.json?.error as { code: string }).code, 'webauthn_challenge_invalid');
  assert.equal((await world.target(target.id)).currentDeployment, null, 'nothing went live');

  // A fresh assertion for the new digest deploys, once.
  const fresh = await keyOptions(person, target, second.digest);
  const good = key.assert(fresh.options);
  const deployed = await world.deploy(person, target, { digest: second.digest, method: 'webauthn', assertion: good, nonce: fresh.nonce } as never);
  assert.equal(deployed.status, 201, deployed.text);

  // Make the same digest pending again (change c, deploy it, take c back out): the spent assertion is a replay.
  await world.addChange(person.client, target, 'c', 3, 'C');
  const third = await keyOptions(person, target, (await world.preview(person.client, target)).digest);
  const cDeploy = await world.deploy(person, target, { digest: (await world.preview(person.client, target)).digest, method: 'webauthn', assertion: key.assert(third.options), nonce: third.nonce } as never);
  assert.equal(cDeploy.status, 201, cDeploy.text);
  const back = await world.addChange(person.client, target, 'c', null, 'Take C out');
  assert.equal(back.digest, second.digest, 'the pending bundle is the one approved before');
  const replay = await world.deploy(person, target, { digest: second.digest, method: 'webauthn', assertion: good, nonce: fresh.nonce } as never);
  assert.equal(replay.status, 401, replay.text);
  assert.equal((replay.json?.error as { code: string }).code, 'webauthn_challenge_used');
});

test("a step-up's key challenge does not approve a deploy, and a deploy's does not re-authenticate", async (t) => {
  const world = await deployWorld(t);
  const { person, key, target } = await keyDeployer(world);
  const { digest } = await world.addChange(person.client, target, 'a', 1, 'A');
  const reauth = (await person.client.post('/api/v1/auth/reauthenticate/webauthn/options')).json?.options as RequestOptions;
  const { options, nonce } = await keyOptions(person, target, digest);
  const crossed = await world.deploy(person, target, { digest, method: 'webauthn', assertion: key.assert(reauth), nonce } as never);
  assert.equal(crossed.status, 401, crossed.text);
  assert.equal((crossed.json?.error as { code: string }).code, 'webauthn_challenge_invalid');
  const reverse = await person.client.post('/api/v1/auth/reauthenticate', { method: 'webauthn', assertion: key.assert(options) });
  assert.equal(reverse.status, 401, reverse.text);
  assert.equal((reverse.json?.error as { code: string }).code, 'webauthn_challenge_invalid');
  // Without the nonce nothing can be derived: refused, nothing live.
  const noNonce = await world.deploy(person, target, { digest, method: 'webauthn', assertion: key.assert(options) } as never);
  assert.equal(noNonce.status, 401, noNonce.text);
  assert.equal((await world.target(target.id)).currentDeployment, null);
});

// ---- Deploy with a phone ---------------------------------------------------------------------

async function phoneDeployer(world: DeployWorld): Promise<{ person: Person; phone: FakePhone; target: Target }> {
  const person = await world.person();
  const phone = await pairPhone(world.server, person.client);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  await world.authorise(target, [person]);
  world.clock.advance(SETTLED_MS);
  return { person, phone, target };
}

test('a deploy approved on a phone: the phone sees the target and the number of changes, signs the digest, and the JWS names the phone', async (t) => {
  const world = await deployWorld(t);
  const { person, phone, target } = await phoneDeployer(world);
  await world.addChange(person.client, target, 'a', 1, 'A');
  const { digest } = await world.addChange(person.client, target, 'b', 2, 'B');
  const started = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/approvals`, { digest, approverId: phone.deviceId });
  assert.equal(started.status, 201, started.text);
  const requestId = started.json?.requestId as string;
  const request = await approveOnPhone(world.server, phone, world.clock, requestId, started.json?.number as number);
  assert.equal(request.description.target, 'Production');
  assert.equal(request.description.changes, 2);
  assert.equal(request.description.action, 'Deploy to Production');
  assert.ok(request.binding.includes(digest), 'the signed binding names the digest');
  assert.equal((await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/approvals/status`, { digest, requestId })).json?.state, 'approved');

  const res = await world.deploy(person, target, { digest, method: 'push', code: requestId });
  assert.equal(res.status, 201, res.text);
  const claims = payloadOf(res.json?.approval as string);
  assert.equal(claims.method, 'push');
  assert.deepEqual(claims.phone, { approverId: phone.deviceId, requestId });
});

test('a phone approval for one digest does not deploy another, and a step-up approval does not deploy', async (t) => {
  const world = await deployWorld(t);
  const { person, phone, target } = await phoneDeployer(world);
  const first = await world.addChange(person.client, target, 'a', 1, 'A');
  const started = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/approvals`, { digest: first.digest, approverId: phone.deviceId });
  assert.equal(started.status, 201, started.text);
  await approveOnPhone(world.server, phone, world.clock, started.json?.requestId as string, started.json?.number as number);
  const second = await world.addChange(person.client, target, 'b', 2, 'B');
  const other = await world.deploy(person, target, { digest: second.digest, method: 'push', code: started.json?.requestId as string });
  assert.equal(other.status, 401, other.text);
  assert.equal((other.json?.error as { code: string }).code, 'code_invalid');

  const stepUp = await person.client.post('/api/v1/auth/reauthenticate/approvals', { approverId: phone.deviceId });
  assert.equal(stepUp.status, 201, stepUp.text);
  await approveOnPhone(world.server, phone, world.clock, stepUp.json?.requestId as string, stepUp.json?.number as number);
  const crossed = await world.deploy(person, target, { digest: second.digest, method: 'push', code: stepUp.json?.requestId as string });
  assert.equal(crossed.status, 401, crossed.text);
  assert.equal((await world.target(target.id)).currentDeployment, null, 'nothing went live');
});

test('a backup code still never approves a deploy, even for someone who holds a key', async (t) => {
  const world = await deployWorld(t);
  const person = await world.person();
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  await world.authorise(target, [person]);
  const { digest } = await world.addChange(person.client, target, 'a', 1, 'A');
  const res = await world.deploy(person, target, { digest, method: 'backup_code', code: person.backupCodes[0] ?? '' });
  assert.equal(res.status, 400, res.text);
  assert.equal((res.json?.error as { code: string }).code, 'method_not_allowed');
  // And a person without a paired phone cannot ask for a phone approval.
  const push = await person.client.post(`/api/v1/deploy-targets/${target.id}/deployments/approvals`, { digest, approverId: '00000000-0000-0000-0000-000000000000' });
  assert.equal(push.status, 400, push.text);
  assert.equal((push.json?.error as { code: string }).code, 'method_not_allowed');
});
