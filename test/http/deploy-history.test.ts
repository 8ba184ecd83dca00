import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wrongCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

test(`history lists every deployment; rolling back needs a code and serves the earlier bundle (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);

  await world.addChange(deployer.client, target, 'agents/x', 'started', 'Agent X started');
  const v1 = await world.deployNow(deployer, target);
  world.clock.advance(60_000);
  await world.addChange(deployer.client, target, 'goals/y', 'raised', 'Goal Y changed');
  await world.addChange(deployer.client, target, 'agents/x', 'stopped', 'Agent X stopped');
  const v2 = await world.deployNow(deployer, target);

  const history = await world.history(deployer, target);
  assert.deepEqual(
    history.map((d) => ({ id: d.id, digest: d.digest, summary: d.summary, approver: d.approver, method: d.method, rollbackOf: d.rollbackOf })),
    [
      { id: v2.id, digest: v2.digest, summary: ['Goal Y changed', 'Agent X stopped'], approver: `user:${deployer.user.id}`, method: 'totp', rollbackOf: null },
      { id: v1.id, digest: v1.digest, summary: ['Agent X started'], approver: `user:${deployer.user.id}`, method: 'totp', rollbackOf: null },
    ],
  );
  assert.ok(Date.parse(history[0]!.createdAt) > Date.parse(history[1]!.createdAt));
  assert.deepEqual(JSON.parse((await fetchBundle(target.bundleUrl)).text), { 'agents/x': 'stopped', 'goals/y': 'raised' });

  // A change waits while we roll back: it must survive the roll back, still pending.
  await world.addChange(deployer.client, target, 'banner', 'Maintenance tonight', 'Banner added');

  // Rolling back is a deploy: no code, a bad code, or a backup code change nothing.
  const rollback = (body: Record<string, string>) => world.deploy(deployer, target, { digest: v1.digest, rollbackTo: v1.id, ...body });
  for (const [body, status, code] of [
    [{}, 403, 'code_required'],
    [{ method: 'totp', code: wrongCode(deployer.secret, world.clock.now()) }, 401, 'code_invalid'],
    [{ method: 'backup_code', code: deployer.backupCodes[0]! }, 400, 'method_not_allowed'],
  ] as const) {
    const res = await rollback(body);
    assert.equal(res.status, status, res.text);
    assert.equal(res.json?.error?.code, code);
    assert.equal((await fetchBundle(target.bundleUrl)).deployment, v2.id);
  }
  // The digest confirms which earlier bundle the deployer means.
  const mismatched = await world.deploy(deployer, target, { digest: v2.digest, rollbackTo: v1.id, method: 'totp', code: world.code(deployer.secret) });
  assert.equal(mismatched.status, 409, mismatched.text);
  assert.equal(mismatched.json?.error?.code, 'bundle_changed');

  const rolled = await rollback({ method: 'totp', code: world.code(deployer.secret) });
  assert.equal(rolled.status, 201, rolled.text);
  assert.equal(rolled.json?.rollbackOf, v1.id);
  assert.equal(rolled.json?.digest, v1.digest);
  assert.match((rolled.json?.summary as string[])[0] ?? '', /Roll back/);
  const served = await fetchBundle(target.bundleUrl);
  assert.deepEqual(JSON.parse(served.text), { 'agents/x': 'started' });
  assert.equal(served.etag, `"${v1.digest}"`);
  assert.equal(served.deployment, rolled.json?.id);
  assert.equal((await world.history(deployer, target)).length, 3);

  // What is pending now is "what is live plus the change still waiting": the rolled-back changes
  // do not sneak back in with the next deploy under a summary that does not mention them.
  const next = await world.preview(deployer.client, target);
  assert.deepEqual(next.changes.map((c) => c.summary), ['Banner added']);
  const redeployed = await world.deploy(deployer, target, { digest: next.digest, method: 'totp', code: world.code(deployer.secret) });
  assert.equal(redeployed.status, 201, redeployed.text);
  assert.deepEqual(JSON.parse((await fetchBundle(target.bundleUrl)).text), { 'agents/x': 'started', banner: 'Maintenance tonight' });

  // Rolling back to what is already live is refused as nothing to do; unknown deployments are 404.
  const current = await world.history(deployer, target);
  const same = await world.deploy(deployer, target, { digest: current[0]!.digest, rollbackTo: current[0]!.id, method: 'totp', code: world.code(deployer.secret) });
  assert.equal(same.status, 409, same.text);
  const unknown = await world.deploy(deployer, target, { digest: v1.digest, rollbackTo: '00000000-0000-0000-0000-000000000000', method: 'totp', code: world.code(deployer.secret) });
  assert.equal(unknown.status, 404, unknown.text);
  assert.equal(unknown.json?.error?.code, 'deployment_not_found');

  const audited = await world.audit('deployment.created');
  assert.equal(audited.length, 4);
  assert.equal(audited[2]?.details.rollbackOf, v1.id);
});

test(`a deployment of another target cannot be rolled back to (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const a = await world.createTarget({ name: 'A', timing: 'manual', requireTwoFactor: true });
  const b = await world.createTarget({ name: 'B', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(a, [deployer]);
  await world.authorise(b, [deployer]);
  await world.addChange(deployer.client, a, 'secret', 'of A', 'A only');
  const fromA = await world.deployNow(deployer, a);
  const res = await world.deploy(deployer, b, { digest: fromA.digest, rollbackTo: fromA.id, method: 'totp', code: world.code(deployer.secret) });
  assert.equal(res.status, 404, res.text);
  assert.equal((await fetchBundle(b.bundleUrl)).status, 404);
});
