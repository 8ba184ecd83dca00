import { invalidInput, notFound } from '../core/errors.js';
import type { Executor, Group, Role } from '../store/index.js';
import { roles } from '../store/index.js';
import { isWithinTree } from './tenancy.js';
import type { Principal } from './principal.js';

export interface MembershipInput {
  /** The roles the person holds directly, exactly (omitted: unchanged). */
  roleIds?: readonly string[] | undefined;
  /** The groups the person belongs to, exactly (omitted: unchanged). */
  groupIds?: readonly string[] | undefined;
}

const NO_ROLE = { code: 'role_not_found', message: 'No such role.' } as const;
const NO_GROUP = { code: 'group_not_found', message: 'No such group.' } as const;

/**
 * A role or group the (already checked) admin may hand out to a member of `orgId`: it must exist
 * in the admin's tree (else 404, as if it did not exist) and belong to the person's own
 * organisation (a role of another organisation would mean nothing there).
 */
export async function roleFor(db: Executor, admin: Principal, roleId: string, orgId: string): Promise<Role> {
  const role = await roles.findRole(db, roleId);
  if (!role || !(await isWithinTree(db, admin, role.org_id))) throw notFound(NO_ROLE.code, NO_ROLE.message);
  if (role.org_id !== orgId) throw invalidInput('organisation_mismatch', `The role "${role.name}" belongs to another organisation.`);
  return role;
}

export async function groupFor(db: Executor, admin: Principal, groupId: string, orgId: string): Promise<Group> {
  const group = await roles.findGroup(db, groupId);
  if (!group || !(await isWithinTree(db, admin, group.org_id))) throw notFound(NO_GROUP.code, NO_GROUP.message);
  if (group.org_id !== orgId) throw invalidInput('organisation_mismatch', `The group "${group.name}" belongs to another organisation.`);
  return group;
}

/**
 * Makes the person's direct roles and groups exactly those given (each checked with roleFor /
 * groupFor against `orgId`, their organisation). Returns the names held afterwards, for the audit.
 */
export async function setMemberships(db: Executor, admin: Principal, user: Principal, orgId: string, input: MembershipInput): Promise<{ roles: string[]; groups: string[] }> {
  if (input.roleIds) {
    const wanted: Role[] = [];
    for (const id of new Set(input.roleIds)) wanted.push(await roleFor(db, admin, id, orgId));
    for (const held of await roles.directRolesOf(db, user.id)) {
      if (!wanted.some((r) => r.id === held.id)) await roles.revokeRoleFromUser(db, user.id, held.id);
    }
    for (const role of wanted) await roles.grantRoleToUser(db, user.id, role.id);
  }
  if (input.groupIds) {
    const wanted: Group[] = [];
    for (const id of new Set(input.groupIds)) wanted.push(await groupFor(db, admin, id, orgId));
    for (const held of await roles.groupsOf(db, user.id)) {
      if (!wanted.some((g) => g.id === held.id)) await roles.removeGroupMember(db, held.id, user.id);
    }
    for (const group of wanted) await roles.addGroupMember(db, group.id, user.id);
  }
  return membershipNames(db, user.id);
}

export async function membershipNames(db: Executor, userId: string): Promise<{ roles: string[]; groups: string[] }> {
  const direct = await roles.directRolesOf(db, userId);
  const groups = await roles.groupsOf(db, userId);
  return { roles: direct.map((r) => r.name), groups: groups.map((g) => g.name) };
}
