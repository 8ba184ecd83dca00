import type pg from 'pg';
import { loadOnFirstUse } from '../../core/load-on-first-use.js';

/**
 * The pg driver, loaded on first use: a server on SQLite never needs it, and loading it costs
 * resident memory for the life of the process (about 8 MiB measured with the whole app).
 */
export function pgDriver(): typeof pg {
  return loadOnFirstUse<typeof pg>('pg');
}
