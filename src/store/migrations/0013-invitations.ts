import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * Invitations: an admin adds a person by email, and the person sets their own password through
 * a single-use link. The user row exists from the start (status `invited`, no usable password),
 * so roles and groups can be given before they accept; the link's token is kept only as a hash.
 */
export const invitations: VersionedMigration = {
  name: '0013-invitations',
  async up(db) {
    await db.schema
      .createTable('invitations')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('invited_by', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('invitations_user').on('invitations').columns(['user_id']).execute();
  },
};
