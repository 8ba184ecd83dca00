import type { SessionProofs } from '../core/oidc.js';
import type { Executor, User } from '../store/index.js';
import { factors, oidc, organisations, users } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { FactorService } from './factors.js';
import type { OidcClientView } from './oidc-clients.js';
import { toView } from './oidc-clients.js';
import type { AuthenticatedSession, SessionService } from './sessions.js';
import { mergeAmr } from '../core/flows/flow.js';
import type { Principal } from './principal.js';

export interface AccountClaims {
  sub: string;
  /** The person's organisation (always released, with `openid`): how an app tells tenants apart. */
  org_id: string;
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
    return (await factors.countHeldFactors(this.db, userId)) > 0;
  }

  /**
   * Whether an app may sign this person in: anyone, for an app open to everyone; otherwise only
   * people of the organisation that registered it or of one below it.
   */
  async admits(client: Pick<OidcClientView, 'orgId' | 'audience'>, user: Pick<User, 'org_id'>): Promise<boolean> {
    if (client.audience === 'everyone') return true;
    return (await organisations.ancestorIds(this.db, user.org_id)).includes(client.orgId);
  }

  /**
   * An active user's claims for the granted scopes, as released to one app; null for anyone who
   * may no longer sign in, or not to this app (so its tokens stop working for them too, if its
   * audience was narrowed or the person moved to another organisation).
   */
  async claims(userId: string, scopes: ReadonlySet<string>, clientId: string): Promise<AccountClaims | null> {
    const user = userId.length <= 64 ? await users.findUser(this.db, userId) : undefined;
    if (!user || user.status !== 'active') return null;
    const client = clientId.length <= 64 ? await oidc.findClient(this.db, clientId) : undefined;
    if (!client || !(await this.admits(toView(client), user))) return null;
    return {
      sub: user.id,
      org_id: user.org_id,
      // Addresses are set by an administrator (or the CLI), who vouches for them.
      ...(scopes.has('email') ? { email: user.email, email_verified: true } : {}),
      ...(scopes.has('profile') ? { name: user.display_name, zoneinfo: user.time_zone } : {}),
    };
  }

  /** Whether the person already agreed to share at least these scopes with this app. */
  async consentCovers(userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
    const row = await oidc.findConsent(this.db, userId, clientId);
    if (!row) return false;
    const granted = new Set(row.scopes);
    return scopes.every((s) => granted.has(s));
  }

  async recordConsent(user: Principal, clientId: string, scopes: readonly string[], meta: RequestMeta): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const existing = await oidc.findConsent(trx, user.id, clientId);
      const all = [...new Set([...(existing?.scopes ?? []), ...scopes])];
      const now = this.deps.clock();
      await oidc.saveConsent(trx, { user_id: user.id, client_id: clientId, scopes: all, granted_at: now });
      await recordAudit(trx, now, { type: 'oidc.consent_granted', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { clientId, scopes: [...scopes] } });
    });
  }

  /** An app got (or was refused) a sign-in: recorded with how the person authenticated. */
  async recordAuthorization(
    user: Principal,
    clientId: string,
    outcome: { granted: boolean; acr?: string; amr?: readonly string[]; scopes?: readonly string[]; reason?: string; refusal?: string },
    meta: RequestMeta,
  ): Promise<void> {
    await recordAudit(this.db, this.deps.clock(), {
      type: outcome.granted ? 'oidc.authorized' : 'oidc.denied',
      actorUserId: user.id,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { clientId, ...(outcome.acr ? { acr: outcome.acr } : {}), ...(outcome.amr ? { amr: [...outcome.amr] } : {}), ...(outcome.scopes ? { scopes: [...outcome.scopes] } : {}), ...(outcome.reason ? { reason: outcome.reason } : {}), ...(outcome.refusal ? { refusal: outcome.refusal } : {}) },
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
