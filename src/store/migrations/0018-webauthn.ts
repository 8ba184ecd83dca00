import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * Security keys and passkeys (WebAuthn). A credential is a factor (type `webauthn`: its name is
 * the factor's label, its public key is sealed in the factor's secret column, so a database
 * writer cannot swap in a key of their own); this table holds what only a credential has.
 * Challenges are single use, expire, and name the purpose and scope (a sign-in flow, a session,
 * a deploy) they were issued for.
 */
export const webauthn: VersionedMigration = {
  name: '0018-webauthn',
  async up(db) {
    await db.schema
      .createTable('webauthn_credentials')
      .addColumn('factor_id', 'text', (c) => c.primaryKey().references('factors.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('credential_id', 'text', (c) => c.notNull().unique())
      .addColumn('sign_count', 'bigint', notNull)
      .addColumn('transports', 'text', notNull)
      .addColumn('aaguid', 'text', notNull)
      .addColumn('backup_eligible', 'integer', notNull)
      .addColumn('backup_state', 'integer', notNull)
      .addColumn('discoverable', 'integer', notNull)
      .addColumn('user_verified', 'integer', notNull)
      .execute();
    await db.schema.createIndex('webauthn_credentials_user').on('webauthn_credentials').column('user_id').execute();

    await db.schema
      .createTable('webauthn_challenges')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('challenge_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.references('users.id').onDelete('cascade'))
      .addColumn('purpose', 'text', notNull)
      .addColumn('scope', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('webauthn_challenges_scope').on('webauthn_challenges').columns(['purpose', 'scope']).execute();
    await db.schema.createIndex('webauthn_challenges_expires').on('webauthn_challenges').column('expires_at').execute();
  },
};
