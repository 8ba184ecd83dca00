import type { Executor } from './database.js';
import type { PasswordResetToken } from './schema.js';

export async function insertResetToken(db: Executor, row: PasswordResetToken): Promise<void> {
  await db.insertInto('password_reset_tokens').values(row).execute();
}

export async function findResetToken(db: Executor, tokenHash: string): Promise<PasswordResetToken | undefined> {
  return db.selectFrom('password_reset_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks a token used once and only while it is still valid; concurrent uses get one true. */
export async function spendResetToken(db: Executor, tokenHash: string, nowMs: number): Promise<boolean> {
  const r = await db
    .updateTable('password_reset_tokens')
    .set({ used_at: nowMs })
    .where('token_hash', '=', tokenHash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', nowMs)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** A new link, or a finished reset, ends every other outstanding link of the user. */
export async function voidResetTokens(db: Executor, userId: string, nowMs: number): Promise<void> {
  await db.updateTable('password_reset_tokens').set({ used_at: nowMs }).where('user_id', '=', userId).where('used_at', 'is', null).execute();
}
