import { randomUUID } from 'node:crypto';
import { conflict, forbidden, invalidInput, notFound, unauthenticated } from '../core/errors.js';
import { checkNewPassword } from '../core/password-rules.js';
import { isValidTimeZone } from '../core/time-zone.js';
import type { Executor, Organisation, User } from '../store/index.js';
import { organisations, roles, sessions, trustedBrowsers, users } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { Notifier } from './messaging/notifier.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { Principal } from './principal.js';
import { passwordHashOf } from './principal.js';

export const ADMIN_ROLE = 'admin';

/** Whether the user holds the admin role, directly or through a group; pass the open transaction if any. */
export async function holdsAdminRole(db: Executor, userId: string): Promise<boolean> {
  return (await roles.effectiveRoleNames(db, userId)).includes(ADMIN_ROLE);
}

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function assertValidEmail(email: string): void {
  if (email.length > 254 || !EMAIL_PATTERN.test(email.trim())) {
    throw invalidInput('email_invalid', 'Enter a valid email address.');
  }
}

export interface NewAccount {
  orgId: string;
  email: string;
  password: string;
  displayName?: string | undefined;
  timeZone?: string | undefined;
  roles?: string[] | undefined;
}

export interface Actor {
  userId: string | null;
  meta: RequestMeta | null;
}

export interface UserProfile {
  id: string;
  orgId: string;
  email: string;
  displayName: string;
  timeZone: string;
  status: string;
  roles: string[];
  createdAt: string;
}

