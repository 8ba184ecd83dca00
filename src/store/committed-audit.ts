import type { CompiledQuery, DatabaseConnection, DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler, QueryResult, TransactionSettings } from 'kysely';

/** An audit event as written, handed to listeners once it is durable. */
export interface CommittedAuditEvent {
  type: string;
  details: Record<string, unknown>;
}

export type CommittedAuditListener = (event: CommittedAuditEvent) => void;

/**
 * Audit events that have committed. An audit row is written in the transaction that makes its
 * change, and that transaction may still roll back (a code spent together with a session that
 * cannot be written stays unspent, and so does its event). Counting at the insert would count
 * what never happened; this feed tells listeners at the commit, and forgets a rolled-back
 * transaction's events. An insert outside a transaction is committed when it returns.
 */
export class CommittedAuditFeed {
  readonly #listeners = new Set<CommittedAuditListener>();

  subscribe(listener: CommittedAuditListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(events: readonly CommittedAuditEvent[]): void {
    for (const event of events) {
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch {
          // A listener (metrics) must never fail the request whose change already committed.
        }
      }
    }
  }
}

/** Wraps a dialect so its driver reports committed audit inserts to `feed`. */
export function watchAuditCommits(dialect: Dialect, feed: CommittedAuditFeed): Dialect {
  return {
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createDriver: (): Driver => new WatchingDriver(dialect.createDriver(), feed),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector => dialect.createIntrospector(db),
  };
}

/**
 * The event an insert into audit_events carries, read from the query's own tree: column names
 * in order, and the parameters in the same order (the store inserts one row of plain values).
 */
function auditInsertOf(query: CompiledQuery): CommittedAuditEvent | null {
  const node = query.query as unknown as { kind?: string; into?: { table?: { identifier?: { name?: string } } }; columns?: { column: { name: string } }[] };
  if (node.kind !== 'InsertQueryNode' || node.into?.table?.identifier?.name !== 'audit_events' || !node.columns) return null;
  const names = node.columns.map((c) => c.column.name);
  const type = query.parameters[names.indexOf('event_type')];
  if (typeof type !== 'string' || query.parameters.length !== names.length) return null;
  const rawDetails = query.parameters[names.indexOf('details')];
  let details: Record<string, unknown> = {};
  try {
    details = typeof rawDetails === 'string' ? (JSON.parse(rawDetails) as Record<string, unknown>) : {};
  } catch {
    details = {};
  }
  return { type, details };
}

class WatchingConnection implements DatabaseConnection {
  /** Events inserted in the open transaction; null when no transaction is open. */
  pending: CommittedAuditEvent[] | null = null;

  constructor(
    readonly inner: DatabaseConnection,
    private readonly feed: CommittedAuditFeed,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.inner.executeQuery<R>(query);
    const event = auditInsertOf(query);
    if (event) {
      if (this.pending) this.pending.push(event);
      else this.feed.emit([event]);
    }
    return result;
  }

  streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize);
  }
}

function unwrap(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof WatchingConnection ? connection.inner : connection;
}

class WatchingDriver implements Driver {
  readonly #wrapped = new WeakMap<DatabaseConnection, WatchingConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly feed: CommittedAuditFeed,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let wrapped = this.#wrapped.get(connection);
    if (!wrapped) {
      wrapped = new WatchingConnection(connection, this.feed);
      this.#wrapped.set(connection, wrapped);
    }
    return wrapped;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(unwrap(connection), settings);
    if (connection instanceof WatchingConnection) connection.pending = [];
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const events = connection instanceof WatchingConnection ? connection.pending : null;
    if (connection instanceof WatchingConnection) connection.pending = null;
    await this.inner.commitTransaction(unwrap(connection));
    if (events) this.feed.emit(events);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (connection instanceof WatchingConnection) connection.pending = null;
    await this.inner.rollbackTransaction(unwrap(connection));
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.savepoint?.(unwrap(connection), name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.rollbackToSavepoint?.(unwrap(connection), name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.inner.releaseSavepoint?.(unwrap(connection), name, compile);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
