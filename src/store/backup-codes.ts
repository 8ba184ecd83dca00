import type { Executor } from './database.js';
import type { BackupCode } from './schema.js';

/** Replaces a user's whole set: the old codes stop working in the same transaction. */
export async function replaceBackupCodes(db: Executor, userId: string, codes: BackupCode[]): Promise<void> {
  await db.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
  if (codes.length > 0) await db.insertInto('backup_codes').values(codes).execute();
}

/** Spends a code with one conditional UPDATE: under any concurrency only one caller wins. */
export async function spendBackupCode(db: Executor, userId: string, codeHash: string, nowMs: number): Promise<boolean> {
  const r = await db
    .updateTable('backup_codes')
    .set({ used_at: nowMs })
    .where('user_id', '=', userId)
    .where('code_hash', '=', codeHash)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function countUnusedBackupCodes(db: Executor, userId: string): Promise<number> {
  const row = await db
    .selectFrom('backup_codes')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listBackupCodes(db: Executor, userId: string): Promise<BackupCode[]> {
  return db.selectFrom('backup_codes').selectAll().where('user_id', '=', userId).orderBy('id').execute();
}

export async function deleteBackupCodes(db: Executor, userId: string): Promise<void> {
  await db.deleteFrom('backup_codes').where('user_id', '=', userId).execute();
}
