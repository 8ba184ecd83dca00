import { createRequire } from 'node:module';
import type pg from 'pg';

const require = createRequire(import.meta.url);

/**
 * The pg driver, loaded on first use: a server on SQLite never needs it, and loading it costs
 * resident memory for the life of the process (about 8 MiB measured with the whole app).
 */
export function pgDriver(): typeof pg {
  return require('pg') as typeof pg;
}
