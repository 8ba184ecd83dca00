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
}

export function connectDatabase(location: StoreLocation): Database {
  if (location.databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(location.databaseUrl)) {
      throw new Error('TWOFOLD_DATABASE_URL must be a postgres:// URL');
    }
    return connectPostgres({ url: location.databaseUrl, ...(location.postgresSchema ? { schema: location.postgresSchema } : {}) });
  }
  mkdirSync(location.dataDir, { recursive: true });
  return connectSqlite(join(location.dataDir, 'twofold.sqlite'));
}
