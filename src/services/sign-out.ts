import { notFound } from '../core/errors.js';
import { sessions } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Principal, SessionPrincipal } from './principal.js';

export class SignOutService {
  constructor(private readonly deps: ServiceDeps) {}

  async signOut(user: Principal, session: SessionPrincipal, meta: RequestMeta): Promise<void> {
    await this.deps.database.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      await sessions.revokeSession(trx, session.id, now);
      await recordAudit(trx, now, { type: 'sign_out', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { sessionId: session.id } });
    });
  }

  /** Ends one of the user's own sessions (another device). */
  async revokeSession(user: Principal, sessionId: string, meta: RequestMeta): Promise<void> {
    await this.deps.database.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      const owned = (await sessions.listActiveSessions(trx, user.id, now, 0)).some((s) => s.id === sessionId);
      if (!owned || !(await sessions.revokeSession(trx, sessionId, now))) throw notFound('session_not_found', 'No such session.');
      await recordAudit(trx, now, { type: 'session.revoked', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { sessionId } });
    });
  }
}
