import { decodeCursor, encodeCursor } from '../core/cursor.js';
import { invalidInput } from '../core/errors.js';
import { audit } from '../store/index.js';
import type { AccountService } from './accounts.js';
import type { Actor } from './actor.js';
import { personOf } from './actor.js';
import type { AuditView } from './audit-log.js';
import { AUDIT_EVENT_TYPES, toAuditView } from './audit-log.js';
import type { ServiceDeps } from './context.js';
import { requireSudoAdmin } from './step-up.js';

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

/**
 * Admins read their organisation and everything below it; everyone else reads their own events.
 * The organisation view reaches other people's events, so it needs sudo (checked here, as on
 * the admin pages); one's own events need nothing more than being signed in.
 */
export class AuditQueryService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly accounts: AccountService,
  ) {}

  async page(actor: Actor, request: AuditPageRequest): Promise<AuditPage> {
    const viewer = personOf(actor);
    const db = this.deps.database.db;
    const asAdmin = request.scope !== 'self' && (await this.accounts.isAdmin(viewer.id));
    if (asAdmin) await requireSudoAdmin(this.deps, actor);
    const limit = request.limit ?? 50;
    const beforeId = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
    for (const type of request.types ?? []) {
      if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(type)) throw invalidInput('event_type_invalid', `Unknown event type "${type}".`);
    }
    const scope = asAdmin
      ? { kind: 'tree' as const, rootOrgId: viewer.org_id }
      : { kind: 'user' as const, userId: viewer.id };
    const rows = await audit.listAuditEvents(db, { scope, beforeId, eventTypes: request.types, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return { events: page.map(toAuditView), nextCursor: rows.length > limit && last ? encodeCursor(Number(last.id)) : null };
  }
}
