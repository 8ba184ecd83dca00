/**
 * Backup, restore and the check of a backup, for both databases. What the commands print is
 * the CLI's business; this returns what happened and throws BackupError with one clear sentence.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { SecretBox } from '../core/crypto.js';
import { isTwofoldError } from '../core/errors.js';
import type { Database, SealedColumn } from '../store/index.js';
import { MIGRATIONS, backups, connectDatabase, sealedColumns } from '../store/index.js';
import { loadSecretKey } from './bootstrap.js';
import { parseAcceptedKeys } from './key-ring.js';
import { contextOfCell } from './secret-contexts.js';

export class BackupError extends Error {}

/** Sealed values opened per column when a backup is checked: enough to catch a wrong key, bounded for big tables. */
const SAMPLE_PER_COLUMN = 1000;

const PG_DUMP_BY_HAND =
  'pg_dump --format=custom --no-owner --file=twofold.dump "$TWOFOLD_DATABASE_URL" (restore with pg_restore --clean --if-exists --no-owner --dbname="$TWOFOLD_DATABASE_URL" twofold.dump)';

function sqliteFile(config: Config): string {
  return backups.sqliteFileIn(config.dataDir);
}

function toolMissing(error: unknown, tool: string): never {
  if (error instanceof backups.ToolMissingError) {
    throw new BackupError(`${tool} is not on the PATH: install the PostgreSQL client tools (the server's major version or newer), or by hand: ${PG_DUMP_BY_HAND}`);
  }
  throw error;
}

export interface BackupResult {
  format: backups.BackupFormat;
  file: string;
}

