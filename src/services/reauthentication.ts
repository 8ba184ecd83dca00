import { forbidden, invalidInput, notFound, unauthenticated } from '../core/errors.js';
import type { Executor, Session, User } from '../store/index.js';
import { factors } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { CodeSender, SentCode } from './messaging/code-sender.js';
import type { MethodCatalogue } from './methods.js';
import { verifyPassword } from './passwords.js';
import type { AttemptLimiter } from './rate-limiter.js';
import { SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_IP } from './rate-limiter.js';
import { reauthCodeScope } from './second-factor/delivered-code-strategy.js';
import type { SecondFactorVerifier } from './second-factor/verifier.js';
import type { SessionService } from './sessions.js';
import { mergeAmr } from './sign-in.js';
import type { Actor } from './actor.js';
import { sessionActor } from './actor.js';
import type { MissingProof } from './step-up.js';
import { missingAdminProofs, missingProofToChangeFactors, requireSudoAdmin } from './step-up.js';

/** A password, a code, or both at once (what admin areas ask of users who hold a factor). */
export interface ReauthProof {
  password?: string | undefined;
  method?: string | undefined;
  code?: string | undefined;
}

/**
 * "Sudo mode". Users' own sensitive actions need a password or a current code proven in the
 * last few minutes (`requireRecentReauth`); admin areas need the password and, when the admin
 * holds a factor, a current second factor as well. The admin use cases check that themselves
 * (requireSudoAdmin in step-up.ts); `requireAdminSudo` is the same check, for a page that wants
 * to answer early (send a stale admin to confirm) before calling one.
 */
export class ReauthenticationService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly sessions: SessionService,
    private readonly verifier: SecondFactorVerifier,
    private readonly limiter: AttemptLimiter,
    private readonly codes: CodeSender,
    private readonly methods: MethodCatalogue,
  ) {}

  requireRecentReauth(session: Session): void {
    if (this.deps.clock() - session.authenticated_at > this.deps.settings.reauthMs) {
      throw forbidden('reauthentication_required', 'Confirm it is you: enter your password or a current code, then try again.');
    }
  }

  /** Whether this session may add or remove a factor now (see step-up.ts). */
  async canChangeFactors(auth: { user: User; session: Session }): Promise<boolean> {
    return (await missingProofToChangeFactors(this.deps, sessionActor(auth))) === null;
  }

  /** What an admin still has to prove before an admin action; empty when nothing. The re-authentication page asks for it. */
  async missingAdminProofs(user: User, session: Session): Promise<MissingProof[]> {
    return missingAdminProofs(this.deps, user, session);
  }

  /** The admin pages' early check, requireSudoAdmin itself (role, then sudo), so a stale admin is sent to confirm first; the services check again. */
  async requireAdminSudo(actor: Actor): Promise<User> {
    return requireSudoAdmin(this.deps, actor);
  }

  /** Sends a code to re-authenticate with, by text message or email; it is good for this session only. */
  async sendCode(auth: { user: User; session: Session }, method: string, meta: RequestMeta): Promise<SentCode> {
    const user = auth.user;
    if (method !== 'sms' && method !== 'email') throw invalidInput('method_not_sendable', 'Only text-message and email codes are sent.');
    await this.methods.assertUsable(user, method);
    const factor = (await factors.listActiveFactors(this.deps.database.db, user.id)).find((f) => f.type === method);
    if (!factor) throw notFound('factor_not_found', `You have no ${method === 'sms' ? 'phone number' : 'email'} factor.`);
    return this.codes.send({ user, factor, ...reauthCodeScope(auth.session.id, method) }, meta);
  }

  /**
   * Checks each proof given (password first, so a wrong password spends no code) and returns
   * the session's new token: proving a factor is a privilege change, so the id rotates.
   */
  async reauthenticate(user: User, session: Session, proof: ReauthProof, meta: RequestMeta): Promise<string> {
    const withCode = proof.method !== undefined && proof.code !== undefined;
    if (proof.password === undefined && !withCode) throw invalidInput('proof_required', 'Enter your password or a code.');
    if (proof.password !== undefined) await this.checkPassword(user, proof.password, meta);
    const db = this.deps.database.db;
    const finish = async (trx: Executor, amr: string[], methods: string[]) => {
      const token = await this.sessions.elevate(trx, session, amr, { password: proof.password !== undefined, secondFactor: withCode });
      await recordAudit(trx, this.deps.clock(), {
        type: 'reauthentication.succeeded',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { methods },
      });
      return token;
    };
    const amr = JSON.parse(session.amr) as string[];
    if (!withCode) return db.transaction().execute((trx) => finish(trx, amr, ['password']));
    return this.verifier.verify(user, proof.method ?? '', proof.code ?? '', meta, 'reauthentication', (trx, verified) =>
      finish(trx, mergeAmr(amr, verified.amr), [...(proof.password !== undefined ? ['password'] : []), verified.method]),
      (channel) => reauthCodeScope(session.id, channel),
    );
  }

  private async checkPassword(user: User, password: string, meta: RequestMeta): Promise<void> {
    const accountKey = `reauth:acct:${user.id}`;
    const ipKey = `signin:ip:${meta.ip}`;
    const reservation = await this.limiter.reserve(
      [
        [accountKey, SIGN_IN_PER_ACCOUNT],
        [ipKey, SIGN_IN_PER_IP],
      ],
      'too_many_attempts',
      'Too many failed attempts. Wait a while and try again.',
    );
    if (await verifyPassword(user.password_hash, password)) {
      await reservation.release();
      return;
    }
    await recordAudit(this.deps.database.db, this.deps.clock(), { type: 'reauthentication.failed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { method: 'password' } });
    throw unauthenticated('invalid_credentials', 'The password is not correct.');
  }
}
