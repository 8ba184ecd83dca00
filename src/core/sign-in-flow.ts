import { gone, invalidInput, unauthenticated } from './errors.js';

/**
 * A sign-in is a flow object, as in Ory Kratos: after the password it has a state, an
 * expiry and the methods still allowed. Each second-factor method is a strategy that the
 * flow accepts while it is in `second_factor_required`.
 */
export type SignInFlowState = 'second_factor_required' | 'enrolment_required' | 'completed';

export const SECOND_FACTOR_METHODS = ['totp', 'sms', 'email', 'backup_code'] as const;
export type SecondFactorMethod = (typeof SECOND_FACTOR_METHODS)[number];

export interface SignInFlowSnapshot {
  state: SignInFlowState;
  expiresAt: number;
  methods: readonly string[];
}

export function isSecondFactorMethod(value: string): value is SecondFactorMethod {
  return (SECOND_FACTOR_METHODS as readonly string[]).includes(value);
}

/**
 * Methods offered to a user: one per kind of active factor that may be used now (a text or
 * email factor whose channel the organisation switched off is held but not offered), plus
 * backup codes if any remain.
 */
export function offeredMethods(factorTypes: readonly string[], unusedBackupCodes: number, usable: (method: string) => boolean = () => true): SecondFactorMethod[] {
  const methods: SecondFactorMethod[] = [];
  for (const method of ['totp', 'sms', 'email'] as const) {
    if (factorTypes.includes(method) && usable(method)) methods.push(method);
  }
  if (unusedBackupCodes > 0) methods.push('backup_code');
  return methods;
}

/** Throws the reason a flow cannot take this step (in `state`, with `method`) now; returns quietly if it can. */
export function assertFlowAccepts(flow: SignInFlowSnapshot | undefined, state: SignInFlowState, method: string, nowMs: number): void {
  if (!flow) throw unauthenticated('challenge_invalid', 'This sign-in has ended or was never started. Sign in again.');
  if (flow.expiresAt <= nowMs) throw gone('challenge_expired', 'This sign-in took too long and has expired. Sign in again.');
  if (flow.state !== state) {
    throw unauthenticated('challenge_invalid', 'This sign-in has ended or was never started. Sign in again.');
  }
  if (!flow.methods.includes(method)) {
    throw invalidInput('method_not_allowed', `The method "${method}" is not available for this sign-in.`);
  }
}
