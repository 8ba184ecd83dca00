import { randomUUID } from 'node:crypto';
import { conflict, forbidden, gone, invalidInput, notFound } from '../core/errors.js';
import { qrSvgOf } from '../core/qr-code.js';
import { formatSecretForDisplay, generateTotpSecret, totpKeyUri } from '../core/totp.js';
import type { Executor, Factor } from '../store/index.js';
import { backupCodes, defaultMethods, factors, trustedBrowsers, users } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import { totpSecretContext } from './secret-contexts.js';
import type { Actor } from './actor.js';
import { personOf } from './actor.js';
import type { BackupCodeService, BackupCodesEmail } from './backup-codes.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { companyNameFor } from './branding.js';
import type { Notifier } from './messaging/notifier.js';
import type { SecondFactorPolicy } from './policy.js';
import type { SessionService } from './sessions.js';
import { TotpStrategy } from './second-factor/totp-strategy.js';
import { requireProofToChangeFactors } from './step-up.js';
import type { SecondFactorVerifier } from './second-factor/verifier.js';
import type { Principal, SessionPrincipal } from './principal.js';

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
  /** In the person's list: whether they chose it as the method their second step opens on. */
  default?: boolean;
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
  /** With backupCodes: what became of the emailed copy the organisation may ask for. */
  backupCodesEmail?: BackupCodesEmail;
  /** Whether this was the person's first factor. */
  turnedOn: boolean;
  /** Whether it replaced another (a changed number or address). */
  replaced?: boolean;
}

