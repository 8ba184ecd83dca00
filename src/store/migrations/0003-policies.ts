import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

export const policies: VersionedMigration = {
  name: '0003-policies',
  async up(db) {
    await db.schema
      .createTable('organisation_policies')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id').onDelete('cascade'))
      .addColumn('mode', 'text', notNull)
      .addColumn('applies_to_sub_organisations', 'integer', notNull)
      .addColumn('triggers', 'text', notNull)
      .addColumn('allowed_methods', 'text', notNull)
      .addColumn('trust_browser_days', 'integer', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('updated_by', 'text')
      .execute();

    await db.schema
      .createTable('role_policies')
      .addColumn('role_id', 'text', (c) => c.primaryKey().references('roles.id').onDelete('cascade'))
      .addColumn('require_two_factor', 'integer', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('updated_by', 'text')
      .execute();
  },
};
