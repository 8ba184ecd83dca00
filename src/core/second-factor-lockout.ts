/**
 * Per-account brute-force protection for 6-digit second-factor codes.
 *
 * Policy: the first FREE_FAILURES unforgiven failures cost nothing (people mistype). The
 * failure that reaches FREE_FAILURES locks the account's second factor for 1 minute, and every
 * further failure doubles the lock: failure n (n ≥ 5) locks for 2^(n−5) minutes.
 *
 * What forgives a failure. Time passing never does (an attacker could wait out the counter and
 * start over), and neither does the owner's success alone: if every correct sign-in reset the
 * count, an attacker who knows the password would get 5 fresh guesses each time the owner signs
 * in. A success forgives only itself and the failures made from the same device (device cookie,
 * or address and browser) in the 24 hours before it: the owner's own typos. An attacker's
 * failures come from the attacker's device and stay counted whatever the owner does; an admin
 * reset is the other way out. A replay of a code that was already spent (two tabs submitting
 * one code, a double click) is not a guess of a new code and is given back too.
 *
 * Why this is enough. With a ±w step window, 2w+1 of the 10^6 possible codes are accepted at
 * any moment, so each guess succeeds with p = (2w+1)·10^-6. Keeping an attacker's one-year
 * success chance below 1 in 10,000 needs guesses · p < 10^-4. An attacker guessing as fast as
 * allowed gets 5 guesses at t = 0, then guess 5+k at t = 1 + 2 + … + 2^(k−1) = 2^k − 1
 * minutes. One year is 525,600 minutes and 2^19 − 1 = 524,287 ≤ 525,600 < 2^20 − 1, so
 * k ≤ 19: 5 + 19 = 24 guesses per year.
 *     w = 0:  24 · 1·10^-6 = 2.4·10^-5 < 10^-4
 *     w = 1:  24 · 3·10^-6 = 7.2·10^-5 < 10^-4
 *     w = 2:  24 · 5·10^-6 = 1.2·10^-4 > 10^-4   ⇒ not allowed: MAX_TOTP_WINDOW = 1.
 * `maxGuessesWithin` reproduces the count by simulation, and a unit test checks the bound for
 * every window the configuration accepts. Delivered codes (text, email) are one code of 10^6
 * at a time and share the same counter, so the bound covers them too.
 *
 * The lock stops growing at 2^MAX_LOCK_EXPONENT minutes (~2 years) so the timestamp stays a
 * finite, storable number; that is far beyond the one-year horizon above and only admits one
 * extra guess per ~2 years afterwards.
 */

export interface LockoutState {
  /** Failures not yet forgiven (see above); the lock grows with them. */
  failures: number;
  lockedUntilMs: number | null;
}

export const FREE_FAILURES = 5;
/** The widest TOTP drift window (in 30 s steps either side) for which the yearly bound holds. */
export const MAX_TOTP_WINDOW = 1;
/** How far back a success looks for failures from its own device to forgive. */
export const SAME_DEVICE_FORGIVENESS_MS = 24 * 60 * 60_000;

const BASE_LOCK_MS = 60_000;
const MAX_LOCK_EXPONENT = 20;

export function checkLockout(state: LockoutState, nowMs: number): { allowed: true } | { allowed: false; retryAfterMs: number } {
  if (state.lockedUntilMs !== null && nowMs < state.lockedUntilMs) {
    return { allowed: false, retryAfterMs: state.lockedUntilMs - nowMs };
  }
  return { allowed: true };
}

export function lockDurationMs(failures: number): number {
  if (failures < FREE_FAILURES) return 0;
  const exponent = Math.min(failures - FREE_FAILURES, MAX_LOCK_EXPONENT);
  return BASE_LOCK_MS * 2 ** exponent;
}

export function recordFailure(state: LockoutState, nowMs: number): LockoutState {
  const failures = state.failures + 1;
  const lockMs = lockDurationMs(failures);
  return {
    failures,
    // Never shorten an existing lock, e.g. when two failures race.
    lockedUntilMs: lockMs === 0 ? state.lockedUntilMs : Math.max(nowMs + lockMs, state.lockedUntilMs ?? -Infinity),
  };
}

/**
 * Forgives `count` failures (a success's own reservation and its device's recent typos, or a
 * replay). The lock goes only once the failures left are within the free ones: a lock earned by
 * someone else's failures stays.
 */
export function forgive(state: LockoutState, count: number): LockoutState {
  const failures = Math.max(0, state.failures - count);
  return { failures, lockedUntilMs: failures < FREE_FAILURES ? null : state.lockedUntilMs };
}

export const CLEAN_STATE: LockoutState = Object.freeze({ failures: 0, lockedUntilMs: null });

/**
 * Upper bound on guesses an attacker gets in `periodMs` starting from a clean state: guess
 * whenever allowed, fail every time, wait exactly as long as told. `ownerSuccesses` are the
 * times (ms) at which the owner signs in from their own device in between; they forgive only
 * the owner's own attempt, so they do not change the bound (a unit test shows it).
 */
export function maxGuessesWithin(periodMs: number, ownerSuccesses: readonly number[] = []): number {
  let state: LockoutState = CLEAN_STATE;
  let now = 0;
  let guesses = 0;
  const pending = [...ownerSuccesses].sort((a, b) => a - b);
  for (;;) {
    const check = checkLockout(state, now);
    if (!check.allowed) now += check.retryAfterMs;
    while (pending.length > 0 && (pending[0] ?? Infinity) <= now) {
      pending.shift();
      // The owner's attempt is reserved like any other, then forgiven with no device failures.
      if (checkLockout(state, now).allowed) state = forgive(recordFailure(state, now), 1);
    }
    if (now >= periodMs) return guesses;
    guesses++;
    state = recordFailure(state, now);
  }
}

/** The chance that `guesses` guesses at a code accepted in a ±window steps window find one. */
export function guessSuccessProbability(guesses: number, window: number): number {
  return guesses * ((2 * window + 1) / 1_000_000);
}

/**
 * What a person should be told about the lock after their attempts so far: locked (and for how
 * long), or how many more wrong codes they may type before the next lock and how long that lock
 * will be. Before the first lock the free failures count down (5, 4, … 1); once past them every
 * wrong code locks again, for twice as long as the last.
 */
export type LockoutOutlook = { locked: true; retryAfterMs: number } | { locked: false; triesBeforeLock: number; nextLockMs: number };

export function lockoutOutlook(state: LockoutState, nowMs: number): LockoutOutlook {
  const gate = checkLockout(state, nowMs);
  if (!gate.allowed) return { locked: true, retryAfterMs: gate.retryAfterMs };
  const triesBeforeLock = Math.max(1, FREE_FAILURES - state.failures);
  return { locked: false, triesBeforeLock, nextLockMs: lockDurationMs(state.failures + triesBeforeLock) };
}
