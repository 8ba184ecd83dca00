import { conflict, forbidden, invalidInput, notFound } from '../core/errors.js';
import type { Executor, User } from '../store/index.js';
import { approvals, backupCodes, factors, roles, sessions, trustedBrowsers, users } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { recordAudit } from './audit-log.js';
import type { BackupCodeService, BackupCodesEmail } from './backup-codes.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Notifier } from './messaging/notifier.js';
import type { PolicyService } from './policy.js';
import type { Actor } from './actor.js';
import { requireSudoAdmin } from './step-up.js';
import { isWithinTree, requireInTree } from './tenancy.js';
import { holdsAdminRole } from './accounts.js';
import type { MembershipInput } from './memberships.js';
import { membershipNames, setMemberships } from './memberships.js';
import type { Principal } from './principal.js';

export interface UserTwoFactorStatus {
  id: string;
  orgId: string;
  email: string;
  displayName: string;
  status: string;
  /** Kinds of active factors, e.g. ["totp","sms"]. */
  methods: string[];
  lastUsedAt: string | null;
  backupCodesLeft: number;
  /** Whether policy requires a factor this user lacks (they will be made to enrol). */
  mustEnrol: boolean;
}

export interface UserListQuery {
  orgId?: string | undefined;
  query?: string | undefined;
  /** Only users with no active factor. */
  withoutTwoFactor?: boolean | undefined;
  after?: string | undefined;
  limit?: number | undefined;
}

const NO_USER = { code: 'user_not_found', message: 'No such user.' } as const;

/** What an admin may change about a person: name, organisation (in their tree), direct roles and groups. */
export interface UserEdit extends MembershipInput {
  displayName?: string | undefined;
  orgId?: string | undefined;
}

export interface NamedRef {
  id: string;
  name: string;
}

/**
 * What organisation admins do to other people's accounts: see their 2FA status, reset (remove)
 * factors, disable them, and view or regenerate their backup codes. An admin can take factors
 * away but never enrol one: only the user may hold a secret. Each action is audited with the
 * admin as actor and the user is told by email. Every method starts by requiring a signed-in
 * admin with sudo (requireSudoAdmin), reads included, so no route has to remember it.
 */
