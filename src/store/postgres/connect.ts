import { hostname } from 'node:os';
import type pg from 'pg';
import { Kysely, sql } from 'kysely';
import type { Database } from '../database.js';
import type { Schema } from '../schema.js';
import { CommittedAuditFeed, watchAuditCommits } from '../committed-audit.js';
import { GuardedPostgresDialect } from './guarded-dialect.js';
import { pgDriver } from './pg-module.js';

const INT8_OID = 20;

/** How long a request waits for a connection (a new one, or a free one from a busy pool) before it gets 503. */
export const CONNECT_TIMEOUT_MS = 5_000;

export interface PostgresOptions {
  url: string;
  /** Schema to use instead of public (tests isolate themselves this way). */
  schema?: string;
  maxConnections?: number;
  /** How long a query waits for a connection, new or free (pg-pool's connectionTimeoutMillis): then 503. */
  connectTimeoutMs?: number;
  /**
   * The server cancels any statement running longer (SQLSTATE 57014, answered 503), so a few slow
   * requests cannot hold every connection; 0 turns it off. Migrations lift it for their own transaction.
   */
  statementTimeoutMs?: number;
  /**
   * Told about connections the server dropped while nobody was waiting on them (a restart, a
   * failover, an idle timeout). The pool discards them and connects again when next asked.
   * Default: one JSON log line on stderr.
   */
  onConnectionError?: (error: Error) => void;
}

export function connectPostgres(options: PostgresOptions): Database {
  const driver = pgDriver();
  const pool = new driver.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    // Fail fast while the database is away instead of queueing requests behind a dead server.
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    // Notice a peer that vanished without closing the connection (a failover, a dropped network).
    keepAlive: true,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    // Epoch-millisecond columns are bigint; they fit in a double, so read them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : driver.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  watchConnectionErrors(pool, options.onConnectionError ?? logConnectionError);
  const committedAudit = new CommittedAuditFeed();
  const db = new Kysely<Schema>({ dialect: watchAuditCommits(new GuardedPostgresDialect({ pool }), committedAudit) });
  const safeUrl = new URL(options.url);
  safeUrl.password = '';
  return {
    db,
    committedAudit,
    poolUse: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max }),
    dialect: 'postgres',
    describe: safeUrl.toString(),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

/**
 * An EventEmitter with no 'error' listener throws, and from a socket callback that ends the
 * process. When PostgreSQL restarts, every connection ends with an error: an idle one is emitted
 * on the pool, one checked out by a request on the client itself (the request's query fails as
 * well and is answered 503). Both are listened to here, so a restart costs requests, not the node.
 */
function watchConnectionErrors(pool: pg.Pool, report: (error: Error) => void): void {
  const reported = new WeakSet<Error>();
  const once = (error: Error) => {
    // An idle client's error reaches both its own listener and the pool's: tell it once.
    if (reported.has(error)) return;
    reported.add(error);
    try {
      report(error);
    } catch {
      // Reporting must never be what takes the process down.
    }
  };
  pool.on('error', once);
  pool.on('connect', (client) => client.on('error', once));
}

/** Several connections usually drop together: the first is logged, the rest counted into the next line. */
const QUIET_MS = 5_000;
let lastLoggedAt = 0;
let suppressed = 0;

function logConnectionError(error: Error): void {
  const now = Date.now();
  if (now - lastLoggedAt < QUIET_MS) {
    suppressed++;
    return;
  }
  lastLoggedAt = now;
  const code = (error as { code?: unknown }).code;
  const line = {
    level: 40,
    time: now,
    pid: process.pid,
    hostname: hostname(),
    msg: 'database connection lost; it is discarded and the pool reconnects on demand',
    err: { type: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) },
    ...(suppressed > 0 ? { alsoLost: suppressed } : {}),
  };
  suppressed = 0;
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
