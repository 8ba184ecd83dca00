import type { Executor } from './database.js';

/** Tables of emailed single-use links: stored by token hash, per user, with an expiry and a use. */
export type LinkTable = 'invitations' | 'password_reset_tokens';

/** Marks a link used once and only while it still works; of concurrent uses exactly one gets true. */
export async function spendLink(db: Executor, table: LinkTable, tokenHash: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable(table).set({ used_at: nowMs }).where('token_hash', '=', tokenHash).where('used_at', 'is', null).where('expires_at', '>', nowMs).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Ends every outstanding link of the user in that table; returns how many. */
export async function voidLinks(db: Executor, table: LinkTable, userId: string, nowMs: number): Promise<number> {
  const r = await db.updateTable(table).set({ used_at: nowMs }).where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows);
}
