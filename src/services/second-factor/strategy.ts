import type { SecondFactorMethod } from '../../core/flows/sign-in.js';
import type { Executor } from '../../store/index.js';
import type { Principal } from '../principal.js';

export interface VerificationResult {
  ok: boolean;
  /** Machine-readable reason for a refusal, surfaced to the user as an error code. */
  failureCode?: 'code_invalid' | 'code_already_used' | 'code_expired' | WebAuthnFailure;
  /** RFC 8176 references this proof adds, when they depend on the proof (a security key: hwk or swk, user); else the strategy's. */
  amr?: readonly string[];
  /** Extra facts for the audit record (which factor matched, codes left). */
  details?: Record<string, unknown>;
}

/** Why an assertion was refused: each is a stable error code (an assertion cannot be guessed, so the reason may be told). */
export const WEBAUTHN_FAILURES = [
  'webauthn_assertion_invalid',
  'webauthn_credential_unknown',
  'webauthn_origin_mismatch',
  'webauthn_rp_id_mismatch',
  'webauthn_challenge_invalid',
  'webauthn_challenge_expired',
  'webauthn_challenge_used',
  'webauthn_counter_regressed',
] as const;
export type WebAuthnFailure = (typeof WEBAUTHN_FAILURES)[number];

export function isWebAuthnFailure(code: string): code is WebAuthnFailure {
  return (WEBAUTHN_FAILURES as readonly string[]).includes(code);
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
  verify(db: Executor, user: Principal, code: string, options?: VerifyOptions): Promise<VerificationResult>;
}
