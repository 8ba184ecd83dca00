import { rateLimited } from '../core/errors.js';
import type { Executor } from '../store/index.js';
import { rateLimits } from '../store/index.js';

export interface Limit {
  /** Failures allowed inside one window before further attempts are refused. */
  max: number;
  windowMs: number;
}

export const SIGN_IN_PER_ACCOUNT: Limit = { max: 10, windowMs: 15 * 60_000 };
export const SIGN_IN_PER_IP: Limit = { max: 100, windowMs: 15 * 60_000 };
export const SECOND_FACTOR_PER_IP: Limit = { max: 50, windowMs: 15 * 60_000 };
export const BACKUP_CODE_PER_ACCOUNT: Limit = { max: 10, windowMs: 60 * 60_000 };

/**
 * Failure counters kept in the database so a limit holds across every node. Callers check
 * before doing the expensive or secret-revealing work and count only failures.
 */
export class FailureLimiter {
  constructor(
    private readonly db: Executor,
    private readonly clock: () => number,
  ) {}

  /** Seconds until the key may try again, or 0 when it is under its limit. */
  async retryAfterSeconds(key: string, limit: Limit): Promise<number> {
    const now = this.clock();
    const state = await rateLimits.readCounter(this.db, key, now);
    if (!state || state.count < limit.max) return 0;
    return Math.max(1, Math.ceil((state.resetAt - now) / 1000));
  }

  async assertAllowed(keys: ReadonlyArray<readonly [string, Limit]>, code: string, message: string): Promise<void> {
    for (const [key, limit] of keys) {
      const wait = await this.retryAfterSeconds(key, limit);
      if (wait > 0) throw rateLimited(code, message, wait);
    }
  }

  /** Pass the open transaction when there is one: on SQLite a second connection would wait on it forever. */
  async recordFailure(key: string, limit: Limit, db: Executor = this.db): Promise<void> {
    await rateLimits.hitCounter(db, key, limit.windowMs, this.clock());
  }

  async reset(key: string): Promise<void> {
    await rateLimits.clearCounter(this.db, key);
  }
}
