import type { Flow } from './flow.js';

/**
 * Step-up (re-authentication): before a sensitive action the person proves again, within the
 * window, what that action needs. Unlike a sign-in it is not stored: it is read off the
 * session's proof times each time, so there is nothing to replay and nothing to clean up.
 *
 * - `change_factors`: adding or removing a factor. A stolen cookie must not enrol the thief's
 *   authenticator and then use it to re-authenticate, so a person who holds a factor proves one
 *   of them; one who holds none proves the password (or a factor proven moments ago, when they
 *   just removed their last one).
 * - `admin`: admin areas want the password and, from an admin who holds a factor, a second
 *   factor as well.
 */
export type StepUpPurpose = 'change_factors' | 'admin';
export type MissingProof = 'password' | 'second_factor';
export type StepUpState = 'proof_required' | 'satisfied';

export interface SessionProofs {
  /** When the password was last proven in this session (sign-in or re-authentication), or null. */
  passwordAt: number | null;
  /** When a second factor was last proven in this session, or null. */
  secondFactorAt: number | null;
  holdsFactor: boolean;
}

export interface StepUpWindow {
  nowMs: number;
  windowMs: number;
}

export interface StepUpFlow extends Flow<'step_up', StepUpState> {
  readonly purpose: StepUpPurpose;
  /** What is still to be proven; empty once satisfied. */
  readonly missing: readonly MissingProof[];
}

export function provenWithin(at: number | null, w: StepUpWindow): boolean {
  return at !== null && w.nowMs - at <= w.windowMs;
}

/** What `purpose` still needs, in the order a form asks for it (password first). */
export function missingProofs(purpose: StepUpPurpose, proofs: SessionProofs, w: StepUpWindow): MissingProof[] {
  const password = provenWithin(proofs.passwordAt, w);
  const secondFactor = provenWithin(proofs.secondFactorAt, w);
  if (purpose === 'change_factors') {
    if (proofs.holdsFactor) return secondFactor ? [] : ['second_factor'];
    return password || secondFactor ? [] : ['password'];
  }
  const missing: MissingProof[] = [];
  if (!password) missing.push('password');
  if (proofs.holdsFactor && !secondFactor) missing.push('second_factor');
  return missing;
}

/** When a satisfied step-up lapses: the moment `missingProofs` would name something again. */
function lapsesAt(purpose: StepUpPurpose, proofs: SessionProofs, w: StepUpWindow): number {
  const at = (t: number | null) => (t === null ? -Infinity : t);
  const p = at(proofs.passwordAt);
  const f = at(proofs.secondFactorAt);
  if (purpose === 'change_factors') return (proofs.holdsFactor ? f : Math.max(p, f)) + w.windowMs;
  return (proofs.holdsFactor ? Math.min(p, f) : p) + w.windowMs;
}

/**
 * The step-up for `purpose` as it stands. Satisfied, it lasts until the proofs it rests on
 * leave the window; otherwise what is missing must be proven now (`expiresAt` is now).
 */
export function stepUpFlow(purpose: StepUpPurpose, proofs: SessionProofs, w: StepUpWindow, methods: readonly string[], returnTo: string | null): StepUpFlow {
  const missing = missingProofs(purpose, proofs, w);
  const amr = [...(provenWithin(proofs.passwordAt, w) ? ['pwd'] : []), ...(provenWithin(proofs.secondFactorAt, w) ? ['otp'] : [])];
  const satisfied = missing.length === 0;
  return {
    kind: 'step_up',
    purpose,
    state: satisfied ? 'satisfied' : 'proof_required',
    missing,
    methods: [...methods],
    amr,
    returnTo,
    expiresAt: satisfied ? lapsesAt(purpose, proofs, w) : w.nowMs,
  };
}

/** The proofs once a re-authentication at `nowMs` proved `given`. */
export function proveAgain(proofs: SessionProofs, given: { password: boolean; secondFactor: boolean }, nowMs: number): SessionProofs {
  return {
    ...proofs,
    passwordAt: given.password ? nowMs : proofs.passwordAt,
    secondFactorAt: given.secondFactor ? nowMs : proofs.secondFactorAt,
  };
}
