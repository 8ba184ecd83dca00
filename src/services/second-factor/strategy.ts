import type { SecondFactorMethod } from '../../core/sign-in-flow.js';
import type { Executor, User } from '../../store/index.js';

export interface VerificationResult {
  ok: boolean;
  /** Machine-readable reason for a refusal, surfaced to the user as an error code. */
  failureCode?: 'code_invalid' | 'code_already_used' | 'code_expired';
  /** Extra facts for the audit record (which factor matched, codes left). */
  details?: Record<string, unknown>;
}

export interface VerifyOptions {
  /** Only factors confirmed at or before this time may match (a sensitive action, see the verifier). */
  confirmedBefore?: number;
}

/**
 * One second-factor method. Sign-in, re-authentication and deploy approval all call the
 * same strategies, so a code is judged by one set of rules wherever it is typed.
 */
export interface SecondFactorStrategy {
  readonly method: SecondFactorMethod;
  /** RFC 8176 method references this proof adds to a session. */
  readonly amr: readonly string[];
  /** Whether the per-account lockout gates this method (backup codes are the way out of it). */
  readonly gatedByLockout: boolean;
  verify(db: Executor, user: User, code: string, options?: VerifyOptions): Promise<VerificationResult>;
}
