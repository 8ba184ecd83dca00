import type { VersionedMigration } from './helpers.js';
import { notNull } from './helpers.js';

export const delivery: VersionedMigration = {
  name: '0004-delivery',
  async up(db) {
    await db.schema
      .createTable('delivery_providers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('name', 'text', notNull)
      .addColumn('kind', 'text', notNull)
      .addColumn('config_encrypted', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('updated_by', 'text')
      .execute();
    await db.schema.createIndex('delivery_providers_org').on('delivery_providers').column('org_id').execute();

    await db.schema
      .createTable('channel_entries')
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('channel', 'text', notNull)
      .addColumn('provider_id', 'text', (c) => c.references('delivery_providers.id'))
      .addColumn('title', 'text', notNull)
      .addColumn('allowed', 'integer', notNull)
      .addColumn('updated_at', 'bigint', notNull)
      .addColumn('updated_by', 'text')
      .addPrimaryKeyConstraint('channel_entries_pk', ['org_id', 'channel'])
      .execute();

    await db.schema
      .createTable('one_time_codes')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('factor_id', 'text', (c) => c.notNull().references('factors.id').onDelete('cascade'))
      .addColumn('purpose', 'text', notNull)
      .addColumn('scope', 'text', notNull)
      .addColumn('code_hash', 'text', notNull)
      .addColumn('status', 'text', notNull)
      .addColumn('attempts', 'integer', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('one_time_codes_user').on('one_time_codes').columns(['user_id', 'purpose', 'scope']).execute();

    await db.schema
      .createTable('password_reset_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('password_reset_tokens_user').on('password_reset_tokens').column('user_id').execute();

    await db.schema.alterTable('factors').addColumn('destination_masked', 'text').execute();
    await db.schema.alterTable('factors').addColumn('replaces_factor_id', 'text').execute();
  },
};
