import type { Executor } from './database.js';
import type { Group, Role, User } from './schema.js';

export async function findRole(db: Executor, roleId: string): Promise<Role | undefined> {
  return db.selectFrom('roles').selectAll().where('id', '=', roleId).executeTakeFirst();
}

export async function findRoleByName(db: Executor, orgId: string, name: string): Promise<Role | undefined> {
  return db.selectFrom('roles').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
}

export async function insertRole(db: Executor, role: Role): Promise<void> {
  await db.insertInto('roles').values(role).execute();
}

export async function listRoles(db: Executor, orgId: string): Promise<Role[]> {
  return db.selectFrom('roles').selectAll().where('org_id', '=', orgId).orderBy('name').execute();
}

/** An organisation's roles with whether each requires 2FA, in one query. */
export async function listRolesWithRequirement(db: Executor, orgId: string): Promise<Array<{ id: string; name: string; requireTwoFactor: boolean; requirePhishingResistant: boolean }>> {
  const rows = await db
    .selectFrom('roles')
    .leftJoin('role_policies', 'role_policies.role_id', 'roles.id')
    .select(['roles.id', 'roles.name', 'role_policies.require_two_factor', 'role_policies.require_phishing_resistant'])
    .where('roles.org_id', '=', orgId)
    .orderBy('roles.name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, requireTwoFactor: Number(r.require_two_factor ?? 0) === 1, requirePhishingResistant: Number(r.require_phishing_resistant ?? 0) === 1 }));
}

export async function findGroupByName(db: Executor, orgId: string, name: string): Promise<Group | undefined> {
  return db.selectFrom('groups').selectAll().where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
}

export async function insertGroup(db: Executor, group: Group): Promise<void> {
  await db.insertInto('groups').values(group).execute();
}

export async function listGroups(db: Executor, orgId: string): Promise<Group[]> {
  return db.selectFrom('groups').selectAll().where('org_id', '=', orgId).orderBy('name').execute();
}

export async function grantRoleToUser(db: Executor, userId: string, roleId: string): Promise<void> {
  await db.insertInto('user_roles').values({ user_id: userId, role_id: roleId }).onConflict((oc) => oc.doNothing()).execute();
}

export async function grantRoleToGroup(db: Executor, groupId: string, roleId: string): Promise<void> {
  await db.insertInto('group_roles').values({ group_id: groupId, role_id: roleId }).onConflict((oc) => oc.doNothing()).execute();
}

export async function addGroupMember(db: Executor, groupId: string, userId: string): Promise<void> {
  await db.insertInto('group_members').values({ group_id: groupId, user_id: userId }).onConflict((oc) => oc.doNothing()).execute();
}

/** Role names a user holds directly or through any group they belong to. */
export async function effectiveRoleNames(db: Executor, userId: string): Promise<string[]> {
  const direct = db
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .select('roles.name')
    .where('user_roles.user_id', '=', userId);
  const viaGroups = db
    .selectFrom('group_members')
    .innerJoin('group_roles', 'group_roles.group_id', 'group_members.group_id')
    .innerJoin('roles', 'roles.id', 'group_roles.role_id')
    .select('roles.name')
    .where('group_members.user_id', '=', userId);
  const rows = await direct.union(viaGroups).execute();
  return rows.map((r) => r.name).sort();
}

/** Active users of an organisation who hold the named role there, directly or through a group. */
export async function activeHoldersOfRole(db: Executor, orgId: string, roleName: string): Promise<User[]> {
  const direct = db
    .selectFrom('user_roles')
    .innerJoin('roles', 'roles.id', 'user_roles.role_id')
    .select('user_roles.user_id as userId')
    .where('roles.org_id', '=', orgId)
    .where('roles.name', '=', roleName);
  const viaGroups = db
    .selectFrom('group_members')
    .innerJoin('group_roles', 'group_roles.group_id', 'group_members.group_id')
    .innerJoin('roles', 'roles.id', 'group_roles.role_id')
    .select('group_members.user_id as userId')
    .where('roles.org_id', '=', orgId)
    .where('roles.name', '=', roleName);
  const ids = (await direct.union(viaGroups).execute()).map((r) => r.userId);
  if (ids.length === 0) return [];
  return db.selectFrom('users').selectAll().where('id', 'in', ids).where('status', '=', 'active').execute();
}

export async function findGroup(db: Executor, groupId: string): Promise<Group | undefined> {
  return db.selectFrom('groups').selectAll().where('id', '=', groupId).executeTakeFirst();
}

export async function renameRole(db: Executor, roleId: string, name: string): Promise<void> {
  await db.updateTable('roles').set({ name }).where('id', '=', roleId).execute();
}

/** Grants, group grants and the role's 2FA requirement go with it (foreign keys cascade). */
export async function deleteRole(db: Executor, roleId: string): Promise<void> {
  await db.deleteFrom('roles').where('id', '=', roleId).execute();
}

export async function renameGroup(db: Executor, groupId: string, name: string): Promise<void> {
  await db.updateTable('groups').set({ name }).where('id', '=', groupId).execute();
}

/** Memberships and the group's roles go with it (foreign keys cascade). */
export async function deleteGroup(db: Executor, groupId: string): Promise<void> {
  await db.deleteFrom('groups').where('id', '=', groupId).execute();
}

export async function revokeRoleFromUser(db: Executor, userId: string, roleId: string): Promise<void> {
  await db.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', '=', roleId).execute();
}

export async function revokeRoleFromGroup(db: Executor, groupId: string, roleId: string): Promise<void> {
  await db.deleteFrom('group_roles').where('group_id', '=', groupId).where('role_id', '=', roleId).execute();
}

export async function removeGroupMember(db: Executor, groupId: string, userId: string): Promise<void> {
  await db.deleteFrom('group_members').where('group_id', '=', groupId).where('user_id', '=', userId).execute();
}

/** Roles granted to the user directly (not through groups). */
export async function directRolesOf(db: Executor, userId: string): Promise<Role[]> {
  return db.selectFrom('user_roles').innerJoin('roles', 'roles.id', 'user_roles.role_id').selectAll('roles').where('user_roles.user_id', '=', userId).orderBy('roles.name').execute();
}

export async function groupsOf(db: Executor, userId: string): Promise<Group[]> {
  return db.selectFrom('group_members').innerJoin('groups', 'groups.id', 'group_members.group_id').selectAll('groups').where('group_members.user_id', '=', userId).orderBy('groups.name').execute();
}

/** Each group of the organisation with its roles' ids and its members (by email). */
export async function groupDetails(db: Executor, orgId: string): Promise<Array<Group & { roleIds: string[]; members: Array<{ id: string; email: string; displayName: string }> }>> {
  const list = await listGroups(db, orgId);
  if (list.length === 0) return [];
  const ids = list.map((g) => g.id);
  const grants = await db.selectFrom('group_roles').select(['group_id', 'role_id']).where('group_id', 'in', ids).execute();
  const members = await db
    .selectFrom('group_members')
    .innerJoin('users', 'users.id', 'group_members.user_id')
    .select(['group_members.group_id', 'users.id', 'users.email', 'users.display_name'])
    .where('group_members.group_id', 'in', ids)
    .orderBy('users.email_normalized')
    .execute();
  return list.map((g) => ({
    ...g,
    roleIds: grants.filter((r) => r.group_id === g.id).map((r) => r.role_id),
    members: members.filter((m) => m.group_id === g.id).map((m) => ({ id: m.id, email: m.email, displayName: m.display_name })),
  }));
}

/** Ids of the people who hold a role, directly or through a group (any status). */
export async function holderIdsOfRole(db: Executor, roleId: string): Promise<string[]> {
  const direct = db.selectFrom('user_roles').select('user_id as userId').where('role_id', '=', roleId);
  const viaGroups = db
    .selectFrom('group_roles')
    .innerJoin('group_members', 'group_members.group_id', 'group_roles.group_id')
    .select('group_members.user_id as userId')
    .where('group_roles.role_id', '=', roleId);
  return (await direct.union(viaGroups).execute()).map((r) => r.userId);
}

/** Drops every direct role and group membership the user has in one organisation (when they move out of it). */
export async function dropMembershipsIn(db: Executor, userId: string, orgId: string): Promise<void> {
  const roleIds = db.selectFrom('roles').select('id').where('org_id', '=', orgId);
  const groupIds = db.selectFrom('groups').select('id').where('org_id', '=', orgId);
  await db.deleteFrom('user_roles').where('user_id', '=', userId).where('role_id', 'in', roleIds).execute();
  await db.deleteFrom('group_members').where('user_id', '=', userId).where('group_id', 'in', groupIds).execute();
}

/** People of one organisation, for the pickers of the roles and groups page (the first `limit` by email). */
export async function membersOfOrganisation(db: Executor, orgId: string, limit: number): Promise<Array<Pick<User, 'id' | 'email' | 'display_name' | 'status'>>> {
  return db.selectFrom('users').select(['id', 'email', 'display_name', 'status']).where('org_id', '=', orgId).orderBy('email_normalized').limit(limit).execute();
}
