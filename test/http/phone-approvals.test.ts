import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { TestClient } from '../helpers/client.js';
import { FakePhone } from '../helpers/approver.js';
import type { PendingRequest } from '../helpers/approver.js';
import { actorOf } from '../helpers/actors.js';
import { PASSWORD, dbOf, freshCode, passwordStep, serverWithEnrolledMember, signedInClient, startTwoNodesWithMember } from '../helpers/authenticator.js';
import type { EnrolledMember } from '../helpers/authenticator.js';
import type { TestServer } from '../helpers/server.js';
import { policies } from '../../src/store/index.js';
import { bindChannel, deliveryWorld, enrolTotp, newMember, smtpConfig, withSmtp } from '../helpers/delivery.js';
import type { SmtpPeer } from '../delivery/peers.js';
import { parseMail } from '../delivery/peers.js';

/** A member with an authenticator and a paired phone; the member's client holds a fresh session. */
async function withPhone(server: TestServer, member: Pick<EnrolledMember, 'client'>): Promise<FakePhone> {
  const link = await member.client.post('/api/v1/approvers/pairings');
  assert.equal(link.status, 201, link.text);
  assert.match(link.json?.url as string, new RegExp(`^${server.url}/approver/#pair=[\\w-]{40,}$`));
  const phone = new FakePhone();
  await phone.pair(new TestClient(server.url), link.json?.url as string);
  return phone;
}

/** The password step, then "Approve on my phone": the challenge, the request and the number shown. */
async function askPhone(server: TestServer, member: Pick<EnrolledMember, 'email' | 'password'>, phone: FakePhone, laptop = new TestClient(server.url)) {
  const signIn = await laptop.post('/api/v1/auth/sign-in', { email: member.email, password: member.password });
  assert.equal(signIn.status, 200, signIn.text);
  assert.ok((signIn.json?.methods as string[]).includes('push'), signIn.text);
  assert.deepEqual(signIn.json?.approvers, [{ id: phone.deviceId, name: 'Pixel 8' }]);
  const challenge = signIn.json?.challenge as string;
  const started = await laptop.post('/api/v1/auth/approvals', { challenge, approverId: phone.deviceId });
  assert.equal(started.status, 201, started.text);
  return { laptop, challenge, requestId: started.json?.requestId as string, number: started.json?.number as number };
}

async function theRequest(server: TestServer, phone: FakePhone, nowMs: number, requestId: string): Promise<PendingRequest> {
  const listed = await phone.pending(new TestClient(server.url), nowMs);
  const found = listed.find((r) => r.requestId === requestId);
  assert.ok(found, `the phone lists ${requestId}: ${JSON.stringify(listed)}`);
  return found;
}

async function stateOf(server: TestServer, requestId: string): Promise<string> {
  return (await dbOf(server).selectFrom('approval_requests').select('state').where('id', '=', requestId).executeTakeFirstOrThrow()).state;
}

test('a paired phone approves a sign-in by picking the number shown: amr pwd+swk+mfa, the session names the phone', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const { laptop, challenge, requestId, number } = await askPhone(server, member, phone);
  assert.ok(number >= 10 && number <= 99);

  const request = await theRequest(server, phone, clock.now(), requestId);
  assert.equal(request.choices.length, 3);
  assert.ok(request.choices.includes(number));
  assert.equal(request.description.action, 'Sign in');
  assert.ok(!JSON.stringify(request.description).includes(challenge), 'the description carries no secret');

  const pending = await laptop.post('/api/v1/auth/approvals/status', { challenge, requestId });
  assert.equal(pending.json?.state, 'pending');
  const decided = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(decided.status, 200, decided.text);
  assert.equal(decided.json?.state, 'approved');
  assert.equal((await laptop.post('/api/v1/auth/approvals/status', { challenge, requestId })).json?.state, 'approved');

  const signedIn = await laptop.post('/api/v1/auth/second-factor', { challenge, method: 'push', code: requestId });
  assert.equal(signedIn.status, 200, signedIn.text);
  assert.deepEqual([...(signedIn.json?.amr as string[])].sort(), ['mfa', 'pwd', 'swk']);
  const record = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'sign_in.succeeded').where('subject_user_id', '=', member.user.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
  assert.equal((JSON.parse(record.details) as { approvedOn: string }).approvedOn, 'Pixel 8');

  // Replayed: the phone's signed decision again, and the approval spent again.
  const replay = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(replay.status, 409);
  assert.equal(replay.json?.error?.code, 'approval_already_decided');
  const other = new TestClient(server.url);
  const otherChallenge = await passwordStep(other, member.email);
  const reused = await other.post('/api/v1/auth/second-factor', { challenge: otherChallenge, method: 'push', code: requestId });
  assert.equal(reused.status, 401);
  assert.equal(reused.json?.error?.code, 'code_invalid');
  assert.equal(other.cookies.get('twofold_session'), undefined);
});

