import type { Kysely, Transaction } from 'kysely';
import type { CommittedAuditFeed } from './committed-audit.js';
import type { Schema } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

/** Either the pool or an open transaction: repositories accept both so callers own atomicity. */
export type Executor = Kysely<Schema> | Transaction<Schema>;

export interface Database {
  readonly db: Kysely<Schema>;
  readonly dialect: DialectName;
  /** Human-readable location for logs (file path or URL without password). */
  readonly describe: string;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Audit events once their transaction has committed (what the metrics count); absent on a read-only copy. */
  readonly committedAudit?: CommittedAuditFeed;
  /**
   * SQLite only: runs a read at once, synchronously, on the one connection, skipping Kysely's
   * connection queue; `undefined` when it cannot be done that way now (a transaction is open on
   * the connection, whose writes are not committed, or the file is busy), and the caller then
   * goes through Kysely. For the hottest reads only (the session check).
   */
  readNow?(sqlText: string, parameters: readonly unknown[]): Record<string, unknown>[] | undefined;
  /** The connection pool right now; absent where there is no pool (SQLite: one connection). */
  poolUse?(): PoolUse | null;
}

export interface PoolUse {
  /** Connections open, busy or idle. */
  total: number;
  idle: number;
  /** Requests waiting for a connection. */
  waiting: number;
  max: number;
}
