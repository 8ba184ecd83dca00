import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import { forbidden, invalidInput, notFound, unauthenticated } from '../core/errors.js';
import type { SecondFactorMethod } from '../core/sign-in-flow.js';
import { assertFlowAccepts, offeredMethods } from '../core/sign-in-flow.js';
import type { Executor, SignInFlow, SignInFlowState, User } from '../store/index.js';
import { backupCodes, factors, signInFlows, users } from '../store/index.js';
import { normaliseEmail } from './accounts.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { burnPasswordCheck, verifyPassword } from './passwords.js';
import type { AttemptLimiter, Reservation } from './rate-limiter.js';
import { SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_IP } from './rate-limiter.js';
import type { Channel } from '../delivery/index.js';
import { assessSignIn } from '../core/risk.js';
import type { DeviceRecognition, Recognition } from './devices.js';
import type { DeliveredEnrolment, DeliveredFactorService, DestinationInput } from './delivered-factors.js';
import type { FactorService, TotpEnrolment } from './factors.js';
import type { CodeSender, SentCode } from './messaging/code-sender.js';
import type { MethodAvailability, MethodCatalogue } from './methods.js';
import { DeliveredCodeStrategy, signInCodeScope } from './second-factor/delivered-code-strategy.js';
import type { PolicyService } from './policy.js';
import type { SecondFactorProof, SecondFactorVerifier } from './second-factor/verifier.js';
import type { IssuedSession, SessionService } from './sessions.js';
import type { IssuedTrust, TrustedBrowserService } from './trusted-browsers.js';
import type { BlockedBy, SignInNotices } from './sign-in-notices.js';

export type SignInResult =
  | { status: 'signed_in'; user: User; session: IssuedSession; trustedBrowser: IssuedTrust | null }
  | { status: 'second_factor_required'; user: User; challenge: string; methods: SecondFactorMethod[]; expiresAt: number; unavailable: MethodAvailability[] }
  | { status: 'enrolment_required'; user: User; challenge: string; methods: string[]; expiresAt: number };

export interface EnrolmentConfirmStep {
  challenge: string;
  factorId: string;
  code: string;
}

export interface PasswordStep {
  email: string;
  password: string;
  /** Raw trusted-browser cookie, if the browser sent one. */
  trustedBrowserToken?: string | undefined;
}

export interface SecondFactorStep {
  challenge: string;
  method: string;
  code: string;
  trustBrowser?: boolean | undefined;
}

const INVALID_CREDENTIALS = 'Email or password is incorrect.';
/** Says neither whether the password was right nor whether a device or a place is blocked. */
const SIGN_IN_REFUSED = 'This sign-in was refused. If it was you, sign in from a device and place you usually use, then check your security settings.';

