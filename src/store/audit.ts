import type { Insertable } from 'kysely';
import type { Executor } from './database.js';
import type { AuditEvent, AuditEventRow, AuditEventTable } from './schema.js';

export type NewAuditEvent = Omit<Insertable<AuditEventTable>, 'details'> & { details: Record<string, unknown> };

function eventOf(row: AuditEventRow): AuditEvent {
  return { ...row, details: JSON.parse(row.details) as Record<string, unknown> };
}

export async function appendAuditEvent(db: Executor, event: NewAuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({ ...event, details: JSON.stringify(event.details) })
    .execute();
}

export type AuditScope =
  | { kind: 'user'; userId: string }
  | { kind: 'organisations'; orgIds: string[] }
  /** An organisation and every one below it, joined in SQL (a recursive CTE): no list of thousands of ids as parameters. */
  | { kind: 'tree'; rootOrgId: string };

export interface AuditQuery {
  scope: AuditScope;
  /** Return events with id below this (newest first paging). */
  beforeId?: number | undefined;
  eventTypes?: string[] | undefined;
  limit: number;
}

/** The ids of an organisation and of every one below it, as a subquery (one parameter, whatever the tree's size). */
function subtreeOf(db: Executor, rootOrgId: string) {
  return db
    .withRecursive('tree(id)', (qb) =>
      qb
        .selectFrom('organisations')
        .select('id')
        .where('id', '=', rootOrgId)
        .unionAll((r) => r.selectFrom('organisations as o').innerJoin('tree', 'tree.id', 'o.parent_id').select('o.id')),
    )
    .selectFrom('tree')
    .select('tree.id');
}

export async function listAuditEvents(db: Executor, query: AuditQuery): Promise<AuditEvent[]> {
  let q = db.selectFrom('audit_events').selectAll();
  if (query.scope.kind === 'user') {
    q = q.where('subject_user_id', '=', query.scope.userId);
  } else if (query.scope.kind === 'tree') {
    q = q.where('org_id', 'in', subtreeOf(db, query.scope.rootOrgId));
  } else {
    if (query.scope.orgIds.length === 0) return [];
    q = q.where('org_id', 'in', query.scope.orgIds);
  }
  if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
  if (query.eventTypes && query.eventTypes.length > 0) q = q.where('event_type', 'in', query.eventTypes);
  return (await q.orderBy('id', 'desc').limit(query.limit).execute()).map(eventOf);
}
