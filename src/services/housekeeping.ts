import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { SweptTable } from '../store/housekeeping.js';
import { housekeeping } from '../store/index.js';
import type { ServiceDeps } from './context.js';

/** Rows deleted per statement: small enough that a batch holds SQLite's write lock for a moment only. */
export const SWEEP_BATCH = 500;
/** Batches per table per run, so one run is bounded however far behind it is; the next run goes on. */
const MAX_BATCHES_PER_TABLE = 200;

export type SweepResult = Record<SweptTable, number> & { skipped: boolean };
export type SweptListener = (table: SweptTable, rows: number) => void;

/**
 * Keeps the tables that grow with traffic small: dead sessions, sign-in flows, codes, reset links,
 * invitations and rate-limit windows, and audit events older than TWOFOLD_AUDIT_RETENTION_DAYS.
 * Runs in the background of every serving node; a PostgreSQL advisory lock makes each batch run on
 * one node at a time. Each batch is its own short transaction, and the event loop gets a turn
 * between batches, so requests keep flowing while it works.
 */
export class HousekeepingService {
  private readonly listeners = new Set<SweptListener>();

  constructor(private readonly deps: ServiceDeps) {}

  /** Told how many rows each batch deleted (the metrics count them). */
  onSwept(listener: SweptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** One full pass over every table, each until nothing is left to delete or its batch budget is spent. */
  async sweepOnce(): Promise<SweepResult> {
    const { database, settings } = this.deps;
    const now = this.deps.clock();
    const cutoffs = { nowMs: now, idleBeforeMs: now - settings.sessionIdleMs, auditBeforeMs: now - settings.auditRetentionMs };
    const result = { skipped: false } as SweepResult;
    for (const table of housekeeping.SWEPT_TABLES) {
      result[table] = 0;
      for (let batch = 0; batch < MAX_BATCHES_PER_TABLE; batch++) {
        const swept = await database.db.transaction().execute(async (trx) => {
          if (!(await housekeeping.trySweepLock(trx, database.dialect))) return null;
          return housekeeping.sweepBatch(trx, table, cutoffs, SWEEP_BATCH);
        });
        if (swept === null) return { ...result, skipped: true };
        result[table] += swept;
        if (swept > 0) for (const listener of this.listeners) listener(table, swept);
        if (swept < SWEEP_BATCH) break;
        await yieldToEventLoop();
      }
    }
    return result;
  }

  /**
   * Sweeps every `intervalMs` (a first pass soon after start) until the returned stop is called;
   * stop waits for a pass in progress. A failed pass (the database away) is reported and retried
   * at the next interval.
   */
  start(intervalMs: number, report: (error: unknown) => void): () => Promise<void> {
    let running: Promise<unknown> = Promise.resolve();
    let stopped = false;
    let busy = false;
    const run = () => {
      // A pass longer than the interval is not joined by a second one.
      if (stopped || busy) return;
      busy = true;
      running = this.sweepOnce()
        .catch(report)
        .finally(() => (busy = false));
    };
    const first = setTimeout(run, Math.min(intervalMs, 30_000));
    const every = setInterval(run, intervalMs);
    first.unref();
    every.unref();
    return async () => {
      stopped = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    };
  }
}
