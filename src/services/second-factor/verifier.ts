import { SAME_DEVICE_FORGIVENESS_MS } from '../../core/second-factor-lockout.js';
import { sha256 } from '../../core/crypto.js';
import { invalidInput, unauthenticated } from '../../core/errors.js';
import type { SecondFactorMethod } from '../../core/flows/sign-in.js';
import type { Executor } from '../../store/index.js';
import { factors, rateLimits } from '../../store/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { CodeSender } from '../messaging/code-sender.js';
import type { AttemptLimiter, LimitedKey } from '../rate-limiter.js';
import { BACKUP_CODE_PER_ACCOUNT, SECOND_FACTOR_PER_IP } from '../rate-limiter.js';
import type { CodeBinding } from './delivered-code-strategy.js';
import { DeliveredCodeStrategy } from './delivered-code-strategy.js';
import { forgiveSecondFactorFailures, lockLengthInWords, reserveSecondFactorAttempt, wrongCodeWarning } from './lockout.js';
import type { Notifier } from '../messaging/notifier.js';
import type { SecondFactorStrategy, VerifyOptions, WebAuthnFailure } from './strategy.js';
import { isWebAuthnFailure } from './strategy.js';
import type { Principal } from '../principal.js';

export interface SecondFactorProof {
  method: SecondFactorMethod;
  amr: readonly string[];
  details: Record<string, unknown>;
}

/**
 * A factor added this recently cannot confirm a sensitive action (re-authentication, a deploy)
 * while an older one exists: whoever added it from a stolen session cannot turn it straight
 * into the proof that unlocks everything else.
 */
export const NEW_FACTOR_SETTLING_MS = 10 * 60_000;
const SETTLING_PURPOSES: ReadonlySet<string> = new Set(['reauthentication', 'deploy']);

/**
 * What a person is told. A replay of a spent code reads exactly like a wrong code: "already
 * used" would tell a guesser their guess was right. The audit keeps the true reason.
 */
const FAILURE_MESSAGES = {
  code_invalid: 'That code is not correct.',
  code_expired: 'That code has expired or was replaced by a newer one. Ask for a new code.',
} as const;

/** A security key's refusals are told as they are: an assertion cannot be guessed, and the reason helps the owner. */
export const WEBAUTHN_MESSAGES: Record<WebAuthnFailure, string> = {
  webauthn_assertion_invalid: 'Your security key could not be verified. Try again.',
  webauthn_credential_unknown: 'That security key or passkey is not one of yours here. Use another method or key.',
  webauthn_origin_mismatch: 'This security key answer was made for another website. Sign in only at this address.',
  webauthn_rp_id_mismatch: 'This security key answer was made for another website. Sign in only at this address.',
  webauthn_challenge_invalid: 'This security key request has ended or was replaced by a newer one. Try again.',
  webauthn_challenge_expired: 'This security key request took too long and has expired. Try again.',
  webauthn_challenge_used: 'This security key answer was already used. Try again.',
  webauthn_counter_regressed: 'This security key looks like a copy of another and was refused. Use another method and tell your administrator.',
};

/**
 * The single place a second-factor code is judged: per-IP limit, per-account lockout, the
 * method's strategy, and the audit trail. Every limit is reserved before the code is looked
 * at; `onSuccess` runs in the same transaction as the code being spent, so if what the proof
 * unlocks cannot be written, the code stays unspent.
 *
 * The factors that hold their own secret (authenticators, backup codes) are fixed at start-up.
 * Text and email codes are not: each was issued for one purpose and scope, so their strategy is
 * built per call from the caller's `CodeBinding` (a session's re-authentication, one deploy).
 */
export class SecondFactorVerifier {
  private readonly strategies: Map<string, SecondFactorStrategy>;

  constructor(
    private readonly deps: ServiceDeps,
    strategies: SecondFactorStrategy[],
    private readonly limiter: AttemptLimiter,
    private readonly codes: CodeSender,
    /** Tells the owner when their codes lock (someone who knows the password is guessing). */
    private readonly notifier?: Notifier,
  ) {
    this.strategies = new Map(strategies.filter((s) => !isDeliveredMethod(s.method)).map((s) => [s.method, s]));
  }

