import type { Executor } from './database.js';
import type { Session } from './schema.js';

export async function insertSession(db: Executor, session: Session): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export async function findSessionByTokenHash(db: Executor, tokenHash: string): Promise<Session | undefined> {
  return db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

export async function touchSession(db: Executor, id: string, nowMs: number): Promise<void> {
  await db.updateTable('sessions').set({ last_seen_at: nowMs }).where('id', '=', id).execute();
}

export async function updateSessionAuthentication(
  db: Executor,
  id: string,
  change: { tokenHash: string; amr: string[]; authenticatedAt: number; passwordAt?: number; secondFactorAt?: number },
): Promise<void> {
  await db
    .updateTable('sessions')
    .set({
      token_hash: change.tokenHash,
      amr: JSON.stringify(change.amr),
      authenticated_at: change.authenticatedAt,
      ...(change.passwordAt !== undefined ? { password_at: change.passwordAt } : {}),
      ...(change.secondFactorAt !== undefined ? { second_factor_at: change.secondFactorAt } : {}),
    })
    .where('id', '=', id)
    .execute();
}

export async function revokeSession(db: Executor, id: string, nowMs: number): Promise<boolean> {
  const r = await db.updateTable('sessions').set({ revoked_at: nowMs }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function revokeUserSessions(db: Executor, userId: string, nowMs: number, exceptId?: string): Promise<number> {
  let q = db.updateTable('sessions').set({ revoked_at: nowMs }).where('user_id', '=', userId).where('revoked_at', 'is', null);
  if (exceptId) q = q.where('id', '!=', exceptId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function listActiveSessions(db: Executor, userId: string, nowMs: number, idleCutoffMs: number): Promise<Session[]> {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', nowMs)
    .where('last_seen_at', '>', idleCutoffMs)
    .orderBy('last_seen_at', 'desc')
    .execute();
}
