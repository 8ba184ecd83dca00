import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * The security centre: which device and location each session was opened from (so blocking a
 * device or a location can end exactly its sessions), and each user's choice of sign-in notices.
 *
 * Origins live beside the sessions table rather than in it: a session row's shape is shared by
 * every sign-in path, while only completed sign-ins have an origin (the first admin's setup
 * session does not), and a missing row simply means "not known".
 */
export const securityCentre: VersionedMigration = {
  name: '0009-security-centre',
  async up(db) {
    await db.schema
      .createTable('session_origins')
      .addColumn('session_id', 'text', (c) => c.primaryKey().references('sessions.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('device_id', 'text', (c) => c.references('known_devices.id').onDelete('set null'))
      .addColumn('location_id', 'text', (c) => c.references('known_locations.id').onDelete('set null'))
      .execute();
    await db.schema.createIndex('session_origins_device').on('session_origins').columns(['user_id', 'device_id']).execute();
    await db.schema.createIndex('session_origins_location').on('session_origins').columns(['user_id', 'location_id']).execute();

    // No row means the defaults: every notice on.
    await db.schema
      .createTable('notification_settings')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('new_device', 'integer', notNull)
      .addColumn('new_location', 'integer', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .execute();
  },
};
