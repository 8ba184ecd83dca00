/**
 * Copies of the database: SQLite through its online backup API (a consistent snapshot while
 * the server writes), PostgreSQL through pg_dump / pg_restore, and a read-only view of a copy
 * that `verify-backup` inspects.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database, Executor } from './database.js';
import { connectPostgres } from './postgres/connect.js';
import { pgDriver } from './postgres/pg-module.js';
import type { Schema } from './schema.js';

export type BackupFormat = 'sqlite' | 'pg_dump';

/** The SQLite file inside a data directory (as store/connect.ts names it). */
export function sqliteFileIn(dataDir: string): string {
  return join(dataDir, 'twofold.sqlite');
}

/** What kind of copy a file is, from its first bytes; null for neither. */
export function backupFormatOf(file: string): BackupFormat | null {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    if (n >= 16 && head.toString('latin1') === 'SQLite format 3\0') return 'sqlite';
    if (n >= 5 && head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'pg_dump';
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * A consistent copy of a live SQLite database. The backup API copies pages and restarts when
 * another connection writes meanwhile, so the copy is one moment's state, WAL included.
 */
export async function backupSqlite(sourceFile: string, outFile: string): Promise<void> {
  const source = new BetterSqlite3(sourceFile, { fileMustExist: true });
  try {
    await source.backup(outFile);
  } finally {
    source.close();
  }
}

/** Writes a backup over the database file (the server must be stopped: see README). */
export async function restoreSqlite(backupFile: string, targetFile: string): Promise<void> {
  const source = new BetterSqlite3(backupFile, { readonly: true, fileMustExist: true });
  try {
    await source.backup(targetFile);
  } finally {
    source.close();
  }
  // The copy keeps the source's journal mode; the server runs in WAL.
  const target = new BetterSqlite3(targetFile);
  try {
    target.pragma('journal_mode = WAL');
  } finally {
    target.close();
  }
}

/** A backup file opened read-only: nothing a check does can change it. */
export function openSqliteReadOnly(file: string): Database {
  const native = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: native }) });
  return {
    db,
    dialect: 'sqlite',
    describe: file,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

/** Whether a database holds people or organisations (tables alone, from a first start, do not count). */
export async function holdsData(db: Executor): Promise<boolean> {
  try {
    const org = await db.selectFrom('organisations').select('id').limit(1).executeTakeFirst();
    const user = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    return Boolean(org || user);
  } catch (error) {
    if (/no such table|does not exist/.test(error instanceof Error ? error.message : String(error))) return false;
    throw error;
  }
}

/** Names of the migrations a database has applied, in order. */
export async function appliedMigrationNames(db: Executor): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from twofold_migrations order by name`.execute(db);
  return rows.map((r) => r.name);
}

export interface Holdings {
  users: number;
  factors: number;
  activeFactors: number;
  sessions: number;
}

export async function countHoldings(db: Executor, now: number): Promise<Holdings> {
  const count = async (query: Promise<{ n: number | string | bigint } | undefined>) => Number((await query)?.n ?? 0);
  return {
    users: await count(db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()),
    factors: await count(db.selectFrom('factors').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()),
    activeFactors: await count(db.selectFrom('factors').where('status', '=', 'active').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst()),
    sessions: await count(
      db.selectFrom('sessions').where('revoked_at', 'is', null).where('expires_at', '>', now).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst(),
    ),
  };
}

// ---- PostgreSQL -------------------------------------------------------------------------------

export class ToolMissingError extends Error {}

/**
 * libpq reads the connection from PG* variables: the password stays off the command line
 * (visible in `ps`), and the `options` parameter keeps its spaces (libpq does not read the `+`
 * that URL encoding writes for them).
 */
function libpqTarget(url: string): { env: NodeJS.ProcessEnv; schema: string | null } {
  const parsed = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  const set = (name: string, value: string | null | undefined) => {
    if (value) env[name] = value;
    else delete env[name];
  };
  set('PGHOST', decodeURIComponent(parsed.hostname).replace(/^\[|\]$/g, '') || parsed.searchParams.get('host'));
  set('PGPORT', parsed.port);
  set('PGUSER', decodeURIComponent(parsed.username));
  set('PGPASSWORD', decodeURIComponent(parsed.password));
  set('PGDATABASE', decodeURIComponent(parsed.pathname.replace(/^\//, '')));
  set('PGOPTIONS', parsed.searchParams.get('options'));
  set('PGSSLMODE', parsed.searchParams.get('sslmode'));
  const schema = /search_path=([A-Za-z_][A-Za-z0-9_]*)/.exec(parsed.searchParams.get('options') ?? '')?.[1] ?? null;
  return { env, schema };
}

function run(tool: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new ToolMissingError(`${tool} is not on the PATH`) : error),
    );
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${tool} failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`))));
  });
}

