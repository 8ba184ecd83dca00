import type { LockoutState } from '../../core/second-factor-lockout.js';
import { checkLockout, forgive, lockoutOutlook, recordFailure } from '../../core/second-factor-lockout.js';
import { rateLimited } from '../../core/errors.js';
import type { Executor } from '../../store/index.js';
import { users } from '../../store/index.js';
import type { Principal } from '../principal.js';

const MAX_SWAP_ATTEMPTS = 20;

/**
 * Counts an attempt against the account before the code is checked, as if it will fail.
 * Counting first is what makes the limit hold under concurrency: fifty parallel guesses
 * cannot all slip through on the same "4 failures so far". A success then forgives its own
 * reservation and its device's recent failures (`forgiveSecondFactorFailures`).
 * Returns the new failure count, or throws `second_factor_locked` while the account is locked.
 */
export async function reserveSecondFactorAttempt(db: Executor, userId: string, nowMs: number): Promise<{ failures: number; lockedUntil: number | null }> {
  const next = await swapLockout(db, userId, (state) => {
    const gate = checkLockout(state, nowMs);
    if (!gate.allowed) throw lockedError(gate.retryAfterMs);
    return recordFailure(state, nowMs);
  });
  return { failures: next.failures, lockedUntil: next.lockedUntilMs };
}

/** Gives back `count` failures by the core rule (`forgive`), with the same compare-and-set. */
export async function forgiveSecondFactorFailures(db: Executor, userId: string, count: number): Promise<void> {
  if (count <= 0) return;
  await swapLockout(db, userId, (state) => forgive(state, count));
}

/**
 * Read, apply a rule of core/second-factor-lockout.ts, and write back only if nobody changed
 * the count meanwhile; retried on contention. The rule is pure, so the arithmetic lives in one place.
 */
async function swapLockout(db: Executor, userId: string, rule: (state: LockoutState) => LockoutState): Promise<LockoutState> {
  for (let i = 0; i < MAX_SWAP_ATTEMPTS; i++) {
    const user = await users.findUser(db, userId);
    if (!user) throw new Error('user vanished during second factor');
    const state = { failures: user.second_factor_failures, lockedUntilMs: user.second_factor_locked_until };
    const next = rule(state);
    if (await users.swapSecondFactorLockout(db, userId, state.failures, { failures: next.failures, lockedUntil: next.lockedUntilMs })) return next;
  }
  // Heavy contention on one account is itself a sign of an attack: refuse rather than spin.
  throw lockedError(1000);
}

export function lockoutRetryAfterMs(user: Principal, nowMs: number): number {
  const gate = checkLockout({ failures: user.second_factor_failures, lockedUntilMs: user.second_factor_locked_until }, nowMs);
  return gate.allowed ? 0 : gate.retryAfterMs;
}

function lockedError(retryAfterMs: number) {
  return rateLimited(
    'second_factor_locked',
    'Too many wrong codes. Wait before trying again, or use a backup code.',
    Math.max(1, Math.ceil(retryAfterMs / 1000)),
  );
}

/** A lock's length in words: "1 minute", "16 minutes", "about 4 hours", "about 3 days". */
export function lockLengthInWords(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  if (minutes < 60) return minutes === 1 ? '1 minute' : `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return hours === 1 ? 'about 1 hour' : `about ${hours} hours`;
  return `about ${Math.round(hours / 24)} days`;
}

/**
 * The sentence added to "That code is not correct." after a counted failure, so a lock never
 * comes as a surprise: how many tries are left before it (once only a few are), or that it has
 * begun and for how long. `state` is the lockout after this failure was counted.
 */
export function wrongCodeWarning(state: LockoutState, nowMs: number): string | null {
  const outlook = lockoutOutlook(state, nowMs);
  if (outlook.locked) return `Too many wrong codes: codes are locked for ${lockLengthInWords(outlook.retryAfterMs)}. Wait, or use a backup code.`;
  if (outlook.triesBeforeLock > 3) return null; // a typo or two needs no warning
  const lock = lockLengthInWords(outlook.nextLockMs);
  return outlook.triesBeforeLock === 1 ? `One more wrong code locks codes for ${lock}.` : `${outlook.triesBeforeLock} more wrong codes lock codes for ${lock}.`;
}
