/**
 * Synthetic data of real shape for `npm run bench:scale`, generated inside the database
 * (`generate_series` on PostgreSQL, a recursive CTE on SQLite): one `insert … select` per table,
 * nothing shipped row by row from Node. The secondary indexes are dropped first and built again
 * afterwards (from their own definitions), which is how a bulk load is done by hand as well.
 *
 * Shape: organisation 0 is the root (the bench admin's), 1 is the big one (a fifth of the people),
 * the rest hang below the root in two levels. Three people in ten have an active authenticator;
 * every person has one session (about half expired, a tenth revoked); audit events are spread
 * over the last year across all people, mostly sign-ins, with a rare admin event.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DialectName } from '../src/store/database.js';
import type { Schema } from '../src/store/schema.js';

export interface ScaleSizes {
  organisations: number;
  users: number;
  /** People in organisation 1. */
  bigOrganisationUsers: number;
  sessions: number;
  authenticators: number;
  auditEvents: number;
}

/** `scale` 1 is the issue's million-user database. */
export function sizesAt(scale: number): ScaleSizes {
  const n = (full: number, least: number) => Math.max(least, Math.round(full * scale));
  const users = n(1_000_000, 100);
  return {
    organisations: n(2_000, 5),
    users,
    bigOrganisationUsers: Math.round(users / 5),
    sessions: n(1_000_000, 100),
    authenticators: Math.min(Math.round((users * 3) / 10), n(300_000, 30)),
    auditEvents: n(10_000_000, 1_000),
  };
}

/** The 100-user database every figure is compared with. */
export const SMALL: ScaleSizes = { organisations: 5, users: 100, bigOrganisationUsers: 20, sessions: 100, authenticators: 30, auditEvents: 1_000 };

export const ROOT_ORG = 'org-00000';
const BIG_ORG = 'org-00001';
const DAY = 86_400_000;
const YEAR = 365 * DAY;
const TABLES = ['organisations', 'users', 'factors', 'sessions', 'audit_events'];

export interface LoadOptions {
  sizes: ScaleSizes;
  nowMs: number;
  /** One argon2id hash every generated person shares (so any of them can sign in with the bench password). */
  passwordHash: string;
}

/** `with s(i) as (0 … count-1) insert into … select … from s` in the dialect's words. */
function series(dialect: DialectName, count: number): string {
  return dialect === 'postgres'
    ? `with s(i) as (select generate_series(0::bigint, ${count - 1}))`
    : `with recursive s(i) as (select 0 union all select i + 1 from s where i < ${count - 1})`;
}

function pad(dialect: DialectName, expr: string, width: number): string {
  return dialect === 'postgres' ? `lpad((${expr})::text, ${width}, '0')` : `substr('${'0'.repeat(width)}' || (${expr}), -${width}, ${width})`;
}

/** The organisation of person number `u` (an SQL expression), as the users insert assigns it. */
function orgOf(dialect: DialectName, u: string, sizes: ScaleSizes): string {
  return `case when ${u} < ${sizes.bigOrganisationUsers} then '${BIG_ORG}' else 'org-' || ${pad(dialect, `2 + (${u}) % ${sizes.organisations - 2}`, 5)} end`;
}