test('a forged signature is refused (401 approval_signature_invalid) and decides nothing', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const { requestId, number } = await askPhone(server, member, phone);
  const request = await theRequest(server, phone, clock.now(), requestId);
  const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const forged = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number, stranger));
  assert.equal(forged.status, 401);
  assert.equal(forged.json?.error?.code, 'approval_signature_invalid');
  // A signature over another number does not fit this one.
  const body = phone.decisionBody(request, 'approve', number);
  const swapped = await new TestClient(server.url).post('/api/v1/approver/decisions', { ...body, number: number === 99 ? 98 : number + 1 });
  assert.equal(swapped.status, 401);
  assert.equal(swapped.json?.error?.code, 'approval_signature_invalid');
  // The listing also needs the device's signature.
  const listing = await new TestClient(server.url).post('/api/v1/approver/pending', { deviceId: phone.deviceId, timestamp: clock.now(), signature: phone.sign('something else') });
  assert.equal(listing.status, 401);
  assert.equal(listing.json?.error?.code, 'approval_signature_invalid');
  assert.equal(await stateOf(server, requestId), 'pending');
});

test('an approval for one sign-in cannot complete another (401 code_invalid); its own flow still can', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const first = await askPhone(server, member, phone);
  const request = await theRequest(server, phone, clock.now(), first.requestId);
  assert.equal((await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', first.number))).status, 200);

  const attacker = new TestClient(server.url);
  const otherChallenge = await passwordStep(attacker, member.email);
  const stolen = await attacker.post('/api/v1/auth/second-factor', { challenge: otherChallenge, method: 'push', code: first.requestId });
  assert.equal(stolen.status, 401);
  assert.equal(stolen.json?.error?.code, 'code_invalid');
  const peek = await attacker.post('/api/v1/auth/approvals/status', { challenge: otherChallenge, requestId: first.requestId });
  assert.equal(peek.status, 404);
  assert.equal(peek.json?.error?.code, 'approval_not_found');

  const own = await first.laptop.post('/api/v1/auth/second-factor', { challenge: first.challenge, method: 'push', code: first.requestId });
  assert.equal(own.status, 200, own.text);
});

test('a removed phone signs nothing (404 approver_not_found); removal needs a fresh proof', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const { requestId, number } = await askPhone(server, member, phone);
  const request = await theRequest(server, phone, clock.now(), requestId);

  // Ten minutes on, the session's proofs are stale: removing the phone asks for them again.
  clock.advance(10 * 60_000);
  const tooLate = await member.client.delete(`/api/v1/approvers/${phone.deviceId}`);
  assert.equal(tooLate.status, 403);
  assert.equal(tooLate.json?.error?.code, 'reauthentication_required');
  const fresh = new TestClient(server.url);
  const signedIn = await fresh.post('/api/v1/auth/second-factor', { challenge: await passwordStep(fresh, member.email), method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(signedIn.status, 200, signedIn.text);

  const removed = await fresh.delete(`/api/v1/approvers/${phone.deviceId}`);
  assert.equal(removed.status, 204, removed.text);
  const decided = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(decided.status, 404);
  assert.equal(decided.json?.error?.code, 'approver_not_found');
  assert.equal(await stateOf(server, requestId), 'cancelled');
  const listing = await new TestClient(server.url).post('/api/v1/approver/pending', { deviceId: phone.deviceId, timestamp: clock.now(), signature: phone.sign('x') });
  assert.equal(listing.json?.error?.code, 'approver_not_found');
  assert.deepEqual((await fresh.get('/api/v1/approvers')).json?.approvers, []);
});

test('an admin reset removes the paired phones too: the lost phone approves nothing afterwards', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const { requestId, number } = await askPhone(server, member, phone);
  const request = await theRequest(server, phone, clock.now(), requestId);

  const adminEmail = `admin-${randomUUID().slice(0, 8)}@example.com`;
  await server.services.accounts.createUser({ orgId: member.user.org_id, email: adminEmail, password: PASSWORD, roles: ['admin'] }, { userId: null, meta: null });
  const admin = await actorOf(server, await signedInClient(server, adminEmail));
  const { removedFactors } = await server.services.userAdmin.resetFactors(admin, member.user.id, { ip: '192.0.2.7', userAgent: 'node-test' });
  assert.equal(removedFactors, 2, 'the authenticator and the phone');

  const decided = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(decided.status, 404, decided.text);
  assert.equal(decided.json?.error?.code, 'approver_not_found');
  assert.equal(await stateOf(server, requestId), 'cancelled');
  const audit = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'admin.factors_reset').where('subject_user_id', '=', member.user.id).executeTakeFirstOrThrow();
  assert.deepEqual((JSON.parse(audit.details) as { phones: unknown }).phones, [{ id: phone.deviceId, name: 'Pixel 8' }]);
  // The next sign-in offers no phone.
  const signIn = await new TestClient(server.url).post('/api/v1/auth/sign-in', { email: member.email, password: member.password });
  assert.ok(!((signIn.json?.methods as string[] | undefined) ?? []).includes('push'), signIn.text);
});

