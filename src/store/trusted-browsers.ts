import type { Executor } from './database.js';
import type { TrustedBrowser } from './schema.js';

export async function insertTrustedBrowser(db: Executor, browser: TrustedBrowser): Promise<void> {
  await db.insertInto('trusted_browsers').values(browser).execute();
}

export async function findValidTrustedBrowser(db: Executor, userId: string, tokenHash: string, nowMs: number): Promise<TrustedBrowser | undefined> {
  return db
    .selectFrom('trusted_browsers')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowMs)
    .executeTakeFirst();
}

export async function markTrustedBrowserUsed(db: Executor, id: string, nowMs: number): Promise<void> {
  await db.updateTable('trusted_browsers').set({ last_used_at: nowMs }).where('id', '=', id).execute();
}

export async function listTrustedBrowsers(db: Executor, userId: string, nowMs: number): Promise<TrustedBrowser[]> {
  return db
    .selectFrom('trusted_browsers')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowMs)
    .orderBy('created_at', 'desc')
    .execute();
}

export async function revokeTrustedBrowser(db: Executor, userId: string, id: string, nowMs: number): Promise<boolean> {
  const r = await db
    .updateTable('trusted_browsers')
    .set({ revoked_at: nowMs })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function revokeAllTrustedBrowsers(db: Executor, userId: string, nowMs: number): Promise<number> {
  const r = await db
    .updateTable('trusted_browsers')
    .set({ revoked_at: nowMs })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
