import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import { notFound } from '../core/errors.js';
import type { Executor, TrustedBrowser } from '../store/index.js';
import { trustedBrowsers } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Principal } from './principal.js';

export interface IssuedTrust {
  token: string;
  expiresAt: number;
}

const DAY_MS = 24 * 60 * 60_000;

/** "Trust this browser": a long random token in its own cookie, hashed at rest, bound to one user. */
export class TrustedBrowserService {
  constructor(private readonly deps: ServiceDeps) {}

  get enabled(): boolean {
    return this.deps.settings.trustBrowserDays > 0;
  }

  /** `days` is the user's effective policy lifetime (never longer than the server's setting). */
  async issue(trx: Executor, user: Principal, meta: RequestMeta, days = this.deps.settings.trustBrowserDays): Promise<IssuedTrust | null> {
    if (!this.enabled || days <= 0) return null;
    const now = this.deps.clock();
    const token = randomToken(32);
    const expiresAt = now + Math.min(days, this.deps.settings.trustBrowserDays) * DAY_MS;
    const browser: TrustedBrowser = {
      id: randomUUID(),
      user_id: user.id,
      token_hash: sha256(token),
      user_agent: meta.userAgent.slice(0, 512),
      ip: meta.ip,
      created_at: now,
      expires_at: expiresAt,
      last_used_at: null,
      revoked_at: null,
    };
    await trustedBrowsers.insertTrustedBrowser(trx, browser);
    await recordAudit(trx, now, {
      type: 'trusted_browser.created',
      actorUserId: user.id,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { trustedBrowserId: browser.id, expiresAt: new Date(expiresAt).toISOString() },
    });
    return { token, expiresAt };
  }

  /** The trusted-browser record matching this cookie for this user, if still valid. */
  /**
   * The trusted-browser record matching this cookie for this user, if still valid under the
   * current policy: an organisation that shortens the lifetime, or turns trust off (0 days),
   * shortens or ends trust already given.
   */
  async recognise(user: Principal, token: string | undefined, maxDays = this.deps.settings.trustBrowserDays): Promise<TrustedBrowser | null> {
    if (!this.enabled || maxDays <= 0 || !token || token.length > 128) return null;
    const now = this.deps.clock();
    const found = await trustedBrowsers.findValidTrustedBrowser(this.deps.database.db, user.id, sha256(token), now);
    if (!found || found.created_at + maxDays * DAY_MS <= now) return null;
    return found;
  }

  async markUsed(id: string): Promise<void> {
    await trustedBrowsers.markTrustedBrowserUsed(this.deps.database.db, id, this.deps.clock());
  }

  async list(userId: string): Promise<TrustedBrowser[]> {
    return trustedBrowsers.listTrustedBrowsers(this.deps.database.db, userId, this.deps.clock());
  }

  async revoke(user: Principal, id: string, meta: RequestMeta): Promise<void> {
    await this.deps.database.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      if (!(await trustedBrowsers.revokeTrustedBrowser(trx, user.id, id, now))) {
        throw notFound('trusted_browser_not_found', 'No such trusted browser.');
      }
      await recordAudit(trx, now, { type: 'trusted_browser.revoked', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { trustedBrowserId: id } });
    });
  }
}
