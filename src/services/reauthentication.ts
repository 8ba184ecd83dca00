import { invalidInput, notFound, unauthenticated } from '../core/errors.js';
import type { Executor } from '../store/index.js';
import { backupCodes, factors } from '../store/index.js';
import type { SecondFactorMethod } from '../core/flows/sign-in.js';
import { offeredMethods } from '../core/flows/sign-in.js';
import type { StepUpFlow } from '../core/flows/step-up.js';
import { stepUpFlow } from '../core/flows/step-up.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { CodeSender, SentCode } from './messaging/code-sender.js';
import type { MethodCatalogue } from './methods.js';
import { verifyPassword } from './passwords.js';
import type { AttemptLimiter } from './rate-limiter.js';
import { SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_IP } from './rate-limiter.js';
import { reauthCodeScope } from './second-factor/delivered-code-strategy.js';
import type { SecondFactorProof, SecondFactorVerifier } from './second-factor/verifier.js';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { reauthBinding } from '../core/approval.js';
import type { ApprovalService, ApprovalStatus, StartedApproval } from './approvals/approvals.js';
import { PushStrategy } from './second-factor/push-strategy.js';
import { reauthChallengeScope } from './second-factor/webauthn-challenges.js';
import { WebAuthnStrategy } from './second-factor/webauthn-strategy.js';
import type { SecurityKeyService } from './security-keys.js';
import type { SessionService } from './sessions.js';
import { mergeAmr } from '../core/flows/flow.js';
import type { Actor } from './actor.js';
import { sessionActor } from './actor.js';
import type { MissingProof } from './step-up.js';
import { missingAdminProofs, missingProofToChangeFactors, proofsOf, reauthWindow, requireRecentSession, requireSudoAdmin } from './step-up.js';
import type { Principal, SessionPrincipal } from './principal.js';
import { passwordHashOf } from './principal.js';

