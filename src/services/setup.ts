import { randomToken, sha256 } from '../core/crypto.js';
import { conflict, unauthenticated } from '../core/errors.js';
import { setupTokens, users } from '../store/index.js';
import { ADMIN_ROLE } from './accounts.js';
import type { AccountService } from './accounts.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { IssuedSession, SessionService } from './sessions.js';
import type { Principal } from './principal.js';

const SETUP_TOKEN_TTL_MS = 24 * 60 * 60_000;

export interface FirstAdmin {
  organisationName: string;
  email: string;
  displayName?: string | undefined;
  password: string;
  timeZone?: string | undefined;
}

/** First-run: an empty database gets a one-time link whose page creates the first admin. */
export class SetupService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly accounts: AccountService,
    private readonly sessions: SessionService,
  ) {}

  /** How many accounts exist: the first admin's checklist asks whether anyone else was added. */
  async peopleCount(): Promise<number> {
    return users.countUsers(this.deps.database.db);
  }

  async needsSetup(): Promise<boolean> {
    return (await users.countUsers(this.deps.database.db)) === 0;
  }

  /** A fresh link each start while nobody exists; earlier links stop working. */
  async issueSetupLink(): Promise<string | null> {
    if (!(await this.needsSetup())) return null;
    const token = randomToken(32);
    const now = this.deps.clock();
    await this.deps.database.db.transaction().execute((trx) => setupTokens.replaceSetupToken(trx, sha256(token), now, now + SETUP_TOKEN_TTL_MS));
    return `${this.deps.settings.publicUrl}/setup?token=${token}`;
  }

  async tokenIsValid(token: string): Promise<boolean> {
    return setupTokens.setupTokenIsValid(this.deps.database.db, sha256(token), this.deps.clock());
  }

  async completeSetup(token: string, admin: FirstAdmin, meta: RequestMeta): Promise<{ user: Principal; session: IssuedSession }> {
    const org = admin.organisationName;
    return this.deps.database.db.transaction().execute(async (trx) => {
      if ((await users.countUsers(trx)) > 0) throw conflict('setup_done', 'Setup has already been completed.');
      if (!(await setupTokens.consumeSetupToken(trx, sha256(token), this.deps.clock()))) {
        throw unauthenticated('setup_token_invalid', 'This setup link is not valid. Restart the server for a new one.');
      }
      const actor = { userId: null, meta };
      const organisation = await this.accounts.createOrganisation(org, null, actor, trx);
      const user = await this.accounts.createUser(
        { orgId: organisation.id, email: admin.email, password: admin.password, displayName: admin.displayName, timeZone: admin.timeZone, roles: [ADMIN_ROLE] },
        actor,
        trx,
      );
      const session = await this.sessions.issue(trx, user.id, ['pwd'], meta);
      await recordAudit(trx, this.deps.clock(), { type: 'setup.completed', actorUserId: user.id, subjectUserId: user.id, orgId: organisation.id, meta });
      return { user, session };
    });
  }
}
