import type { Executor } from './database.js';
import type { SessionOrigin } from './schema.js';

export async function insertSessionOrigin(db: Executor, origin: SessionOrigin): Promise<void> {
  await db.insertInto('session_origins').values(origin).execute();
}

/** The origins of the given sessions (a session without one was not opened by a sign-in). */
export async function findSessionOrigins(db: Executor, sessionIds: readonly string[]): Promise<SessionOrigin[]> {
  if (sessionIds.length === 0) return [];
  return db.selectFrom('session_origins').selectAll().where('session_id', 'in', sessionIds).execute();
}

export type OriginMatch = { deviceId: string } | { locationId: string };

/**
 * Ends every live session of the user that was opened from this device or location, in one
 * statement, so a session opened on another node a moment earlier is ended too. Returns the ids.
 */
export async function revokeSessionsFrom(db: Executor, userId: string, match: OriginMatch, nowMs: number): Promise<string[]> {
  const rows = await db
    .updateTable('sessions')
    .set({ revoked_at: nowMs })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('id', 'in', (eb) => {
      const origins = eb.selectFrom('session_origins').select('session_id').where('user_id', '=', userId);
      return 'deviceId' in match ? origins.where('device_id', '=', match.deviceId) : origins.where('location_id', '=', match.locationId);
    })
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
