import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

/**
 * OpenID Connect: the apps that sign people in through Twofold, what each person agreed to share
 * with each app, and the provider's own short-lived records (authorization codes, tokens, grants,
 * sessions, interactions) so that any node can serve any step of a flow.
 */
export const oidc: VersionedMigration = {
  name: '0010-oidc',
  async up(db) {
    await db.schema
      .createTable('oidc_clients')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('name', 'text', notNull)
      .addColumn('redirect_uris', 'text', notNull)
      .addColumn('post_logout_redirect_uris', 'text', notNull)
      .addColumn('public', 'integer', notNull)
      .addColumn('scopes', 'text', notNull)
      .addColumn('require_two_factor', 'integer', notNull)
      .addColumn('secret_hash', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('created_by', 'text')
      .addColumn('updated_at', 'bigint', notNull)
      .execute();
    await db.schema.createIndex('oidc_clients_org').on('oidc_clients').column('org_id').execute();

    await db.schema
      .createTable('oidc_consents')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('client_id', 'text', (c) => c.notNull().references('oidc_clients.id').onDelete('cascade'))
      .addColumn('scopes', 'text', notNull)
      .addColumn('granted_at', 'bigint', notNull)
      .addPrimaryKeyConstraint('oidc_consents_pk', ['user_id', 'client_id'])
      .execute();

    await db.schema
      .createTable('oidc_payloads')
      .addColumn('model', 'text', notNull)
      .addColumn('id', 'text', notNull)
      .addColumn('payload', 'text', notNull)
      .addColumn('grant_id', 'text')
      .addColumn('uid', 'text')
      .addColumn('user_code', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint')
      .addColumn('consumed_at', 'bigint')
      .addPrimaryKeyConstraint('oidc_payloads_pk', ['model', 'id'])
      .execute();
    await db.schema.createIndex('oidc_payloads_grant').on('oidc_payloads').column('grant_id').execute();
    await db.schema.createIndex('oidc_payloads_uid').on('oidc_payloads').column('uid').execute();
    await db.schema.createIndex('oidc_payloads_user_code').on('oidc_payloads').column('user_code').execute();
    await db.schema.createIndex('oidc_payloads_expiry').on('oidc_payloads').column('expires_at').execute();
  },
};
