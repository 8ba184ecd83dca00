import assert from 'node:assert/strict';
import { test } from 'node:test';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

test(`summary then change: a bundle that changed after the summary was shown is refused and nothing goes live (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  await world.sudo();
  const created = await world.admin.client.post(`/api/v1/organisations/${world.agencyId}/api-keys`, { name: 'CI', scopes: ['changes:write'] });
  assert.equal(created.status, 201, created.text);
  const app = new TestClient(world.server.url, { authorization: `Bearer ${created.json?.key as string}` });

  // Something is live already, so "nothing goes live" is checked against a real bundle.
  await world.addChange(app, target, 'agents/x', 'started', 'Agent X started');
  const baseline = await world.deployNow(deployer, target);
  const before = await fetchBundle(target.bundleUrl);
  assert.equal(before.etag, `"${baseline.digest}"`);

  // The deployer reviews one change...
  await world.addChange(app, target, 'goals/y', 'raised', 'Goal Y changed');
  const reviewed = await world.preview(deployer.client, target);
  assert.deepEqual(reviewed.changes.map((c) => c.summary), ['Goal Y changed']);

  // ...an app slips another one in before they confirm...
  const sneaky = await world.change(app, target, 'payments/enabled', false, 'Payments paused');
  assert.equal(sneaky.status, 201, sneaky.text);
  assert.notEqual(sneaky.json?.digest, reviewed.digest);

  // ...so the confirmation of the reviewed digest is refused, even with a good code.
  const code = world.code(deployer.secret);
  const res = await world.deploy(deployer, target, { digest: reviewed.digest, method: 'totp', code });
  assert.equal(res.status, 409, res.text);
  assert.equal(res.json?.error?.code, 'bundle_changed');
  assert.match(res.json?.error?.message ?? '', /changed after you reviewed/);

  const after = await fetchBundle(target.bundleUrl);
  assert.equal(after.etag, before.etag);
  assert.equal(after.text, before.text);
  assert.deepEqual(JSON.parse(after.text), { 'agents/x': 'started' });
  assert.deepEqual((await world.history(deployer, target)).map((d) => d.id), [baseline.id]);
  assert.equal((await world.audit('deployment.refused')).at(-1)?.details.reason, 'bundle_changed');

  // The refused attempt did not spend the code: the deployer reviews again and confirms with it.
  const fresh = await world.preview(deployer.client, target);
  assert.deepEqual(fresh.changes.map((c) => c.summary), ['Goal Y changed', 'Payments paused']);
  const ok = await world.deploy(deployer, target, { digest: fresh.digest, method: 'totp', code });
  assert.equal(ok.status, 201, ok.text);
  assert.deepEqual(JSON.parse((await fetchBundle(target.bundleUrl)).text), { 'agents/x': 'started', 'goals/y': 'raised', 'payments/enabled': false });
});

test(`a digest that was never pending is refused before any code is spent (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  await world.addChange(deployer.client, target, 'a', 1, 'A is one');
  const code = world.code(deployer.secret);
  const bogus = await world.deploy(deployer, target, { digest: `sha256:${'0'.repeat(64)}`, method: 'totp', code });
  assert.equal(bogus.status, 409, bogus.text);
  assert.equal(bogus.json?.error?.code, 'bundle_changed');
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404);
  const preview = await world.preview(deployer.client, target);
  const ok = await world.deploy(deployer, target, { digest: preview.digest, method: 'totp', code });
  assert.equal(ok.status, 201, ok.text);
});
