/**
 * Per-account brute-force protection for 6-digit second-factor codes.
 *
 * Policy: the first FREE_FAILURES consecutive failures cost nothing (people
 * mistype). The failure that reaches FREE_FAILURES locks the account's second
 * factor for 1 minute, and every further failure doubles the lock:
 * failure n (n ≥ 5) locks for 2^(n−5) minutes. Time passing never resets the
 * count — only a successful verification or an admin reset does — otherwise
 * an attacker could simply wait out the counter and start over.
 *
 * Why this is enough. With a ±1 step window, 3 of the 10^6 possible codes are
 * accepted at any moment, so each guess succeeds with p = 3·10^-6. Keeping an
 * attacker's one-year success chance below 1 in 10,000 needs
 *     guesses · 3·10^-6 < 10^-4   ⇒   guesses < 33.3.
 * An attacker guessing as fast as allowed gets 5 guesses at t = 0, then guess
 * 5+k at t = 1 + 2 + … + 2^(k−1) = 2^k − 1 minutes. One year is 525,600
 * minutes and 2^19 − 1 = 524,287 ≤ 525,600 < 2^20 − 1, so k ≤ 19:
 *     5 + 19 = 24 guesses per year   ⇒   24 · 3·10^-6 = 7.2·10^-5 < 10^-4.
 * `maxGuessesWithin` reproduces this by simulation and a unit test asserts it.
 *
 * The lock stops growing at 2^MAX_LOCK_EXPONENT minutes (~2 years) so the
 * timestamp stays a finite, storable number; that is far beyond the one-year
 * horizon above and only admits one extra guess per ~2 years afterwards.
 */

export interface LockoutState {
  consecutiveFailures: number;
  lockedUntilMs: number | null;
}

export const FREE_FAILURES = 5;

const BASE_LOCK_MS = 60_000;
const MAX_LOCK_EXPONENT = 20;

export function checkLockout(
  state: LockoutState,
  nowMs: number,
): { allowed: true } | { allowed: false; retryAfterMs: number } {
  if (state.lockedUntilMs !== null && nowMs < state.lockedUntilMs) {
    return { allowed: false, retryAfterMs: state.lockedUntilMs - nowMs };
  }
  return { allowed: true };
}

export function lockDurationMs(consecutiveFailures: number): number {
  if (consecutiveFailures < FREE_FAILURES) return 0;
  const exponent = Math.min(consecutiveFailures - FREE_FAILURES, MAX_LOCK_EXPONENT);
  return BASE_LOCK_MS * 2 ** exponent;
}

export function recordFailure(state: LockoutState, nowMs: number): LockoutState {
  const consecutiveFailures = state.consecutiveFailures + 1;
  const lockMs = lockDurationMs(consecutiveFailures);
  return {
    consecutiveFailures,
    // Never shorten an existing lock, e.g. when two failures race.
    lockedUntilMs:
      lockMs === 0 ? state.lockedUntilMs : Math.max(nowMs + lockMs, state.lockedUntilMs ?? -Infinity),
  };
}

export function recordSuccess(): LockoutState {
  return { consecutiveFailures: 0, lockedUntilMs: null };
}

/**
 * Upper bound on guesses an attacker gets in `periodMs` starting from a clean
 * state: guess whenever allowed, fail every time, wait exactly as long as told.
 */
export function maxGuessesWithin(periodMs: number): number {
  let state = recordSuccess();
  let now = 0;
  let guesses = 0;
  for (;;) {
    const check = checkLockout(state, now);
    if (!check.allowed) now += check.retryAfterMs;
    if (now >= periodMs) return guesses;
    guesses++;
    state = recordFailure(state, now);
  }
}
