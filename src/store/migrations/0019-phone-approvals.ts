import { sql } from 'kysely';
import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * Phone approvals (issue 19): the phones a person paired as approvers (their public device key,
 * their Web Push subscription sealed at rest), the single-use pairing links (hashed), and the
 * approval requests a sign-in, step-up or deploy sends to a phone. The VAPID key pair lives in
 * `key_material` (sealed, created on first start), so it needs no table of its own.
 */
export const phoneApprovals: VersionedMigration = {
  name: '0019-phone-approvals',
  async up(db) {
    await db.schema
      .createTable('approver_devices')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', notNull)
      .addColumn('public_key_jwk', 'text', notNull)
      .addColumn('push_subscription_encrypted', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('last_used_at', 'bigint')
      .addColumn('removed_at', 'bigint')
      .execute();
    await db.schema.createIndex('approver_devices_user').on('approver_devices').columns(['user_id', 'removed_at']).execute();

    await db.schema
      .createTable('approver_pairings')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('used_at', 'bigint')
      .addColumn('device_id', 'text')
      .execute();

    await db.schema
      .createTable('approval_requests')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('device_id', 'text', (c) => c.notNull().references('approver_devices.id').onDelete('cascade'))
      .addColumn('purpose', 'text', notNull)
      .addColumn('binding', 'text', notNull)
      .addColumn('number', 'integer', notNull)
      .addColumn('choices', 'text', notNull)
      .addColumn('challenge', 'text', notNull)
      .addColumn('description', 'text', notNull)
      .addColumn('state', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('decided_at', 'bigint')
      .addColumn('used_at', 'bigint')
      .addColumn('ip', 'text', notNull)
      .addColumn('user_agent', 'text', notNull)
      .execute();
    // One pending request per account, on every node: the database refuses a second one.
    await db.schema.createIndex('approval_requests_one_pending').on('approval_requests').column('user_id').unique().where(sql.ref('state'), '=', 'pending').execute();
    await db.schema.createIndex('approval_requests_user_created').on('approval_requests').columns(['user_id', 'created_at']).execute();
  },
};
