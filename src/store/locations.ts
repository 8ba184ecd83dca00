import type { Executor } from './database.js';
import type { KnownLocation } from './schema.js';

export async function findKnownLocation(db: Executor, userId: string, locationKey: string): Promise<KnownLocation | undefined> {
  return db.selectFrom('known_locations').selectAll().where('user_id', '=', userId).where('location_key', '=', locationKey).executeTakeFirst();
}

/**
 * Adds the location to the user's list, or counts one more sign-in at it, in one statement:
 * concurrent sign-ins from a new place on several nodes make one row, and exactly one of them
 * sees `sign_in_count` 1 (the one that made it new).
 */
export async function recordLocationSignIn(db: Executor, location: KnownLocation): Promise<KnownLocation> {
  return db
    .insertInto('known_locations')
    .values(location)
    .onConflict((oc) =>
      oc.columns(['user_id', 'location_key']).doUpdateSet((eb) => ({
        sign_in_count: eb('known_locations.sign_in_count', '+', 1),
        last_seen_at: location.last_seen_at,
        last_ip: location.last_ip,
        city: location.city,
      })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function hasKnownLocations(db: Executor, userId: string): Promise<boolean> {
  const row = await db.selectFrom('known_locations').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function listKnownLocations(db: Executor, userId: string): Promise<KnownLocation[]> {
  return db.selectFrom('known_locations').selectAll().where('user_id', '=', userId).orderBy('last_seen_at', 'desc').orderBy('id').execute();
}
