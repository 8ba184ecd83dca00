import type { VersionedMigration } from './helpers.js';

/**
 * An organisation's policy may require a phishing-resistant method (a security key or passkey):
 * codes no longer finish its members' second step, and members without a key enrol one.
 * 0 for every policy written before, which keeps them as they were.
 */
export const phishingResistantPolicy: VersionedMigration = {
  name: '0021-phishing-resistant-policy',
  async up(db) {
    await db.schema
      .alterTable('organisation_policies')
      .addColumn('require_phishing_resistant', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
