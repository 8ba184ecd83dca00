import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LockoutState } from '../../src/core/second-factor-lockout.js';
import {
  FREE_FAILURES,
  checkLockout,
  maxGuessesWithin,
  recordFailure,
  recordSuccess,
} from '../../src/core/second-factor-lockout.js';

const MINUTE = 60_000;
const YEAR = 365 * 24 * 60 * MINUTE;

function retryAfter(state: LockoutState, now: number): number {
  const r = checkLockout(state, now);
  return r.allowed ? 0 : r.retryAfterMs;
}

test('first five failures are free; the sixth attempt waits one minute, then doubling', () => {
  assert.equal(FREE_FAILURES, 5);
  let now = Date.UTC(2026, 0, 1);
  let state = recordSuccess();
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(checkLockout(state, now), { allowed: true }, `attempt ${i + 1}`);
    state = recordFailure(state, now);
  }
  assert.equal(state.consecutiveFailures, 5);
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
  let state = recordSuccess();
  for (let i = 0; i < 5; i++) state = recordFailure(state, 0);
  const muchLater = 10 * YEAR;
  assert.deepEqual(checkLockout(state, muchLater), { allowed: true });
  state = recordFailure(state, muchLater);
  assert.equal(state.consecutiveFailures, 6);
  assert.equal(retryAfter(state, muchLater), 2 * MINUTE);
});

test('success resets', () => {
  let state = recordSuccess();
  for (let i = 0; i < 8; i++) state = recordFailure(state, 0);
  assert.equal(checkLockout(state, 0).allowed, false);
  state = recordSuccess();
  assert.deepEqual(state, { consecutiveFailures: 0, lockedUntilMs: null });
  assert.deepEqual(checkLockout(state, 0), { allowed: true });
  for (let i = 0; i < 4; i++) state = recordFailure(state, 0);
  assert.deepEqual(checkLockout(state, 0), { allowed: true });
});

test('lock durations stay finite however long the attack goes on', () => {
  let state: LockoutState = { consecutiveFailures: 5000, lockedUntilMs: null };
  state = recordFailure(state, 0);
  assert.ok(Number.isSafeInteger(state.lockedUntilMs));
});

test('an attacker gets fewer than 33 guesses per year: success chance < 1e-4', () => {
  const guesses = maxGuessesWithin(YEAR);
  assert.equal(guesses, 24);
  assert.ok((guesses * 3) / 1e6 < 1e-4);
  assert.equal(maxGuessesWithin(1), 5);
  assert.equal(maxGuessesWithin(MINUTE + 1), 6);
  assert.equal(maxGuessesWithin(0), 0);
});
