import { invalidInput, unauthenticated } from '../../core/errors.js';
import type { SecondFactorMethod } from '../../core/sign-in-flow.js';
import type { Executor, User } from '../../store/index.js';
import { users } from '../../store/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { FailureLimiter } from '../rate-limiter.js';
import { BACKUP_CODE_PER_ACCOUNT, SECOND_FACTOR_PER_IP } from '../rate-limiter.js';
import { reserveSecondFactorAttempt } from './lockout.js';
import type { SecondFactorStrategy } from './strategy.js';

export interface SecondFactorProof {
  method: SecondFactorMethod;
  amr: readonly string[];
  details: Record<string, unknown>;
}

const FAILURE_MESSAGES = {
  code_invalid: 'That code is not correct.',
  code_already_used: 'That code has already been used. Wait for your app to show the next one.',
  code_expired: 'That code has expired or was replaced by a newer one. Ask for a new code.',
} as const;

/**
 * The single place a second-factor code is judged: per-IP limit, per-account lockout,
 * the method's strategy, and the audit trail. `onSuccess` runs in the same transaction as
 * the code being spent, so if what the proof unlocks cannot be written, the code stays unspent.
 */
export class SecondFactorVerifier {
  private readonly strategies: Map<string, SecondFactorStrategy>;

  constructor(
    private readonly deps: ServiceDeps,
    strategies: SecondFactorStrategy[],
    private readonly limiter: FailureLimiter,
  ) {
    this.strategies = new Map(strategies.map((s) => [s.method, s]));
  }

  async verify<T>(
    user: User,
    method: string,
    code: string,
    meta: RequestMeta,
    purpose: string,
    onSuccess: (trx: Executor, proof: SecondFactorProof) => Promise<T>,
  ): Promise<T> {
    const strategy = this.strategies.get(method);
    if (!strategy) throw invalidInput('method_not_allowed', `The method "${method}" is not available.`);
    return this.verifyWith(strategy, user, code, meta, purpose, onSuccess);
  }

  async verifyWith<T>(
    strategy: SecondFactorStrategy,
    user: User,
    code: string,
    meta: RequestMeta,
    purpose: string,
    onSuccess: (trx: Executor, proof: SecondFactorProof) => Promise<T>,
  ): Promise<T> {
    const method = strategy.method;
    const ipKey = `2fa:ip:${meta.ip}`;
    // Methods outside the lockout (backup codes, enrolment) still get a per-account limit.
    const accountKey = `${purpose}:${method}:acct:${user.id}`;
    const limits: Array<readonly [string, typeof SECOND_FACTOR_PER_IP]> = [[ipKey, SECOND_FACTOR_PER_IP]];
    if (!strategy.gatedByLockout) limits.push([accountKey, BACKUP_CODE_PER_ACCOUNT]);
    await this.limiter.assertAllowed(limits, 'too_many_attempts', 'Too many attempts from here. Wait a while and try again.');

    const db = this.deps.database.db;
    const reservation = strategy.gatedByLockout ? await reserveSecondFactorAttempt(db, user.id, this.deps.clock()) : null;

    const outcome = await db.transaction().execute(async (trx) => {
      const result = await strategy.verify(trx, user, code);
      if (!result.ok) return { ok: false as const, failureCode: result.failureCode ?? 'code_invalid', details: result.details ?? {} };
      // Any proven factor, backup codes included, clears the lockout for the legitimate user.
      await users.resetSecondFactorLockout(trx, user.id);
      if (isDeliveredMethod(method)) {
        await recordAudit(trx, this.deps.clock(), { type: 'code.verified', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { channel: method, purpose, ...result.details } });
      }
      const proof: SecondFactorProof = { method: strategy.method, amr: strategy.amr, details: result.details ?? {} };
      return { ok: true as const, value: await onSuccess(trx, proof) };
    });
    if (outcome.ok) return outcome.value;

    await db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      await this.limiter.recordFailure(ipKey, SECOND_FACTOR_PER_IP, trx);
      if (!strategy.gatedByLockout) await this.limiter.recordFailure(accountKey, BACKUP_CODE_PER_ACCOUNT, trx);
      const base = { actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta };
      await recordAudit(trx, now, {
        ...base,
        type: 'second_factor.failed',
        details: { method, purpose, reason: outcome.failureCode, consecutiveFailures: reservation?.failures ?? null },
      });
      if (isDeliveredMethod(method)) await recordAudit(trx, now, { ...base, type: 'code.failed', details: { channel: method, purpose, reason: outcome.failureCode } });
      if (reservation?.lockedUntil && reservation.lockedUntil > now) {
        await recordAudit(trx, now, { ...base, type: 'second_factor.locked_out', details: { until: new Date(reservation.lockedUntil).toISOString(), failures: reservation.failures } });
      }
    });
    throw unauthenticated(outcome.failureCode, FAILURE_MESSAGES[outcome.failureCode]);
  }
}

function isDeliveredMethod(method: string): boolean {
  return method === 'sms' || method === 'email';
}
