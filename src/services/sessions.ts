import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import type { Executor, Session } from '../store/index.js';
import { sessionOrigins, sessions } from '../store/index.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Remembered } from './devices.js';
import type { Principal, SessionPrincipal } from './principal.js';

export interface IssuedSession {
  /** The raw token: goes into the cookie and nowhere else. Only its hash is stored. */
  token: string;
  session: Session;
  /** For sessions that complete a sign-in: the device cookie to set (same token for a known device). */
  deviceToken?: string;
  /** For sessions that complete a sign-in: what the sign-in taught the device and location lists. */
  seen?: Remembered;
}

/**
 * What a request knows about who sent it: no password hash, no session token hash (see
 * principal.ts). Built by one query per request.
 */
export interface AuthenticatedSession {
  session: SessionPrincipal;
  user: Principal;
  amr: string[];
  /** Role names held directly or through a group, sorted. */
  roles: string[];
}

/** last_seen_at is written at most this often, so a session check is usually a pure read. */
const TOUCH_INTERVAL_MS = 60_000;

export class SessionService {
  constructor(private readonly deps: ServiceDeps) {}

  async issue(db: Executor, userId: string, amr: string[], meta: RequestMeta): Promise<IssuedSession> {
    const now = this.deps.clock();
    const token = randomToken(32);
    const session: Session = {
      id: randomUUID(),
      token_hash: sha256(token),
      user_id: userId,
      created_at: now,
      last_seen_at: now,
      expires_at: now + this.deps.settings.sessionMaxMs,
      ip: meta.ip,
      user_agent: meta.userAgent.slice(0, 512),
      amr,
      authenticated_at: now,
      // A passkey sign-in proves no password: re-authentication that wants one asks for it.
      password_at: amr.includes('pwd') ? now : null,
      second_factor_at: amr.some((m) => m !== 'pwd') ? now : null,
      revoked_at: null,
    };
    await sessions.insertSession(db, session);
    return { token, session };
  }

  /**
   * Notes the device and location a sign-in's session was opened from, in the sign-in's own
   * transaction, so blocking either later ends exactly the sessions opened there.
   */
  async recordOrigin(db: Executor, session: SessionPrincipal, seen: Pick<Remembered, 'deviceId' | 'locationId'>): Promise<void> {
    await sessionOrigins.insertSessionOrigin(db, { session_id: session.id, user_id: session.user_id, device_id: seen.deviceId, location_id: seen.locationId });
  }

  /** Resolves a cookie token to a live session, or null for anything expired, revoked or unknown. */
  async authenticate(token: string | undefined): Promise<AuthenticatedSession | null> {
    if (!token || token.length > 128) return null;
    const db = this.deps.database.db;
    const now = this.deps.clock();
    // One statement, read on every request: revocation and idle timeout hold at the next request on any node.
    const found = await sessions.findSessionLookup(db, sha256(token), this.deps.database);
    if (!found || !this.isLive(found.session, now)) return null;
    const { session, user, roles } = found;
    if (user.status !== 'active') return null;
    if (now - session.last_seen_at >= TOUCH_INTERVAL_MS) {
      await sessions.touchSession(db, session.id, now);
      session.last_seen_at = now;
    }
    return { session, user, amr: session.amr, roles };
  }

  isLive(session: SessionPrincipal, now: number): boolean {
    return (
      session.revoked_at === null &&
      session.expires_at > now &&
      session.last_seen_at + this.deps.settings.sessionIdleMs > now
    );
  }

  /**
   * Gives the session a new token after a privilege change (a factor proven, re-authentication),
   * so a token captured before the change is worthless after it.
   */
  async elevate(db: Executor, session: SessionPrincipal, amr: string[], proven: { password: boolean; secondFactor: boolean }): Promise<string> {
    const token = randomToken(32);
    const now = this.deps.clock();
    await sessions.updateSessionAuthentication(db, session.id, {
      tokenHash: sha256(token),
      amr,
      authenticatedAt: now,
      ...(proven.password ? { passwordAt: now } : {}),
      ...(proven.secondFactor ? { secondFactorAt: now } : {}),
    });
    return token;
  }

  async listActive(userId: string): Promise<Session[]> {
    const now = this.deps.clock();
    return sessions.listActiveSessions(this.deps.database.db, userId, now, now - this.deps.settings.sessionIdleMs);
  }
}
