import { PostgresDialect } from 'kysely';
import type { CompiledQuery, DatabaseConnection, DatabaseIntrospector, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';
import { translateConnectionFailure } from './errors.js';
import { CurrentSchemaIntrospector } from './schema-introspector.js';

/**
 * Kysely's PostgreSQL dialect, with every failure to reach the database (refused, dropped,
 * shut down, timed out) turned into a `database_unavailable` error, so callers see one domain
 * error instead of pg's many shapes. Query errors (constraints, syntax) pass through unchanged.
 * Its introspector (what the migrator asks) reads only Twofold's own schema.
 */
export class GuardedPostgresDialect extends PostgresDialect {
  override createDriver(): Driver {
    return new GuardedDriver(super.createDriver());
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    return translateConnectionFailure(error);
  }
}

class GuardedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return guard(() => this.inner.executeQuery<R>(compiledQuery));
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (error) {
      translateConnectionFailure(error);
    }
  }
}

/** The inner driver gets its own connection objects back: it keeps private state on them. */
function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof GuardedConnection ? connection.inner : connection;
}

class GuardedDriver implements Driver {
  /** One wrapper per pooled connection, so Kysely sees the same object each time it gets it back. */
  readonly #wrapped = new WeakMap<DatabaseConnection, GuardedConnection>();

  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return guard(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await guard(() => this.inner.acquireConnection());
    let wrapped = this.#wrapped.get(connection);
    if (!wrapped) {
      wrapped = new GuardedConnection(connection);
      this.#wrapped.set(connection, wrapped);
    }
    return wrapped;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guard(() => this.inner.beginTransaction(unwrap(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return guard(() => this.inner.commitTransaction(unwrap(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return guard(() => this.inner.rollbackTransaction(unwrap(connection)));
  }

  async savepoint(connection: DatabaseConnection, savepointName: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await guard(async () => this.inner.savepoint?.(unwrap(connection), savepointName, compileQuery));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, savepointName: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await guard(async () => this.inner.rollbackToSavepoint?.(unwrap(connection), savepointName, compileQuery));
  }

  async releaseSavepoint(connection: DatabaseConnection, savepointName: string, compileQuery: QueryCompiler['compileQuery']): Promise<void> {
    await guard(async () => this.inner.releaseSavepoint?.(unwrap(connection), savepointName, compileQuery));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
