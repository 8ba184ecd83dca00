import type { VersionedMigration } from './helpers.js';

/**
 * When an administrator reset a person's methods (a lost phone): the next sign-in asks them to
 * set one up again, even where policy does not require it, until they do or say they will not.
 */
export const setUpAgain: VersionedMigration = {
  name: '0017-set-up-again',
  async up(db) {
    await db.schema.alterTable('users').addColumn('set_up_again_since', 'bigint').execute();
  },
};
