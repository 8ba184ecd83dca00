import type { VersionedMigration } from './helpers.js';

/**
 * Branding as an organisation setting: an organisation may name itself (the company name on
 * pages, in messages and as the authenticator issuer). No row means it shows its parent's, and
 * at the top the configured TWOFOLD_COMPANY_NAME, so nothing changes for an existing install.
 */
export const branding: VersionedMigration = {
  name: '0014-branding',
  async up(db) {
    await db.schema
      .createTable('organisation_branding')
      .addColumn('org_id', 'text', (c) => c.primaryKey().references('organisations.id').onDelete('cascade'))
      .addColumn('company_name', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_by', 'text')
      .execute();
  },
};
