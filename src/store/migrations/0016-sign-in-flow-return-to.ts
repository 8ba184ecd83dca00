import type { VersionedMigration } from './helpers.js';

/**
 * Where a sign-in goes once it is complete (an app's pending authorization, say) is part of
 * the flow, as in Ory Kratos, rather than a cookie of its own beside the flow's: one record says
 * where the person is, what is left and where they are headed.
 */
export const signInFlowReturnTo: VersionedMigration = {
  name: '0016-sign-in-flow-return-to',
  async up(db) {
    await db.schema.alterTable('sign_in_flows').addColumn('return_to', 'text').execute();
  },
};
