import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { wrongCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

test(`a deploy with a good code changes what the public URL serves; bad, replayed and unauthorised ones change nothing (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  const outsider = await world.person();
  await world.authorise(target, [deployer]);

  // Nothing deployed yet: nothing served, and changes stay pending.
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404);
  await world.addChange(deployer.client, target, 'agents/x', { state: 'started' }, 'Agent X started');
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404, 'a manual target does not go live on a change');

  const first = await world.preview(deployer.client, target);
  assert.deepEqual(first.changes.map((c) => c.summary), ['Agent X started']);
  const goodCode = world.code(deployer.secret);
  const deployed = await world.deploy(deployer, target, { digest: first.digest, method: 'totp', code: goodCode });
  assert.equal(deployed.status, 201, deployed.text);
  assert.equal(deployed.json?.digest, first.digest);
  assert.deepEqual(deployed.json?.summary, ['Agent X started']);
  assert.equal(deployed.json?.approver, `user:${deployer.user.id}`);
  assert.equal(deployed.json?.method, 'totp');

  const live = await fetchBundle(target.bundleUrl);
  assert.equal(live.status, 200);
  assert.deepEqual(JSON.parse(live.text), { 'agents/x': { state: 'started' } });
  assert.equal(live.etag, `"${first.digest}"`);
  assert.equal(live.deployment, deployed.json?.id);
  const notModified = await fetch(target.bundleUrl, { headers: { 'if-none-match': live.etag ?? '' } });
  assert.equal(notModified.status, 304);
  assert.equal(await notModified.text(), '');

  // The next change waits; every refused deploy of it leaves the served bundle as it was.
  await world.addChange(deployer.client, target, 'goals/y', { target: 42 }, 'Goal Y changed');
  const second = await world.preview(deployer.client, target);
  assert.notEqual(second.digest, first.digest);
  assert.deepEqual(second.changes.map((c) => c.summary), ['Goal Y changed'], 'only what changed since the current deployment');

  const refusals: Array<{ label: string; run: () => Promise<{ status: number; json?: { error?: { code: string } } | undefined }>; status: number; code: string }> = [
    { label: 'bad code', run: () => world.deploy(deployer, target, { digest: second.digest, method: 'totp', code: wrongCode(deployer.secret, world.clock.now()) }), status: 401, code: 'code_invalid' },
    // The very code that approved the first deploy: same user, same time step.
    { label: 'replayed code', run: () => world.deploy(deployer, target, { digest: second.digest, method: 'totp', code: goodCode }), status: 401, code: 'code_invalid' },
    { label: 'no code (a recent sign-in is not enough)', run: () => world.deploy(deployer, target, { digest: second.digest }), status: 403, code: 'code_required' },
    { label: 'backup code', run: () => world.deploy(deployer, target, { digest: second.digest, method: 'backup_code', code: deployer.backupCodes[0]! }), status: 400, code: 'method_not_allowed' },
    { label: 'not listed, with a good code of their own', run: () => world.deploy(outsider, target, { digest: second.digest, method: 'totp', code: world.code(outsider.secret) }), status: 403, code: 'not_deployer' },
    { label: 'an admin who is not listed', run: () => world.deploy(world.admin, target, { digest: second.digest, method: 'totp', code: world.code(world.admin.secret) }), status: 403, code: 'not_deployer' },
  ];
  for (const refusal of refusals) {
    const res = await refusal.run();
    assert.equal(res.status, refusal.status, `${refusal.label}: ${JSON.stringify(res.json)}`);
    assert.equal(res.json?.error?.code, refusal.code, refusal.label);
    const again = await fetchBundle(target.bundleUrl);
    assert.equal(again.etag, live.etag, `${refusal.label}: the served bundle did not change`);
    assert.equal(again.text, live.text, refusal.label);
    assert.equal(again.deployment, live.deployment, refusal.label);
  }

  const refused = await world.audit('deployment.refused');
  assert.deepEqual(
    refused.map((r) => r.details.reason),
    refusals.map((r) => r.code),
  );
  assert.deepEqual(
    refused.map((r) => r.actor),
    [deployer, deployer, deployer, deployer, outsider, world.admin].map((p) => p.user.id),
  );
  assert.ok(refused.every((r) => r.details.targetId === target.id && r.orgId === world.agencyId));
  assert.equal((await world.audit('deployment.created')).length, 1);
  assert.equal((await world.preview(deployer.client, target)).changes.length, 1, 'the change is still pending');

  // A fresh code still works after all that, and the URL then serves both changes.
  const next = await world.deploy(deployer, target, { digest: second.digest, method: 'totp', code: world.code(deployer.secret) });
  assert.equal(next.status, 201, next.text);
  const updated = await fetchBundle(target.bundleUrl);
  assert.deepEqual(JSON.parse(updated.text), { 'agents/x': { state: 'started' }, 'goals/y': { target: 42 } });
  assert.equal(updated.etag, `"${second.digest}"`);
  assert.equal((await world.preview(deployer.client, target)).changes.length, 0);
});

test(`a code from the previous time step is replayed only once, across two deploys at once (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  await world.addChange(deployer.client, target, 'flag', true, 'Flag on');
  const preview = await world.preview(deployer.client, target);
  world.clock.advance(30_000);
  const code = totpCodeAt(deployer.secret, world.clock.now());
  const results = await Promise.all([1, 2].map(() => world.deploy(deployer, target, { digest: preview.digest, method: 'totp', code })));
  // The loser is refused either for the spent code or, if the winner committed before it got that far, because the bundle is live already.
  const [winner, loser] = [...results].sort((a, b) => a.status - b.status);
  assert.equal(winner?.status, 201, results.map((r) => r.text).join('\n'));
  assert.ok(
    (loser?.status === 401 && loser.json?.error?.code === 'code_invalid') || (loser?.status === 409 && loser.json?.error?.code === 'deploy_conflict'),
    loser?.text,
  );
  assert.equal((await world.history(deployer, target)).length, 1);

  // Whatever the race did, the code stays spent: it cannot approve the next change either.
  await world.addChange(deployer.client, target, 'flag', false, 'Flag off');
  const next = await world.preview(deployer.client, target);
  const replay = await world.deploy(deployer, target, { digest: next.digest, method: 'totp', code });
  assert.equal(replay.status, 401, replay.text);
  assert.equal(replay.json?.error?.code, 'code_invalid') // a replay reads like a wrong code;
  assert.equal((await world.history(deployer, target)).length, 1);
});

test(`people outside the target's tree do not learn it exists (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Client prod', timing: 'manual', requireTwoFactor: true }, world.clientOrgId);
  const sibling = await world.server.services.accounts.createOrganisation('Other client', world.agencyId, { userId: null, meta: null });
  const stranger = await world.person(sibling.id);
  for (const res of [
    await stranger.client.get(`/api/v1/deploy-targets/${target.id}`),
    await stranger.client.get(`/api/v1/deploy-targets/${target.id}/preview`),
    await world.deploy(stranger, target, { digest: 'sha256:00', method: 'totp', code: world.code(stranger.secret) }),
  ]) {
    assert.equal(res.status, 404, res.text);
    assert.equal(res.json?.error?.code, 'deploy_target_not_found');
  }
  const unsigned = await fetch(`${world.server.url}/api/v1/deploy-targets/${target.id}/deployments`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ digest: 'sha256:00' }) });
  assert.equal(unsigned.status, 401);
});