test('two racing approvals of one request on two nodes: exactly one succeeds, the other gets 409 approval_already_decided', async (t) => {
  const { nodes, clock, member } = await startTwoNodesWithMember(t);
  const [a, b] = nodes;
  const phone = await withPhone(a, member);
  for (let round = 0; round < 3; round++) {
    const { requestId, number, challenge, laptop } = await askPhone(a, member, phone);
    const request = await theRequest(b, phone, clock.now(), requestId);
    const body = phone.decisionBody(request, 'approve', number);
    const answers = await Promise.all([new TestClient(a.url).post('/api/v1/approver/decisions', body), new TestClient(b.url).post('/api/v1/approver/decisions', body)]);
    const statuses = answers.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 409], answers.map((r) => r.text).join(' | '));
    assert.equal(answers.find((r) => r.status === 409)?.json?.error?.code, 'approval_already_decided');
    // And the approval is spent once: two racing completions, one session.
    const completions = await Promise.all([a, b].map((node) => {
      const c = new TestClient(node.url);
      return c.post('/api/v1/auth/second-factor', { challenge, method: 'push', code: requestId });
    }));
    assert.deepEqual(completions.map((r) => r.status).sort(), [200, 401], completions.map((r) => r.text).join(' | '));
    void laptop;
  }
});

test('a wrong number denies the request (403 approval_number_wrong); an expired request is refused (410 approval_expired)', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const first = await askPhone(server, member, phone);
  const request = await theRequest(server, phone, clock.now(), first.requestId);
  const wrong = request.choices.find((n) => n !== first.number)!;
  const denied = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', wrong));
  assert.equal(denied.status, 403);
  assert.equal(denied.json?.error?.code, 'approval_number_wrong');
  assert.equal(await stateOf(server, first.requestId), 'denied');
  assert.equal((await first.laptop.post('/api/v1/auth/approvals/status', { challenge: first.challenge, requestId: first.requestId })).json?.state, 'denied');
  const refused = await first.laptop.post('/api/v1/auth/second-factor', { challenge: first.challenge, method: 'push', code: first.requestId });
  assert.equal(refused.status, 401);

  const second = await askPhone(server, member, phone, first.laptop);
  const late = await theRequest(server, phone, clock.now(), second.requestId);
  clock.advance(61_000);
  const expired = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(late, 'approve', second.number));
  assert.equal(expired.status, 410);
  assert.equal(expired.json?.error?.code, 'approval_expired');
  assert.equal((await first.laptop.post('/api/v1/auth/approvals/status', { challenge: second.challenge, requestId: second.requestId })).json?.state, 'expired');
});