/**
 * pg_dump in its custom format (compressed, restored with pg_restore). When the URL pins a
 * schema (`options=-c search_path=...`), only that schema is dumped.
 */
export async function backupPostgres(url: string, outFile: string): Promise<void> {
  const target = libpqTarget(url);
  await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${outFile}`, ...(target.schema ? [`--schema=${target.schema}`] : [])], target.env);
}

/**
 * Extensions the schema uses but a dump of one schema does not carry (they live in `public`):
 * pg_trgm for the user-search indexes (migrations/0012-indexes.ts). Created before a restore
 * where the server has them; where it does not, the migration made no such index either.
 */
const EXTENSIONS_OUTSIDE_THE_SCHEMA = ['pg_trgm'];

async function ensureExtensions(url: string): Promise<void> {
  const client = new (pgDriver().Client)({ connectionString: withoutOptions(url) });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>('select name from pg_available_extensions where name = any($1)', [EXTENSIONS_OUTSIDE_THE_SCHEMA]);
    for (const { name } of rows) await client.query(`create extension if not exists ${name} with schema public`);
  } finally {
    await client.end();
  }
}

/** pg_restore with --clean: what the dump holds replaces what is there. */
export async function restorePostgres(url: string, dumpFile: string): Promise<void> {
  await ensureExtensions(url);
  const target = libpqTarget(url);
  await run('pg_restore', ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--single-transaction', '--exit-on-error', `--dbname=${target.env.PGDATABASE || target.env.PGUSER || 'postgres'}`, dumpFile], target.env);
}

/**
 * Restores a dump into a new scratch database next to the configured one, hands it (read-only)
 * to `inspect`, and drops it again: the only way to look inside a pg_dump file is to restore it.
 */
export async function withScratchPostgresCopy<T>(url: string, dumpFile: string, inspect: (database: Database) => Promise<T>): Promise<T> {
  const name = `twofold_verify_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new (pgDriver().Client)({ connectionString: withoutOptions(url) });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  try {
    const scratchUrl = new URL(withoutOptions(url));
    scratchUrl.pathname = `/${name}`;
    await ensureExtensions(scratchUrl.toString());
    const target = libpqTarget(scratchUrl.toString());
    await run('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${name}`, dumpFile], target.env);
    const schema = await schemaHoldingMigrations(scratchUrl.toString());
    scratchUrl.searchParams.set('options', `-c search_path=${schema} -c default_transaction_read_only=on`);
    const database = connectPostgres({ url: scratchUrl.toString() });
    try {
      return await inspect(database);
    } finally {
      await database.close();
    }
  } finally {
    const cleanup = new (pgDriver().Client)({ connectionString: withoutOptions(url) });
    await cleanup.connect();
    try {
      await cleanup.query(`drop database if exists ${name} with (force)`);
    } finally {
      await cleanup.end();
    }
  }
}

function withoutOptions(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('options');
  return parsed.toString();
}

async function schemaHoldingMigrations(url: string): Promise<string> {
  const client = new (pgDriver().Client)({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ schema: string }>(
      "select table_schema as schema from information_schema.tables where table_name = 'twofold_migrations' order by table_schema limit 1",
    );
    if (!rows[0]) throw new Error('the dump holds no Twofold database (no twofold_migrations table)');
    return rows[0].schema;
  } finally {
    await client.end();
  }
}

