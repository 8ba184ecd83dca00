import type { SessionProofs } from '../core/oidc.js';
import type { Executor, User } from '../store/index.js';
import { factors, oidc, users } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { FactorService } from './factors.js';
import type { AuthenticatedSession, SessionService } from './sessions.js';
import { mergeAmr } from './sign-in.js';

export interface AccountClaims {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  zoneinfo?: string;
}

/**
 * The Twofold side of signing someone in to an app: what their session proves, what the app
 * may learn about them, and what they agreed to share. The protocol itself is oidc-provider's.
 */
export class OidcSignInService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly sessions: SessionService,
    private readonly factorService: FactorService,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  proofsOf(auth: AuthenticatedSession): SessionProofs {
    const s = auth.session;
    return { passwordAt: s.password_at, secondFactorAt: s.second_factor_at, authenticatedAt: s.authenticated_at, amr: auth.amr };
  }

  async holdsFactor(userId: string): Promise<boolean> {
    return (await factors.countActiveFactors(this.db, userId)) > 0;
  }

  /** An active user's claims for the granted scopes; null for anyone who may no longer sign in. */
  async claims(userId: string, scopes: ReadonlySet<string>): Promise<AccountClaims | null> {
    const user = userId.length <= 64 ? await users.findUser(this.db, userId) : undefined;
    if (!user || user.status !== 'active') return null;
    return {
      sub: user.id,
      // Addresses are set by an administrator (or the CLI), who vouches for them.
      ...(scopes.has('email') ? { email: user.email, email_verified: true } : {}),
      ...(scopes.has('profile') ? { name: user.display_name, zoneinfo: user.time_zone } : {}),
    };
  }

  /** Whether the person already agreed to share at least these scopes with this app. */
  async consentCovers(userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
    const row = await oidc.findConsent(this.db, userId, clientId);
    if (!row) return false;
    const granted = new Set(JSON.parse(row.scopes) as string[]);
    return scopes.every((s) => granted.has(s));
  }

  async recordConsent(user: User, clientId: string, scopes: readonly string[], meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const existing = await oidc.findConsent(trx, user.id, clientId);
      const all = [...new Set([...(existing ? (JSON.parse(existing.scopes) as string[]) : []), ...scopes])];
      const now = this.deps.clock();
      await oidc.saveConsent(trx, { user_id: user.id, client_id: clientId, scopes: JSON.stringify(all), granted_at: now });
      await recordAudit(trx, now, { type: 'oidc.consent_granted', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { clientId, scopes: [...scopes] } });
    });
  }

  /** An app got (or was refused) a sign-in: recorded with how the person authenticated. */
  async recordAuthorization(user: User, clientId: string, outcome: { granted: boolean; acr?: string; amr?: readonly string[]; scopes?: readonly string[]; reason?: string }, meta: RequestMeta): Promise<void> {
    await recordAudit(this.db, this.deps.clock(), {
      type: outcome.granted ? 'oidc.authorized' : 'oidc.denied',
      actorUserId: user.id,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { clientId, ...(outcome.acr ? { acr: outcome.acr } : {}), ...(outcome.amr ? { amr: [...outcome.amr] } : {}), ...(outcome.scopes ? { scopes: [...outcome.scopes] } : {}), ...(outcome.reason ? { reason: outcome.reason } : {}) },
    });
  }

  /**
   * Confirms an authenticator added because an app requires a second factor. The valid code is
   * a second factor proven now, so the session is elevated in the same transaction (its id
   * rotates, like any proof); returns the new session token and, for a first factor, backup codes.
   */
  async confirmTotp(auth: AuthenticatedSession, factorId: string, code: string, meta: RequestMeta): Promise<{ token: string; backupCodes: string[] }> {
    let token: string | undefined;
    const elevate = async (trx: Executor) => {
      token = await this.sessions.elevate(trx, auth.session, mergeAmr(auth.amr, ['otp']), { password: false, secondFactor: true });
    };
    const confirmed = await this.factorService.confirmTotp(auth.user, factorId, code, meta, elevate);
    if (!token) throw new Error('authenticator confirmed without elevating the session');
    return { token, backupCodes: confirmed.backupCodes ?? [] };
  }
}
