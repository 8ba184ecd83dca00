import { invalidInput } from '../core/errors.js';
import type { User } from '../store/index.js';
import { audit, organisations } from '../store/index.js';
import type { AccountService } from './accounts.js';
import type { AuditView } from './audit-log.js';
import { AUDIT_EVENT_TYPES, toAuditView } from './audit-log.js';
import type { ServiceDeps } from './context.js';

export interface AuditPage {
  events: AuditView[];
  nextCursor: string | null;
}

export interface AuditPageRequest {
  cursor?: string | undefined;
  limit?: number | undefined;
  types?: string[] | undefined;
  /** Admins may ask for their own events only. */
  scope?: 'self' | 'organisation' | undefined;
}

/** Admins read their organisation and everything below it; everyone else reads their own events. */
export class AuditQueryService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly accounts: AccountService,
  ) {}

  async page(viewer: User, request: AuditPageRequest): Promise<AuditPage> {
    const limit = request.limit ?? 50;
    const beforeId = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    for (const type of request.types ?? []) {
      if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) throw invalidInput('event_type_invalid', `Unknown event type "${type}".`);
    }
    const db = this.deps.database.db;
    const asAdmin = request.scope !== 'self' && (await this.accounts.isAdmin(viewer.id));
    const scope = asAdmin
      ? { kind: 'organisations' as const, orgIds: await organisations.subtreeIds(db, viewer.org_id) }
      : { kind: 'user' as const, userId: viewer.id };
    const rows = await audit.listAuditEvents(db, { scope, beforeId, eventTypes: request.types, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page.map(toAuditView), nextCursor: rows.length > limit && last ? encodeCursor(Number(last.id)) : null };
  }
}

function encodeCursor(id: number): string {
  return Buffer.from(`a:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^a:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match?.[1]) throw invalidInput('cursor_invalid', 'The cursor is not valid.');
  return Number(match[1]);
}
