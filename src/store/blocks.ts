import type { Executor } from './database.js';
import type { KnownDevice, KnownLocation } from './schema.js';

/** Blocking and unblocking the user's own devices and locations; another user's id is not found. */

export async function findDevice(db: Executor, userId: string, id: string): Promise<KnownDevice | undefined> {
  return db.selectFrom('known_devices').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
}

export async function findLocation(db: Executor, userId: string, id: string): Promise<KnownLocation | undefined> {
  return db.selectFrom('known_locations').selectAll().where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
}

/** Sets or clears blocked_at; false when the row is not the user's. */
export async function setDeviceBlocked(db: Executor, userId: string, id: string, blockedAt: number | null): Promise<boolean> {
  const r = await db.updateTable('known_devices').set({ blocked_at: blockedAt }).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function setLocationBlocked(db: Executor, userId: string, id: string, blockedAt: number | null): Promise<boolean> {
  const r = await db.updateTable('known_locations').set({ blocked_at: blockedAt }).where('user_id', '=', userId).where('id', '=', id).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