  /**
   * `codes` says which delivered codes count here; without it a text or email code is refused
   * (`method_not_allowed`), never checked against some other purpose's codes.
   */
  async verify<T>(
    user: Principal,
    method: string,
    code: string,
    meta: RequestMeta,
    purpose: string,
    onSuccess: (trx: Executor, proof: SecondFactorProof) => Promise<T>,
    codes?: CodeBinding,
  ): Promise<T> {
    return this.verifyWith(this.strategyFor(method, codes), user, code, meta, purpose, onSuccess);
  }

  private strategyFor(method: string, codes: CodeBinding | undefined): SecondFactorStrategy {
    if (method === 'sms' || method === 'email') {
      if (codes) return new DeliveredCodeStrategy(this.deps, this.codes, method, codes(method));
    } else {
      const strategy = this.strategies.get(method);
      if (strategy) return strategy;
    }
    throw invalidInput('method_not_allowed', `The method "${method}" is not available.`);
  }

  async verifyWith<T>(
    strategy: SecondFactorStrategy,
    user: Principal,
    code: string,
    meta: RequestMeta,
    purpose: string,
    onSuccess: (trx: Executor, proof: SecondFactorProof) => Promise<T>,
  ): Promise<T> {
    const method = strategy.method;
    const db = this.deps.database.db;
    // Methods outside the lockout (backup codes, enrolment) still get a per-account limit.
    const limits: LimitedKey[] = [[`2fa:ip:${meta.ip}`, SECOND_FACTOR_PER_IP]];
    if (!strategy.gatedByLockout) limits.push([`${purpose}:${method}:acct:${user.id}`, BACKUP_CODE_PER_ACCOUNT]);
    const slots = await this.limiter.reserve(limits, 'too_many_attempts', 'Too many attempts from here. Wait a while and try again.');

    let reservation: { failures: number; lockedUntil: number | null } | null = null;
    if (strategy.gatedByLockout) {
      try {
        reservation = await reserveSecondFactorAttempt(db, user.id, this.deps.clock());
      } catch (locked) {
        await slots.release(); // a locked account judged nothing
        throw locked;
      }
    }
    const deviceKey = sameDeviceKey(user.id, meta);
    const options = await this.verifyOptions(user, purpose);

    const outcome = await db.transaction().execute(async (trx) => {
      const result = await strategy.verify(trx, user, code, options);
      if (!result.ok) return { ok: false as const, failureCode: result.failureCode ?? 'code_invalid', details: result.details ?? {} };
      // A success gives back its own reservation and the failures of its own device: the
      // owner's typos. Failures from anywhere else stay counted (core/second-factor-lockout.ts).
      const ownTypos = await rateLimits.takeCounter(trx, deviceKey, this.deps.clock());
      await forgiveSecondFactorFailures(trx, user.id, (reservation ? 1 : 0) + ownTypos);
      await slots.release(trx);
      if (isDeliveredMethod(method)) {
        await recordAudit(trx, this.deps.clock(), { type: 'code.verified', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { channel: method, purpose, ...result.details } });
      }
      const proof: SecondFactorProof = { method: strategy.method, amr: result.amr ?? strategy.amr, details: result.details ?? {} };
      return { ok: true as const, value: await onSuccess(trx, proof) };
    });
    if (outcome.ok) return outcome.value;

    // A spent code carried twice (two tabs, a double click, parallel requests) is not a guess
    // of a new code: it is given back, so one correct code sent in parallel cannot lock its owner.
    const replay = outcome.failureCode === 'code_already_used' || outcome.failureCode === 'webauthn_challenge_used';
    await db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      if (replay) {
        await slots.release(trx);
        if (reservation) await forgiveSecondFactorFailures(trx, user.id, 1);
      } else if (reservation) {
        await rateLimits.hitCounter(trx, deviceKey, SAME_DEVICE_FORGIVENESS_MS, now);
      }
      const base = { actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta };
      await recordAudit(trx, now, {
        ...base,
        // A typo while adding a method is an enrolment event of its own, not a failed sign-in step.
        type: purpose === 'enrolment' ? 'factor.enrolment_failed' : 'second_factor.failed',
        details: { method, purpose, reason: outcome.failureCode, failures: replay ? null : (reservation?.failures ?? null), ...(isWebAuthnFailure(outcome.failureCode) ? outcome.details : {}) },
      });
      if (isDeliveredMethod(method)) await recordAudit(trx, now, { ...base, type: 'code.failed', details: { channel: method, purpose, reason: outcome.failureCode } });
      // A counter that went backwards means two copies of one key exist: worth its own record.
      if (outcome.failureCode === 'webauthn_counter_regressed') await recordAudit(trx, now, { ...base, type: 'webauthn.counter_regressed', details: { purpose, ...outcome.details } });
      if (!replay && reservation?.lockedUntil && reservation.lockedUntil > now) {
        await recordAudit(trx, now, { ...base, type: 'second_factor.locked_out', details: { until: new Date(reservation.lockedUntil).toISOString(), failures: reservation.failures } });
      }
    });
    const now = this.deps.clock();
    const lockedNow = !replay && reservation?.lockedUntil != null && reservation.lockedUntil > now;
    if (lockedNow && reservation?.lockedUntil != null) await this.tellOwnerOfLock(user, purpose, reservation.failures, reservation.lockedUntil - now, meta);
    if (isWebAuthnFailure(outcome.failureCode)) throw unauthenticated(outcome.failureCode, WEBAUTHN_MESSAGES[outcome.failureCode]);
    const shown = outcome.failureCode === 'code_expired' ? 'code_expired' : 'code_invalid';
    // How many tries are left, or that the lock began. A replay is told as if it counted: a
    // different answer would tell a guesser that their code was right once.
    const warning = reservation ? wrongCodeWarning({ failures: reservation.failures, lockedUntilMs: reservation.lockedUntil }, now) : null;
    throw unauthenticated(shown, warning ? `${FAILURE_MESSAGES[shown]} ${warning}` : FAILURE_MESSAGES[shown]);
  }

  /** The owner's email when a lock begins: after the password, only someone who knows it can type codes at sign-in. */
  private async tellOwnerOfLock(user: Principal, purpose: string, failures: number, lockMs: number, meta: RequestMeta): Promise<void> {
    if (!this.notifier) return;
    const atSignIn = purpose === 'sign_in';
    await this.notifier.notify(
      user,
      {
        title: 'Your sign-in codes are locked',
        lines: [
          ['What happened', `${failures} wrong codes were entered${atSignIn ? ' after your password was accepted' : ''}. Codes are locked for ${lockLengthInWords(lockMs)}.`],
          ...(atSignIn ? ([['What it means', 'Someone has your password. If it was not you, change your password now.']] as const) : []),
        ],
        link: atSignIn ? { path: '/account', label: 'Change your password' } : { path: '/account/security', label: 'Review your account security' },
        advice: atSignIn ? "If this wasn't you, change your password now: the codes kept them out, but they know your password." : undefined,
      },
      meta,
    );
  }

  /** Sensitive purposes skip factors still settling, unless the person holds no older one. */
  private async verifyOptions(user: Principal, purpose: string): Promise<VerifyOptions> {
    if (!SETTLING_PURPOSES.has(purpose)) return {};
    const settledBefore = this.deps.clock() - NEW_FACTOR_SETTLING_MS;
    const active = await factors.listActiveFactors(this.deps.database.db, user.id);
    const hasSettled = active.some((f) => (f.confirmed_at ?? 0) <= settledBefore);
    return hasSettled ? { confirmedBefore: settledBefore } : {};
  }
}

/** The device an attempt came from: its device cookie, or else its address and browser. */
function sameDeviceKey(userId: string, meta: RequestMeta): string {
  const device = meta.deviceToken ? `cookie:${meta.deviceToken}` : `ip:${meta.ip}|ua:${meta.userAgent}`;
  return `2fa:dev:${userId}:${sha256(device)}`;
}

function isDeliveredMethod(method: string): boolean {
  return method === 'sms' || method === 'email';
}
