import type { Kysely, Transaction } from 'kysely';
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
}
