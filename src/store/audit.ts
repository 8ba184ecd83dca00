import type { Insertable } from 'kysely';
import type { Executor } from './database.js';
import type { AuditEvent, AuditEventTable } from './schema.js';

export async function appendAuditEvent(db: Executor, event: Insertable<AuditEventTable>): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

export type AuditScope = { kind: 'user'; userId: string } | { kind: 'organisations'; orgIds: string[] };

export interface AuditQuery {
  scope: AuditScope;
  /** Return events with id below this (newest first paging). */
  beforeId?: number | undefined;
  eventTypes?: string[] | undefined;
  limit: number;
}

export async function listAuditEvents(db: Executor, query: AuditQuery): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll();
  if (query.scope.kind === 'user') {
    q = q.where('subject_user_id', '=', query.scope.userId);
  } else {
    if (query.scope.orgIds.length === 0) return [];
    q = q.where('org_id', 'in', query.scope.orgIds);
  }
  if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
  if (query.eventTypes && query.eventTypes.length > 0) q = q.where('event_type', 'in', query.eventTypes);
  return q.orderBy('id', 'desc').limit(query.limit).execute();
}
