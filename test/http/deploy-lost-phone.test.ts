import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { deployWorld, enrolTotp, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

test(`lost phone: after an admin resets a deployer's factors they stay listed but cannot deploy until they enrol again (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  await world.addChange(deployer.client, target, 'release', 1, 'Release 1');
  const first = await world.deployNow(deployer, target);

  await world.sudo();
  const reset = await world.admin.client.post(`/api/v1/users/${deployer.user.id}/reset-factors`);
  assert.equal(reset.status, 200, reset.text);

  // Still listed, shown as not enrolled.
  const listed = await world.target(target.id);
  assert.deepEqual(listed.deployers, [{ id: deployer.user.id, email: deployer.email, enrolled: false }]);

  // The reset ended their sessions; they sign in again with the password (no policy forces enrolment here).
  assert.equal((await deployer.client.get('/api/v1/session')).status, 401);
  const client = new TestClient(world.server.url);
  const signIn = await client.post('/api/v1/auth/sign-in', { email: deployer.email, password: PASSWORD });
  assert.equal(signIn.status, 200, signIn.text);
  assert.equal(signIn.json?.status, 'signed_in');
  const person = { ...deployer, client };

  await world.addChange(world.admin.client, target, 'release', 2, 'Release 2');
  const preview = await world.preview(client, target);
  // The old secret (what a thief with the lost phone holds) is worthless, and so is having no code.
  for (const body of [{ digest: preview.digest, method: 'totp', code: world.code(deployer.secret) }, { digest: preview.digest }]) {
    const refused = await world.deploy(person, target, body);
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json?.error?.code, 'deployer_not_enrolled');
    assert.match(refused.json?.error?.message ?? '', /two-factor/i);
  }
  const served = await fetchBundle(target.bundleUrl);
  assert.equal(served.deployment, first.id);
  assert.deepEqual(JSON.parse(served.text), { release: 1 });
  assert.deepEqual(
    (await world.audit('deployment.refused')).map((r) => [r.actor, r.details.reason]),
    [
      [deployer.user.id, 'deployer_not_enrolled'],
      [deployer.user.id, 'deployer_not_enrolled'],
    ],
  );

  // Nobody can re-pick them meanwhile either: the list only takes enrolled people.
  await world.sudo();
  const repick = await world.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, { userIds: [deployer.user.id], method: 'totp', code: world.code(world.admin.secret) });
  assert.equal(repick.status, 400, repick.text);
  assert.equal(repick.json?.error?.code, 'deployer_without_two_factor');
  assert.equal((await world.target(target.id)).deployers.length, 1, 'the refused save did not drop them either');

  // They enrol a new phone themselves; the listing follows and they can deploy again.
  const enrolled = await enrolTotp(client, world.clock);
  assert.deepEqual((await world.target(target.id)).deployers, [{ id: deployer.user.id, email: deployer.email, enrolled: true }]);
  const ok = await world.deploy(person, target, { digest: preview.digest, method: 'totp', code: world.code(enrolled.secret) });
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual(JSON.parse((await fetchBundle(target.bundleUrl)).text), { release: 2 });
});
