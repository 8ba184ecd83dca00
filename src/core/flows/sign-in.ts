import { gone, invalidInput, unauthenticated } from '../errors.js';
import type { Flow } from './flow.js';
import { isExpired, mergeAmr } from './flow.js';

/**
 * A sign-in after its password step. In `second_factor_required` it accepts one of the offered
 * second-factor methods; in `enrolment_required` (policy requires 2FA and the person has no
 * factor) it accepts the enrolment of one of the methods the organisation allows, and the
 * confirmed factor completes it. Either way the session is issued only when the flow reaches
 * `completed`, in the same transaction as the proof that completed it.
 */
export type SignInFlowState = 'second_factor_required' | 'enrolment_required' | 'completed';

export const SECOND_FACTOR_METHODS = ['totp', 'sms', 'email', 'backup_code', 'webauthn', 'push'] as const;
export type SecondFactorMethod = (typeof SECOND_FACTOR_METHODS)[number];

export interface SignInFlow extends Flow<'sign_in', SignInFlowState> {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: number;
}

/** Forced enrolment is a sign-in flow in `enrolment_required`. */
export type EnrolmentFlow = SignInFlow & { readonly state: 'enrolment_required' };
/** A sign-in flow that still waits for its second step (code or enrolment). */
export type PendingSignInState = Exclude<SignInFlowState, 'completed'>;

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
  for (const method of ['webauthn', 'totp', 'sms', 'email', 'push'] as const) {
    if (factorTypes.includes(method) && usable(method)) methods.push(method);
  }
  if (unusedBackupCodes > 0) methods.push('backup_code');
  return methods;
}

/** The offered methods with the person's default first (the second step opens on it); the rest keep their order. */
export function withDefaultFirst<M extends string>(methods: readonly M[], preferred: string | null | undefined): M[] {
  const first = methods.filter((m) => m === preferred);
  return [...first, ...methods.filter((m) => m !== preferred)];
}

/** Held factors with the person's chosen default first, so the step sends to it (and shows it) before the others. */
export function defaultFactorFirst<F extends { id: string }>(held: readonly F[], defaultId: string | null): F[] {
  return [...held.filter((f) => f.id === defaultId), ...held.filter((f) => f.id !== defaultId)];
}

/** A flow just past its first step (`pwd`, or a passkey's `hwk`/`swk`) proven, waiting in `state` for one of `methods`. */
export function startSignInFlow(input: {
  id: string;
  userId: string;
  state: PendingSignInState;
  methods: readonly string[];
  nowMs: number;
  lifetimeMs: number;
  returnTo: string | null;
  /** What the first step proved: a password (the default), or a passkey that did not verify the person. */
  amr?: readonly string[];
}): SignInFlow {
  return {
    kind: 'sign_in',
    id: input.id,
    userId: input.userId,
    state: input.state,
    methods: [...input.methods],
    amr: [...(input.amr ?? ['pwd'])],
    returnTo: input.returnTo,
    createdAt: input.nowMs,
    expiresAt: input.nowMs + input.lifetimeMs,
  };
}

const ENDED = 'This sign-in has ended or was never started. Sign in again.';

/**
 * The flow, if it is open in `state` now; throws why not. Anything but "expired" is one answer
 * (never started, another step, already completed), so a probe learns nothing from it.
 */
export function openIn(flow: SignInFlow | undefined, state: PendingSignInState, nowMs: number): SignInFlow {
  if (!flow) throw unauthenticated('challenge_invalid', ENDED);
  if (isExpired(flow, nowMs)) throw gone('challenge_expired', 'This sign-in took too long and has expired. Sign in again.');
  if (flow.state !== state) throw unauthenticated('challenge_invalid', ENDED);
  return flow;
}

/** The flow, if it is open in `state` and takes `method` now; throws the reason it cannot. */
export function accepts(flow: SignInFlow | undefined, state: PendingSignInState, method: string, nowMs: number): SignInFlow {
  const open = openIn(flow, state, nowMs);
  if (!open.methods.includes(method)) throw invalidInput('method_not_allowed', `The method "${method}" is not available for this sign-in.`);
  return open;
}

/** The flow once `proven` (a second factor's amr) completed it; the caller saves it with a compare-and-set on the state. */
export function complete(flow: SignInFlow, proven: readonly string[]): SignInFlow {
  if (flow.state === 'completed') throw unauthenticated('challenge_invalid', 'This sign-in has already been completed.');
  return { ...flow, state: 'completed', methods: [], amr: mergeAmr(flow.amr, proven) };
}
