import type { CodeOf } from '../core/errors.js';
import { rateLimited } from '../core/errors.js';
import type { Executor } from '../store/index.js';
import { rateLimits } from '../store/index.js';

export interface Limit {
  /** Attempts (or sends) allowed inside one window before further ones are refused. */
  max: number;
  windowMs: number;
}

export const SIGN_IN_PER_ACCOUNT: Limit = { max: 10, windowMs: 15 * 60_000 };
export const SIGN_IN_PER_IP: Limit = { max: 100, windowMs: 15 * 60_000 };
export const SECOND_FACTOR_PER_IP: Limit = { max: 50, windowMs: 15 * 60_000 };
export const BACKUP_CODE_PER_ACCOUNT: Limit = { max: 10, windowMs: 60 * 60_000 };

export type LimitedKey = readonly [key: string, limit: Limit];

interface TakenSlot {
  key: string;
  resetAt: number;
}

/**
 * Slots taken by one attempt. An attempt that fails keeps them (they are the failure count);
 * one that succeeds gives them back with `release`, so honest use does not fill a limit.
 */
export class Reservation {
  private released = false;

  constructor(
    private readonly db: Executor,
    private readonly slots: readonly TakenSlot[],
  ) {}

  /** Pass the open transaction when there is one: on SQLite a second connection would wait on it forever. */
  async release(db: Executor = this.db): Promise<void> {
    if (this.released) return;
    this.released = true;
    for (const slot of this.slots) await rateLimits.returnSlot(db, slot.key, slot.resetAt);
  }
}

/**
 * Attempt and send limits, kept in the database so they hold across every node.
 *
 * Reserve first, then work: `reserve` takes a slot in every named counter with one conditional
 * upsert each (`count < max`), before the password hash is checked, the code compared or the
 * message sent. Parallel requests therefore cannot all pass on the same "9 so far": the 11th
 * concurrent request finds 10 slots taken, on any node. Checking first and counting after the
 * work (the old shape) let 59 of 60 parallel wrong passwords be judged against a limit of 10.
 */
export class AttemptLimiter {
  constructor(
    private readonly db: Executor,
    private readonly clock: () => number,
  ) {}

  /**
   * Takes one slot in each counter or none: when one is full, the slots already taken are given
   * back and `rate_limited` is thrown with the wait of the full counter. Call it outside any
   * transaction (the slot must stay taken even if the work's transaction rolls back).
   */
  async reserve(keys: readonly LimitedKey[], code: CodeOf<'rate_limited'>, message: string): Promise<Reservation> {
    const now = this.clock();
    const taken: TakenSlot[] = [];
    for (const [key, limit] of keys) {
      const slot = await rateLimits.takeSlot(this.db, key, limit.max, limit.windowMs, now);
      if (slot) {
        taken.push({ key, resetAt: slot.resetAt });
        continue;
      }
      for (const t of taken) await rateLimits.returnSlot(this.db, t.key, t.resetAt);
      throw rateLimited(code, message, await this.retryAfterSeconds(key, limit));
    }
    return new Reservation(this.db, taken);
  }

  /** Seconds until the key may try again, or 0 when it is under its limit. */
  async retryAfterSeconds(key: string, limit: Limit): Promise<number> {
    const now = this.clock();
    const state = await rateLimits.readCounter(this.db, key, now);
    if (!state || state.count < limit.max) return 0;
    return Math.max(1, Math.ceil((state.resetAt - now) / 1000));
  }
}

/** The password sign-in's per-account counter: sign-in reserves on it, a completed password reset clears it. */
export function signInAccountKey(normalisedEmail: string): string {
  return `signin:acct:${normalisedEmail}`;
}