/** The email of generated person `i`: `user-0000042@example.com`. */
export function generatedEmail(i: number): string {
  return `user-${String(i).padStart(7, '0')}@example.com`;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

interface IndexDefinition {
  name: string;
  definition: string;
}

/** Secondary indexes of the loaded tables (not those behind a primary key or unique constraint, which cannot be dropped alone). */
async function secondaryIndexes(db: Kysely<Schema>, dialect: DialectName): Promise<IndexDefinition[]> {
  const list = TABLES.map(quote).join(', ');
  if (dialect === 'postgres') {
    const { rows } = await sql<IndexDefinition>`
      select indexname as name, indexdef as definition from pg_indexes i
      where i.schemaname = current_schema() and i.tablename in (${sql.raw(list)})
        and not exists (select 1 from pg_constraint c where c.conname = i.indexname)`.execute(db);
    return rows;
  }
  const { rows } = await sql<IndexDefinition>`select name, sql as definition from sqlite_master where type = 'index' and tbl_name in (${sql.raw(list)}) and sql is not null`.execute(db);
  return rows;
}

/** Loads the tables and returns the time each step took, in milliseconds. */
export async function loadSyntheticData(db: Kysely<Schema>, dialect: DialectName, options: LoadOptions): Promise<Array<[string, number]>> {
  const { sizes, nowMs } = options;
  const steps: Array<[string, number]> = [];
  const step = async (name: string, text: string) => {
    const started = Date.now();
    await sql.raw(text).execute(db);
    steps.push([name, Date.now() - started]);
  };
  const indexes = await secondaryIndexes(db, dialect);
  for (const index of indexes) await sql.raw(`drop index ${index.name}`).execute(db);
  if (dialect === 'sqlite') await sql.raw('pragma synchronous = off').execute(db);

  await sql.raw(`insert into organisations (id, name, parent_id, created_at) values ('${ROOT_ORG}', 'Root', null, ${nowMs - YEAR})`).execute(db);
  // Organisation j (1 …): the big one and the next 199 below the root, the others below one of those.
  await step(
    `${sizes.organisations} organisations`,
    `${series(dialect, sizes.organisations - 1)}
     insert into organisations (id, name, parent_id, created_at)
     select 'org-' || ${pad(dialect, 'i + 1', 5)}, 'Organisation ' || (i + 1),
       case when i + 1 <= 200 then '${ROOT_ORG}' else 'org-' || ${pad(dialect, '1 + (i + 1) % 200', 5)} end, ${nowMs - YEAR}
     from s`,
  );
  await step(
    `${sizes.users} users`,
    `${series(dialect, sizes.users)}
     insert into users (id, org_id, email, email_normalized, display_name, time_zone, password_hash, status, password_changed_at, created_at, totp_last_step, second_factor_failures, second_factor_locked_until, set_up_again_since)
     select 'u-' || i, ${orgOf(dialect, 'i', sizes)},
       'user-' || ${pad(dialect, 'i', 7)} || '@example.com', 'user-' || ${pad(dialect, 'i', 7)} || '@example.com',
       'Person ' || i, 'UTC', ${quote(options.passwordHash)}, 'active', ${nowMs - YEAR}, ${nowMs - YEAR} + (i % 365) * ${DAY}, null, 0, null, null
     from s`,
  );
  // Person u has an authenticator when u % 10 < 3: factor i belongs to person (i / 3) * 10 + i % 3.
  await step(
    `${sizes.authenticators} authenticators`,
    `${series(dialect, sizes.authenticators)}
     insert into factors (id, user_id, type, label, secret_encrypted, destination_masked, replaces_factor_id, status, created_at, expires_at, confirmed_at, last_used_at)
     select 'f-' || i, 'u-' || ((i / 3) * 10 + i % 3), 'totp', 'Authenticator app', 'bench: not a sealed secret', null, null, 'active',
       ${nowMs - YEAR}, null, ${nowMs - YEAR}, ${nowMs} - (i % 1000) * 60000
     from s`,
  );
  // Sessions opened over the last 60 days, each lasting 30: about half have expired; a tenth were signed out.
  await step(
    `${sizes.sessions} sessions`,
    `${series(dialect, sizes.sessions)}
     insert into sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent, amr, authenticated_at, password_at, second_factor_at, revoked_at)
     select 's-' || i, 'bench-token-' || i, 'u-' || (i % ${sizes.users}), ${nowMs} - (i % 60) * ${DAY}, ${nowMs} - (i % 60) * ${DAY} + 3600000,
       ${nowMs} - (i % 60) * ${DAY} + ${30 * DAY}, '198.51.100.' || (i % 250), 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
       '["pwd"]', ${nowMs} - (i % 60) * ${DAY}, ${nowMs} - (i % 60) * ${DAY}, null, case when i % 10 = 0 then ${nowMs} - (i % 60) * ${DAY} + 7200000 else null end
     from s`,
  );
  // Events over the last year, newest last (ids rise with time, as they do in a real log).
  const eventType = `case
      when i % 997 = 0 then 'admin.factors_reset'
      when i % 10 < 5 then 'sign_in.succeeded'
      when i % 10 < 7 then 'sign_in.failed'
      when i % 10 = 7 then 'sign_out'
      when i % 10 = 8 then 'session.revoked'
      else 'factor.confirmed' end`;
  await step(
    `${sizes.auditEvents} audit events`,
    `${series(dialect, sizes.auditEvents)}, e(i, u) as (select i, (i * 7919) % ${sizes.users} from s)
     insert into audit_events (occurred_at, event_type, actor_user_id, subject_user_id, org_id, ip, user_agent, details)
     select ${nowMs - YEAR} + (i * ${Math.floor(YEAR / sizes.auditEvents)}), ${eventType}, 'u-' || u, 'u-' || u, ${orgOf(dialect, 'u', sizes)},
       '203.0.113.' || (i % 250), 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
       case when i % 10 in (5, 6) then '{"reason":"wrong_password"}' else '{}' end
     from e`,
  );
  const rebuild = Date.now();
  for (const index of indexes) await sql.raw(index.definition).execute(db);
  steps.push([`${indexes.length} indexes rebuilt`, Date.now() - rebuild]);
  const analyse = Date.now();
  await sql.raw('analyze').execute(db);
  steps.push(['analyze', Date.now() - analyse]);
  if (dialect === 'sqlite') await sql.raw('pragma synchronous = normal').execute(db);
  return steps;
}

/** `count` events of one person (their own activity log and export), newest after everything else. */
export async function loadOwnActivity(db: Kysely<Schema>, dialect: DialectName, userId: string, orgId: string, count: number, nowMs: number): Promise<void> {
  await sql
    .raw(
      `${series(dialect, count)}
       insert into audit_events (occurred_at, event_type, actor_user_id, subject_user_id, org_id, ip, user_agent, details)
       select ${nowMs - YEAR} + i * ${Math.floor(YEAR / count)}, case when i % 4 = 0 then 'sign_in.failed' else 'sign_in.succeeded' end,
         ${quote(userId)}, ${quote(userId)}, ${quote(orgId)}, '192.0.2.' || (i % 250),
         'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', case when i % 4 = 0 then '{"reason":"wrong_password"}' else '{}' end
       from s`,
    )
    .execute(db);
}
