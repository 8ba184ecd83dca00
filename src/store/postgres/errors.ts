import { TwofoldError } from '../../core/errors.js';

/**
 * Failures that mean "the database is not reachable right now" rather than "this query is wrong":
 * the server refused or dropped the connection, is shutting down or starting up, or the pool
 * could not hand out a connection in time. Requests that hit one are answered 503
 * `database_unavailable`; the pool replaces the broken connections by itself.
 */

/** Node socket errors on connect, read or write. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'ENOTFOUND', 'EAI_AGAIN', 'ENOENT']);

/**
 * SQLSTATEs: admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, and
 * query_canceled (57014: statement_timeout cancelled it; the database is too busy for this request
 * right now, which a client should hear as 503, not 500). Class 08 is handled apart.
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/** What pg and pg-pool say when a connection ends or cannot be had (they carry no code). */
const MESSAGES = [
  /^Connection terminated/i, // "... unexpectedly", "... due to connection timeout", plain
  /^timeout exceeded when trying to connect/i,
  /not queryable/i, // "Client has encountered a connection error and is not queryable", "Client was closed ..."
  /^Postgres connection has been discarded/i, // Kysely, after a failed rollback on a dead connection
];

export function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 4) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  // Node reports a refused connect to several addresses (localhost: ::1 and 127.0.0.1) as an AggregateError.
  if (error instanceof AggregateError && error.errors.some((e) => isConnectionFailure(e, depth + 1))) return true;
  return error.cause !== undefined && isConnectionFailure(error.cause, depth + 1);
}

export const DATABASE_UNAVAILABLE = 'database_unavailable';

/** Seconds a client is told to wait (Retry-After) before trying again. */
const RETRY_AFTER_SECONDS = 5;

/** The domain error for a connection failure: kind `unavailable` (503), the driver's error kept as `cause` for the logs. */
export function databaseUnavailable(cause: unknown): TwofoldError {
  const error = new TwofoldError('unavailable', DATABASE_UNAVAILABLE, 'The database is not reachable right now. Try again in a moment.', {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
  error.cause = cause;
  return error;
}

/** Rethrows a connection failure as `database_unavailable`; any other error unchanged. */
export function translateConnectionFailure(error: unknown): never {
  if (error instanceof TwofoldError) throw error;
  throw isConnectionFailure(error) ? databaseUnavailable(error) : error;
}
