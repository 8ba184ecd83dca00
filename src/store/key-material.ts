import type { Executor } from './database.js';

/** The sealed value stored under `name`, or null when there is none yet. */
export async function readSealed(db: Executor, name: string): Promise<string | null> {
  const row = await db.selectFrom('key_material').select('sealed').where('name', '=', name).executeTakeFirst();
  return row?.sealed ?? null;
}

/** Stores a first value; when another node got there first, theirs stays (every node then reads the same). */
export async function insertIfAbsent(db: Executor, name: string, sealed: string, now: number): Promise<void> {
  await db
    .insertInto('key_material')
    .values({ name, sealed, updated_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
}

/** Compare-and-set: replaces the value only if it is still `expected`; says whether it did. */
export async function replaceSealed(db: Executor, name: string, expected: string, sealed: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('key_material')
    .set({ sealed, updated_at: now })
    .where('name', '=', name)
    .where('sealed', '=', expected)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
