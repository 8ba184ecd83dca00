import { randomUUID } from 'node:crypto';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import type { Executor, Group, Role } from '../store/index.js';
import { factors, roles, users } from '../store/index.js';
import { ADMIN_ROLE } from './accounts.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { SecondFactorPolicy } from './policy.js';
import { requireSudoAdmin } from './step-up.js';
import { isWithinTree, requireInTree } from './tenancy.js';
import type { Principal } from './principal.js';

export interface RoleSummary {
  id: string;
  name: string;
  requireTwoFactor: boolean;
  /** Whether holders must finish the second step with a security key or passkey. */
  requirePhishingResistant: boolean;
  /** People holding it, directly or through a group. */
  holders: number;
  /** The admin role cannot be renamed or deleted: it is what lets anyone manage the organisation. */
  protected: boolean;
}

export interface PersonRef {
  id: string;
  email: string;
  displayName: string;
}

export interface GroupSummary {
  id: string;
  name: string;
  roles: Array<{ id: string; name: string }>;
  members: PersonRef[];
}

export interface RolesOverview {
  organisation: { id: string; name: string };
  roles: RoleSummary[];
  groups: GroupSummary[];
  /** The organisation's people (the first 500 by email), for choosing group members. */
  people: PersonRef[];
}

export interface RequirementPreview {
  roleId: string;
  role: string;
  requireTwoFactor: boolean;
  holders: number;
  /** Holders (active or invited) who hold no second factor and are not already required to by policy: switching the requirement on makes them enrol at their next sign-in. */
  forcedToEnrol: number;
}

const NO_ROLE = { code: 'role_not_found', message: 'No such role.' } as const;
const NO_GROUP = { code: 'group_not_found', message: 'No such group.' } as const;
const NO_USER = { code: 'user_not_found', message: 'No such user.' } as const;
const ROLE_NAME = /^[\w.-]{1,64}$/;
const PEOPLE_SHOWN = 500;

/**
 * Roles and groups from the console: create, rename and delete them, grant roles to groups, add
 * and remove members (a person's own roles and groups are edited on their page, UserAdminService).
 * Every method is for an admin with sudo (requireSudoAdmin), within their tree (others are 404);
 * every change is audited in its transaction. Requiring 2FA per role stays PolicyService's
 * (setRoleRequirement); `requirementPreview` says beforehand how many people it would force to enrol.
 */
