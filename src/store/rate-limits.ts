import type { Executor } from './database.js';

export interface CounterState {
  count: number;
  resetAt: number;
}

/**
 * Adds one to a fixed-window counter and returns its new state. A single upsert, so
 * concurrent hits from any node are all counted and an expired window restarts at 1.
 */
export async function hitCounter(db: Executor, key: string, windowMs: number, nowMs: number): Promise<CounterState> {
  const resetAt = nowMs + windowMs;
  const row = await db
    .insertInto('rate_limits')
    .values({ key, count: 1, reset_at: resetAt })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        count: eb.case().when('rate_limits.reset_at', '<=', nowMs).then(1).else(eb('rate_limits.count', '+', 1)).end(),
        reset_at: eb.case().when('rate_limits.reset_at', '<=', nowMs).then(eb.val(resetAt)).else(eb.ref('rate_limits.reset_at')).end(),
      })),
    )
    .returning(['count', 'reset_at'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), resetAt: Number(row.reset_at) };
}

/**
 * Takes one slot of a fixed-window counter if it has one free: a single conditional upsert, so
 * of any number of concurrent callers on any node at most `max` get a slot per window. Returns
 * the counter's state with the slot taken, or undefined when the counter is full.
 */
export async function takeSlot(db: Executor, key: string, max: number, windowMs: number, nowMs: number): Promise<CounterState | undefined> {
  const resetAt = nowMs + windowMs;
  const row = await db
    .insertInto('rate_limits')
    .values({ key, count: 1, reset_at: resetAt })
    .onConflict((oc) =>
      oc
        .column('key')
        .doUpdateSet((eb) => ({
          count: eb.case().when('rate_limits.reset_at', '<=', nowMs).then(1).else(eb('rate_limits.count', '+', 1)).end(),
          reset_at: eb.case().when('rate_limits.reset_at', '<=', nowMs).then(eb.val(resetAt)).else(eb.ref('rate_limits.reset_at')).end(),
        }))
        .where((eb) => eb.or([eb('rate_limits.reset_at', '<=', nowMs), eb('rate_limits.count', '<', max)])),
    )
    .returning(['count', 'reset_at'])
    .executeTakeFirst();
  return row ? { count: Number(row.count), resetAt: Number(row.reset_at) } : undefined;
}

/** Gives a slot back to the window it was taken from; a window that has since restarted is left alone. */
export async function returnSlot(db: Executor, key: string, resetAt: number): Promise<void> {
  await db.updateTable('rate_limits').set((eb) => ({ count: eb('count', '-', 1) })).where('key', '=', key).where('reset_at', '=', resetAt).where('count', '>', 0).execute();
}

export async function readCounter(db: Executor, key: string, nowMs: number): Promise<CounterState | undefined> {
  const row = await db.selectFrom('rate_limits').select(['count', 'reset_at']).where('key', '=', key).executeTakeFirst();
  if (!row || row.reset_at <= nowMs) return undefined;
  return { count: Number(row.count), resetAt: Number(row.reset_at) };
}

/** Removes a counter and returns the count it held in its live window (0 if none): one statement. */
export async function takeCounter(db: Executor, key: string, nowMs: number): Promise<number> {
  const row = await db.deleteFrom('rate_limits').where('key', '=', key).returning(['count', 'reset_at']).executeTakeFirst();
  return row && Number(row.reset_at) > nowMs ? Number(row.count) : 0;
}

export async function clearCounter(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}
