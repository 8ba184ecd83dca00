import { randomUUID } from 'node:crypto';
import QRCode from 'qrcode';
import { conflict, forbidden, gone, invalidInput, notFound } from '../core/errors.js';
import { formatSecretForDisplay, generateTotpSecret, totpKeyUri } from '../core/totp.js';
import type { Executor, Factor, Session, User } from '../store/index.js';
import { backupCodes, factors, trustedBrowsers } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import { totpSecretContext } from './secret-contexts.js';
import type { Actor } from './actor.js';
import type { BackupCodeService } from './backup-codes.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Notifier } from './messaging/notifier.js';
import type { SecondFactorPolicy } from './policy.js';
import type { SessionService } from './sessions.js';
import { TotpStrategy } from './second-factor/totp-strategy.js';
import { requireProofToChangeFactors } from './step-up.js';
import type { SecondFactorVerifier } from './second-factor/verifier.js';

export interface TotpEnrolment {
  id: string;
  label: string;
  secret: string;
  secretGroups: string;
  uri: string;
  qrSvg: string;
  expiresAt: string;
}

export interface FactorView {
  id: string;
  type: string;
  label: string;
  status: string;
  createdAt: string;
  confirmedAt: string | null;
  lastUsedAt: string | null;
  /** Text and email factors: where codes go, masked. */
  destination?: string;
}

export function toFactorView(f: Factor): FactorView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: f.id,
    type: f.type,
    label: f.label,
    status: f.status,
    createdAt: new Date(f.created_at).toISOString(),
    confirmedAt: iso(f.confirmed_at),
    lastUsedAt: iso(f.last_used_at),
    ...(f.destination_masked ? { destination: f.destination_masked } : {}),
  };
}

export interface EnrolmentResult {
  factor: FactorView;
  /** Only with the first factor (or when none were left): shown once. */
  backupCodes?: string[];
  /** Whether this was the person's first factor. */
  turnedOn: boolean;
  /** Whether it replaced another (a changed number or address). */
  replaced?: boolean;
}

const MAX_FACTORS = 10;

