import type { VersionedMigration } from './helpers.js';

/**
 * A role may require a phishing-resistant method too (a security key or passkey), as an
 * organisation's policy may: everyone holding it finishes the second step with a key. 0 for
 * every role policy written before, which keeps them as they were.
 */
export const rolePhishingResistant: VersionedMigration = {
  name: '0022-role-phishing-resistant',
  async up(db) {
    await db.schema
      .alterTable('role_policies')
      .addColumn('require_phishing_resistant', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
