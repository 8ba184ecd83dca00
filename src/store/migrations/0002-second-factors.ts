import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

export const secondFactors: VersionedMigration = {
  name: '0002-second-factors',
  async up(db) {
    await db.schema
      .createTable('factors')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('type', 'text', notNull)
      .addColumn('label', 'text', notNull)
      .addColumn('secret_encrypted', 'text', notNull)
      .addColumn('status', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint')
      .addColumn('confirmed_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema.createIndex('factors_user').on('factors').column('user_id').execute();

    await db.schema
      .createTable('backup_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('code_hash', 'text', notNull)
      .addColumn('code_encrypted', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('used_at', 'bigint')
      .addUniqueConstraint('backup_codes_user_hash', ['user_id', 'code_hash'])
      .execute();

    await db.schema
      .createTable('trusted_browsers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_agent', 'text', notNull)
      .addColumn('ip', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('trusted_browsers_user').on('trusted_browsers').column('user_id').execute();
  },
};
