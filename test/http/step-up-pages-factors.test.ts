/**
 * The re-authentication page with a security key and with a phone: the page carries the key's
 * options (a challenge for this session's step-up) and the phones to ask; both confirm the session.
 * And the Deploy Now page's phone approval, bound to the reviewed digest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import { FakePhone } from '../helpers/approver.js';
import { PASSWORD, dbOf, serverWithEnrolledMember } from '../helpers/authenticator.js';
import { deployWorld } from '../helpers/deploys.js';
import { postForm } from '../helpers/forms.js';
import { SoftAuthenticator } from '../helpers/soft-authenticator.js';

const decode = (html: string) => html.replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  assert.ok(m?.[1], 'the page carries a form token');
  return m[1];
}

test('the re-authentication page confirms with a security key, and with a phone approval', async (t) => {
  const { server, clock, member } = await serverWithEnrolledMember(t);
  const key = new SoftAuthenticator(server.url);
  const started = await member.client.post('/api/v1/factors/webauthn/options');
  assert.equal(started.status, 200, started.text);
  const registered = await member.client.post('/api/v1/factors/webauthn', { response: key.register(started.json?.options as never), name: 'Blue key' });
  assert.equal(registered.status, 201, registered.text);
  const link = await member.client.post('/api/v1/approvers/pairings');
  const phone = new FakePhone();
  await phone.pair(new TestClient(server.url), link.json?.url as string);
  clock.advance(11 * 60_000); // past the settling time of new factors

  const page = await member.client.get('/reauthenticate?next=/account/security');
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Use security key/);
  assert.match(page.text, /Approve on Pixel 8/);
  const options = JSON.parse(decode(/data-webauthn-options="([^"]+)"/.exec(page.text)?.[1] ?? '{}')) as { challenge: string };
  assert.ok(options.challenge);
  const byKey = await postForm(member.client, '/reauthenticate', { _csrf: csrfOf(page.text), next: '/account/security', method: 'webauthn', code: JSON.stringify(key.assert(options)), password: PASSWORD });
  assert.equal(byKey.status, 303, byKey.text);
  assert.equal(byKey.headers.get('location'), '/account/security');

  const again = await member.client.get('/reauthenticate');
  const asked = await postForm(member.client, '/reauthenticate/approve', { _csrf: csrfOf(again.text), next: '/account', approverId: phone.deviceId });
  assert.equal(asked.status, 200, asked.text);
  const requestId = /data-approval-request="([^"]+)"/.exec(asked.text)?.[1] ?? '';
  const number = Number(/data-testid="approval-number">\s*(\d+)/.exec(asked.text)?.[1]);
  assert.ok(requestId && number >= 10, asked.text);
  assert.equal((await member.client.get(`/reauthenticate/approval?request=${requestId}`)).json?.state, 'pending');
  const listed = await phone.pending(new TestClient(server.url), clock.now());
  const request = listed.find((r) => r.requestId === requestId);
  assert.ok(request);
  const decided = await new TestClient(server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(decided.status, 200, decided.text);
  assert.equal((await member.client.get(`/reauthenticate/approval?request=${requestId}`)).json?.state, 'approved');
  const byPhone = await postForm(member.client, '/reauthenticate', { _csrf: csrfOf(asked.text), next: '/account', method: 'push', code: requestId, password: PASSWORD });
  assert.equal(byPhone.status, 303, byPhone.text);
  const rows = await dbOf(server).selectFrom('audit_events').select('details').where('event_type', '=', 'reauthentication.succeeded').where('subject_user_id', '=', member.user.id).orderBy('id').execute();
  assert.deepEqual(rows.slice(-2).map((r) => (JSON.parse(r.details) as { methods: string[] }).methods), [['password', 'webauthn'], ['password', 'push']]);
});

test('the Deploy Now page sends the deploy to a phone, shows the number, and deploys once the phone approved this digest', async (t) => {
  const world = await deployWorld(t);
  const person = await world.person();
  const link = await person.client.post('/api/v1/approvers/pairings');
  const phone = new FakePhone();
  await phone.pair(new TestClient(world.server.url), link.json?.url as string);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  await world.authorise(target, [person]);
  world.clock.advance(11 * 60_000);
  const { digest } = await world.addChange(person.client, target, 'a', 1, 'A');

  const page = await person.client.get(`/deploy/targets/${target.id}/deploy`);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Approve on Pixel 8/);
  const asked = await postForm(person.client, `/deploy/targets/${target.id}/deploy/approve`, { _csrf: csrfOf(page.text), digest, approverId: phone.deviceId });
  assert.equal(asked.status, 200, asked.text);
  const requestId = /data-approval-request="([^"]+)"/.exec(asked.text)?.[1] ?? '';
  const number = Number(/data-testid="approval-number">\s*(\d+)/.exec(asked.text)?.[1]);
  const statusPath = decode(/data-approval-status="([^"]+)"/.exec(asked.text)?.[1] ?? '');
  assert.equal((await person.client.get(`${statusPath}&request=${requestId}`)).json?.state, 'pending');
  const request = (await phone.pending(new TestClient(world.server.url), world.clock.now())).find((r) => r.requestId === requestId);
  assert.ok(request);
  assert.equal(request.description.target, 'Production');
  assert.equal(request.description.changes, 1);
  const decided = await new TestClient(world.server.url).post('/api/v1/approver/decisions', phone.decisionBody(request, 'approve', number));
  assert.equal(decided.status, 200, decided.text);
  assert.equal((await person.client.get(`${statusPath}&request=${requestId}`)).json?.state, 'approved');
  const deployed = await postForm(person.client, `/deploy/targets/${target.id}/deploy`, { _csrf: csrfOf(asked.text), digest, method: 'push', code: requestId });
  assert.equal(deployed.status, 200, deployed.text);
  assert.match(deployed.text, /Deployed/);
  const live = (await world.target(target.id)).currentDeployment;
  assert.equal(live?.method, 'push');
  assert.equal(live?.digest, digest);
});