/** A consistent copy while the server runs. Never overwrites a file. */
export async function makeBackup(config: Config, outFile: string): Promise<BackupResult> {
  if (existsSync(outFile)) throw new BackupError(`${outFile} already exists: name a new file`);
  if (config.databaseUrl) {
    await backups.backupPostgres(config.databaseUrl, outFile).catch((error: unknown) => toolMissing(error, 'pg_dump'));
    return { format: 'pg_dump', file: outFile };
  }
  const source = sqliteFile(config);
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source} (check TWOFOLD_DATA_DIR)`);
  await backups.backupSqlite(source, outFile);
  return { format: 'sqlite', file: outFile };
}

function formatOf(file: string): backups.BackupFormat {
  if (!existsSync(file)) throw new BackupError(`${file} does not exist`);
  const format = backups.backupFormatOf(file);
  if (!format) throw new BackupError(`${file} is neither a Twofold SQLite backup nor a pg_dump custom-format file`);
  return format;
}

/** Replaces the configured database with a backup; refuses to replace one that holds data unless `force`. */
export async function restoreBackup(config: Config, fromFile: string, options: { force: boolean }): Promise<BackupResult> {
  const format = formatOf(fromFile);
  const wanted = config.databaseUrl ? 'pg_dump' : 'sqlite';
  if (format !== wanted) {
    throw new BackupError(`${fromFile} is a ${format === 'sqlite' ? 'SQLite' : 'pg_dump'} backup but the configured database is ${wanted === 'sqlite' ? 'SQLite' : 'PostgreSQL'}`);
  }
  if (format === 'sqlite') {
    // Before anything is replaced: a backup the configured key cannot open would restore a server that cannot sign anyone in.
    const check = await verifyBackup(config, fromFile);
    if (!check.ok) throw new BackupError(`not restoring ${fromFile}: ${check.problems.join('; ')}`);
  }
  if (config.databaseUrl || existsSync(sqliteFile(config))) {
    const target = connectDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      if ((await backups.holdsData(target.db)) && !options.force) {
        throw new BackupError(`the database at ${target.describe} is not empty: pass --force to replace it with the backup`);
      }
    } finally {
      await target.close();
    }
  }
  if (config.databaseUrl) {
    await backups.restorePostgres(config.databaseUrl, fromFile).catch((error: unknown) => toolMissing(error, 'pg_restore'));
  } else {
    await backups.restoreSqlite(fromFile, sqliteFile(config));
  }
  return { format, file: fromFile };
}

export interface SealedCheck {
  column: SealedColumn;
  total: number;
  checked: number;
  failed: number;
}

export interface BackupReport {
  ok: boolean;
  format: backups.BackupFormat;
  problems: string[];
  schema: { latest: string | null; expected: string; missing: string[]; unknown: string[] };
  sealed: SealedCheck[];
  holdings: backups.Holdings | null;
}

/** The keys the configuration names, without making a key file when there is none. */
function configuredBox(config: Config): SecretBox {
  if (!config.secretKey && !existsSync(join(config.dataDir, 'secret.key'))) {
    throw new BackupError('no secret key is configured: set TWOFOLD_SECRET_KEY (or TWOFOLD_DATA_DIR to where secret.key is)');
  }
  return new SecretBox({ current: loadSecretKey(config), accepted: parseAcceptedKeys(config.acceptedSecretKeys) });
}

async function inspect(database: Database, box: SecretBox, format: backups.BackupFormat, now: number): Promise<BackupReport> {
  const problems: string[] = [];
  const expectedNames = MIGRATIONS.map((m) => m.name);
  let applied: string[] = [];
  try {
    applied = await backups.appliedMigrationNames(database.db);
  } catch {
    problems.push('it holds no Twofold schema (no migrations table)');
  }
  const missing = expectedNames.filter((n) => !applied.includes(n));
  const unknown = applied.filter((n) => !expectedNames.includes(n));
  if (unknown.length) problems.push(`it was made by a newer Twofold (migrations ${unknown.join(', ')} are unknown here)`);
  if (applied.length && missing.length) problems.push(`its schema is not the latest (missing ${missing.join(', ')})`);
  const sealed: SealedCheck[] = [];
  let holdings: backups.Holdings | null = null;
  if (applied.length) {
    for (const column of sealedColumns.SEALED_COLUMNS) {
      const total = await sealedColumns.countCells(database.db, column);
      const cells = await sealedColumns.listCells(database.db, column, { limit: SAMPLE_PER_COLUMN });
      let failed = 0;
      for (const cell of cells) {
        try {
          box.decrypt(cell.sealed, contextOfCell(cell.ref));
        } catch (error) {
          if (!isTwofoldError(error)) throw error;
          failed++;
        }
      }
      sealed.push({ column, total, checked: cells.length, failed });
      if (failed) problems.push(`${failed} of ${cells.length} ${column} values checked do not open with the configured key`);
    }
    holdings = await backups.countHoldings(database.db, now);
  }
  return {
    ok: problems.length === 0,
    format,
    problems,
    schema: { latest: applied.at(-1) ?? null, expected: expectedNames.at(-1) ?? '', missing, unknown },
    sealed,
    holdings,
  };
}

/**
 * Opens a copy read-only (a SQLite file directly; a pg_dump restored into a scratch database
 * that is dropped afterwards) and checks it: schema version, every kind of sealed value against
 * the configured key, and what it holds.
 */
export async function verifyBackup(config: Config, file: string, now: number = Date.now()): Promise<BackupReport> {
  const format = formatOf(file);
  const box = configuredBox(config);
  if (format === 'sqlite') {
    const database = backups.openSqliteReadOnly(file);
    try {
      return await inspect(database, box, format, now);
    } finally {
      await database.close();
    }
  }
  if (!config.databaseUrl) {
    throw new BackupError('checking a pg_dump file restores it into a scratch database: set TWOFOLD_DATABASE_URL to a PostgreSQL server where this role may create databases');
  }
  try {
    return await backups.withScratchPostgresCopy(config.databaseUrl, file, (database) => inspect(database, box, format, now));
  } catch (error) {
    return toolMissing(error, 'pg_restore');
  }
}
