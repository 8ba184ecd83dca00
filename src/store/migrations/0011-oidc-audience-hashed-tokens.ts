import { sql } from 'kysely';
import type { VersionedMigration } from './helpers.js';

/**
 * OpenID Connect, tightened: an app signs in only the people of its own organisation tree unless
 * it is explicitly opened to everyone (`audience`), and the provider's records are kept under a
 * keyed hash of their id with a sealed payload (see services/oidc-storage.ts). Records written
 * before that were keyed by the raw token value; they could no longer be found, and a raw token
 * is exactly what a database dump must not hold, so they are dropped: people sign in to their
 * apps again, and apps' refresh tokens from before the upgrade stop working.
 */
export const oidcAudienceHashedTokens: VersionedMigration = {
  name: '0011-oidc-audience-hashed-tokens',
  async up(db) {
    await db.schema
      .alterTable('oidc_clients')
      .addColumn('audience', 'text', (c) => c.notNull().defaultTo('organisation'))
      .execute();
    await sql`delete from oidc_payloads`.execute(db);
  },
};