export const MAX_FACTORS = 10;

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
    auth: { session: SessionPrincipal; amr: string[] },
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
  /** After the enrolment committed: tells the person, and emails the new backup codes when their organisation asks for it. */
  async announceAdded(user: Principal, result: EnrolmentResult, meta: RequestMeta): Promise<EnrolmentResult> {
    const title = result.turnedOn ? 'Two-step verification is on' : result.replaced ? 'A sign-in method was changed' : 'A sign-in method was added';
    const lines: Array<readonly [string, string]> = [['Method', result.factor.label]];
    if (result.factor.destination) lines.push(['Codes go to', result.factor.destination]);
    await this.notifier.notify(user, { title, lines: [...lines, ['Not you?', 'Open your security page now, remove the method and change your password.']] }, meta);
    return result.backupCodes ? { ...result, backupCodesEmail: await this.backupCodeService.emailCopy(user, result.backupCodes, meta) } : result;
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
    if (existing >= MAX_FACTORS) throw conflict('too_many_factors', `You can have at most ${MAX_FACTORS} sign-in methods, counting ones not yet confirmed.`);
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
    return this.enrolmentView(user, { id, label: name, secret, expiresAt });
  }

  /**
   * The enrolment still waiting for its first code, as it was first shown: same key, same QR
   * code. A wrong code shows this again, so the entry already in the person's app stays good
   * (starting over would make a new key and leave that entry stale). Only the owner's own
   * pending, unexpired authenticator is shown; anything else is "not found".
   */
  async pendingTotpEnrolment(user: Principal, factorId: string): Promise<TotpEnrolment> {
    const pending = await factors.findFactor(this.db, user.id, factorId);
    if (!pending || pending.type !== 'totp' || pending.status !== 'pending' || !pending.secret_encrypted) throw notFound('factor_not_found', 'No such sign-in method.');
    if ((pending.expires_at ?? 0) <= this.deps.clock()) throw gone('enrolment_expired', 'This enrolment has expired. Start again.');
    const secret = this.deps.box.decrypt(pending.secret_encrypted, totpSecretContext(pending.id));
    return this.enrolmentView(user, { id: pending.id, label: pending.label, secret, expiresAt: pending.expires_at ?? 0 });
  }

  private async enrolmentView(user: Principal, e: { id: string; label: string; secret: string; expiresAt: number }): Promise<TotpEnrolment> {
    // The issuer is the company name the person's organisation shows (see branding.ts).
    const uri = totpKeyUri({ issuer: await companyNameFor(this.deps, user.org_id), account: user.email, secret: e.secret });
    const qrSvg = await qrSvgOf(uri);
    return { id: e.id, label: e.label, secret: e.secret, secretGroups: formatSecretForDisplay(e.secret), uri, qrSvg, expiresAt: new Date(e.expiresAt).toISOString() };
  }

  /**
   * Switches an authenticator on after a valid current code, through the same verifier as
   * sign-in (so the code is once-only and counts toward lockout). The first factor also
   * creates the backup codes, returned here once.
   */
  async confirmTotp(
    user: Principal,
    factorId: string,
    code: string,
    meta: RequestMeta,
    /** Runs in the same transaction once the factor is on (forced enrolment completes its sign-in here). */
    onConfirmed?: (trx: Executor) => Promise<void>,
  ): Promise<EnrolmentResult> {
    const now = this.deps.clock();
    const pending = await factors.findFactor(this.db, user.id, factorId);
    if (!pending || pending.type !== 'totp') throw notFound('factor_not_found', 'No such sign-in method.');
    if (pending.status === 'active') throw conflict('factor_already_confirmed', 'This authenticator is already switched on.');
    if ((pending.expires_at ?? 0) <= now) throw gone('enrolment_expired', 'This enrolment has expired. Start again.');

    const strategy = new TotpStrategy(this.deps, factorId);
    const result = await this.verifier.verifyWith(strategy, user, code, meta, 'enrolment', (trx, proof) => this.finishEnrolment(trx, user, pending, proof.details, meta, onConfirmed));
    return this.announceAdded(user, result, meta);
  }

  /**
   * Switches a pending factor on inside the transaction that spent its confirmation code. A
   * factor that replaces another (a changed phone number) removes the old one here, so there is
   * never a moment with both or neither. The first factor also creates the backup codes.
   */
  async finishEnrolment(
    trx: Executor,
    user: Principal,
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
    await users.setSetUpAgain(trx, user.id, null); // a method again: an administrator's reset is answered
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

  /**
   * After an administrator reset this person's methods, the next sign-in asks them to set one up
   * again: when that was (ms), or null when nothing is asked (they hold a method, or skipped).
   */
  async setUpAgainSince(userId: string): Promise<number | null> {
    const user = await users.findUser(this.db, userId);
    if (!user || user.set_up_again_since === null || user.set_up_again_since === undefined) return null;
    return (await factors.countActiveFactors(this.db, userId)) > 0 ? null : Number(user.set_up_again_since);
  }

  /** The person chose to go on without a method (only offered where policy allows it): stop asking. */
  async skipSetUpAgain(actor: Actor, meta: RequestMeta): Promise<void> {
    const user = personOf(actor);
    if (await this.policy.requiresSecondFactor(user)) throw forbidden('factor_required_by_policy', 'Your organisation requires two-step verification: set up a method to continue.');
    await this.db.transaction().execute(async (trx) => {
      await users.setSetUpAgain(trx, user.id, null);
      await recordAudit(trx, this.deps.clock(), { type: 'factor.set_up_again_skipped', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: {} });
    });
  }

  async list(userId: string): Promise<FactorView[]> {
    const [held, chosen] = await Promise.all([factors.listActiveFactors(this.db, userId), defaultMethods.findDefaultFactorId(this.db, userId)]);
    return held.map((f) => ({ ...toFactorView(f), default: f.id === chosen }));
  }

  /** A new name for one of the person's methods. No fresh proof: a name changes no way in (the audit keeps the old one). */
  async rename(actor: Actor, factorId: string, name: string, meta: RequestMeta): Promise<FactorView> {
    const user = personOf(actor);
    const label = name.trim();
    if (label.length === 0 || label.length > 64) throw invalidInput('label_invalid', 'A name is 1 to 64 characters.');
    return this.db.transaction().execute(async (trx) => {
      const factor = await factors.findFactor(trx, user.id, factorId);
      if (!factor || factor.status !== 'active' || !(await factors.renameFactor(trx, user.id, factorId, label))) throw notFound('factor_not_found', 'No such sign-in method.');
      await recordAudit(trx, this.deps.clock(), {
        type: 'factor.renamed',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { factorId, type: factor.type, from: factor.label, to: label },
      });
      return toFactorView({ ...factor, label });
    });
  }

  /**
   * The person picks the method their second step opens on (a text or email one then sends its
   * code by itself). No fresh proof is asked: it changes no way in, only which one is shown first,
   * so a stolen session gains nothing by it; the sends it can cause stay rate limited.
   */
  async chooseDefault(actor: Actor, factorId: string, meta: RequestMeta): Promise<FactorView[]> {
    const user = personOf(actor);
    await this.db.transaction().execute(async (trx) => {
      const factor = await factors.findFactor(trx, user.id, factorId);
      if (!factor || factor.status !== 'active') throw notFound('factor_not_found', 'No such sign-in method.');
      const now = this.deps.clock();
      await defaultMethods.setDefaultFactor(trx, { user_id: user.id, factor_id: factor.id, updated_at: now });
      await recordAudit(trx, now, { type: 'factor.default_chosen', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { factorId: factor.id, type: factor.type, label: factor.label } });
    });
    return this.list(user.id);
  }

  /** Removing a factor needs the same fresh proof as adding one (see step-up.ts). */
  async remove(actor: Actor, factorId: string, meta: RequestMeta): Promise<void> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    const removed = await this.db.transaction().execute(async (trx) => {
      const factor = await factors.findFactor(trx, user.id, factorId);
      if (!factor) throw notFound('factor_not_found', 'No such sign-in method.');
      // A paired phone is a method too: with one left, this factor is not the last.
      const active = await factors.countHeldFactors(trx, user.id);
      const isLast = factor.status === 'active' && active <= 1;
      if (isLast && (await this.policy.requiresSecondFactor(user, trx))) {
        throw forbidden('factor_required_by_policy', 'Your organisation requires two-step verification, so you cannot remove your last method. Add another first.');
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
    await this.notifier.notify(user, { title: removed.isLast ? 'Two-step verification is off' : 'A sign-in method was removed', lines }, meta);
  }
}
