import type { Executor } from './database.js';
import type { KnownDevice } from './schema.js';

export async function insertKnownDevice(db: Executor, device: KnownDevice): Promise<void> {
  await db.insertInto('known_devices').values(device).execute();
}

/** The user's device for this cookie hash; another user's device with the same hash is not found. */
export async function findKnownDevice(db: Executor, userId: string, tokenHash: string): Promise<KnownDevice | undefined> {
  return db.selectFrom('known_devices').selectAll().where('token_hash', '=', tokenHash).where('user_id', '=', userId).executeTakeFirst();
}

export interface DeviceSighting {
  nowMs: number;
  ip: string;
  userAgent: string;
  label: string;
}

/** Counts one more sign-in in the database itself, so concurrent sign-ins on several nodes all count. */
export async function recordDeviceSignIn(db: Executor, id: string, seen: DeviceSighting): Promise<void> {
  await db
    .updateTable('known_devices')
    .set((eb) => ({
      sign_in_count: eb('sign_in_count', '+', 1),
      last_seen_at: seen.nowMs,
      last_ip: seen.ip,
      user_agent: seen.userAgent,
      label: seen.label,
    }))
    .where('id', '=', id)
    .execute();
}

export async function hasKnownDevices(db: Executor, userId: string): Promise<boolean> {
  const row = await db.selectFrom('known_devices').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function listKnownDevices(db: Executor, userId: string): Promise<KnownDevice[]> {
  return db.selectFrom('known_devices').selectAll().where('user_id', '=', userId).orderBy('last_seen_at', 'desc').orderBy('id').execute();
}
