import { APPROVAL_USE_WINDOW_MS } from '../../core/approval.js';
import type { Executor } from '../../store/index.js';
import { approvals } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';
import type { Principal } from '../principal.js';
import type { SecondFactorStrategy, VerificationResult, VerifyOptions } from './strategy.js';

/**
 * A phone's approval as a second factor. The "code" is the approval request's id; it counts
 * only when the phone approved it (signature and number checked in services/approvals), it is
 * bound to this strategy's `binding` (one sign-in flow, one session's step-up, one deployment
 * and digest), it is fresh, and it has not been spent: spending is a conditional update, so
 * across nodes one approval unlocks one thing once, in the transaction of what it unlocks.
 */
export class PushStrategy implements SecondFactorStrategy {
  readonly method = 'push' as const;
  /** RFC 8176 `swk`: proof of possession of a software-secured key (the phone's device key). */
  readonly amr = ['swk'] as const;
  /** An approval is not a guessable code, and a lock from guessed codes should not block the owner's phone. */
  readonly gatedByLockout = false;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly binding: string,
  ) {}

  async verify(db: Executor, user: Principal, requestId: string, options: VerifyOptions = {}): Promise<VerificationResult> {
    const now = this.deps.clock();
    const request = await approvals.findRequest(db, requestId);
    if (!request || request.user_id !== user.id || request.binding !== this.binding) return { ok: false, failureCode: 'code_invalid' };
    const device = await approvals.findDevice(db, request.device_id);
    // A phone paired moments ago does not confirm a sensitive action while an older method exists.
    if (!device || device.removed_at !== null || (options.confirmedBefore !== undefined && device.created_at > options.confirmedBefore)) return { ok: false, failureCode: 'code_invalid' };
    const details = { approverId: device.id, approver: device.name, requestId };
    if (request.used_at !== null) return { ok: false, failureCode: 'code_already_used', details };
    if (!(await approvals.spendApproval(db, requestId, user.id, this.binding, now - APPROVAL_USE_WINDOW_MS, now))) {
      const again = await approvals.findRequest(db, requestId);
      return { ok: false, failureCode: again?.used_at != null ? 'code_already_used' : request.state === 'approved' ? 'code_expired' : 'code_invalid', details };
    }
    return { ok: true, details };
  }
}