/** What the re-authentication step shows: its flow, what it asks for, and the code methods usable now. */
export interface StepUpView {
  flow: StepUpFlow;
  askPassword: boolean;
  /** Whether a code is asked for: the person holds a second factor and has not proven one lately (or an app asked). */
  askCode: boolean;
  codeMethods: Array<{ method: SecondFactorMethod; destination: string | null; sendable: boolean }>;
  /** The phones a step-up can be sent to, when `push` is offered. */
  approvers: Array<{ id: string; name: string }>;
}

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
    private readonly securityKeys: SecurityKeyService,
    private readonly approvals: ApprovalService,
  ) {}

  /** The pages' early check (send the person to confirm before showing a form); the use cases check again. */
  requireRecentReauth(session: SessionPrincipal): void {
    requireRecentSession(this.deps, session);
  }


  /** Whether this session may add or remove a factor now (see step-up.ts). */
  async canChangeFactors(auth: { user: Principal; session: SessionPrincipal }): Promise<boolean> {
    return (await missingProofToChangeFactors(this.deps, sessionActor(auth))) === null;
  }

  /** What an admin still has to prove before an admin action; empty when nothing. The re-authentication page asks for it. */
  async missingAdminProofs(user: Principal, session: SessionPrincipal): Promise<MissingProof[]> {
    return missingAdminProofs(this.deps, user, session);
  }

  /** The admin pages' early check, requireSudoAdmin itself (role, then sudo), so a stale admin is sent to confirm first; the services check again. */
  async requireAdminSudo(actor: Actor): Promise<Principal> {
    return requireSudoAdmin(this.deps, actor);
  }

  /**
   * The step-up a page or client shows: what is still missing for admin areas (the strictest
   * purpose, so one confirmation serves every sensitive action) and the code methods usable now.
   * `ask` is an app's request through OpenID Connect: `all` is the password and a code, `code` a
   * second factor alone. When nothing is missing the person is confirming anyway: ask for both.
   */
  async stepUp(auth: { user: Principal; session: SessionPrincipal }, input: { returnTo: string | null; ask?: 'all' | 'code' | undefined }): Promise<StepUpView> {
    const [held, backupLeft, catalogue, approvers] = await Promise.all([
      factors.listActiveFactors(this.deps.database.db, auth.user.id),
      backupCodes.countUnusedBackupCodes(this.deps.database.db, auth.user.id),
      this.methods.forUser(auth.user),
      this.approvals.approversOf(auth.user.id),
    ]);
    const usable = (method: string) => catalogue.some((m) => m.method === method && m.available);
    const codeMethods: StepUpView['codeMethods'] = [];
    // A paired phone is a factor held outside the factors table.
    const holdsFactor = held.length > 0 || approvers.length > 0;
    for (const method of offeredMethods([...held.map((f) => f.type), ...(approvers.length > 0 ? ['push'] : [])], backupLeft, usable)) {
      const factor = held.find((f) => f.type === method);
      const sendable = method === 'sms' || method === 'email';
      codeMethods.push({ method, destination: sendable ? (factor?.destination_masked ?? null) : null, sendable });
    }
    const flow = stepUpFlow('admin', proofsOf(auth.session, holdsFactor), reauthWindow(this.deps, 'admin'), codeMethods.map((m) => m.method), input.returnTo);
    const nothingMissing = flow.missing.length === 0;
    return {
      flow,
      askPassword: input.ask ? input.ask === 'all' : nothingMissing || flow.missing.includes('password'),
      askCode: holdsFactor && (input.ask !== undefined || nothingMissing || flow.missing.includes('second_factor')),
      codeMethods,
      approvers: codeMethods.some((m) => m.method === 'push') ? approvers : [],
    };
  }

  /** Options for the security key that re-authenticates: one fresh challenge, good for this session's step-up only. */
  async webAuthnOptions(auth: { user: Principal; session: SessionPrincipal }): Promise<PublicKeyCredentialRequestOptionsJSON> {
    await this.methods.assertUsable(auth.user, 'webauthn');
    return this.securityKeys.assertionOptions(auth.user, reauthChallengeScope(auth.session.id));
  }

  /** Sends a step-up to one of the person's phones; its approval confirms this session and nothing else. */
  async requestApproval(auth: { user: Principal; session: SessionPrincipal }, approverId: string, meta: RequestMeta): Promise<StartedApproval> {
    await this.methods.assertUsable(auth.user, 'push');
    return this.approvals.request(auth.user, approverId, 'reauthentication', reauthBinding(auth.session.id), { action: 'Confirm it is you' }, meta);
  }

  /** Whether the phone has answered this session's step-up request yet. */
  async approvalStatus(auth: { user: Principal; session: SessionPrincipal }, requestId: string): Promise<ApprovalStatus> {
    return this.approvals.status(auth.user.id, requestId, reauthBinding(auth.session.id));
  }

  /** Sends a code to re-authenticate with, by text message or email; it is good for this session only. */
  async sendCode(auth: { user: Principal; session: SessionPrincipal }, method: string, meta: RequestMeta): Promise<SentCode> {
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
  async reauthenticate(user: Principal, session: SessionPrincipal, proof: ReauthProof, meta: RequestMeta): Promise<string> {
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
    const amr = session.amr;
    if (!withCode) return db.transaction().execute((trx) => finish(trx, amr, ['password']));
    const onVerified = (trx: Executor, verified: SecondFactorProof) => finish(trx, mergeAmr(amr, verified.amr), [...(proof.password !== undefined ? ['password'] : []), verified.method]);
    // A key's challenge and a phone's approval are bound to this session's step-up: one made for a
    // sign-in or a deploy is looked up under another scope and never matches here.
    if (proof.method === 'webauthn') return this.verifier.verifyWith(new WebAuthnStrategy(this.deps, reauthChallengeScope(session.id)), user, proof.code ?? '', meta, 'reauthentication', onVerified);
    if (proof.method === 'push') return this.verifier.verifyWith(new PushStrategy(this.deps, reauthBinding(session.id)), user, proof.code ?? '', meta, 'reauthentication', onVerified);
    return this.verifier.verify(user, proof.method ?? '', proof.code ?? '', meta, 'reauthentication', onVerified, (channel) => reauthCodeScope(session.id, channel));
  }

  private async checkPassword(user: Principal, password: string, meta: RequestMeta): Promise<void> {
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
    const storedHash = await passwordHashOf(this.deps.database.db, user.id); // the principal carries no hash
    let passwordOk: boolean;
    try {
      passwordOk = storedHash !== undefined && (await verifyPassword(storedHash, password));
    } catch (error) {
      // Not checked at all (server_busy): not an attempt, so its slots go back.
      await reservation.release();
      throw error;
    }
    if (passwordOk) {
      await reservation.release();
      return;
    }
    await recordAudit(this.deps.database.db, this.deps.clock(), { type: 'reauthentication.failed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { method: 'password' } });
    throw unauthenticated('invalid_credentials', 'The password is not correct.');
  }
}