export class RolesAdminService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly policy: SecondFactorPolicy,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async overview(actor: Actor, orgId: string): Promise<RolesOverview> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const org = await requireInTree(this.db, admin, orgId);
    const withRequirement = await roles.listRolesWithRequirement(this.db, org.id);
    const roleList: RoleSummary[] = [];
    for (const r of withRequirement) {
      roleList.push({ ...r, holders: (await roles.holderIdsOfRole(this.db, r.id)).length, protected: r.name === ADMIN_ROLE });
    }
    const people = (await roles.membersOfOrganisation(this.db, org.id, PEOPLE_SHOWN)).map((p) => ({ id: p.id, email: p.email, displayName: p.display_name }));
    const names = new Map(withRequirement.map((r) => [r.id, r.name]));
    const groups: GroupSummary[] = (await roles.groupDetails(this.db, org.id)).map((g) => ({ id: g.id, name: g.name, roles: g.roleIds.map((id) => ({ id, name: names.get(id) ?? id })), members: g.members }));
    return { organisation: { id: org.id, name: org.name }, roles: roleList, groups, people };
  }

  async createRole(actor: Actor, orgId: string, name: string, meta: RequestMeta): Promise<Role> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const roleName = checkRoleName(name);
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, orgId);
      if (await roles.findRoleByName(trx, orgId, roleName)) throw conflict('role_exists', 'A role with this name already exists.');
      const role: Role = { id: randomUUID(), org_id: orgId, name: roleName, created_at: this.deps.clock() };
      await roles.insertRole(trx, role);
      await recordAudit(trx, role.created_at, { type: 'role.created', actorUserId: admin.id, orgId, meta, details: { roleId: role.id, role: roleName } });
      return role;
    });
  }

  async renameRole(actor: Actor, roleId: string, name: string, meta: RequestMeta): Promise<Role> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const roleName = checkRoleName(name);
    return this.db.transaction().execute(async (trx) => {
      const role = await this.role(trx, admin, roleId);
      if (role.name === ADMIN_ROLE || roleName === ADMIN_ROLE) throw conflict('role_protected', 'The admin role keeps its name: it is what lets people manage the organisation.');
      const clash = await roles.findRoleByName(trx, role.org_id, roleName);
      if (clash && clash.id !== role.id) throw conflict('role_exists', 'A role with this name already exists.');
      await roles.renameRole(trx, role.id, roleName);
      await recordAudit(trx, this.deps.clock(), { type: 'role.renamed', actorUserId: admin.id, orgId: role.org_id, meta, details: { roleId: role.id, before: role.name, after: roleName } });
      return { ...role, name: roleName };
    });
  }

  /** Its grants and its 2FA requirement go with it; the audit keeps who held it. */
  async deleteRole(actor: Actor, roleId: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const role = await this.role(trx, admin, roleId);
      if (role.name === ADMIN_ROLE) throw conflict('role_protected', 'The admin role cannot be deleted: it is what lets people manage the organisation.');
      const holders = await roles.holderIdsOfRole(trx, role.id);
      await roles.deleteRole(trx, role.id);
      await recordAudit(trx, this.deps.clock(), { type: 'role.deleted', actorUserId: admin.id, orgId: role.org_id, meta, details: { roleId: role.id, role: role.name, holders } });
    });
  }

  async createGroup(actor: Actor, orgId: string, name: string, meta: RequestMeta): Promise<Group> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const groupName = checkGroupName(name);
    return this.db.transaction().execute(async (trx) => {
      await requireInTree(trx, admin, orgId);
      if (await roles.findGroupByName(trx, orgId, groupName)) throw conflict('group_exists', 'A group with this name already exists.');
      const group: Group = { id: randomUUID(), org_id: orgId, name: groupName, created_at: this.deps.clock() };
      await roles.insertGroup(trx, group);
      await recordAudit(trx, group.created_at, { type: 'group.created', actorUserId: admin.id, orgId, meta, details: { groupId: group.id, group: groupName } });
      return group;
    });
  }

  async renameGroup(actor: Actor, groupId: string, name: string, meta: RequestMeta): Promise<Group> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const groupName = checkGroupName(name);
    return this.db.transaction().execute(async (trx) => {
      const group = await this.group(trx, admin, groupId);
      const clash = await roles.findGroupByName(trx, group.org_id, groupName);
      if (clash && clash.id !== group.id) throw conflict('group_exists', 'A group with this name already exists.');
      await roles.renameGroup(trx, group.id, groupName);
      await recordAudit(trx, this.deps.clock(), { type: 'group.renamed', actorUserId: admin.id, orgId: group.org_id, meta, details: { groupId: group.id, before: group.name, after: groupName } });
      return { ...group, name: groupName };
    });
  }

  async deleteGroup(actor: Actor, groupId: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const group = await this.group(trx, admin, groupId);
      await roles.deleteGroup(trx, group.id);
      await recordAudit(trx, this.deps.clock(), { type: 'group.deleted', actorUserId: admin.id, orgId: group.org_id, meta, details: { groupId: group.id, group: group.name } });
    });
  }

  /** Grants (granted true) or takes back a role from everyone in a group; both of one organisation. */
  async setGroupRole(actor: Actor, groupId: string, roleId: string, granted: boolean, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const group = await this.group(trx, admin, groupId);
      const role = await this.role(trx, admin, roleId);
      if (role.org_id !== group.org_id) throw invalidInput('organisation_mismatch', 'The role and the group belong to different organisations.');
      if (granted) await roles.grantRoleToGroup(trx, group.id, role.id);
      else await roles.revokeRoleFromGroup(trx, group.id, role.id);
      await recordAudit(trx, this.deps.clock(), { type: granted ? 'role.granted' : 'role.revoked', actorUserId: admin.id, orgId: group.org_id, meta, details: { roleId: role.id, role: role.name, groupId: group.id, group: group.name } });
    });
  }

  /** Adds (member true) or removes a person of the group's organisation. */
  async setGroupMember(actor: Actor, groupId: string, userId: string, member: boolean, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const group = await this.group(trx, admin, groupId);
      const user = await users.findUser(trx, userId);
      if (!user || !(await isWithinTree(trx, admin, user.org_id))) throw notFound(NO_USER.code, NO_USER.message);
      if (user.org_id !== group.org_id) throw invalidInput('organisation_mismatch', 'The person belongs to another organisation than the group.');
      if (member) await roles.addGroupMember(trx, group.id, user.id);
      else await roles.removeGroupMember(trx, group.id, user.id);
      await recordAudit(trx, this.deps.clock(), { type: member ? 'group.member_added' : 'group.member_removed', actorUserId: admin.id, subjectUserId: user.id, orgId: group.org_id, meta, details: { groupId: group.id, group: group.name } });
    });
  }

  /** How many people switching the role's 2FA requirement on would send to enrolment at their next sign-in. */
  async requirementPreview(actor: Actor, roleId: string): Promise<RequirementPreview> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const role = await this.role(this.db, admin, roleId);
    const requirement = (await roles.listRolesWithRequirement(this.db, role.org_id)).find((r) => r.id === role.id);
    const holderIds = await roles.holderIdsOfRole(this.db, role.id);
    let forcedToEnrol = 0;
    for (const id of holderIds) {
      const user = await users.findUser(this.db, id);
      if (!user || user.status === 'disabled') continue;
      if ((await factors.countHeldFactors(this.db, id)) > 0) continue;
      if (!requirement?.requireTwoFactor && (await this.policy.requiresSecondFactor(user))) continue; // already made to enrol by another rule
      forcedToEnrol++;
    }
    return { roleId: role.id, role: role.name, requireTwoFactor: requirement?.requireTwoFactor ?? false, holders: holderIds.length, forcedToEnrol };
  }

  private async role(db: Executor, admin: Principal, roleId: string): Promise<Role> {
    const role = await roles.findRole(db, roleId);
    if (!role || !(await isWithinTree(db, admin, role.org_id))) throw notFound(NO_ROLE.code, NO_ROLE.message);
    return role;
  }

  private async group(db: Executor, admin: Principal, groupId: string): Promise<Group> {
    const group = await roles.findGroup(db, groupId);
    if (!group || !(await isWithinTree(db, admin, group.org_id))) throw notFound(NO_GROUP.code, NO_GROUP.message);
    return group;
  }
}

function checkRoleName(name: string): string {
  const roleName = name.trim();
  if (!ROLE_NAME.test(roleName)) throw invalidInput('role_invalid', 'A role name is 1 to 64 letters, digits, dots, dashes or underscores.');
  return roleName;
}

function checkGroupName(name: string): string {
  const groupName = name.trim();
  if (groupName.length === 0 || groupName.length > 100) throw invalidInput('group_invalid', 'A group needs a name of 1 to 100 characters.');
  return groupName;
}
