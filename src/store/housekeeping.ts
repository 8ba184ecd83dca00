import { sql } from 'kysely';
import type { DialectName, Executor } from './database.js';

/** The tables the housekeeping sweep keeps small, and the metric label for each. */
export const SWEPT_TABLES = ['sessions', 'sign_in_flows', 'one_time_codes', 'password_reset_tokens', 'invitations', 'rate_limits', 'audit_events', 'webauthn_challenges'] as const;
export type SweptTable = (typeof SWEPT_TABLES)[number];

export interface SweepCutoffs {
  nowMs: number;
  /** Sessions not seen since then are past the idle timeout: dead even before their expiry. */
  idleBeforeMs: number;
  /** Audit events that happened before then are past retention. */
  auditBeforeMs: number;
}

/**
 * Deletes at most `limit` dead rows of one table and says how many went. Every statement finds its
 * rows through an index (0012-indexes: the expiry columns) and deletes by primary key, so a batch
 * costs the same on a table of a hundred rows or of a hundred million. Dead means: past its
 * expiry (sessions also past the idle timeout, whether revoked or not), a rate-limit window that
 * has ended, an audit event past retention.
 */
export async function sweepBatch(db: Executor, table: SweptTable, cutoffs: SweepCutoffs, limit: number): Promise<number> {
  const deleted = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
  switch (table) {
    case 'sessions': {
      const expired = await db
        .deleteFrom('sessions')
        .where('id', 'in', db.selectFrom('sessions').select('id').where('expires_at', '<', cutoffs.nowMs).limit(limit))
        .executeTakeFirst();
      const left = limit - deleted(expired);
      if (left <= 0) return deleted(expired);
      const idle = await db
        .deleteFrom('sessions')
        .where('id', 'in', db.selectFrom('sessions').select('id').where('last_seen_at', '<', cutoffs.idleBeforeMs).limit(left))
        .executeTakeFirst();
      return deleted(expired) + deleted(idle);
    }
    case 'sign_in_flows':
      return deleted(
        await db.deleteFrom('sign_in_flows').where('id', 'in', db.selectFrom('sign_in_flows').select('id').where('expires_at', '<', cutoffs.nowMs).limit(limit)).executeTakeFirst(),
      );
    case 'one_time_codes':
      return deleted(
        await db.deleteFrom('one_time_codes').where('id', 'in', db.selectFrom('one_time_codes').select('id').where('expires_at', '<', cutoffs.nowMs).limit(limit)).executeTakeFirst(),
      );
    case 'password_reset_tokens':
      return deleted(
        await db
          .deleteFrom('password_reset_tokens')
          .where('token_hash', 'in', db.selectFrom('password_reset_tokens').select('token_hash').where('expires_at', '<', cutoffs.nowMs).limit(limit))
          .executeTakeFirst(),
      );
    case 'invitations':
      // Few rows, and the person stays (status invited) when their link is swept: the admin can send a new one.
      return deleted(
        await db.deleteFrom('invitations').where('token_hash', 'in', db.selectFrom('invitations').select('token_hash').where('expires_at', '<', cutoffs.nowMs).limit(limit)).executeTakeFirst(),
      );
    case 'webauthn_challenges':
      return deleted(
        await db.deleteFrom('webauthn_challenges').where('id', 'in', db.selectFrom('webauthn_challenges').select('id').where('expires_at', '<', cutoffs.nowMs).limit(limit)).executeTakeFirst(),
      );
    case 'rate_limits':
      return deleted(await db.deleteFrom('rate_limits').where('key', 'in', db.selectFrom('rate_limits').select('key').where('reset_at', '<', cutoffs.nowMs).limit(limit)).executeTakeFirst());
    case 'audit_events': {
      // Ids grow with time: look only at the `limit` oldest events and delete those past
      // retention. Once none is, the batch reads `limit` index entries and stops, instead of
      // searching the whole table for an old event that is not there.
      const oldest = db.selectFrom('audit_events').select(['id', 'occurred_at']).orderBy('id').limit(limit).as('oldest');
      return deleted(
        await db
          .deleteFrom('audit_events')
          .where('id', 'in', db.selectFrom(oldest).select('oldest.id').where('oldest.occurred_at', '<', cutoffs.auditBeforeMs))
          .executeTakeFirst(),
      );
    }
  }
}

/**
 * One node sweeps at a time: on PostgreSQL a transaction-scoped advisory lock taken without
 * waiting (another node holding it means this one skips the batch); SQLite has one writer anyway.
 */
export async function trySweepLock(db: Executor, dialect: DialectName): Promise<boolean> {
  if (dialect !== 'postgres') return true;
  const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtext('twofold:housekeeping')) as locked`.execute(db);
  return rows[0]?.locked === true;
}
