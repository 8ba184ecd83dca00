/**
 * Roles and groups from the console's API: create, rename, delete, grant roles to groups, add and
 * remove members, and the preview of how many people requiring 2FA for a role sends to enrolment.
 * Each route: the happy path, another tree (404), a plain user (403), a stale admin (403) and bad
 * input (4xx, nothing written).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCodeAt } from '../../src/core/totp.js';
import { PASSWORD, STEP_MS, dbOf, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { SYSTEM, addMember, agencyTree } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';

const MINUTE = 60_000;

async function world(t: { after(fn: () => Promise<void>): void }) {
  const tree = await agencyTree(t);
  const other = await tree.server.services.accounts.createOrganisation('Elsewhere', null, SYSTEM);
  const strangerRole = await tree.server.services.accounts.createRole(other.id, 'far-role', SYSTEM);
  const strangerGroup = await tree.server.services.accounts.createGroup(other.id, 'Far group', SYSTEM);
  const stranger = await addMember(tree.server, other.id);
  const plain = await addMember(tree.server, tree.clientOrgId);
  return { ...tree, otherOrgId: other.id, strangerRole, strangerGroup, stranger, plain, plainClient: await signedInClient(tree.server, plain.email) };
}

async function tableCounts(server: TestServer) {
  const db = dbOf(server);
  const out: Record<string, number> = {};
  for (const table of ['roles', 'groups', 'group_members', 'group_roles', 'user_roles', 'role_policies'] as const) {
    out[table] = Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }
  const names = (await db.selectFrom('roles').select('name').execute()).map((r) => r.name).concat((await db.selectFrom('groups').select('name').execute()).map((g) => g.name));
  return { ...out, names: names.sort() };
}

test('roles and groups: create, rename, grant to a group, add and remove members, delete; each audited', async (t) => {
  const w = await world(t);
  const org = w.clientOrgId;
  const role = await w.admin.post(`/api/v1/organisations/${org}/roles`, { name: 'finance' });
  assert.equal(role.status, 201, role.text);
  assert.equal(role.json?.orgId, org);
  const roleId = role.json?.id as string;
  const group = await w.admin.post(`/api/v1/organisations/${org}/groups`, { name: 'Accounts team' });
  assert.equal(group.status, 201, group.text);
  const groupId = group.json?.id as string;

  const renamed = await w.admin.request('PATCH', `/api/v1/roles/${roleId}`, { name: 'finance-staff' });
  assert.deepEqual(renamed.json, { id: roleId, orgId: org, name: 'finance-staff' });
  assert.equal((await w.admin.request('PATCH', `/api/v1/groups/${groupId}`, { name: 'Accounts' })).status, 200);
  assert.equal((await w.admin.request('PUT', `/api/v1/groups/${groupId}/roles/${roleId}`)).status, 204);
  assert.equal((await w.admin.request('PUT', `/api/v1/groups/${groupId}/members/${w.plain.user.id}`)).status, 204);

  const overview = await w.admin.get(`/api/v1/organisations/${org}/roles`);
  assert.equal(overview.status, 200, overview.text);
  const roles = overview.json?.roles as Array<{ id: string; name: string; holders: number; requireTwoFactor: boolean }>;
  assert.deepEqual(roles.find((r) => r.id === roleId), { id: roleId, name: 'finance-staff', requireTwoFactor: false, requirePhishingResistant: false, holders: 1, protected: false });
  const groups = overview.json?.groups as Array<{ id: string; name: string; roles: Array<{ name: string }>; members: Array<{ id: string }> }>;
  assert.deepEqual(groups.map((g) => [g.name, g.roles.map((r) => r.name), g.members.map((m) => m.id)]), [['Accounts', ['finance-staff'], [w.plain.user.id]]]);
  assert.deepEqual(await w.server.services.accounts.roleNames(w.plain.user.id), ['finance-staff']);

  assert.equal((await w.admin.request('DELETE', `/api/v1/groups/${groupId}/members/${w.plain.user.id}`)).status, 204);
  assert.deepEqual(await w.server.services.accounts.roleNames(w.plain.user.id), []);
  assert.equal((await w.admin.request('DELETE', `/api/v1/groups/${groupId}/roles/${roleId}`)).status, 204);
  assert.equal((await w.admin.request('DELETE', `/api/v1/roles/${roleId}`)).status, 204);
  assert.equal((await w.admin.request('DELETE', `/api/v1/groups/${groupId}`)).status, 204);
  const after = await tableCounts(w.server);
  assert.ok(!after.names.includes('finance-staff') && !after.names.includes('Accounts'));

  const types = (await dbOf(w.server).selectFrom('audit_events').select('event_type').where('org_id', '=', org).execute()).map((e) => e.event_type);
  for (const type of ['role.created', 'group.created', 'role.renamed', 'group.renamed', 'role.granted', 'group.member_added', 'group.member_removed', 'role.revoked', 'role.deleted', 'group.deleted']) {
    assert.ok(types.includes(type), `${type} audited`);
  }
});

test('refusals: another tree 404, a plain user 403, a stale admin 403, bad input 4xx; nothing is written', async (t) => {
  const w = await world(t);
  const org = w.clientOrgId;
  const role = (await w.admin.post(`/api/v1/organisations/${org}/roles`, { name: 'ops' })).json?.id as string;
  const group = (await w.admin.post(`/api/v1/organisations/${org}/groups`, { name: 'Ops' })).json?.id as string;
  const agencyRole = (await w.admin.post(`/api/v1/organisations/${w.agencyId}/roles`, { name: 'agency-only' })).json?.id as string;
  const adminRole = (await dbOf(w.server).selectFrom('roles').select('id').where('name', '=', 'admin').executeTakeFirstOrThrow()).id;
  const before = await tableCounts(w.server);

  const calls: Array<[string, string, unknown?]> = [
    ['GET', `/api/v1/organisations/${org}/roles`],
    ['POST', `/api/v1/organisations/${org}/roles`, { name: 'new-role' }],
    ['POST', `/api/v1/organisations/${org}/groups`, { name: 'New group' }],
    ['PATCH', `/api/v1/roles/${role}`, { name: 'renamed' }],
    ['PATCH', `/api/v1/groups/${group}`, { name: 'Renamed' }],
    ['DELETE', `/api/v1/roles/${role}`],
    ['DELETE', `/api/v1/groups/${group}`],
    ['PUT', `/api/v1/groups/${group}/roles/${role}`],
    ['DELETE', `/api/v1/groups/${group}/roles/${role}`],
    ['PUT', `/api/v1/groups/${group}/members/${w.plain.user.id}`],
    ['DELETE', `/api/v1/groups/${group}/members/${w.plain.user.id}`],
    ['GET', `/api/v1/roles/${role}/policy/preview`],
  ];
  for (const [method, path, body] of calls) {
    const res = await w.plainClient.request(method, path, body);
    assert.equal(res.status, 403, `${method} ${path} by a plain user`);
    assert.equal(res.json?.error?.code, 'not_admin');
  }
  const outside: Array<[string, string, unknown, string]> = [
    ['GET', `/api/v1/organisations/${w.otherOrgId}/roles`, undefined, 'organisation_not_found'],
    ['POST', `/api/v1/organisations/${w.otherOrgId}/roles`, { name: 'x' }, 'organisation_not_found'],
    ['POST', `/api/v1/organisations/${w.otherOrgId}/groups`, { name: 'x' }, 'organisation_not_found'],
    ['PATCH', `/api/v1/roles/${w.strangerRole.id}`, { name: 'x' }, 'role_not_found'],
    ['PATCH', `/api/v1/groups/${w.strangerGroup.id}`, { name: 'x' }, 'group_not_found'],
    ['DELETE', `/api/v1/roles/${w.strangerRole.id}`, undefined, 'role_not_found'],
    ['DELETE', `/api/v1/groups/${w.strangerGroup.id}`, undefined, 'group_not_found'],
    ['PUT', `/api/v1/groups/${w.strangerGroup.id}/roles/${role}`, undefined, 'group_not_found'],
    ['PUT', `/api/v1/groups/${group}/roles/${w.strangerRole.id}`, undefined, 'role_not_found'],
    ['PUT', `/api/v1/groups/${group}/members/${w.stranger.user.id}`, undefined, 'user_not_found'],
    ['GET', `/api/v1/roles/${w.strangerRole.id}/policy/preview`, undefined, 'role_not_found'],
  ];
  for (const [method, path, body, code] of outside) {
    const res = await w.admin.request(method, path, body);
    assert.equal(res.status, 404, `${method} ${path} in another tree: ${res.text}`);
    assert.equal(res.json?.error?.code, code);
  }
  const bad: Array<[string, string, unknown, number, string]> = [
    ['POST', `/api/v1/organisations/${org}/roles`, { name: 'has spaces' }, 400, 'role_invalid'],
    ['POST', `/api/v1/organisations/${org}/roles`, { name: 'ops' }, 409, 'role_exists'],
    ['POST', `/api/v1/organisations/${org}/roles`, {}, 400, 'invalid_request'],
    ['POST', `/api/v1/organisations/${org}/groups`, { name: '   ' }, 400, 'group_invalid'],
    ['POST', `/api/v1/organisations/${org}/groups`, { name: 'Ops' }, 409, 'group_exists'],
    ['PATCH', `/api/v1/roles/${adminRole}`, { name: 'boss' }, 409, 'role_protected'],
    ['PATCH', `/api/v1/roles/${role}`, { name: 'admin' }, 409, 'role_protected'],
    ['DELETE', `/api/v1/roles/${adminRole}`, undefined, 409, 'role_protected'],
    ['PATCH', `/api/v1/groups/${group}`, { name: 'x'.repeat(101) }, 400, 'invalid_request'],
    ['PUT', `/api/v1/groups/${group}/roles/${agencyRole}`, undefined, 400, 'organisation_mismatch'],
  ];
  for (const [method, path, body, status, code] of bad) {
    const res = await w.admin.request(method, path, body);
    assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}: ${res.text}`);
    assert.equal(res.json?.error?.code, code);
  }
  // A member of the agency is in the admin's tree but not of the group's organisation.
  const agencyMember = await addMember(w.server, w.agencyId);
  const mismatch = await w.admin.request('PUT', `/api/v1/groups/${group}/members/${agencyMember.user.id}`);
  assert.equal(mismatch.status, 400);
  assert.equal(mismatch.json?.error?.code, 'organisation_mismatch');

  w.clock.advance(6 * MINUTE);
  for (const [method, path, body] of calls) {
    const res = await w.admin.request(method, path, body);
    assert.equal(res.status, 403, `${method} ${path} by a stale admin`);
    assert.equal(res.json?.error?.code, 'reauthentication_required');
  }
  assert.deepEqual(await tableCounts(w.server), before, 'nothing was written');
});

test('before requiring 2FA for a role the admin sees how many people it forces to enrol; then a member of a group holding it must enrol', async (t) => {
  const w = await world(t);
  const org = w.clientOrgId;
  const roleId = (await w.admin.post(`/api/v1/organisations/${org}/roles`, { name: 'payroll' })).json?.id as string;
  const groupId = (await w.admin.post(`/api/v1/organisations/${org}/groups`, { name: 'Payroll team' })).json?.id as string;
  const bare = await addMember(w.server, org);
  const enrolled = await addMember(w.server, org);
  const enrolledClient = await signedInClient(w.server, enrolled.email);
  const started = await enrolledClient.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal((await enrolledClient.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(started.json?.secret as string, w.clock.now()) })).status, 200);
  w.clock.advance(STEP_MS);
  const invited = await w.admin.post(`/api/v1/organisations/${org}/users`, { email: 'later@example.com', roleIds: [roleId] });
  assert.equal(invited.status, 201, invited.text);
  for (const person of [bare, enrolled]) assert.equal((await w.admin.request('PUT', `/api/v1/groups/${groupId}/members/${person.user.id}`)).status, 204);
  assert.equal((await w.admin.request('PUT', `/api/v1/groups/${groupId}/roles/${roleId}`)).status, 204);

  const preview = await w.admin.get(`/api/v1/roles/${roleId}/policy/preview`);
  assert.equal(preview.status, 200, preview.text);
  assert.deepEqual(preview.json, { roleId, role: 'payroll', requireTwoFactor: false, holders: 3, forcedToEnrol: 2 }, 'the bare member and the invited person, not the enrolled one');

  const before = await new TestClient(w.server.url).post('/api/v1/auth/sign-in', { email: bare.email, password: PASSWORD });
  assert.equal(before.status, 200, 'not required yet');
  const required = await w.admin.request('PUT', `/api/v1/roles/${roleId}/policy`, { requireTwoFactor: true });
  assert.equal(required.status, 200, required.text);
  const after = await new TestClient(w.server.url).post('/api/v1/auth/sign-in', { email: bare.email, password: PASSWORD });
  assert.equal(after.json?.status, 'enrolment_required', after.text);
  const now = await w.admin.get(`/api/v1/roles/${roleId}/policy/preview`);
  assert.equal(now.json?.requireTwoFactor, true);
  assert.equal(now.json?.forcedToEnrol, 2);
});
