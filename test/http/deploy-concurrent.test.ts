import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

test(`two authorised deployers confirm the same target at once: exactly one wins, the other is told (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const alice = await world.person();
  const bob = await world.person();
  await world.authorise(target, [alice, bob]);

  for (let round = 0; round < 3; round++) {
    await world.addChange(alice.client, target, `release`, round, `Release ${round}`);
    const [seenByAlice, seenByBob] = await Promise.all([world.preview(alice.client, target), world.preview(bob.client, target)]);
    assert.equal(seenByAlice.digest, seenByBob.digest);
    world.clock.advance(30_000);
    const results = await Promise.all([
      world.deploy(alice, target, { digest: seenByAlice.digest, method: 'totp', code: totpCodeAt(alice.secret, world.clock.now()) }),
      world.deploy(bob, target, { digest: seenByBob.digest, method: 'totp', code: totpCodeAt(bob.secret, world.clock.now()) }),
    ]);
    const statuses = results.map((r) => r.status);
    assert.deepEqual([...statuses].sort(), [201, 409], `round ${round}: ${results.map((r) => r.text).join('\n')}`);
    const winner = results.find((r) => r.status === 201)!;
    const loser = results.find((r) => r.status === 409)!;
    assert.match(loser.json?.error?.code ?? '', /^(deploy_conflict|bundle_changed)$/);
    assert.ok((loser.json?.error?.message ?? '').length > 20, 'the loser is told what happened');

    const served = await fetchBundle(target.bundleUrl);
    assert.equal(served.deployment, winner.json?.id, `round ${round}: the winner's deployment is served`);
    assert.equal(served.etag, `"${winner.json?.digest as string}"`);
    assert.deepEqual(JSON.parse(served.text), { release: round });

    const history = await world.history(alice, target);
    assert.equal(history.length, round + 1, `round ${round}: one deployment per round`);
    assert.equal(history[0]?.id, winner.json?.id);
    assert.deepEqual(history[0]?.summary, [`Release ${round}`]);
  }
  assert.equal((await world.audit('deployment.created')).length, 3);
  const refused = await world.audit('deployment.refused');
  assert.equal(refused.length, 3);
  assert.ok(refused.every((r) => r.details.reason === 'deploy_conflict' || r.details.reason === 'bundle_changed'));
});

test(`a deployer who reviewed before someone else deployed the same bundle is told, not re-deployed (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const alice = await world.person();
  const bob = await world.person();
  await world.authorise(target, [alice, bob]);
  await world.addChange(alice.client, target, 'release', 1, 'Release 1');
  const seenByBob = await world.preview(bob.client, target);
  const won = await world.deployNow(alice, target);
  const late = await world.deploy(bob, target, { digest: seenByBob.digest, method: 'totp', code: world.code(bob.secret) });
  assert.equal(late.status, 409, late.text);
  assert.equal(late.json?.error?.code, 'deploy_conflict');
  assert.match(late.json?.error?.message ?? '', /already live/);
  assert.equal((await fetchBundle(target.bundleUrl)).deployment, won.id);
  assert.equal((await world.history(alice, target)).length, 1);
});