test('one pending request per account: another sign-in must wait (409 approval_pending); the same sign-in asking again replaces its own', async (t) => {
  const { server, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const first = await askPhone(server, member, phone);
  const again = await first.laptop.post('/api/v1/auth/approvals', { challenge: first.challenge, approverId: phone.deviceId });
  assert.equal(again.status, 201, again.text);
  assert.equal(await stateOf(server, first.requestId), 'cancelled');

  const other = new TestClient(server.url);
  const challenge = await passwordStep(other, member.email);
  const refused = await other.post('/api/v1/auth/approvals', { challenge, approverId: phone.deviceId });
  assert.equal(refused.status, 409);
  assert.equal(refused.json?.error?.code, 'approval_pending');
});

test('pairing: the link is single use (410 pairing_link_invalid), needs a session, and bad keys get stable 4xx codes', async (t) => {
  const { server, member } = await serverWithEnrolledMember(t);
  const anonymous = await new TestClient(server.url).post('/api/v1/approvers/pairings');
  assert.equal(anonymous.status, 401);
  const link = await member.client.post('/api/v1/approvers/pairings');
  const token = new URL(link.json?.url as string).hash.replace(/^#pair=/, '');
  assert.equal((await dbOf(server).selectFrom('approver_pairings').select('token_hash').executeTakeFirstOrThrow()).token_hash.includes(token), false, 'only a hash is stored');

  const phone = new FakePhone();
  const client = new TestClient(server.url);
  const privateJwk = phone.privateKey.export({ format: 'jwk' });
  for (const [publicKey, code] of [
    [{ kty: 'RSA', crv: 'P-256', x: 'a', y: 'b' }, 'approver_key_invalid'],
    [privateJwk, 'approver_key_invalid'],
    [{ ...phone.publicJwk, x: 'A'.repeat(43) }, 'approver_key_invalid'],
  ] as const) {
    const res = await client.post('/api/v1/approver/pair', { token, name: 'Pixel', publicKey });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.json?.error?.code, code);
  }
  const badSub = await client.post('/api/v1/approver/pair', { token, name: 'Pixel', publicKey: phone.publicJwk, subscription: { endpoint: 'ftp://push.example/x', keys: { p256dh: 'x', auth: 'y' } } });
  assert.equal(badSub.status, 400);
  assert.equal(badSub.json?.error?.code, 'push_subscription_invalid');
  const noName = await client.post('/api/v1/approver/pair', { token, name: '  ', publicKey: phone.publicJwk });
  assert.equal(noName.json?.error?.code, 'label_invalid');

  assert.equal((await client.post('/api/v1/approver/pair', { token, name: 'Pixel', publicKey: phone.publicJwk })).status, 201);
  const twice = await client.post('/api/v1/approver/pair', { token, name: 'Pixel', publicKey: new FakePhone().publicJwk });
  assert.equal(twice.status, 410);
  assert.equal(twice.json?.error?.code, 'pairing_link_invalid');
  const devices = (await member.client.get('/api/v1/approvers')).json?.approvers as Array<{ name: string; push: boolean }>;
  assert.deepEqual(devices.map((d) => [d.name, d.push]), [['Pixel', false]]);
});

test('"This wasn\'t me" ends the sign-in and is audited with the requesting browser and place; three denials in a row pause push (403 push_paused)', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  const first = await askPhone(server, member, phone);
  const request = await theRequest(server, phone, clock.now(), first.requestId);
  const reported = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'report', null));
  assert.equal(reported.status, 200, reported.text);
  assert.equal(reported.json?.state, 'reported');
  const ended = await first.laptop.post('/api/v1/auth/second-factor', { challenge: first.challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(ended.status, 410, 'the reported sign-in accepts nothing more, not even a right code');
  assert.equal(ended.json?.error?.code, 'challenge_expired');
  const audit = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'approval.decided').orderBy('id', 'desc').executeTakeFirstOrThrow();
  const details = JSON.parse(audit.details) as { decision: string; approver: string; requestedFrom: { browser: string; ip: string } };
  assert.equal(details.decision, 'reported');
  assert.equal(details.approver, 'Pixel 8');
  assert.equal(details.requestedFrom.ip, '127.0.0.1');

  for (let i = 0; i < 2; i++) {
    const next = await askPhone(server, member, phone);
    const r = await theRequest(server, phone, clock.now(), next.requestId);
    assert.equal((await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(r, 'deny', null))).json?.state, 'denied');
  }
  const laptop = new TestClient(server.url);
  const challenge = await passwordStep(laptop, member.email);
  const paused = await laptop.post('/api/v1/auth/approvals', { challenge, approverId: phone.deviceId });
  assert.equal(paused.status, 403);
  assert.equal(paused.json?.error?.code, 'push_paused');
  assert.equal((await dbOf(server).selectFrom('audit_events').select('id').where('event_type', '=', 'approval.paused').execute()).length, 1);

  // The password alone does not lift the pause (the laptop above had it); a sign-in with another method does.
  clock.advance(60_000);
  const owner = new TestClient(server.url);
  const withCode = await owner.post('/api/v1/auth/second-factor', { challenge: await passwordStep(owner, member.email), method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(withCode.status, 200, withCode.text);
  clock.advance(1_000);
  const again = await laptop.post('/api/v1/auth/approvals', { challenge: await passwordStep(laptop, member.email), approverId: phone.deviceId });
  assert.equal(again.status, 201, again.text);
});

