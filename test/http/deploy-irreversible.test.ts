import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deploys } from '../../src/store/index.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld } from '../helpers/deploys.js';

const backend = currentBackend();

test(`every route that could switch 2FA off a protected target is refused, audited, and the target stays protected (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  assert.equal(target.requireTwoFactor, true);
  assert.equal(target.timing, 'manual');

  const attempts: Array<Record<string, unknown>> = [
    { requireTwoFactor: false },
    { timing: 'automatic' },
    { requireTwoFactor: false, timing: 'manual' },
    { requireTwoFactor: true, timing: 'automatic' },
    { requireTwoFactor: false, timing: 'automatic', name: 'Production (open)' },
  ];
  for (const body of attempts) {
    await world.sudo();
    const res = await world.admin.client.request('PATCH', `/api/v1/deploy-targets/${target.id}`, body);
    assert.equal(res.status, 409, `${JSON.stringify(body)}: ${res.text}`);
    assert.equal(res.json?.error?.code, 'two_factor_irreversible');
    assert.match(res.json?.error?.message ?? '', /never be switched off/i);
    assert.match(res.json?.error?.message ?? '', /create a new target/i);
  }

  const after = await world.target(target.id);
  assert.equal(after.requireTwoFactor, true);
  assert.equal(after.timing, 'manual');
  assert.equal(after.name, 'Production', 'a refused change changes nothing, not even the name sent with it');

  const refused = await world.audit('deploy_target.refused');
  assert.equal(refused.length, attempts.length);
  for (const row of refused) {
    assert.equal(row.actor, world.admin.user.id);
    assert.equal(row.orgId, world.agencyId);
    assert.deepEqual(row.details, { targetId: target.id, reason: 'two_factor_irreversible' });
  }
  assert.equal((await world.audit('deploy_target.changed')).length, 0);

  // What may change still does: the name, and asking for 2FA again.
  await world.sudo();
  const renamed = await world.admin.client.request('PATCH', `/api/v1/deploy-targets/${target.id}`, { name: 'Production EU', requireTwoFactor: true, timing: 'manual' });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.json?.name, 'Production EU');
  assert.equal(renamed.json?.requireTwoFactor, true);
});

test(`the store itself cannot switch the requirement off (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const db = world.server.runtime.database.db;
  await deploys.updateTargetSettings(db, target.id, { name: 'Production', timing: 'manual', requireTwoFactor: false });
  assert.equal((await deploys.findTarget(db, target.id))?.require_two_factor, true);
  assert.equal((await world.target(target.id)).requireTwoFactor, true);
});

test(`2FA needs manual timing: creating or turning it on with automatic timing is refused and creates nothing (${backend})`, async (t) => {
  const world = await deployWorld(t);
  await world.sudo();
  const created = await world.admin.client.post(`/api/v1/organisations/${world.agencyId}/deploy-targets`, { name: 'Prod', timing: 'automatic', requireTwoFactor: true });
  assert.equal(created.status, 400, created.text);
  assert.equal(created.json?.error?.code, 'two_factor_needs_manual');
  assert.match(created.json?.error?.message ?? '', /manual timing/);
  const listed = await world.admin.client.get('/api/v1/deploy-targets');
  assert.deepEqual(listed.json?.targets, []);

  const staging = await world.createTarget({ name: 'Staging', timing: 'automatic' });
  await world.sudo();
  const turnedOn = await world.admin.client.request('PATCH', `/api/v1/deploy-targets/${staging.id}`, { requireTwoFactor: true });
  assert.equal(turnedOn.status, 400, turnedOn.text);
  assert.equal(turnedOn.json?.error?.code, 'two_factor_needs_manual');
  assert.equal((await world.target(staging.id)).requireTwoFactor, false);

  // Protecting a manual target is a one-way door that opens.
  await world.sudo();
  const manual = await world.admin.client.request('PATCH', `/api/v1/deploy-targets/${staging.id}`, { timing: 'manual', requireTwoFactor: true });
  assert.equal(manual.status, 200, manual.text);
  await world.sudo();
  const back = await world.admin.client.request('PATCH', `/api/v1/deploy-targets/${staging.id}`, { requireTwoFactor: false });
  assert.equal(back.status, 409, back.text);
  assert.equal(back.json?.error?.code, 'two_factor_irreversible');
  assert.equal((await world.target(staging.id)).requireTwoFactor, true);
});

test(`only admins of the target's tree may change it, and only after re-authenticating (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const member = await world.person();
  const byMember = await member.client.request('PATCH', `/api/v1/deploy-targets/${target.id}`, { requireTwoFactor: false });
  assert.equal(byMember.status, 403, byMember.text);
  assert.equal(byMember.json?.error?.code, 'not_admin');

  // Sudo lapses after a few minutes.
  world.clock.advance(10 * 60_000);
  const stale = await world.admin.client.request('PATCH', `/api/v1/deploy-targets/${target.id}`, { name: 'Renamed' });
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  assert.equal((await world.target(target.id)).name, 'Production');
});
