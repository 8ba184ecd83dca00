import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * Each user's known devices (a device cookie, stored as its hash) and known locations (country
 * and region), for the new-device and new-location checks. Counts, first/last seen and a nullable
 * blocked_at are here from the start so the security centre can list and block them.
 */
export const devicesLocations: VersionedMigration = {
  name: '0008-devices-locations',
  async up(db) {
    await db.schema
      .createTable('known_devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_agent', 'text', notNull)
      .addColumn('label', 'text', notNull)
      .addColumn('first_seen_at', 'bigint', notNull)
      .addColumn('last_seen_at', 'bigint', notNull)
      .addColumn('last_ip', 'text', notNull)
      .addColumn('sign_in_count', 'integer', notNull)
      .addColumn('blocked_at', 'bigint')
      .execute();
    await db.schema.createIndex('known_devices_user').on('known_devices').column('user_id').execute();

    await db.schema
      .createTable('known_locations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('location_key', 'text', notNull)
      .addColumn('country', 'text', notNull)
      .addColumn('region', 'text')
      .addColumn('city', 'text')
      .addColumn('first_seen_at', 'bigint', notNull)
      .addColumn('last_seen_at', 'bigint', notNull)
      .addColumn('last_ip', 'text', notNull)
      .addColumn('sign_in_count', 'integer', notNull)
      .addColumn('blocked_at', 'bigint')
      .addUniqueConstraint('known_locations_user_key', ['user_id', 'location_key'])
      .execute();
  },
};