export class AccountService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly notifier?: Notifier,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async createOrganisation(name: string, parentId: string | null, actor: Actor, db: Executor = this.db): Promise<Organisation> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw invalidInput('name_invalid', 'An organisation needs a name of 1 to 200 characters.');
    if (parentId && !(await organisations.findOrganisation(db, parentId))) {
      throw notFound('organisation_not_found', 'The parent organisation does not exist.');
    }
    const org: Organisation = { id: randomUUID(), name: trimmed, parent_id: parentId, created_at: this.deps.clock() };
    await organisations.insertOrganisation(db, org);
    await recordAudit(db, org.created_at, {
      type: 'organisation.created',
      actorUserId: actor.userId,
      orgId: org.id,
      meta: actor.meta,
      details: { name: org.name, parentId },
    });
    return org;
  }

  /** Validates everything first, hashes the password, then writes user, roles and audit together. */
  async createUser(input: NewAccount, actor: Actor, db?: Executor): Promise<User> {
    assertValidEmail(input.email);
    const emailNormalized = normaliseEmail(input.email);
    const displayName = (input.displayName ?? '').trim() || emailNormalized.split('@')[0] || emailNormalized;
    if (displayName.length > 200) throw invalidInput('display_name_invalid', 'The display name is too long.');
    const timeZone = input.timeZone ?? 'UTC';
    if (!isValidTimeZone(timeZone)) throw invalidInput('time_zone_invalid', `"${timeZone}" is not an IANA time zone.`);
    const strength = checkNewPassword(input.password, { email: emailNormalized, displayName });
    if (!strength.ok) throw invalidInput(strength.code, strength.message);
    const passwordHash = await hashPassword(input.password);

    const write = async (trx: Executor): Promise<User> => {
      if (!(await organisations.findOrganisation(trx, input.orgId))) {
        throw notFound('organisation_not_found', 'The organisation does not exist.');
      }
      if (await users.findUserByEmail(trx, emailNormalized)) {
        throw conflict('email_taken', 'An account with this email already exists.');
      }
      const now = this.deps.clock();
      const user: User = {
        id: randomUUID(),
        org_id: input.orgId,
        email: input.email.trim(),
        email_normalized: emailNormalized,
        display_name: displayName,
        time_zone: timeZone,
        password_hash: passwordHash,
        status: 'active',
        password_changed_at: now,
        created_at: now,
        totp_last_step: null,
        second_factor_failures: 0,
        second_factor_locked_until: null,
        set_up_again_since: null,
      };
      await users.insertUser(trx, user);
      for (const roleName of input.roles ?? []) {
        const role = await this.ensureRole(trx, input.orgId, roleName, actor);
        await roles.grantRoleToUser(trx, user.id, role.id);
      }
      await recordAudit(trx, now, {
        type: 'user.created',
        actorUserId: actor.userId,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta: actor.meta,
        details: { email: user.email, roles: input.roles ?? [] },
      });
      return user;
    };
    return db ? write(db) : this.db.transaction().execute(write);
  }

  /** Creates a role (or finds it), in a transaction of its own: the command line's `roles create`. */
  async createRole(orgId: string, name: string, actor: Actor) {
    return this.db.transaction().execute((trx) => this.ensureRole(trx, orgId, name, actor));
  }

  async ensureRole(db: Executor, orgId: string, name: string, actor: Actor) {
    const roleName = name.trim();
    if (!/^[\w.-]{1,64}$/.test(roleName)) throw invalidInput('role_invalid', 'A role name is 1 to 64 letters, digits, dots, dashes or underscores.');
    const existing = await roles.findRoleByName(db, orgId, roleName);
    if (existing) return existing;
    const role = { id: randomUUID(), org_id: orgId, name: roleName, created_at: this.deps.clock() };
    await roles.insertRole(db, role);
    await recordAudit(db, role.created_at, { type: 'role.created', actorUserId: actor.userId, orgId, meta: actor.meta, details: { role: roleName } });
    return role;
  }

  async createGroup(orgId: string, name: string, actor: Actor) {
    const groupName = name.trim();
    if (groupName.length === 0 || groupName.length > 100) throw invalidInput('group_invalid', 'A group needs a name of 1 to 100 characters.');
    return this.db.transaction().execute(async (trx) => {
      if (!(await organisations.findOrganisation(trx, orgId))) throw notFound('organisation_not_found', 'The organisation does not exist.');
      if (await roles.findGroupByName(trx, orgId, groupName)) throw conflict('group_exists', 'A group with this name already exists.');
      const group = { id: randomUUID(), org_id: orgId, name: groupName, created_at: this.deps.clock() };
      await roles.insertGroup(trx, group);
      await recordAudit(trx, group.created_at, { type: 'group.created', actorUserId: actor.userId, orgId, meta: actor.meta, details: { group: groupName } });
      return group;
    });
  }

  async grantRoleToUser(email: string, roleName: string, actor: Actor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const user = await this.requireUserByEmail(trx, email);
      const role = await this.ensureRole(trx, user.org_id, roleName, actor);
      await roles.grantRoleToUser(trx, user.id, role.id);
      await recordAudit(trx, this.deps.clock(), {
        type: 'role.granted',
        actorUserId: actor.userId,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta: actor.meta,
        details: { role: role.name },
      });
    });
  }

  async grantRoleToGroup(orgId: string, groupName: string, roleName: string, actor: Actor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const group = await roles.findGroupByName(trx, orgId, groupName);
      if (!group) throw notFound('group_not_found', 'No such group in this organisation.');
      const role = await this.ensureRole(trx, orgId, roleName, actor);
      await roles.grantRoleToGroup(trx, group.id, role.id);
      await recordAudit(trx, this.deps.clock(), { type: 'role.granted', actorUserId: actor.userId, orgId, meta: actor.meta, details: { role: role.name, group: group.name } });
    });
  }

  async addGroupMember(orgId: string, groupName: string, email: string, actor: Actor): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const group = await roles.findGroupByName(trx, orgId, groupName);
      if (!group) throw notFound('group_not_found', 'No such group in this organisation.');
      const user = await this.requireUserByEmail(trx, email);
      if (user.org_id !== orgId) throw invalidInput('organisation_mismatch', 'The user belongs to another organisation.');
      await roles.addGroupMember(trx, group.id, user.id);
      await recordAudit(trx, this.deps.clock(), {
        type: 'group.member_added',
        actorUserId: actor.userId,
        subjectUserId: user.id,
        orgId,
        meta: actor.meta,
        details: { group: group.name },
      });
    });
  }

  async requireUserByEmail(db: Executor | undefined, email: string): Promise<User> {
    db ??= this.db;
    const user = await users.findUserByEmail(db, normaliseEmail(email));
    if (!user) throw notFound('user_not_found', 'No user with this email.');
    return user;
  }

  async roleNames(userId: string): Promise<string[]> {
    return roles.effectiveRoleNames(this.db, userId);
  }

  async isAdmin(userId: string): Promise<boolean> {
    return holdsAdminRole(this.db, userId);
  }

  /** `roles`: the role names when the caller already has them (the session check loads them with the session). */
  async profile(user: Principal, roles?: string[]): Promise<UserProfile> {
    return {
      id: user.id,
      orgId: user.org_id,
      email: user.email,
      displayName: user.display_name,
      timeZone: user.time_zone,
      status: user.status,
      roles: roles ?? (await this.roleNames(user.id)),
      createdAt: new Date(user.created_at).toISOString(),
    };
  }

  async setTimeZone(user: Principal, timeZone: string): Promise<void> {
    if (!isValidTimeZone(timeZone)) throw invalidInput('time_zone_invalid', `"${timeZone}" is not an IANA time zone.`);
    await users.setTimeZone(this.db, user.id, timeZone);
  }

  /**
   * Changing the password ends every other session and forgets every trusted browser: whoever
   * knew the old password may have used it to plant either.
   */
  async changePassword(user: Principal, currentSessionId: string, current: string, next: string, meta: RequestMeta): Promise<void> {
    // The request's principal carries no hash: load it here, the one place it is compared.
    const storedHash = await passwordHashOf(this.db, user.id);
    if (storedHash === undefined || !(await verifyPassword(storedHash, current))) {
      throw unauthenticated('invalid_credentials', 'The current password is not correct.');
    }
    const strength = checkNewPassword(next, { email: user.email_normalized, displayName: user.display_name });
    if (!strength.ok) throw invalidInput(strength.code, strength.message);
    const hash = await hashPassword(next);
    await this.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      await users.setPasswordHash(trx, user.id, hash, now);
      const endedSessions = await sessions.revokeUserSessions(trx, user.id, now, currentSessionId);
      const revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, user.id, now);
      await recordAudit(trx, now, {
        type: 'password.changed',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { endedSessions, revokedBrowsers },
      });
    });
    await this.notifier?.notify(user, { title: 'Your password was changed', lines: [['What happened', 'Your password was changed from your account page. Other sessions were signed out.']] }, meta);
  }

  async setStatus(subject: Principal, status: 'active' | 'disabled', actor: Actor): Promise<void> {
    if (actor.userId === subject.id && status === 'disabled') throw forbidden('cannot_disable_self', 'You cannot disable your own account.');
    await this.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      await users.setUserStatus(trx, subject.id, status);
      if (status === 'disabled') await sessions.revokeUserSessions(trx, subject.id, now);
      await recordAudit(trx, now, {
        type: status === 'disabled' ? 'user.disabled' : 'user.enabled',
        actorUserId: actor.userId,
        subjectUserId: subject.id,
        orgId: subject.org_id,
        meta: actor.meta,
      });
    });
  }
}
