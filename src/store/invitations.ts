import type { Executor } from './database.js';
import type { Invitation } from './schema.js';
import { spendLink, voidLinks } from './single-use-links.js';

export async function insertInvitation(db: Executor, row: Invitation): Promise<void> {
  await db.insertInto('invitations').values(row).execute();
}

export async function findInvitation(db: Executor, tokenHash: string): Promise<Invitation | undefined> {
  return db.selectFrom('invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** The user's newest invitation that still works, if any. */
export async function liveInvitation(db: Executor, userId: string, nowMs: number): Promise<Invitation | undefined> {
  return db
    .selectFrom('invitations')
    .selectAll()
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', nowMs)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** Marks an invitation used once and only while it still works; concurrent uses get one true. */
export function spendInvitation(db: Executor, tokenHash: string, nowMs: number): Promise<boolean> {
  return spendLink(db, 'invitations', tokenHash, nowMs);
}

/** A resend, a revocation or an acceptance ends every other outstanding link of the user; returns how many. */
export function voidInvitations(db: Executor, userId: string, nowMs: number): Promise<number> {
  return voidLinks(db, 'invitations', userId, nowMs);
}
