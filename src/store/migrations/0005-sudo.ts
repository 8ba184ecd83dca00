import type { VersionedMigration } from './helpers.js';

/**
 * Admin "sudo mode" needs to know which proofs a session holds and since when: a password and,
 * for users with a factor, a second factor. `authenticated_at` alone cannot tell them apart.
 */
export const sudo: VersionedMigration = {
  name: '0005-sudo',
  async up(db) {
    await db.schema.alterTable('sessions').addColumn('password_at', 'bigint').execute();
    await db.schema.alterTable('sessions').addColumn('second_factor_at', 'bigint').execute();
  },
};