export class UserAdminService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly accounts: AccountService,
    private readonly backupCodeService: BackupCodeService,
    private readonly policy: PolicyService,
    private readonly notifier: Notifier,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async list(actor: Actor, q: UserListQuery): Promise<{ users: UserTwoFactorStatus[]; next: string | null }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const rootId = q.orgId ?? admin.org_id;
    await requireInTree(this.db, admin, rootId);
    const limit = Math.min(Math.max(q.limit ?? 50, 1), 200);
    // One statement for the page (the tree, the factors, the backup codes, the role rules) and
    // one for the policy chains of the organisations whose people on it hold no method.
    const rows = await users.listUserStatusPage(this.db, { rootOrgId: rootId, query: q.query, withoutTwoFactor: q.withoutTwoFactor, limit, afterEmail: q.after, dialect: this.deps.database.dialect });
    const undecided = rows.filter((row) => row.methods.length === 0 && !row.roleRequiresTwoFactor).map((row) => row.orgId);
    const orgRequires = await this.policy.organisationsRequiringSecondFactor(undecided);
    const out: UserTwoFactorStatus[] = rows.map((row) => ({
      id: row.id,
      orgId: row.orgId,
      email: row.email,
      displayName: row.displayName,
      status: row.status,
      methods: row.methods,
      lastUsedAt: iso(row.lastUsedAt),
      backupCodesLeft: row.backupCodesLeft,
      mustEnrol: row.methods.length === 0 && (row.roleRequiresTwoFactor || orgRequires.has(row.orgId)),
    }));
    const last = rows[rows.length - 1];
    return { users: out, next: rows.length === limit && last ? last.emailNormalized : null };
  }

  async get(actor: Actor, userId: string): Promise<UserTwoFactorStatus & { factors: Array<{ id: string; type: string; label: string; destination: string | null; lastUsedAt: string | null }>; roles: NamedRef[]; groups: NamedRef[] }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const subject = await this.subject(this.db, admin, userId);
    const active = await factors.listActiveFactors(this.db, subject.id);
    const named = (list: Array<{ id: string; name: string }>) => list.map((r) => ({ id: r.id, name: r.name }));
    return {
      ...(await this.statusOf(subject)),
      factors: active.map((f) => ({ id: f.id, type: f.type, label: f.label, destination: f.destination_masked, lastUsedAt: iso(f.last_used_at) })),
      roles: named(await roles.directRolesOf(this.db, subject.id)),
      groups: named(await roles.groupsOf(this.db, subject.id)),
    };
  }

  /**
   * Changes a person's name, organisation (one in the admin's tree), direct roles and groups, in
   * one audited transaction. Moving someone drops the roles and groups of the organisation they
   * leave unless the edit names new ones; an admin cannot take away their own admin role.
   */
  async update(actor: Actor, userId: string, edit: UserEdit, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const displayName = edit.displayName?.trim();
    if (displayName !== undefined && (displayName.length === 0 || displayName.length > 200)) throw invalidInput('display_name_invalid', 'A name is 1 to 200 characters.');
    await this.db.transaction().execute(async (trx) => {
      const subject = await this.subject(trx, admin, userId);
      const orgId = edit.orgId ?? subject.org_id;
      if (orgId !== subject.org_id) await requireInTree(trx, admin, orgId);
      const before = { displayName: subject.display_name, orgId: subject.org_id, ...(await membershipNames(trx, subject.id)) };
      if (displayName !== undefined) await users.setDisplayName(trx, subject.id, displayName);
      if (orgId !== subject.org_id) {
        await roles.dropMembershipsIn(trx, subject.id, subject.org_id);
        await users.setOrganisation(trx, subject.id, orgId);
      }
      const held = await setMemberships(trx, admin, subject, orgId, edit);
      if (subject.id === admin.id && !(await holdsAdminRole(trx, admin.id))) {
        throw forbidden('cannot_demote_self', 'You cannot take away your own admin role; ask another admin.');
      }
      await recordAudit(trx, this.deps.clock(), {
        type: 'user.updated',
        actorUserId: admin.id,
        subjectUserId: subject.id,
        orgId,
        meta,
        details: { before, after: { displayName: displayName ?? subject.display_name, orgId, ...held } },
      });
    });
  }

  /**
   * Deletes a person: sessions, factors, backup codes, trusted browsers and devices go with the
   * account. The audit log keeps their id, and this event records their email and name.
   */
  async delete(actor: Actor, userId: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const subject = await this.db.transaction().execute(async (trx) => {
      const subject = await this.subject(trx, admin, userId);
      if (subject.id === admin.id) throw forbidden('cannot_delete_self', 'You cannot delete your own account.');
      const held = await membershipNames(trx, subject.id);
      const factorCount = await factors.countActiveFactors(trx, subject.id);
      await users.deleteUser(trx, subject.id);
      await recordAudit(trx, this.deps.clock(), {
        type: 'user.deleted',
        actorUserId: admin.id,
        subjectUserId: subject.id,
        orgId: subject.org_id,
        meta,
        details: { email: subject.email, displayName: subject.display_name, status: subject.status, factors: factorCount, ...held },
      });
      return subject;
    });
    if (subject.status === 'active') {
      await this.notifier.notify(subject, { title: 'Your account was deleted by an administrator', lines: [['Administrator', admin.email]] }, meta);
    }
  }

  /**
   * Switches off one of a user's methods, with the reset's rules: an admin only ever removes, the
   * user's sessions and trusted browsers end (whoever holds the lost device may hold those too),
   * the second-factor lock is cleared, backup codes go when no method is left (they would be a way
   * around nothing), it is audited and the user is emailed.
   */
  async removeFactor(actor: Actor, userId: string, factorId: string, meta: RequestMeta): Promise<{ removed: { id: string; type: string; label: string }; remainingFactors: number }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    if (factorId.length > 64) throw invalidInput('factor_id_invalid', 'That is not a factor id.');
    const result = await this.db.transaction().execute(async (trx) => {
      const subject = await this.subject(trx, admin, userId);
      if (subject.id === admin.id) throw forbidden('cannot_reset_self', 'Manage your own factors on your security page.');
      const factor = (await factors.listLiveFactors(trx, subject.id)).find((f) => f.id === factorId);
      if (!factor) throw notFound('factor_not_found', 'This user has no such method.');
      const now = this.deps.clock();
      await factors.deleteFactor(trx, subject.id, factor.id);
      const remainingFactors = await factors.countHeldFactors(trx, subject.id); // a paired phone still counts
      if (remainingFactors === 0) await backupCodes.deleteBackupCodes(trx, subject.id);
      const revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, subject.id, now);
      const endedSessions = await sessions.revokeUserSessions(trx, subject.id, now);
      await users.resetSecondFactorLockout(trx, subject.id);
      const removed = { id: factor.id, type: factor.type, label: factor.label };
      await recordAudit(trx, now, {
        type: 'admin.factor_removed',
        actorUserId: admin.id,
        subjectUserId: subject.id,
        orgId: subject.org_id,
        meta,
        details: { factor: removed, remainingFactors, backupCodesRemoved: remainingFactors === 0, revokedBrowsers, endedSessions },
      });
      return { subject, removed, remainingFactors };
    });
    await this.notifier.notify(result.subject, {
      title: 'One of your two-step verification methods was switched off by an administrator',
      lines: [
        ['Administrator', admin.email],
        ['Method', `${result.removed.label} (${result.removed.type})`],
        ['What happened', result.remainingFactors === 0 ? 'You have no sign-in method left, and your backup codes were removed. Set up a new method at your next sign-in.' : 'Your other methods still work. You were signed out everywhere.'],
      ],
    }, meta);
    return { removed: result.removed, remainingFactors: result.remainingFactors };
  }

  /** The lost-phone case: every factor, backup code, trusted browser and session of the user goes. */
  async resetFactors(actor: Actor, userId: string, meta: RequestMeta): Promise<{ removedFactors: number }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const result = await this.db.transaction().execute(async (trx) => {
      const subject = await this.subject(trx, admin, userId);
      if (subject.id === admin.id) throw forbidden('cannot_reset_self', 'Manage your own factors on your security page.');
      const now = this.deps.clock();
      const removed = await factors.listLiveFactors(trx, subject.id);
      for (const f of removed) await factors.deleteFactor(trx, subject.id, f.id);
      // Paired phones are methods too: a lost phone must not approve the next sign-in.
      const removedPhones = await approvals.removeAllDevices(trx, subject.id, now);
      await backupCodes.deleteBackupCodes(trx, subject.id);
      const revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, subject.id, now);
      const endedSessions = await sessions.revokeUserSessions(trx, subject.id, now);
      // The lost-phone case starts over: old wrong codes must not lock the authenticator enrolled next.
      await users.resetSecondFactorLockout(trx, subject.id);
      // Their next sign-in asks them to set up a method again, even where policy does not require one.
      await users.setSetUpAgain(trx, subject.id, now);
      const required = await this.policy.requiresSecondFactor(subject, trx);
      await recordAudit(trx, now, {
        type: 'admin.factors_reset',
        actorUserId: admin.id,
        subjectUserId: subject.id,
        orgId: subject.org_id,
        meta,
        details: { factors: removed.map((f) => ({ id: f.id, type: f.type, label: f.label })), phones: removedPhones, revokedBrowsers, endedSessions },
      });
      return { subject, removedFactors: removed.filter((f) => f.status === 'active').length + removedPhones.length, required };
    });
    await this.notifier.notify(result.subject, {
      title: 'Your two-step verification was reset by an administrator',
      lines: [
        ['Administrator', admin.email],
        ['What happened', 'All your sign-in methods, backup codes and trusted browsers were removed, and you were signed out everywhere.'],
        [
          'What happens next',
          result.required
            ? 'When you next sign in with your password you set up a new method before you get in: your organisation requires two-step verification.'
            : 'When you next sign in with your password you are asked to set up a new method. Your organisation does not require it, so you may skip it; until you add one, your password alone signs you in.',
        ],
      ],
    }, meta);
    return { removedFactors: result.removedFactors };
  }

  async setDisabled(actor: Actor, userId: string, disabled: boolean, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const subject = await this.subject(this.db, admin, userId);
    // Enabling must not turn a pending invitation into an account with no password chosen by its owner.
    if (subject.status === 'invited') throw conflict('invitation_not_pending', 'This person has not accepted their invitation yet: resend or revoke it instead.');
    await this.accounts.setStatus(subject, disabled ? 'disabled' : 'active', { userId: admin.id, meta });
    if (disabled) {
      await this.notifier.notify(subject, { title: 'Your account was disabled by an administrator', lines: [['Administrator', admin.email]] }, meta);
    }
  }

  async viewBackupCodes(actor: Actor, userId: string, meta: RequestMeta): Promise<Array<{ code: string; used: boolean }>> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const subject = await this.subject(this.db, admin, userId);
    const codes = await this.backupCodeService.reveal(subject.id);
    if (codes.length === 0) throw conflict('no_backup_codes', 'This user has no backup codes.');
    await recordAudit(this.db, this.deps.clock(), { type: 'admin.backup_codes_viewed', actorUserId: admin.id, subjectUserId: subject.id, orgId: subject.org_id, meta, details: { count: codes.length } });
    await this.notifier.notify(subject, { title: 'An administrator viewed your backup codes', lines: [['Administrator', admin.email]] }, meta);
    return codes;
  }

  /** A new set made by an admin follows the organisation's emailed-copy setting like one the person makes. */
  async regenerateBackupCodes(actor: Actor, userId: string, meta: RequestMeta): Promise<{ codes: string[]; email: BackupCodesEmail }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const { subject, codes } = await this.db.transaction().execute(async (trx) => {
      const subject = await this.subject(trx, admin, userId);
      if ((await factors.countHeldFactors(trx, subject.id)) === 0) {
        throw conflict('no_factor', 'This person has no two-step verification method, so backup codes would be a way around nothing.');
      }
      const codes = await this.backupCodeService.issueSet(trx, subject, 'regenerated', admin.id, meta);
      await recordAudit(trx, this.deps.clock(), { type: 'admin.backup_codes_regenerated', actorUserId: admin.id, subjectUserId: subject.id, orgId: subject.org_id, meta, details: { count: codes.length } });
      return { subject, codes };
    });
    await this.notifier.notify(subject, { title: 'An administrator made you new backup codes', lines: [['Administrator', admin.email], ['What happened', 'Your old backup codes no longer work.']] }, meta);
    return { codes, email: await this.backupCodeService.emailCopy(subject, codes, meta) };
  }

  /** The user, if the (already checked) admin administers their organisation; otherwise 404 as if they did not exist. */
  private async subject(db: Executor, admin: Principal, userId: string): Promise<User> {
    if (userId.length > 64) throw invalidInput('user_id_invalid', 'That is not a user id.');
    const subject = await users.findUser(db, userId);
    if (!subject || !(await isWithinTree(db, admin, subject.org_id))) throw notFound(NO_USER.code, NO_USER.message);
    return subject;
  }

  private async statusOf(user: Principal): Promise<UserTwoFactorStatus> {
    const active = await factors.listActiveFactors(this.db, user.id);
    const lastUsed = active.reduce<number | null>((max, f) => (f.last_used_at !== null && (max === null || f.last_used_at > max) ? f.last_used_at : max), null);
    return {
      id: user.id,
      orgId: user.org_id,
      email: user.email,
      displayName: user.display_name,
      status: user.status,
      methods: [...new Set(active.map((f) => f.type))],
      lastUsedAt: iso(lastUsed),
      backupCodesLeft: await backupCodes.countUnusedBackupCodes(this.db, user.id),
      mustEnrol: active.length === 0 && (await this.policy.requiresSecondFactor(user)),
    };
  }
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
