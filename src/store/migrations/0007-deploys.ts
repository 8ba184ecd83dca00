import type { VersionedMigration } from './helpers.js';
import { notNull, withSerialId } from './helpers.js';

export const deploys: VersionedMigration = {
  name: '0007-deploys',
  async up(db, dialect) {
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('alg', 'text', notNull)
      .addColumn('private_jwk_encrypted', 'text', notNull)
      .addColumn('public_jwk', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('retired_at', 'bigint')
      .execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('name', 'text', notNull)
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('prefix', 'text', notNull)
      .addColumn('scopes', 'text', notNull)
      .addColumn('created_by', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('last_used_at', 'bigint')
      .addColumn('revoked_at', 'bigint')
      .execute();

    await db.schema
      .createTable('deploy_targets')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
      .addColumn('public_key', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', notNull)
      .addColumn('timing', 'text', notNull)
      .addColumn('require_two_factor', 'integer', notNull)
      .addColumn('pending_bundle', 'text', notNull)
      .addColumn('pending_version', 'integer', notNull)
      .addColumn('current_deployment_id', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('created_by', 'text')
      .execute();

    await db.schema
      .createTable('deploy_deployers')
      .addColumn('target_id', 'text', (c) => c.notNull().references('deploy_targets.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('deploy_deployers_pk', ['target_id', 'user_id'])
      .execute();

    await withSerialId(db.schema.createTable('deploy_changes'), dialect)
      .addColumn('target_id', 'text', (c) => c.notNull().references('deploy_targets.id').onDelete('cascade'))
      .addColumn('entry_key', 'text', notNull)
      .addColumn('value', 'text')
      .addColumn('summary', 'text', notNull)
      .addColumn('author', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('deployment_id', 'text')
      .execute();
    await db.schema.createIndex('deploy_changes_target').on('deploy_changes').columns(['target_id', 'deployment_id']).execute();

    await db.schema
      .createTable('deployments')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('target_id', 'text', (c) => c.notNull().references('deploy_targets.id').onDelete('cascade'))
      .addColumn('bundle', 'text', notNull)
      .addColumn('digest', 'text', notNull)
      .addColumn('summary', 'text', notNull)
      .addColumn('approver', 'text', notNull)
      .addColumn('method', 'text', notNull)
      .addColumn('approval', 'text', notNull)
      .addColumn('rollback_of', 'text')
      .addColumn('created_at', 'bigint', notNull)
      .execute();
    await db.schema.createIndex('deployments_target').on('deployments').columns(['target_id', 'created_at']).execute();
  },
};
