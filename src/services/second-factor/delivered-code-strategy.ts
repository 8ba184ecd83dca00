import { constantTimeEqual } from '../../core/crypto.js';
import { MAX_ATTEMPTS_PER_CODE, normaliseNumericCode } from '../../core/one-time-code.js';
import type { Channel } from '../../delivery/index.js';
import type { Executor, OneTimeCodePurpose } from '../../store/index.js';
import { factors, oneTimeCodes } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';
import type { CodeSender } from '../messaging/code-sender.js';
import type { SecondFactorStrategy, VerificationResult, VerifyOptions } from './strategy.js';
import type { Principal } from '../principal.js';

/** RFC 8176: `sms` for a text message; email has no value of its own, so it is a one-time code. */
const AMR: Record<Channel, readonly string[]> = { sms: ['sms'], email: ['otp'] };

export interface CodeScopeRef {
  purpose: OneTimeCodePurpose;
  scope: string;
}

/** Scopes name the channel, so a text and an email code asked for in one sign-in do not void each other. */
export function signInCodeScope(flowId: string, channel: Channel): CodeScopeRef {
  return { purpose: 'sign_in', scope: `flow:${flowId}:${channel}` };
}

export function enrolmentCodeScope(factorId: string): CodeScopeRef {
  return { purpose: 'enrolment', scope: `factor:${factorId}` };
}

/** Bound to the session that asked: the session id stays when its token rotates, so the code outlives no session. */
export function reauthCodeScope(sessionId: string, channel: Channel): CodeScopeRef {
  return { purpose: 'reauthentication', scope: `session:${sessionId}:${channel}` };
}

/** Bound to one target and the exact bundle reviewed: a code for digest A approves nothing else. */
export function deployCodeScope(targetId: string, digest: string, channel: Channel): CodeScopeRef {
  return { purpose: 'deploy', scope: `target:${targetId}:digest:${digest}:${channel}` };
}

/**
 * Which delivered codes a verification accepts: the purpose and scope, per channel. A verifier
 * asked to check a text or email code without one refuses the method rather than guess.
 */
export type CodeBinding = (channel: Channel) => CodeScopeRef;

/**
 * A code sent by text message or email, checked against the live codes of one purpose and scope
 * (a sign-in flow, an enrolment, a session's re-authentication, a deploy of one bundle): the
 * lookup's WHERE names both, so a code issued for one purpose never matches another, on any
 * node. Spending is a compare-and-set, so a code works once even when two requests carry it at
 * the same moment.
 */
export class DeliveredCodeStrategy implements SecondFactorStrategy {
  readonly method: Channel;
  readonly amr: readonly string[];
  readonly gatedByLockout: boolean;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly codes: CodeSender,
    channel: Channel,
    private readonly ref: CodeScopeRef,
  ) {
    this.method = channel;
    this.amr = AMR[channel];
    // As with authenticators, confirming an enrolment is not a sign-in and must not lock one.
    this.gatedByLockout = ref.purpose !== 'enrolment';
  }

  async verify(db: Executor, user: Principal, code: string, options: VerifyOptions = {}): Promise<VerificationResult> {
    const now = this.deps.clock();
    const where = { userId: user.id, ...this.ref };
    const live = await this.settled(db, user.id, await oneTimeCodes.liveCodes(db, where, now), options.confirmedBefore);
    if (live.length === 0) return { ok: false, failureCode: 'code_expired' };
    const normalised = normaliseNumericCode(code);
    // Compare against every live code so the time taken does not say which one (if any) matched.
    let match: (typeof live)[number] | undefined;
    for (const candidate of live) {
      const equal = constantTimeEqual(candidate.code_hash, this.codes.hashCode(candidate.id, normalised ?? '------'));
      if (equal && normalised !== null && match === undefined) match = candidate;
    }
    if (!match) {
      await oneTimeCodes.countWrongAttempt(db, where, MAX_ATTEMPTS_PER_CODE);
      return { ok: false, failureCode: 'code_invalid' };
    }
    if (!(await oneTimeCodes.spendCode(db, match.id, now))) return { ok: false, failureCode: 'code_already_used' };
    await factors.markFactorUsed(db, match.factor_id, now);
    return { ok: true, details: { factorId: match.factor_id, channel: this.method } };
  }

  /** Codes sent to a factor confirmed after the cutoff do not count (a factor still settling). */
  private async settled<C extends { factor_id: string }>(db: Executor, userId: string, live: C[], cutoff: number | undefined): Promise<C[]> {
    if (cutoff === undefined || live.length === 0) return live;
    const settledIds = new Set((await factors.listActiveFactors(db, userId)).filter((f) => (f.confirmed_at ?? 0) <= cutoff).map((f) => f.id));
    return live.filter((c) => settledIds.has(c.factor_id));
  }
}
