import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LockoutState } from '../../src/core/second-factor-lockout.js';
import {
  CLEAN_STATE,
  FREE_FAILURES,
  MAX_TOTP_WINDOW,
  checkLockout,
  forgive,
  guessSuccessProbability,
  maxGuessesWithin,
  recordFailure,
} from '../../src/core/second-factor-lockout.js';
import { loadConfig } from '../../src/config.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const YEAR = 365 * DAY;

function retryAfter(state: LockoutState, now: number): number {
  const r = checkLockout(state, now);
  return r.allowed ? 0 : r.retryAfterMs;
}

test('first five failures are free; the sixth attempt waits one minute, then doubling', () => {
  assert.equal(FREE_FAILURES, 5);
  let now = Date.UTC(2026, 0, 1);
  let state = CLEAN_STATE;
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(checkLockout(state, now), { allowed: true }, `attempt ${i + 1}`);
    state = recordFailure(state, now);
  }
  assert.equal(state.failures, 5);
  assert.deepEqual(checkLockout(state, now), { allowed: false, retryAfterMs: MINUTE });
  assert.equal(retryAfter(state, now + 45_000), 15_000);

  for (const minutes of [2, 4, 8, 16, 32]) {
    now += retryAfter(state, now);
    assert.deepEqual(checkLockout(state, now), { allowed: true });
    state = recordFailure(state, now);
    assert.equal(retryAfter(state, now), minutes * MINUTE);
    assert.equal(retryAfter(state, now - 1 + minutes * MINUTE), 1);
    assert.deepEqual(checkLockout(state, now + minutes * MINUTE), { allowed: true });
  }
});

test('time passing does not reset the count', () => {
  let state = CLEAN_STATE;
  for (let i = 0; i < 5; i++) state = recordFailure(state, 0);
  const muchLater = 10 * YEAR;
  assert.deepEqual(checkLockout(state, muchLater), { allowed: true });
  state = recordFailure(state, muchLater);
  assert.equal(state.failures, 6);
  assert.equal(retryAfter(state, muchLater), 2 * MINUTE);
});

test('forgiving the owner’s own typos lifts their lock; someone else’s failures keep theirs', () => {
  let state = CLEAN_STATE;
  for (let i = 0; i < 5; i++) state = recordFailure(state, 0);
  assert.equal(checkLockout(state, 0).allowed, false);
  // The owner's backup code from the device that made the five typos: its own slot plus five.
  const reserved = recordFailure(state, 0);
  assert.deepEqual(forgive(reserved, 6), CLEAN_STATE);

  // Eight failures from an attacker's device; the owner's success forgives only its own slot.
  let attacked = CLEAN_STATE;
  for (let i = 0; i < 8; i++) attacked = recordFailure(attacked, 0);
  const afterOwner = forgive(recordFailure(attacked, 0), 1);
  assert.equal(afterOwner.failures, 8);
  assert.equal(afterOwner.lockedUntilMs, attacked.lockedUntilMs === null ? null : Math.max(attacked.lockedUntilMs, 0 + 16 * MINUTE));
  assert.equal(checkLockout(afterOwner, 0).allowed, false);
  assert.equal(forgive(CLEAN_STATE, 3).failures, 0);
});

test('lock durations stay finite however long the attack goes on', () => {
  let state: LockoutState = { failures: 5000, lockedUntilMs: null };
  state = recordFailure(state, 0);
  assert.ok(Number.isSafeInteger(state.lockedUntilMs));
});

test('an attacker gets 24 guesses per year, however often the owner signs in', () => {
  assert.equal(maxGuessesWithin(YEAR), 24);
  assert.equal(maxGuessesWithin(1), 5);
  assert.equal(maxGuessesWithin(MINUTE + 1), 6);
  assert.equal(maxGuessesWithin(0), 0);
  // The owner signing in every hour of the year (8,760 successes) gives the attacker nothing.
  const hourly = Array.from({ length: 365 * 24 }, (_, i) => i * 60 * MINUTE);
  assert.equal(maxGuessesWithin(YEAR, hourly), 24);
});

test('the yearly bound (< 1 in 10,000) holds for every TOTP window the configuration accepts', () => {
  const guesses = maxGuessesWithin(YEAR);
  const accepted: number[] = [];
  for (let window = 0; window <= 10; window++) {
    let config;
    try {
      config = loadConfig({ TWOFOLD_TOTP_WINDOW: String(window) });
    } catch {
      continue;
    }
    accepted.push(config.totpWindow);
    assert.ok(guessSuccessProbability(guesses, config.totpWindow) < 1e-4, `window ${window}`);
  }
  assert.deepEqual(accepted, Array.from({ length: MAX_TOTP_WINDOW + 1 }, (_, i) => i));
  // And one step wider would break it: the cap is the bound, not a guess.
  assert.ok(guessSuccessProbability(guesses, MAX_TOTP_WINDOW + 1) >= 1e-4);
});