test('a phone that is the last method cannot be removed while policy requires two-step verification (403 factor_required_by_policy); nothing changes', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const phone = await withPhone(server, member);
  // The authenticator goes first, which is allowed: the phone is still a method.
  clock.advance(11 * 60_000);
  const client = new TestClient(server.url);
  const signedIn = await client.post('/api/v1/auth/second-factor', { challenge: await passwordStep(client, member.email), method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(signedIn.status, 200, signedIn.text);
  assert.equal((await client.delete(`/api/v1/factors/${member.factorId}`)).status, 204);

  const orgId = (await dbOf(server).selectFrom('users').select('org_id').where('id', '=', member.user.id).executeTakeFirstOrThrow()).org_id;
  await policies.upsertOrganisationPolicy(dbOf(server), { orgId, mode: 'required', appliesToSubOrganisations: true, triggers: ['every_sign_in'], allowedMethods: ['totp', 'push'], trustBrowserDays: 0, requirePhishingResistant: false, updatedAt: clock.now(), updatedBy: null });
  const refused = await client.delete(`/api/v1/approvers/${phone.deviceId}`);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'factor_required_by_policy');
  assert.deepEqual(((await client.get('/api/v1/approvers')).json?.approvers as Array<{ id: string }>).map((a) => a.id), [phone.deviceId]);
  const audited = await dbOf(server).selectFrom('audit_events').select('id').where('event_type', '=', 'approver.removed').execute();
  assert.equal(audited.length, 0);
});

/** Subjects and texts of the security notices mailed to `to`, oldest first. */
function noticesTo(smtp: SmtpPeer, to: string): Array<{ subject: string; text: string }> {
  return smtp.received.filter((m) => m.rcptTo.includes(to)).map((m) => parseMail(m.raw)).map((p) => ({ subject: p.headers.get('subject') ?? '', text: p.text ?? '' }));
}

test('the owner is emailed (real SMTP) on "This wasn\'t me", on a wrong number, and once when three denials in a row pause push; a plain "Deny" sends nothing', async (t) => {
  const world = await deliveryWorld(t);
  const smtp = await withSmtp(t);
  await bindChannel(world, 'email', smtpConfig(smtp));
  const member = await newMember(world);
  await enrolTotp(world, member.client);
  const phone = await withPhone(world.server, member);
  const owner = { email: member.email, password: PASSWORD };
  const before = noticesTo(smtp, member.email).length;
  const fresh = () => noticesTo(smtp, member.email).slice(before);

  // "This wasn't me": ends the flow and tells the owner where the request came from, with the devices page.
  const first = await askPhone(world.server, owner, phone);
  const reported = await new TestClient(world.server.url).post('/api/v1/approver/decisions', phone.decisionBody(await theRequest(world.server, phone, world.clock.now(), first.requestId), 'report', null));
  assert.equal(reported.status, 200, reported.text);
  let mails = fresh();
  assert.equal(mails.length, 1, JSON.stringify(mails.map((m) => m.subject)));
  assert.match(mails[0]!.subject, /You reported a sign-in request that was not you/);
  assert.match(mails[0]!.text, /Requesting IP address: 127\.0\.0\.1/);
  assert.match(mails[0]!.text, /Phone: Pixel 8/);
  assert.ok(mails[0]!.text.includes(`${world.server.url}/account/security/devices`), mails[0]!.text);

  // A wrong number: denied, and the owner is alerted.
  const second = await askPhone(world.server, owner, phone);
  const request = await theRequest(world.server, phone, world.clock.now(), second.requestId);
  const wrong = await new TestClient(world.server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', request.choices.find((n) => n !== second.number)!));
  assert.equal(wrong.json?.error?.code, 'approval_number_wrong');
  mails = fresh();
  assert.equal(mails.length, 2);
  assert.match(mails[1]!.subject, /the wrong number was picked/);

  // The third denial in a row (a plain "Deny", which alone mails nothing) pauses push: one mail says so.
  const third = await askPhone(world.server, owner, phone);
  const denied = await new TestClient(world.server.url).post('/api/v1/approver/decisions', phone.decisionBody(await theRequest(world.server, phone, world.clock.now(), third.requestId), 'deny', null));
  assert.equal(denied.json?.state, 'denied');
  mails = fresh();
  assert.equal(mails.length, 3, JSON.stringify(mails.map((m) => m.subject)));
  assert.match(mails[2]!.subject, /Phone approvals are paused/);
  assert.match(mails[2]!.text, /3 approval requests in a row were denied/);
  const laptop = new TestClient(world.server.url);
  const challenge = await passwordStep(laptop, member.email);
  const paused = await laptop.post('/api/v1/auth/approvals', { challenge, approverId: phone.deviceId });
  assert.equal(paused.status, 403);
  assert.equal(paused.json?.error?.code, 'push_paused');
  assert.equal(fresh().length, 3, 'a refused request mails nothing more');
});