export class FactorService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly verifier: SecondFactorVerifier,
    private readonly backupCodeService: BackupCodeService,
    private readonly policy: SecondFactorPolicy,
    private readonly notifier: Notifier,
    private readonly sessions: SessionService,
  ) {}

  /**
   * Confirms a factor for a signed-in person. The code that switches it on proves it, so the
   * session counts as having proven a second factor now (adding a backup phone right after the
   * authenticator needs no extra step) and, as after any factor, its id rotates.
   */
  async confirmInSession<R extends object>(
    auth: { session: Session; amr: string[] },
    confirm: (onConfirmed: (trx: Executor) => Promise<void>) => Promise<R>,
  ): Promise<R & { sessionToken: string }> {
    let sessionToken: string | undefined;
    const result = await confirm(async (trx) => {
      sessionToken = await this.sessions.elevate(trx, auth.session, auth.amr, { password: false, secondFactor: true });
    });
    if (sessionToken === undefined) throw new Error('factor confirmed without rotating the session');
    return { ...result, sessionToken };
  }

  /**
   * Every factor added, changed or removed is told to the owner by email, with a link to the
   * security page: if it was not them, they learn at once. Told after the change has committed,
   * so a slow mail server never holds a transaction open.
   */
  async announceAdded(user: User, result: { factor: FactorView; turnedOn: boolean; replaced?: boolean }, meta: RequestMeta): Promise<void> {
    const title = result.turnedOn ? 'Two-factor authentication is on' : result.replaced ? 'A sign-in method was changed' : 'A sign-in method was added';
    const lines: Array<readonly [string, string]> = [['Method', result.factor.label]];
    if (result.factor.destination) lines.push(['Codes go to', result.factor.destination]);
    await this.notifier.notify(user, { title, lines: [...lines, ['Not you?', 'Open your security page now, remove the method and change your password.']] }, meta);
  }

  private get db() {
    return this.deps.database.db;
  }

  async startTotpEnrolment(actor: Actor, label: string | undefined, meta: RequestMeta): Promise<TotpEnrolment> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    const name = (label ?? '').trim() || 'Authenticator app';
    if (name.length > 64) throw invalidInput('label_invalid', 'A label is at most 64 characters.');
    const now = this.deps.clock();
    await factors.deleteExpiredPendingFactors(this.db, user.id, now);
    // Expired pending rows were just deleted, so this counts active plus in-progress enrolments.
    const existing = await factors.countLiveFactors(this.db, user.id);
    if (existing >= MAX_FACTORS) throw conflict('too_many_factors', `A user can hold at most ${MAX_FACTORS} factors, counting unfinished enrolments.`);
    const id = randomUUID();
    const secret = generateTotpSecret();
    const expiresAt = now + this.deps.settings.enrolmentMs;
    await this.db.transaction().execute(async (trx) => {
      await factors.insertFactor(trx, {
        id,
        user_id: user.id,
        type: 'totp',
        label: name,
        secret_encrypted: this.deps.box.encrypt(secret, totpSecretContext(id)),
        status: 'pending',
        created_at: now,
        expires_at: expiresAt,
        confirmed_at: null,
        last_used_at: null,
      });
      await recordAudit(trx, now, { type: 'factor.enrolment_started', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { factorId: id, type: 'totp' } });
    });
    const uri = totpKeyUri({ issuer: this.deps.settings.companyName, account: user.email, secret });
    const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
    return { id, label: name, secret, secretGroups: formatSecretForDisplay(secret), uri, qrSvg, expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Switches an authenticator on after a valid current code, through the same verifier as
   * sign-in (so the code is once-only and counts toward lockout). The first factor also
   * creates the backup codes, returned here once.
   */
  async confirmTotp(
    user: User,
    factorId: string,
    code: string,
    meta: RequestMeta,
    /** Runs in the same transaction once the factor is on (forced enrolment completes its sign-in here). */
    onConfirmed?: (trx: Executor) => Promise<void>,
  ): Promise<EnrolmentResult> {
    const now = this.deps.clock();
    const pending = await factors.findFactor(this.db, user.id, factorId);
    if (!pending || pending.type !== 'totp') throw notFound('factor_not_found', 'No such factor.');
    if (pending.status === 'active') throw conflict('factor_already_confirmed', 'This authenticator is already switched on.');
    if ((pending.expires_at ?? 0) <= now) throw gone('enrolment_expired', 'This enrolment has expired. Start again.');

    const strategy = new TotpStrategy(this.deps, factorId);
    const result = await this.verifier.verifyWith(strategy, user, code, meta, 'enrolment', (trx, proof) => this.finishEnrolment(trx, user, pending, proof.details, meta, onConfirmed));
    await this.announceAdded(user, result, meta);
    return result;
  }

  /**
   * Switches a pending factor on inside the transaction that spent its confirmation code. A
   * factor that replaces another (a changed phone number) removes the old one here, so there is
   * never a moment with both or neither. The first factor also creates the backup codes.
   */
  async finishEnrolment(
    trx: Executor,
    user: User,
    pending: Factor,
    proofDetails: Record<string, unknown>,
    meta: RequestMeta,
    onConfirmed?: (trx: Executor) => Promise<void>,
  ): Promise<EnrolmentResult> {
    const replaced = pending.replaces_factor_id ? await factors.findFactor(trx, user.id, pending.replaces_factor_id) : undefined;
    const hadFactor = (await factors.countActiveFactors(trx, user.id)) > 0;
    if (!(await factors.activateFactor(trx, pending.id, this.deps.clock()))) {
      throw gone('enrolment_expired', 'This enrolment has expired. Start again.');
    }
    if (replaced) await factors.deleteFactor(trx, user.id, replaced.id);
    await recordAudit(trx, this.deps.clock(), {
      type: 'factor.confirmed',
      actorUserId: user.id,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { factorId: pending.id, type: pending.type, ...(pending.destination_masked ? { destination: pending.destination_masked } : {}), ...(replaced ? { replacedFactorId: replaced.id, replacedDestination: replaced.destination_masked } : {}), ...proofDetails },
    });
    if (onConfirmed) await onConfirmed(trx);
    const active = await factors.findFactor(trx, user.id, pending.id);
    const view = toFactorView(active ?? pending);
    const wasReplaced = replaced !== undefined;
    if (hadFactor && (await backupCodes.countUnusedBackupCodes(trx, user.id)) > 0) return { factor: view, turnedOn: false, replaced: wasReplaced };
    const codes = await this.backupCodeService.issueSet(trx, user, 'generated', user.id, meta);
    return { factor: view, backupCodes: codes, turnedOn: !hadFactor, replaced: wasReplaced };
  }

  async list(userId: string): Promise<FactorView[]> {
    return (await factors.listActiveFactors(this.db, userId)).map(toFactorView);
  }

  /** Removing a factor needs the same fresh proof as adding one (see step-up.ts). */
  async remove(actor: Actor, factorId: string, meta: RequestMeta): Promise<void> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    const removed = await this.db.transaction().execute(async (trx) => {
      const factor = await factors.findFactor(trx, user.id, factorId);
      if (!factor) throw notFound('factor_not_found', 'No such factor.');
      const active = await factors.countActiveFactors(trx, user.id);
      const isLast = factor.status === 'active' && active <= 1;
      if (isLast && (await this.policy.requiresSecondFactor(user, trx))) {
        throw forbidden('factor_required_by_policy', 'Your organisation requires two-factor authentication, so you cannot remove your last factor. Add another first.');
      }
      const now = this.deps.clock();
      await factors.deleteFactor(trx, user.id, factorId);
      let revokedBrowsers = 0;
      if (isLast) {
        // With no factor left, backup codes and trusted browsers would be orphans that still open doors.
        await backupCodes.deleteBackupCodes(trx, user.id);
        revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, user.id, now);
      }
      await recordAudit(trx, now, {
        type: 'factor.removed',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { factorId, type: factor.type, label: factor.label, lastFactor: isLast, revokedBrowsers },
      });
      return { isLast, label: factor.label };
    });
    const lines: Array<readonly [string, string]> = [['Method', removed.label]];
    if (removed.isLast) lines.push(['What happened', 'You removed your last sign-in method; a password alone now signs you in.']);
    lines.push(['Not you?', 'Open your security page now, add your own method again and change your password.']);
    await this.notifier.notify(user, { title: removed.isLast ? 'Two-factor authentication is off' : 'A sign-in method was removed', lines }, meta);
  }
}
