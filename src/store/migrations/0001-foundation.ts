import type { VersionedMigration } from './helpers.js';
import { notNull, withSerialId } from './helpers.js';

export const foundation: VersionedMigration = {
  name: '0001-foundation',
  async up(db, dialect) {
    await db.schema
      .createTable('organisations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', notNull)
      .addColumn('parent_id', 'text', (c) => c.references('organisations.id').onDelete('restrict'))
      .addColumn('created_at', 'bigint', notNull)
      .execute();
    await db.schema.createIndex('organisations_parent').on('organisations').column('parent_id').execute();

    await db.schema
      .createTable('users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('restrict'))
      .addColumn('email', 'text', notNull)
      .addColumn('email_normalized', 'text', (c) => c.notNull().unique())
      .addColumn('display_name', 'text', notNull)
      .addColumn('time_zone', 'text', notNull)
      .addColumn('password_hash', 'text', notNull)
      .addColumn('status', 'text', notNull)
      .addColumn('password_changed_at', 'bigint', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('totp_last_step', 'bigint')
      .addColumn('second_factor_failures', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('second_factor_locked_until', 'bigint')
      .execute();
    await db.schema.createIndex('users_org').on('users').column('org_id').execute();

    for (const table of ['roles', 'groups'] as const) {
      await db.schema
        .createTable(table)
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id').onDelete('cascade'))
        .addColumn('name', 'text', notNull)
        .addColumn('created_at', 'bigint', notNull)
        .addUniqueConstraint(`${table}_org_name`, ['org_id', 'name'])
        .execute();
    }
    await db.schema
      .createTable('group_members')
      .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
      .execute();
    await db.schema
      .createTable('user_roles')
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role_id'])
      .execute();
    await db.schema
      .createTable('group_roles')
      .addColumn('group_id', 'text', (c) => c.notNull().references('groups.id').onDelete('cascade'))
      .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
      .addPrimaryKeyConstraint('group_roles_pk', ['group_id', 'role_id'])
      .execute();

    await db.schema
      .createTable('sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('last_seen_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('ip', 'text', notNull)
      .addColumn('user_agent', 'text', notNull)
      .addColumn('amr', 'text', notNull)
      .addColumn('authenticated_at', 'bigint', notNull)
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

    await db.schema
      .createTable('sign_in_flows')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('state', 'text', notNull)
      .addColumn('methods', 'text', notNull)
      .addColumn('amr', 'text', notNull)
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .addColumn('ip', 'text', notNull)
      .addColumn('user_agent', 'text', notNull)
      .execute();

    await withSerialId(db.schema.createTable('audit_events'), dialect)
      .addColumn('occurred_at', 'bigint', notNull)
      .addColumn('event_type', 'text', notNull)
      .addColumn('actor_user_id', 'text')
      .addColumn('subject_user_id', 'text')
      .addColumn('org_id', 'text')
      .addColumn('ip', 'text')
      .addColumn('user_agent', 'text')
      .addColumn('details', 'text', notNull)
      .execute();
    await db.schema.createIndex('audit_events_subject').on('audit_events').columns(['subject_user_id', 'id']).execute();
    await db.schema.createIndex('audit_events_org').on('audit_events').columns(['org_id', 'id']).execute();

    await db.schema
      .createTable('rate_limits')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('count', 'integer', notNull)
      .addColumn('reset_at', 'bigint', notNull)
      .execute();

    await db.schema
      .createTable('setup_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', notNull)
      .addColumn('expires_at', 'bigint', notNull)
      .execute();
  },
};
