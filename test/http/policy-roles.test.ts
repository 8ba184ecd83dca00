import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actorOf } from '../helpers/actors.js';
import { PASSWORD, dbOf, enrolledMember, freshCode, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { SYSTEM, addMember, agencyTree } from '../helpers/policy.js';

async function roleId(tree: Awaited<ReturnType<typeof agencyTree>>, orgId: string, name: string): Promise<string> {
  const role = await dbOf(tree.server).selectFrom('roles').select('id').where('org_id', '=', orgId).where('name', '=', name).executeTakeFirstOrThrow();
  return role.id;
}

test('a role requirement reaches users who hold the role through a group', async (t) => {
  const tree = await agencyTree(t);
  const { accounts } = tree.server.services;
  const member = await addMember(tree.server, tree.agencyId);
  await accounts.createGroup(tree.agencyId, 'Accounts team', SYSTEM);
  await accounts.grantRoleToGroup(tree.agencyId, 'Accounts team', 'finance', SYSTEM);
  await accounts.addGroupMember(tree.agencyId, 'Accounts team', member.email, SYSTEM);
  const id = await roleId(tree, tree.agencyId, 'finance');

  const res = await tree.admin.request('PUT', `/api/v1/roles/${id}/policy`, { requireTwoFactor: true });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.requireTwoFactor, true);
  const signIn = await new TestClient(tree.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(signIn.json?.status, 'enrolment_required', signIn.text);

  const events = await dbOf(tree.server).selectFrom('audit_events').selectAll().where('event_type', '=', 'role_policy.changed').execute();
  assert.equal(events.length, 1);
  assert.equal(JSON.parse(events[0]!.details).role, 'finance');

  const bad = await tree.admin.request('PUT', `/api/v1/roles/${id}/policy`, { requireTwoFactor: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal((await tree.admin.request('PUT', '/api/v1/roles/no-such-role/policy', { requireTwoFactor: true })).status, 404);
});

test('removing the last factor is refused while a role requires 2FA; policy "off" still honours existing factors', async (t) => {
  const tree = await agencyTree(t);
  const member = await enrolledMember(tree.server, tree.clock);
  await tree.server.services.accounts.grantRoleToUser(member.email, 'finance', SYSTEM);
  const id = await roleId(tree, member.user.org_id, 'finance');
  // The member's organisation is not under the agency: the agency admin cannot set its role policy.
  assert.equal((await tree.admin.request('PUT', `/api/v1/roles/${id}/policy`, { requireTwoFactor: true })).status, 404);
  // That organisation's own admin, just signed in (so with sudo), does it through the service.
  const ownAdmin = await addMember(tree.server, member.user.org_id, ['admin']);
  const ownAdminActor = await actorOf(tree.server, await signedInClient(tree.server, ownAdmin.email));
  const meta = { ip: '127.0.0.1', userAgent: 'test' };
  await tree.server.services.policy.setRoleRequirement(ownAdminActor, id, true, meta);

  assert.equal((await member.client.post('/api/v1/auth/reauthenticate', { method: 'totp', code: freshCode(member.secret, tree.clock) })).status, 200);
  const refused = await member.client.delete(`/api/v1/factors/${member.factorId}`);
  assert.equal(refused.status, 403, refused.text);
  assert.equal(refused.json?.error?.code, 'factor_required_by_policy');
  const row = await dbOf(tree.server).selectFrom('factors').select('status').where('id', '=', member.factorId).executeTakeFirst();
  assert.equal(row?.status, 'active');

  // Organisation policy "off" and no role requirement: the factor the member has is still asked for.
  await tree.server.services.policy.setRoleRequirement(ownAdminActor, id, false, meta);
  const off = { mode: 'off' as const, appliesToSubOrganisations: false, triggers: ['every_sign_in' as const], allowedMethods: ['totp'], trustBrowserDays: 30 };
  await tree.server.services.policy.setOrganisationPolicy(ownAdminActor, member.user.org_id, off, meta);
  const signIn = await new TestClient(tree.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(signIn.json?.status, 'second_factor_required');
});
