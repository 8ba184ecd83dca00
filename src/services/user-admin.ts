import { conflict, forbidden, invalidInput, notFound } from '../core/errors.js';
import type { Executor, User } from '../store/index.js';
import { backupCodes, factors, organisations, sessions, trustedBrowsers, users } from '../store/index.js';
import type { AccountService } from './accounts.js';
import { recordAudit } from './audit-log.js';
import type { BackupCodeService } from './backup-codes.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Notifier } from './messaging/notifier.js';
import type { PolicyService } from './policy.js';
import type { Actor } from './actor.js';
import { requireSudoAdmin } from './step-up.js';
import { isWithinTree, requireInTree } from './tenancy.js';

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
    const orgIds = await organisations.subtreeIds(this.db, rootId);
    const out: UserTwoFactorStatus[] = [];
    // The cursor is the last user examined, not the last returned, so users skipped by the
    // "no 2FA" filter are not read again on the next page.
    let after = q.after;
    for (let round = 0; round < 20; round++) {
      const page = await users.listUsers(this.db, { orgIds, query: q.query, limit, afterEmail: after });
      for (const [index, user] of page.entries()) {
        after = user.email_normalized;
        const status = await this.statusOf(user);
        if (!q.withoutTwoFactor || status.methods.length === 0) out.push(status);
        if (out.length === limit) {
          const mayHaveMore = index < page.length - 1 || page.length === limit;
          return { users: out, next: mayHaveMore ? after : null };
        }
      }
      if (page.length < limit) return { users: out, next: null };
    }
    // Many pages without enough matches: hand back what there is and where to go on.
    return { users: out, next: after ?? null };
  }

  async get(actor: Actor, userId: string): Promise<UserTwoFactorStatus & { factors: Array<{ id: string; type: string; label: string; destination: string | null; lastUsedAt: string | null }> }> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const subject = await this.subject(this.db, admin, userId);
    const active = await factors.listActiveFactors(this.db, subject.id);
    return {
      ...(await this.statusOf(subject)),
      factors: active.map((f) => ({ id: f.id, type: f.type, label: f.label, destination: f.destination_masked, lastUsedAt: iso(f.last_used_at) })),
    };
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
      await backupCodes.deleteBackupCodes(trx, subject.id);
      const revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, subject.id, now);
      const endedSessions = await sessions.revokeUserSessions(trx, subject.id, now);
      // The lost-phone case starts over: old wrong codes must not lock the authenticator enrolled next.
      await users.resetSecondFactorLockout(trx, subject.id);
      await recordAudit(trx, now, {
        type: 'admin.factors_reset',
        actorUserId: admin.id,
        subjectUserId: subject.id,
        orgId: subject.org_id,
        meta,
        details: { factors: removed.map((f) => ({ id: f.id, type: f.type, label: f.label })), revokedBrowsers, endedSessions },
      });
      return { subject, removedFactors: removed.filter((f) => f.status === 'active').length };
    });
    await this.notifier.notify(result.subject, {
      title: 'Your two-factor methods were reset by an administrator',
      lines: [
        ['Administrator', admin.email],
        ['What happened', 'All your sign-in methods, backup codes and trusted browsers were removed. Set up a new method at your next sign-in.'],
      ],
    }, meta);
    return { removedFactors: result.removedFactors };
  }

  async setDisabled(actor: Actor, userId: string, disabled: boolean, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const subject = await this.subject(this.db, admin, userId);
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

  async regenerateBackupCodes(actor: Actor, userId: string, meta: RequestMeta): Promise<string[]> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const { subject, codes } = await this.db.transaction().execute(async (trx) => {
      const subject = await this.subject(trx, admin, userId);
      if ((await factors.countActiveFactors(trx, subject.id)) === 0) {
        throw conflict('no_factor', 'This user has no two-factor method, so backup codes would be a way around nothing.');
      }
      const codes = await this.backupCodeService.issueSet(trx, subject, 'regenerated', admin.id, meta);
      await recordAudit(trx, this.deps.clock(), { type: 'admin.backup_codes_regenerated', actorUserId: admin.id, subjectUserId: subject.id, orgId: subject.org_id, meta, details: { count: codes.length } });
      return { subject, codes };
    });
    await this.notifier.notify(subject, { title: 'An administrator made you new backup codes', lines: [['Administrator', admin.email], ['What happened', 'Your old backup codes no longer work.']] }, meta);
    return codes;
  }

  /** The user, if the (already checked) admin administers their organisation; otherwise 404 as if they did not exist. */
  private async subject(db: Executor, admin: User, userId: string): Promise<User> {
    if (userId.length > 64) throw invalidInput('user_id_invalid', 'That is not a user id.');
    const subject = await users.findUser(db, userId);
    if (!subject || !(await isWithinTree(db, admin, subject.org_id))) throw notFound(NO_USER.code, NO_USER.message);
    return subject;
  }

  private async statusOf(user: User): Promise<UserTwoFactorStatus> {
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
