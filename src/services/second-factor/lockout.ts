import { checkLockout, recordFailure } from '../../core/second-factor-lockout.js';
import { rateLimited } from '../../core/errors.js';
import type { Executor, User } from '../../store/index.js';
import { users } from '../../store/index.js';

const MAX_SWAP_ATTEMPTS = 20;

/**
 * Counts an attempt against the account before the code is checked, as if it will fail.
 * Counting first is what makes the limit hold under concurrency: fifty parallel guesses
 * cannot all slip through on the same "4 failures so far". A success then forgives its own
 * reservation and its device's recent failures (`forgiveSecondFactorFailures`).
 * Returns the new failure count, or throws `second_factor_locked` while the account is locked.
 */
export async function reserveSecondFactorAttempt(db: Executor, userId: string, nowMs: number): Promise<{ failures: number; lockedUntil: number | null }> {
  for (let i = 0; i < MAX_SWAP_ATTEMPTS; i++) {
    const user = await users.findUser(db, userId);
    if (!user) throw new Error('user vanished during second factor');
    const state = { failures: user.second_factor_failures, lockedUntilMs: user.second_factor_locked_until };
    const gate = checkLockout(state, nowMs);
    if (!gate.allowed) throw lockedError(gate.retryAfterMs);
    const next = recordFailure(state, nowMs);
    const swapped = await users.swapSecondFactorLockout(db, userId, state.failures, {
      failures: next.failures,
      lockedUntil: next.lockedUntilMs,
    });
    if (swapped) return { failures: next.failures, lockedUntil: next.lockedUntilMs };
  }
  // Heavy contention on one account is itself a sign of an attack: refuse rather than spin.
  throw lockedError(1000);
}

export function lockoutRetryAfterMs(user: User, nowMs: number): number {
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
