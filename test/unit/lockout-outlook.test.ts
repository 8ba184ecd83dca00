import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LockoutState } from '../../src/core/second-factor-lockout.js';
import { CLEAN_STATE, FREE_FAILURES, lockoutOutlook, recordFailure } from '../../src/core/second-factor-lockout.js';
import { lockLengthInWords, wrongCodeWarning } from '../../src/services/second-factor/lockout.js';

const MINUTE = 60_000;

/** The state after `n` failures made one after another at `now` (each waiting out any lock first). */
function afterFailures(n: number): { state: LockoutState; now: number } {
  let state = CLEAN_STATE;
  let now = 0;
  for (let i = 0; i < n; i++) {
    if (state.lockedUntilMs !== null && state.lockedUntilMs > now) now = state.lockedUntilMs;
    state = recordFailure(state, now);
  }
  return { state, now };
}

test('tries left before a lock count down through the free failures, and each one is true: that many more failures lock', () => {
  for (let failures = 0; failures < FREE_FAILURES; failures++) {
    const { state, now } = afterFailures(failures);
    const outlook = lockoutOutlook(state, now);
    assert.deepEqual(outlook, { locked: false, triesBeforeLock: FREE_FAILURES - failures, nextLockMs: MINUTE });
    // Check the promise against the rule itself: the last of those tries locks, none before it does.
    let s = state;
    for (let k = 1; k <= outlook.triesBeforeLock; k++) {
      s = recordFailure(s, now);
      const locked = s.lockedUntilMs !== null && s.lockedUntilMs > now;
      assert.equal(locked, k === outlook.triesBeforeLock, `failure ${failures + k}`);
    }
  }
});

test('while locked the outlook is the time left; once a lock has passed the next wrong code locks at once, for twice as long', () => {
  const { state, now } = afterFailures(FREE_FAILURES);
  assert.deepEqual(lockoutOutlook(state, now), { locked: true, retryAfterMs: MINUTE });
  assert.deepEqual(lockoutOutlook(state, now + 20_000), { locked: true, retryAfterMs: 40_000 });
  assert.deepEqual(lockoutOutlook(state, now + MINUTE), { locked: false, triesBeforeLock: 1, nextLockMs: 2 * MINUTE });
  const later = afterFailures(FREE_FAILURES + 3);
  assert.deepEqual(lockoutOutlook(later.state, later.now + 8 * MINUTE), { locked: false, triesBeforeLock: 1, nextLockMs: 16 * MINUTE });
});

test('the words a person reads: nothing after a typo or two, then the count, then the lock', () => {
  assert.equal(wrongCodeWarning(afterFailures(1).state, 0), null);
  assert.equal(wrongCodeWarning(afterFailures(2).state, 0), '3 more wrong codes lock codes for 1 minute.');
  assert.equal(wrongCodeWarning(afterFailures(4).state, 0), 'One more wrong code locks codes for 1 minute.');
  const locked = afterFailures(5);
  assert.equal(wrongCodeWarning(locked.state, locked.now), 'Too many wrong codes: codes are locked for 1 minute. Wait, or use a backup code.');
  assert.equal(lockLengthInWords(16 * MINUTE), '16 minutes');
  assert.equal(lockLengthInWords(256 * MINUTE), 'about 4 hours');
  assert.equal(lockLengthInWords(4096 * MINUTE), 'about 3 days');
});
