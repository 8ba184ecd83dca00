import { sql } from 'kysely';
import type { MigrationDb, VersionedMigration } from './helpers.js';

/**
 * Indexes that the million-user run showed missing (issue 16), and the expiry indexes the
 * housekeeping sweep walks:
 * - group_members(user_id): the session check's role lookup goes from a user to their groups;
 *   the primary key (group_id, user_id) cannot serve that.
 * - audit_events(event_type, id) and (org_id, event_type, id): the audit `type=` filter, newest
 *   first, with and without an organisation.
 * - users(org_id, email_normalized): the admin user list of one organisation in email order.
 * - expires_at / last_seen_at / reset_at: the housekeeping sweep finds dead rows by these, in
 *   bounded batches, without scanning the tables.
 * - PostgreSQL only: trigram GIN indexes for the user search (`LIKE '%q%'` on the email and the
 *   lower-cased display name), from the pg_trgm extension that ships with PostgreSQL.
 */
export const indexes: VersionedMigration = {
  name: '0012-indexes',
  async up(db, dialect) {
    await db.schema.createIndex('group_members_user').on('group_members').columns(['user_id', 'group_id']).execute();
    await db.schema.createIndex('audit_events_type').on('audit_events').columns(['event_type', 'id']).execute();
    await db.schema.createIndex('audit_events_org_type').on('audit_events').columns(['org_id', 'event_type', 'id']).execute();
    await db.schema.createIndex('users_org_email').on('users').columns(['org_id', 'email_normalized']).execute();
    await db.schema.createIndex('sessions_expiry').on('sessions').column('expires_at').execute();
    await db.schema.createIndex('sessions_last_seen').on('sessions').column('last_seen_at').execute();
    await db.schema.createIndex('sign_in_flows_expiry').on('sign_in_flows').column('expires_at').execute();
    await db.schema.createIndex('one_time_codes_expiry').on('one_time_codes').column('expires_at').execute();
    await db.schema.createIndex('password_reset_tokens_expiry').on('password_reset_tokens').column('expires_at').execute();
    await db.schema.createIndex('rate_limits_reset').on('rate_limits').column('reset_at').execute();
    if (dialect === 'postgres') await trigramIndexes(db);
  },
};

/**
 * pg_trgm is a contrib extension (in Debian's postgresql package and the official images) and
 * trusted since PostgreSQL 13, so a database owner may create it. It is created once per
 * database, in the schema `public` when it is not there yet, and named by that schema so a
 * deployment (or a test) living in another schema finds its operator class. Where the
 * extension is not installed on the server, the search works without these indexes (slower on
 * a large table), so the migration does not fail for it.
 */
async function trigramIndexes(db: MigrationDb): Promise<void> {
  // Several schemas of one database may migrate at once (tests, or two deployments): one at a time here.
  await sql`select pg_advisory_xact_lock(hashtext('twofold:pg_trgm'))`.execute(db);
  const available = await sql<{ n: number }>`select count(*)::int as n from pg_available_extensions where name = 'pg_trgm'`.execute(db);
  if (Number(available.rows[0]?.n ?? 0) === 0) return;
  await sql`create extension if not exists pg_trgm with schema public`.execute(db);
  const found = await sql<{ schema: string }>`select n.nspname as schema from pg_extension e join pg_namespace n on n.oid = e.extnamespace where e.extname = 'pg_trgm'`.execute(db);
  const schema = found.rows[0]?.schema;
  if (!schema) return;
  const ops = sql.raw(`${quoteIdent(schema)}.gin_trgm_ops`);
  await sql`create index users_email_trgm on users using gin (email_normalized ${ops})`.execute(db);
  await sql`create index users_display_name_trgm on users using gin ((lower(display_name)) ${ops})`.execute(db);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
