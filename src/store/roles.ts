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
export async function listRolesWithRequirement(db: Executor, orgId: string): Promise<Array<{ id: string; name: string; requireTwoFactor: boolean }>> {
  const rows = await db
    .selectFrom('roles')
    .leftJoin('role_policies', 'role_policies.role_id', 'roles.id')
    .select(['roles.id', 'roles.name', 'role_policies.require_two_factor'])
    .where('roles.org_id', '=', orgId)
    .orderBy('roles.name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, requireTwoFactor: Number(r.require_two_factor ?? 0) === 1 }));
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
