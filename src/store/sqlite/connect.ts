import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, sql } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase } from 'kysely';
import type { Database } from '../database.js';
import { CommittedAuditFeed, watchAuditCommits } from '../committed-audit.js';
import type { Schema } from '../schema.js';

/** How long a statement waits for another connection's write lock before giving up. */
const BUSY_WAIT_MS = 5000;

function isBusy(error: unknown): boolean {
  return typeof (error as { code?: unknown })?.code === 'string' && (error as { code: string }).code.startsWith('SQLITE_BUSY');
}

/**
 * Several nodes (processes, or runtimes in one process) may share the file. Two rules make
 * that safe:
 * - Transactions start with BEGIN IMMEDIATE, taking the write lock up front. A deferred BEGIN
 *   that reads and then writes fails at once with SQLITE_BUSY when another connection wrote
 *   in between; no waiting can save it.
 * - Waiting for the lock is asynchronous. better-sqlite3 is synchronous, so SQLite's own
 *   busy_timeout would block the event loop — including the one that holds the lock, when
 *   two connections live in one process. So busy_timeout is 0 and a busy statement that is not
 *   inside a transaction (BEGIN IMMEDIATE itself, or a lone statement) is retried after a timer.
 */
class SharedFileSqliteDriver extends SqliteDriver {
  constructor(private readonly native: BetterSqlite3.Database) {
    super({ database: withStatementCache(native) });
  }

  override async acquireConnection(): Promise<DatabaseConnection> {
    const inner = await super.acquireConnection();
    const native = this.native;
    return {
      async executeQuery(query) {
        const deadline = Date.now() + BUSY_WAIT_MS;
        for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
          try {
            return await inner.executeQuery(query);
          } catch (error) {
            if (!isBusy(error) || native.inTransaction || Date.now() >= deadline) throw error;
            await new Promise((resolve) => setTimeout(resolve, pause + Math.random() * pause));
          }
        }
      },
      streamQuery: (query, chunkSize) => inner.streamQuery(query, chunkSize),
    };
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** Distinct SQL texts are few (queries are built from code), so the cache stays small. */
const STATEMENT_CACHE_LIMIT = 1000;

/**
 * Kysely prepares every statement anew; preparing costs more than running the small indexed
 * queries this server makes. Keep prepared statements by SQL text instead.
 */
function withStatementCache(native: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => native.close(),
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (!statement) {
        if (cache.size >= STATEMENT_CACHE_LIMIT) cache.clear();
        statement = native.prepare(sqlText);
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
}

class SharedFileSqliteDialect extends SqliteDialect {
  constructor(private readonly native: BetterSqlite3.Database) {
    super({ database: native });
  }

  override createDriver(): Driver {
    return new SharedFileSqliteDriver(this.native);
  }
}

export function connectSqlite(file: string): Database {
  const native = new BetterSqlite3(file);
  // Opening is the one place SQLite's own blocking wait is right: another process closing the
  // file (its checkpoint) or opening it (WAL recovery) holds a lock for a moment, and with no
  // wait the journal_mode pragma fails at once with SQLITE_BUSY. Nothing else runs on this
  // connection yet, so blocking here holds up no transaction of ours.
  native.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  // WAL lets readers run beside the writer.
  native.pragma('journal_mode = WAL');
  native.prepare('select count(*) from sqlite_master').get();
  // From here lock waits are handled by the driver above.
  native.pragma('busy_timeout = 0');
  native.pragma('foreign_keys = ON');
  native.pragma('synchronous = NORMAL');
  const committedAudit = new CommittedAuditFeed();
  const db = new Kysely<Schema>({ dialect: watchAuditCommits(new SharedFileSqliteDialect(native), committedAudit) });
  const readStatements = new Map<string, BetterSqlite3.Statement>();
  return {
    db,
    committedAudit,
    dialect: 'sqlite',
    describe: file,
    // better-sqlite3 is synchronous, so a statement run here cannot interleave with another of
    // ours; only an open transaction (which holds the connection across awaits, uncommitted) can
    // be in the way, and then the caller waits its turn through Kysely like any other query.
    readNow(sqlText, parameters) {
      if (native.inTransaction) return undefined;
      let statement = readStatements.get(sqlText);
      if (!statement) {
        if (readStatements.size >= STATEMENT_CACHE_LIMIT) readStatements.clear();
        statement = native.prepare(sqlText);
        if (!statement.reader) throw new Error('readNow runs reads only');
        readStatements.set(sqlText, statement);
      }
      try {
        return statement.all(...parameters) as Record<string, unknown>[];
      } catch (error) {
        // Another process's lock (WAL recovery, a checkpoint): Kysely's path waits for it.
        if (isBusy(error)) return undefined;
        throw error;
      }
    },
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
