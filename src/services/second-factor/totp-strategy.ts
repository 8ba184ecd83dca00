import { matchTotpCode } from '../../core/totp.js';
import type { Executor, Factor } from '../../store/index.js';
import { factors, users } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';
import { totpSecretContext } from '../secret-contexts.js';
import type { SecondFactorStrategy, VerificationResult, VerifyOptions } from './strategy.js';
import type { Principal } from '../principal.js';

/**
 * Checks a code against the user's active authenticators or, while enrolling, against the
 * one pending authenticator being confirmed. Either way the time step is claimed per user.
 */
export class TotpStrategy implements SecondFactorStrategy {
  readonly method = 'totp' as const;
  readonly amr = ['otp'] as const;
  readonly gatedByLockout: boolean;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly pendingFactorId?: string,
  ) {
    // Confirming an enrolment proves nothing an attacker could want, so it only has the
    // per-account and per-IP limits; a user fumbling setup should not lock their sign-in.
    this.gatedByLockout = pendingFactorId === undefined;
  }

  async verify(db: Executor, user: Principal, code: string, options: VerifyOptions = {}): Promise<VerificationResult> {
    const now = this.deps.clock();
    const cutoff = options.confirmedBefore;
    const active = (await this.candidates(db, user.id)).filter((f) => cutoff === undefined || (f.confirmed_at ?? 0) <= cutoff);
    // Try every authenticator the user holds before deciding, so timing does not say which matched.
    let matched: { factorId: string; step: number } | null = null;
    for (const factor of active) {
      const secret = this.deps.box.decrypt(factor.secret_encrypted, totpSecretContext(factor.id));
      const step = matchTotpCode({ secret, code, nowMs: now, window: this.deps.settings.totpWindow });
      if (step !== null && matched === null) matched = { factorId: factor.id, step };
    }
    if (!matched) return { ok: false, failureCode: 'code_invalid' };
    if (!(await users.claimTotpStep(db, user.id, matched.step))) {
      return { ok: false, failureCode: 'code_already_used', details: { factorId: matched.factorId } };
    }
    await factors.markFactorUsed(db, matched.factorId, now);
    return { ok: true, details: { factorId: matched.factorId } };
  }

  private async candidates(db: Executor, userId: string): Promise<Factor[]> {
    if (this.pendingFactorId === undefined) return (await factors.listActiveFactors(db, userId)).filter((f) => f.type === 'totp');
    const pending = await factors.findFactor(db, userId, this.pendingFactorId);
    return pending && pending.type === 'totp' ? [pending] : [];
  }
}
