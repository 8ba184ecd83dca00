import type { Executor } from './database.js';
import type { PasswordResetToken } from './schema.js';
import { spendLink, voidLinks } from './single-use-links.js';

export async function insertResetToken(db: Executor, row: PasswordResetToken): Promise<void> {
  await db.insertInto('password_reset_tokens').values(row).execute();
}

export async function findResetToken(db: Executor, tokenHash: string): Promise<PasswordResetToken | undefined> {
  return db.selectFrom('password_reset_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Marks a token used once and only while it is still valid; concurrent uses get one true. */
export function spendResetToken(db: Executor, tokenHash: string, nowMs: number): Promise<boolean> {
  return spendLink(db, 'password_reset_tokens', tokenHash, nowMs);
}

/** A new link, or a finished reset, ends every other outstanding link of the user. */
export async function voidResetTokens(db: Executor, userId: string, nowMs: number): Promise<void> {
  await voidLinks(db, 'password_reset_tokens', userId, nowMs);
}
