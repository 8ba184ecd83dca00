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
        reset_at: eb.case().when('rate_limits.reset_at', '<=', nowMs).then(resetAt).else(eb.ref('rate_limits.reset_at')).end(),
      })),
    )
    .returning(['count', 'reset_at'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), resetAt: Number(row.reset_at) };
}

export async function readCounter(db: Executor, key: string, nowMs: number): Promise<CounterState | undefined> {
  const row = await db.selectFrom('rate_limits').select(['count', 'reset_at']).where('key', '=', key).executeTakeFirst();
  if (!row || row.reset_at <= nowMs) return undefined;
  return { count: Number(row.count), resetAt: Number(row.reset_at) };
}

export async function clearCounter(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}
