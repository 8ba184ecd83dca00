import type { Executor } from './database.js';

/** The factor the person chose to open their second step on, whatever its status now (callers check it is active). */
export async function findDefaultFactorId(db: Executor, userId: string): Promise<string | null> {
  const row = await db.selectFrom('default_methods').select('factor_id').where('user_id', '=', userId).executeTakeFirst();
  return row?.factor_id ?? null;
}

export async function setDefaultFactor(db: Executor, row: { user_id: string; factor_id: string; updated_at: number }): Promise<void> {
  await db
    .insertInto('default_methods')
    .values(row)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ factor_id: row.factor_id, updated_at: row.updated_at }))
    .execute();
}
