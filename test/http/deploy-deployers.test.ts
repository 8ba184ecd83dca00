import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { wrongCode } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld } from '../helpers/deploys.js';

const backend = currentBackend();

test(`only people with 2FA enrolled can be authorised to deploy (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const enrolled = await world.person();
  const bare = await world.person(world.agencyId, { enrol: false });

  await world.sudo();
  const res = await world.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, {
    userIds: [enrolled.user.id, bare.user.id],
    method: 'totp',
    code: world.code(world.admin.secret),
  });
  assert.equal(res.status, 400, res.text);
  assert.equal(res.json?.error?.code, 'deployer_without_two_factor');
  assert.match(res.json?.error?.message ?? '', new RegExp(bare.email.replace('.', '\\.')));
  assert.deepEqual((await world.target(target.id)).deployers, []);

  // The same rule on an unprotected target: deployers are people who can prove a code.
  const staging = await world.createTarget({ name: 'Staging', timing: 'manual' });
  await world.sudo();
  const open = await world.admin.client.request('PUT', `/api/v1/deploy-targets/${staging.id}/deployers`, { userIds: [bare.user.id] });
  assert.equal(open.status, 400, open.text);
  assert.equal(open.json?.error?.code, 'deployer_without_two_factor');

  const saved = await world.authorise(target, [enrolled]);
  assert.deepEqual(saved.deployers, [{ id: enrolled.user.id, email: enrolled.email, enrolled: true }]);
  assert.equal((await world.audit('deploy_target.deployers_changed')).at(-1)?.details.method, 'totp');
});

test(`deployers come from the target's organisation or above it (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const sibling = await world.server.services.accounts.createOrganisation('Other client', world.agencyId, { userId: null, meta: null });
  const target = await world.createTarget({ name: 'Client prod', timing: 'manual', requireTwoFactor: true }, world.clientOrgId);
  const outsider = await world.person(sibling.id);
  const stranger = await world.server.services.accounts.createOrganisation('Elsewhere', null, { userId: null, meta: null });
  const foreign = await world.person(stranger.id);
  for (const person of [outsider, foreign]) {
    await world.sudo();
    const res = await world.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, { userIds: [person.user.id], method: 'totp', code: world.code(world.admin.secret) });
    assert.equal(res.status, 400, res.text);
    assert.match(res.json?.error?.code ?? '', /^deployer_(not_found|outside_organisation)$/);
  }
  // Someone in the agency above the client can see, and so deploy, the client's target.
  const agencyPerson = await world.person(world.agencyId);
  const clientPerson = await world.person(world.clientOrgId);
  const saved = await world.authorise(target, [agencyPerson, clientPerson]);
  assert.deepEqual(saved.deployers.map((d) => d.id).sort(), [agencyPerson.user.id, clientPerson.user.id].sort());
});

test(`saving the list of a protected target needs a current code from the editor's own device (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  const put = (body: Record<string, unknown>) => world.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, { userIds: [deployer.user.id], ...body });

  await world.sudo();
  // A fresh admin sudo (password + code a moment ago) does not stand in for the code.
  const noCode = await put({});
  assert.equal(noCode.status, 403, noCode.text);
  assert.equal(noCode.json?.error?.code, 'code_required');

  world.clock.advance(30_000);
  const wrong = await put({ method: 'totp', code: wrongCode(world.admin.secret, world.clock.now()) });
  assert.equal(wrong.status, 401, wrong.text);
  assert.equal(wrong.json?.error?.code, 'code_invalid');

  const backup = await put({ method: 'backup_code', code: world.admin.backupCodes[0] });
  assert.equal(backup.status, 400, backup.text);
  assert.equal(backup.json?.error?.code, 'method_not_allowed');

  // The deployer's own code is not the editor's: it proves nothing about who is editing.
  const othersCode = await put({ method: 'totp', code: totpCodeAt(deployer.secret, world.clock.now()) });
  assert.equal(othersCode.status, 401, othersCode.text);

  // The code the admin just spent on sudo (same time step) is refused as already used.
  await world.sudo();
  const replay = await put({ method: 'totp', code: totpCodeAt(world.admin.secret, world.clock.now()) });
  assert.equal(replay.status, 401, replay.text);
  assert.equal(replay.json?.error?.code, 'code_invalid') // a replay reads like a wrong code;

  assert.deepEqual((await world.target(target.id)).deployers, [], 'no refused attempt saved anything');
  assert.equal((await world.audit('deploy_target.deployers_changed')).length, 0);

  const ok = await put({ method: 'totp', code: world.code(world.admin.secret) });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual((ok.json?.deployers as Array<{ id: string }>).map((d) => d.id), [deployer.user.id]);
  const audited = await world.audit('deploy_target.deployers_changed');
  assert.equal(audited.length, 1);
  assert.deepEqual(audited[0]?.details, { targetId: target.id, deployers: [deployer.user.id], method: 'totp' });

  // Emptying the list is a change to the list too.
  await world.sudo();
  const emptied = await world.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, { userIds: [] });
  assert.equal(emptied.status, 403, emptied.text);
  assert.equal((await world.target(target.id)).deployers.length, 1);
});

test(`an unprotected target's list needs no code; non-admins cannot change any list (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const staging = await world.createTarget({ name: 'Staging', timing: 'manual' });
  const deployer = await world.person();
  const saved = await world.authorise(staging, [deployer]);
  assert.equal(saved.deployers.length, 1);
  assert.equal((await world.audit('deploy_target.deployers_changed'))[0]?.details.method, 'none');

  const byDeployer = await deployer.client.request('PUT', `/api/v1/deploy-targets/${staging.id}/deployers`, { userIds: [] });
  assert.equal(byDeployer.status, 403, byDeployer.text);
  assert.equal(byDeployer.json?.error?.code, 'not_admin');
  assert.equal((await world.target(staging.id)).deployers.length, 1);
});