/** The sign-in flow: password first, then (if the user has factors) one second-factor strategy. */
export class SignInService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly limiter: AttemptLimiter,
    private readonly sessions: SessionService,
    private readonly verifier: SecondFactorVerifier,
    private readonly trust: TrustedBrowserService,
    private readonly policy: PolicyService,
    private readonly factors: FactorService,
    private readonly deliveredFactors: DeliveredFactorService,
    private readonly catalogue: MethodCatalogue,
    private readonly codes: CodeSender,
    private readonly devices: DeviceRecognition,
    private readonly notices: SignInNotices,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async withPassword(step: PasswordStep, meta: RequestMeta): Promise<SignInResult> {
    const email = normaliseEmail(step.email);
    const accountKey = `signin:acct:${email}`;
    const ipKey = `signin:ip:${meta.ip}`;
    let reservation: Reservation;
    try {
      // Taken before the password is looked at: parallel guesses cannot pass on one "9 so far".
      reservation = await this.limiter.reserve(
        [
          [accountKey, SIGN_IN_PER_ACCOUNT],
          [ipKey, SIGN_IN_PER_IP],
        ],
        'too_many_attempts',
        'Too many failed sign-in attempts. Wait a while and try again.',
      );
    } catch (error) {
      const user = await users.findUserByEmail(this.db, email);
      await recordAudit(this.db, this.deps.clock(), {
        type: 'sign_in.limited',
        subjectUserId: user?.id ?? null,
        orgId: user?.org_id ?? null,
        meta,
        details: { email },
      });
      throw error;
    }

    const user = await users.findUserByEmail(this.db, email);
    const recognition = user ? await this.devices.recognise(this.db, user, meta.deviceToken, meta) : null;
    // A blocked device or place is refused before the password is even looked at.
    if (user && recognition) await this.refuseIfBlocked(user, recognition, meta);
    // Unknown emails pay the same argon2 cost as wrong passwords: same answer, similar timing.
    const passwordOk = user ? await verifyPassword(user.password_hash, step.password) : (await burnPasswordCheck(step.password), false);
    if (!user || !recognition || !passwordOk || user.status !== 'active') {
      await this.db.transaction().execute(async (trx) => {
        const now = this.deps.clock();
        const reason = !user ? 'unknown_email' : !passwordOk ? 'wrong_password' : 'account_disabled';
        await recordAudit(trx, now, { type: 'sign_in.failed', subjectUserId: user?.id ?? null, orgId: user?.org_id ?? null, meta, details: { email, reason } });
      });
      throw unauthenticated('invalid_credentials', INVALID_CREDENTIALS);
    }
    // A right password gives its slot back; the failures before it stay counted in their window.
    await reservation.release();

    const userFactors = await factors.listActiveFactors(this.db, user.id);
    const policy = await this.policy.effectiveFor(user);
    if (userFactors.length === 0) {
      // Policy that requires 2FA sends a user without a factor to enrol, with no session until
      // they finish; this comes before trusted browsers, which cannot stand in for a factor.
      // A user who has factors keeps them even where policy is 'off'.
      if (policy.mode.value !== 'required') return this.finish(user, ['pwd'], meta, { secondFactor: 'none' });
      const flow = await this.startFlow(user, 'enrolment_required', await this.catalogue.usableMethods(user, this.db, policy), meta);
      return { status: 'enrolment_required', user, ...flow };
    }

    // Policy decides whether this sign-in needs the second factor: always, or only from a device
    // or a place the user has not signed in from before.
    const assessment = assessSignIn({ knownDevice: recognition.device !== null, knownLocation: recognition.knownLocation, triggers: policy.triggers.value });
    if (!assessment.challengeDue) {
      return this.finish(user, ['pwd'], meta, { secondFactor: 'not_due', triggers: policy.triggers.value, deviceId: recognition.device?.id ?? null, location: recognition.location?.key ?? null });
    }

    const trusted = await this.trust.recognise(user, step.trustedBrowserToken, policy.trustBrowserDays.value);
    if (trusted) {
      await this.trust.markUsed(trusted.id);
      return this.finish(user, ['pwd'], meta, { secondFactor: 'trusted_browser', trustedBrowserId: trusted.id });
    }

    const catalogue = await this.catalogue.forUser(user, this.db, policy);
    const usable = (method: string) => catalogue.some((m) => m.method === method && m.available);
    const held = userFactors.map((f) => f.type);
    const methods = offeredMethods(held, await backupCodes.countUnusedBackupCodes(this.db, user.id), usable);
    const flow = await this.startFlow(user, 'second_factor_required', methods, meta);
    // Factors the user holds but may not use now are named with the reason, so nobody is left guessing.
    const unavailable = catalogue.filter((m) => !m.available && held.includes(m.method));
    return { status: 'second_factor_required', user, ...flow, methods, unavailable };
  }

  /**
   * Refuses a sign-in from a device or location the user blocked: audited, counted as a failed
   * attempt (its reserved slot is kept, which also bounds the notices an attacker can trigger),
   * and always told to the user.
   */
  private async refuseIfBlocked(user: User, recognition: Recognition, meta: RequestMeta): Promise<void> {
    const blockedBy: BlockedBy | null =
      recognition.device && recognition.device.blocked_at !== null ? 'device' : recognition.knownLocationRecord && recognition.knownLocationRecord.blocked_at !== null ? 'location' : null;
    if (!blockedBy) return;
    await this.db.transaction().execute(async (trx) => {
      await recordAudit(trx, this.deps.clock(), {
        type: 'sign_in.blocked',
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { email: user.email_normalized, blockedBy, deviceId: recognition.device?.id ?? null, locationId: recognition.knownLocationRecord?.id ?? null, location: recognition.location?.key ?? null },
      });
    });
    await this.notices.blockedAttempt(user, blockedBy, recognition, meta);
    throw forbidden('sign_in_refused', SIGN_IN_REFUSED);
  }

  /** After a sign-in has committed: the new-device and new-location notices it earns. */
  private async announce<T extends { user: User; session: IssuedSession }>(result: T, meta: RequestMeta): Promise<T> {
    if (result.session.seen) await this.notices.signedIn(result.user, result.session.seen, meta);
    return result;
  }

  private async startFlow(user: User, state: SignInFlowState, methods: string[], meta: RequestMeta): Promise<{ challenge: string; methods: string[]; expiresAt: number }> {
    const now = this.deps.clock();
    const challenge = randomToken(32);
    const flow: SignInFlow = {
      id: randomUUID(),
      token_hash: sha256(challenge),
      user_id: user.id,
      state,
      methods: JSON.stringify(methods),
      amr: JSON.stringify(['pwd']),
      created_at: now,
      expires_at: now + this.deps.settings.signInFlowMs,
      ip: meta.ip,
      user_agent: meta.userAgent.slice(0, 512),
    };
    await signInFlows.deleteExpiredSignInFlows(this.db, now);
    await signInFlows.insertSignInFlow(this.db, flow);
    return { challenge, methods, expiresAt: flow.expires_at };
  }

  /** Forced enrolment, step one: an authenticator for the user of a flow in `enrolment_required`. */
  async startEnrolment(challenge: string, label: string | undefined, meta: RequestMeta): Promise<TotpEnrolment> {
    const { user } = await this.openFlow(challenge, 'enrolment_required', 'totp');
    return this.factors.startTotpEnrolment({ via: 'enrolment_flow', user }, label, meta);
  }

  /** Forced enrolment by text message or email: the code goes out now, the flow stays open. */
  async startDeliveredEnrolment(challenge: string, input: DestinationInput, label: string | undefined, meta: RequestMeta): Promise<DeliveredEnrolment> {
    const { user } = await this.openFlow(challenge, 'enrolment_required', input.channel);
    return this.deliveredFactors.start({ via: 'enrolment_flow', user }, input, meta, { label });
  }

  async resendEnrolmentCode(challenge: string, factorId: string, meta: RequestMeta): Promise<SentCode> {
    const { user } = await this.openFlowAnyMethod(challenge, 'enrolment_required');
    return this.deliveredFactors.resend(user, factorId, meta);
  }

  /**
   * Forced enrolment, step two: a valid code switches the factor on, closes the flow and
   * issues the session, all in one transaction (a second confirmation finds the flow closed).
   */
  async confirmEnrolment(step: EnrolmentConfirmStep, meta: RequestMeta): Promise<{ user: User; session: IssuedSession; backupCodes: string[] }> {
    const { user: owner } = await this.openFlowAnyMethod(step.challenge, 'enrolment_required');
    const factor = await factors.findFactor(this.db, owner.id, step.factorId);
    const method = factor?.type ?? 'totp';
    const { flow, user } = await this.openFlow(step.challenge, 'enrolment_required', method);
    const amr = mergeAmr(JSON.parse(flow.amr) as string[], method === 'sms' ? ['sms'] : ['otp']);
    let session: IssuedSession | undefined;
    const onConfirmed = async (trx: Executor) => {
      if (!(await signInFlows.transitionSignInFlow(trx, flow.id, 'enrolment_required', 'completed', amr))) {
        throw unauthenticated('challenge_invalid', 'This sign-in has already been completed.');
      }
      session = await this.openSession(trx, user, amr, meta, { secondFactor: 'enrolment', factorId: step.factorId });
    };
    const confirmed =
      method === 'totp'
        ? await this.factors.confirmTotp(user, step.factorId, step.code, meta, onConfirmed)
        : await this.deliveredFactors.confirm(user, step.factorId, step.code, meta, onConfirmed);
    if (!session) throw new Error('enrolment confirmed without a session');
    return this.announce({ user, session, backupCodes: confirmed.backupCodes ?? [] }, meta);
  }

  /** Sends a sign-in code by text message or email to one of the user's factors of that kind. */
  async sendSignInCode(challenge: string, method: string, factorId: string | undefined, meta: RequestMeta): Promise<SentCode> {
    const { flow, user } = await this.openFlow(challenge, 'second_factor_required', method);
    if (method !== 'sms' && method !== 'email') throw invalidInput('method_not_sendable', 'Only text-message and email codes are sent.');
    await this.catalogue.assertUsable(user, method);
    const held = (await factors.listActiveFactors(this.db, user.id)).filter((f) => f.type === method);
    const factor = factorId === undefined ? held[0] : held.find((f) => f.id === factorId);
    if (!factor) throw notFound('factor_not_found', 'No such factor.');
    return this.codes.send({ user, factor, ...signInCodeScope(flow.id, method) }, meta);
  }

  /** Where a pending sign-in can send codes: the user's text and email factors the flow offers, masked. */
  async sendTargets(challenge: string): Promise<Array<{ id: string; type: Channel; destination: string }>> {
    const { flow, user } = await this.openFlowAnyMethod(challenge, 'second_factor_required');
    // A factor on a channel the organisation switched off is held but not offered: nothing can be sent to it.
    const offered = JSON.parse(flow.methods) as string[];
    return (await factors.listActiveFactors(this.db, user.id))
      .filter((f): f is typeof f & { type: Channel } => (f.type === 'sms' || f.type === 'email') && offered.includes(f.type))
      .map((f) => ({ id: f.id, type: f.type, destination: f.destination_masked ?? '' }));
  }

  private async openFlowAnyMethod(challenge: string, state: SignInFlowState): Promise<{ flow: SignInFlow; user: User }> {
    const flow = challenge.length <= 128 ? await signInFlows.findSignInFlowByTokenHash(this.db, sha256(challenge)) : undefined;
    const first = flow ? ((JSON.parse(flow.methods) as string[])[0] ?? '') : '';
    return this.openFlow(challenge, state, first);
  }

  /** The flow behind a challenge and its user, if the flow accepts `method` in `state` now. */
  private async openFlow(challenge: string, state: SignInFlowState, method: string): Promise<{ flow: SignInFlow; user: User }> {
    const flow = challenge.length <= 128 ? await signInFlows.findSignInFlowByTokenHash(this.db, sha256(challenge)) : undefined;
    assertFlowAccepts(flow && { state: flow.state, expiresAt: flow.expires_at, methods: JSON.parse(flow.methods) as string[] }, state, method, this.deps.clock());
    const user = await users.findUser(this.db, (flow as SignInFlow).user_id);
    if (!user || user.status !== 'active') throw unauthenticated('challenge_invalid', 'This sign-in has ended. Sign in again.');
    return { flow: flow as SignInFlow, user };
  }

  /** The methods a pending flow still offers, for the second-step page (or, in `enrolment_required`, the forced-enrolment page). */
  async pendingFlow(challenge: string | undefined, state: SignInFlowState = 'second_factor_required'): Promise<{ user: User; methods: string[]; expiresAt: number } | null> {
    if (!challenge || challenge.length > 128) return null;
    const flow = await signInFlows.findSignInFlowByTokenHash(this.db, sha256(challenge));
    if (!flow || flow.state !== state || flow.expires_at <= this.deps.clock()) return null;
    const user = await users.findUser(this.db, flow.user_id);
    return user ? { user, methods: JSON.parse(flow.methods) as string[], expiresAt: flow.expires_at } : null;
  }

  async withSecondFactor(step: SecondFactorStep, meta: RequestMeta): Promise<Extract<SignInResult, { status: 'signed_in' }>> {
    const { flow: pending, user } = await this.openFlow(step.challenge, 'second_factor_required', step.method);

    const onVerified = async (trx: Executor, proof: SecondFactorProof) => {
      const amr = mergeAmr(JSON.parse(pending.amr) as string[], proof.amr);
      // The flow is completed once: a second request with another valid code finds it closed.
      if (!(await signInFlows.transitionSignInFlow(trx, pending.id, 'second_factor_required', 'completed', amr))) {
        throw unauthenticated('challenge_invalid', 'This sign-in has already been completed.');
      }
      const now = this.deps.clock();
      const base = { actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta };
      await recordAudit(trx, now, { ...base, type: 'second_factor.succeeded', details: { method: proof.method, ...proof.details } });
      if (proof.method === 'backup_code') await recordAudit(trx, now, { ...base, type: 'backup_code.used', details: proof.details });
      const trustedBrowser = step.trustBrowser ? await this.trust.issue(trx, user, meta, (await this.policy.effectiveFor(user, trx)).trustBrowserDays.value) : null;
      const session = await this.openSession(trx, user, amr, meta, {});
      return { status: 'signed_in' as const, user, session, trustedBrowser };
    };
    if (step.method === 'sms' || step.method === 'email') {
      const strategy = new DeliveredCodeStrategy(this.deps, this.codes, step.method, signInCodeScope(pending.id, step.method));
      return this.announce(await this.verifier.verifyWith(strategy, user, step.code, meta, 'sign_in', onVerified), meta);
    }
    return this.announce(await this.verifier.verify(user, step.method, step.code, meta, 'sign_in', onVerified), meta);
  }

  private async finish(user: User, amr: string[], meta: RequestMeta, details: Record<string, unknown>): Promise<SignInResult> {
    const result = await this.db.transaction().execute(async (trx) => {
      const session = await this.openSession(trx, user, amr, meta, details);
      return { status: 'signed_in' as const, user, session, trustedBrowser: null };
    });
    return this.announce(result, meta);
  }

  /** Every way into a session ends here: the session and its `sign_in.succeeded` record commit together. */
  private async openSession(trx: Executor, user: User, amr: string[], meta: RequestMeta, details: Record<string, unknown>): Promise<IssuedSession> {
    const session = await this.sessions.issue(trx, user.id, amr, meta);
    // Devices and places are learnt only from complete sign-ins, never from a bare password.
    const seen = await this.devices.remember(trx, user, meta.deviceToken, meta);
    await this.sessions.recordOrigin(trx, session.session, seen);
    session.deviceToken = seen.deviceToken;
    session.seen = seen;
    details = { ...details, deviceId: seen.deviceId, newDevice: seen.newDevice, newLocation: seen.newLocation };
    await recordAudit(trx, this.deps.clock(), {
      type: 'sign_in.succeeded',
      actorUserId: user.id,
      subjectUserId: user.id,
      orgId: user.org_id,
      meta,
      details: { sessionId: session.session.id, amr, ...details },
    });
    return session;
  }
}

/** Adds a factor's method references; `mfa` marks that more than one kind was used. */
export function mergeAmr(existing: readonly string[], added: readonly string[]): string[] {
  const set = new Set([...existing, ...added]);
  set.delete('mfa');
  if (set.size >= 2) set.add('mfa');
  return [...set];
}
