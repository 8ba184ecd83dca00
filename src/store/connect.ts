import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from './database.js';
import { connectPostgres } from './postgres/connect.js';
import { connectSqlite } from './sqlite/connect.js';

export interface StoreLocation {
  /** postgres:// or postgresql:// URL; anything else is refused. Absent: SQLite in dataDir. */
  databaseUrl?: string | undefined;
  dataDir: string;
  postgresSchema?: string;
  /** PostgreSQL pool limits (defaults in postgres/connect.ts). */
  pool?: { size?: number; acquireTimeoutMs?: number; statementTimeoutMs?: number };
}

export function connectDatabase(location: StoreLocation): Database {
  if (location.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(location.databaseUrl)) {
      throw new Error('TWOFOLD_DATABASE_URL must be a postgres:// URL');
    }
    const pool = location.pool ?? {};
    return connectPostgres({
      url: location.databaseUrl,
      ...(location.postgresSchema ? { schema: location.postgresSchema } : {}),
      ...(pool.size !== undefined ? { maxConnections: pool.size } : {}),
      ...(pool.acquireTimeoutMs !== undefined ? { connectTimeoutMs: pool.acquireTimeoutMs } : {}),
      ...(pool.statementTimeoutMs !== undefined ? { statementTimeoutMs: pool.statementTimeoutMs } : {}),
    });
  }
  mkdirSync(location.dataDir, { recursive: true });
  return connectSqlite(join(location.dataDir, 'twofold.sqlite'));
}
