import type { VersionedMigration } from './helpers.js';

/**
 * The person's default method (the factor the second step opens on; a text or email one gets its
 * code sent by itself), and organisation settings, of which the first emails people their new
 * backup codes (no row: off). Tables of their own, so users and organisations keep their shape.
 */
export const defaultMethodEmailedCodes: VersionedMigration = {
  name: '0020-default-method-emailed-codes',
  async up(db) {
    await db.schema
      .createTable('default_methods')
      .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('factor_id', 'text', (c) => c.notNull().references('factors.id').onDelete('cascade'))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('organisation_settings')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id').onDelete('cascade'))
      .addColumn('email_backup_codes', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text')
      .execute();
  },
};
