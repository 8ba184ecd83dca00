import { forbidden, invalidInput, notFound, unauthenticated } from '../core/errors.js';
import { factors } from '../store/index.js';
import type { CodeSender, SentCode } from './messaging/code-sender.js';
import type { MethodCatalogue } from './methods.js';
import { reauthCodeScope } from './second-factor/delivered-code-strategy.js';
import type { Session, User } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { verifyPassword } from './passwords.js';
import type { FailureLimiter } from './rate-limiter.js';
import { SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_IP } from './rate-limiter.js';
import type { SecondFactorVerifier } from './second-factor/verifier.js';
import { mergeAmr } from './sign-in.js';
import type { SessionService } from './sessions.js';

export type ReauthProof = { password: string } | { method: string; code: string };

/**
 * "Sudo mode": sensitive actions need a password or a current code proven in the last few
 * minutes. One guard, `requireRecentReauth`, is what every such route calls.
 */
export class ReauthenticationService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly sessions: SessionService,
    private readonly verifier: SecondFactorVerifier,
    private readonly limiter: FailureLimiter,
    private readonly codes: CodeSender,
    private readonly methods: MethodCatalogue,
  ) {}

  /** Sends a code to re-authenticate with, by text message or email. */
  async sendCode(user: User, method: string, meta: RequestMeta): Promise<SentCode> {
    if (method !== 'sms' && method !== 'email') throw invalidInput('method_not_sendable', 'Only text-message and email codes are sent.');
    await this.methods.assertUsable(user, method);
    const factor = (await factors.listActiveFactors(this.deps.database.db, user.id)).find((f) => f.type === method);
    if (!factor) throw notFound('factor_not_found', `You have no ${method === 'sms' ? 'phone number' : 'email'} factor.`);
    return this.codes.send({ user, factor, ...reauthCodeScope(method) }, meta);
  }

  requireRecentReauth(session: Session): void {
    if (this.deps.clock() - session.authenticated_at > this.deps.settings.reauthMs) {
      throw forbidden('reauthentication_required', 'Confirm it is you: enter your password or a current code, then try again.');
    }
  }

  /** Returns the session's new token: proving a factor is a privilege change, so the id rotates. */
  async reauthenticate(user: User, session: Session, proof: ReauthProof, meta: RequestMeta): Promise<string> {
    if ('password' in proof) return this.withPassword(user, session, proof.password, meta);
    return this.verifier.verify(user, proof.method, proof.code, meta, 'reauthentication', async (trx, verified) => {
      const amr = mergeAmr(JSON.parse(session.amr) as string[], verified.amr);
      const token = await this.sessions.elevate(trx, session, amr);
      await recordAudit(trx, this.deps.clock(), {
        type: 'reauthentication.succeeded',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { method: verified.method },
      });
      return token;
    });
  }

  private async withPassword(user: User, session: Session, password: string, meta: RequestMeta): Promise<string> {
    const accountKey = `reauth:acct:${user.id}`;
    const ipKey = `signin:ip:${meta.ip}`;
    await this.limiter.assertAllowed(
      [
        [accountKey, SIGN_IN_PER_ACCOUNT],
        [ipKey, SIGN_IN_PER_IP],
      ],
      'too_many_attempts',
      'Too many failed attempts. Wait a while and try again.',
    );
    const ok = await verifyPassword(user.password_hash, password);
    const db = this.deps.database.db;
    if (!ok) {
      await db.transaction().execute(async (trx) => {
        await this.limiter.recordFailure(accountKey, SIGN_IN_PER_ACCOUNT, trx);
        await this.limiter.recordFailure(ipKey, SIGN_IN_PER_IP, trx);
        await recordAudit(trx, this.deps.clock(), { type: 'reauthentication.failed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { method: 'password' } });
      });
      throw unauthenticated('invalid_credentials', 'The password is not correct.');
    }
    await this.limiter.reset(accountKey);
    return db.transaction().execute(async (trx) => {
      const token = await this.sessions.elevate(trx, session, JSON.parse(session.amr) as string[]);
      await recordAudit(trx, this.deps.clock(), { type: 'reauthentication.succeeded', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { method: 'password' } });
      return token;
    });
  }
}
