import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import { forbidden, invalidInput, notFound, unauthenticated } from '../core/errors.js';
import { isExpired } from '../core/flows/flow.js';
import type { PendingSignInState, SignInFlow } from '../core/flows/sign-in.js';
import { accepts, complete, defaultFactorFirst, offeredMethods, openIn, startSignInFlow, withDefaultFirst } from '../core/flows/sign-in.js';
import { safeLocalPath } from '../core/local-path.js';
import type { Executor, Factor, User } from '../store/index.js';
import { backupCodes, defaultMethods, factors, signInFlows, users, webauthn } from '../store/index.js';
import { normaliseEmail } from './accounts.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { burnPasswordCheck, verifyPassword } from './passwords.js';
import type { AttemptLimiter, Reservation } from './rate-limiter.js';
import { SIGN_IN_PER_ACCOUNT, SIGN_IN_PER_IP, signInAccountKey } from './rate-limiter.js';
import type { Channel } from '../delivery/index.js';
import { assessSignIn } from '../core/risk.js';
import type { DeviceRecognition, Recognition } from './devices.js';
import type { DeliveredEnrolment, DeliveredFactorService, DestinationInput } from './delivered-factors.js';
import type { FactorService, TotpEnrolment } from './factors.js';
import type { CodeSender, SentCode } from './messaging/code-sender.js';
import type { MethodAvailability, MethodCatalogue } from './methods.js';
import { DeliveredCodeStrategy, signInCodeScope } from './second-factor/delivered-code-strategy.js';
import type { EffectivePolicy } from '../core/policy.js';
import type { PolicyService } from './policy.js';
import type { SecondFactorProof, SecondFactorVerifier } from './second-factor/verifier.js';
import type { IssuedSession, SessionService } from './sessions.js';
import type { IssuedTrust, TrustedBrowserService } from './trusted-browsers.js';
import type { BlockedBy, SignInNotices } from './sign-in-notices.js';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { SecurityKeyService } from './security-keys.js';
import { WebAuthnStrategy } from './second-factor/webauthn-strategy.js';
import { passkeyChallengeScope, signInChallengeScope } from './second-factor/webauthn-challenges.js';
import { checkAssertion, parseAssertion } from './second-factor/webauthn-strategy.js';
import { WEBAUTHN_MESSAGES } from './second-factor/verifier.js';
import type { WebAuthnFailure } from './second-factor/strategy.js';
import { mergeAmr } from '../core/flows/flow.js';
import { provesKey, webAuthnAmr } from '../core/webauthn.js';
import type { ApprovalService, ApprovalStatus, StartedApproval } from './approvals/approvals.js';
import type { BackupCodesEmail } from './backup-codes.js';
import { signInBinding } from '../core/approval.js';
import { PushStrategy } from './second-factor/push-strategy.js';

/** A text or email factor a code can be sent to, masked. */
export interface SendTarget {
  id: string;
  type: Channel;
  destination: string;
  /** The channel's title as the organisation named it (the sender people will see), when it set one. */
  title?: string;
}

/**
 * Everything a client needs to show the step a sign-in flow waits for, computed once here: the
 * JSON API returns it and the pages render it, so neither works out methods or policy itself.
 */
export interface SignInFlowView {
  state: PendingSignInState;
  expiresAt: number;
  /** In `second_factor_required` the methods that prove the second factor; in `enrolment_required` the methods the person may set up. */
  methods: string[];
  /** Where text and email codes can go (second factor only). */
  sendTargets: SendTarget[];
  /** Methods the person holds but may not use now, with the reason, so nobody is left guessing. */
  unavailable: Array<{ method: string; reason: string }>;
  /** How long "trust this browser" lasts here: the policy may shorten the server's setting or turn it off (0), never lengthen it. */
  trustBrowserDays: number;
  /** Second step: until when wrong codes have locked the person's codes (backup codes still work), or null. The page counts it down. */
  codesLockedUntil: number | null;
  /** Second step: the phones the person paired for approvals, when `push` is offered. */
  approvers: Array<{ id: string; name: string }>;
  returnTo: string | null;
  person: { email: string; displayName: string; timeZone: string };
}

export type SignInResult =
  | { status: 'signed_in'; user: User; session: IssuedSession; trustedBrowser: IssuedTrust | null; returnTo: string | null }
  | { status: PendingSignInState; user: User; challenge: string; flow: SignInFlowView };

export type SignedIn = Extract<SignInResult, { status: 'signed_in' }>;

/** A code sent by itself as the second step opened: by which method, to which factor. */
export interface OpeningCode {
  method: Channel;
  factorId: string;
  code: SentCode;
}

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
  /** Where to land once signed in; kept only if it is a path on this site. */
  returnTo?: string | undefined;
}

export interface SecondFactorStep {
  challenge: string;
  method: string;
  code: string;
  trustBrowser?: boolean | undefined;
}

const INVALID_CREDENTIALS = 'Email or password is incorrect.';
const KEY_REQUIRED = 'Your organisation requires a security key or passkey. Your code was right: add a key now to finish signing in.';

/** What a proven code leads to where policy wants a key: the flow waits for one to be added. */
type KeyRequired = { status: 'key_required' };


const PASSKEY_NEEDS_VERIFICATION = 'This passkey did not confirm it is you (PIN, fingerprint or face), and you have no other method to add. Sign in with your password, then use your key.';

export interface PasskeyStep {
  /** The handle `passkeyOptions` returned with the challenge: the assertion counts only for it. */
  handle: string;
  /** The browser's AuthenticationResponseJSON, as JSON text. */
  assertion: string;
  trustedBrowserToken?: string | undefined;
  returnTo?: string | undefined;
}

/** How many passkey challenges one address may ask for in the window: each is a row until it expires. */
const PASSKEY_OPTIONS_PER_IP = { max: 300, windowMs: 15 * 60_000 };
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
    private readonly securityKeys: SecurityKeyService,
    private readonly approvals: ApprovalService,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async withPassword(step: PasswordStep, meta: RequestMeta): Promise<SignInResult> {
    const email = normaliseEmail(step.email);
    const accountKey = signInAccountKey(email);
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
    let passwordOk: boolean;
    try {
      passwordOk = user ? await verifyPassword(user.password_hash, step.password) : (await burnPasswordCheck(step.password), false);
    } catch (error) {
      // Not checked at all (server_busy): not an attempt, so its slots go back.
      await reservation.release();
      throw error;
    }
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
    return this.afterFirstStep(user, recognition, ['pwd'], meta, { returnTo: safeLocalPath(step.returnTo), trustedBrowserToken: step.trustedBrowserToken });
  }

  /**
   * Everything after the first step (a password, or a passkey that did not verify the person):
   * enrolment when policy requires it, the triggers, a trusted browser, or the second step with
   * the methods held. `without` leaves out the factor that made the first step: one key is not
   * two factors.
   */
  private async afterFirstStep(
    user: User,
    recognition: Recognition,
    firstAmr: readonly string[],
    meta: RequestMeta,
    opts: { returnTo: string | null; trustedBrowserToken?: string | undefined; without?: string },
  ): Promise<SignInResult> {
    const { returnTo } = opts;
    const step = { trustedBrowserToken: opts.trustedBrowserToken };
    const without = opts.without === 'webauthn' ? 'webauthn' : null;
    const userFactors = (await factors.listActiveFactors(this.db, user.id)).filter((f) => f.type !== without);
    const policy = await this.policy.effectiveFor(user);
    // A paired phone is a second factor too, held outside the factors table.
    const hasApprover = await this.approvals.hasApprover(user.id);
    if (without && userFactors.length === 0 && !hasApprover && policy.mode.value === 'required') {
      // A passkey that did not verify the person is one factor; with nothing else to add, the
      // way in is the password and then the key, not an enrolment the key holder does not need.
      throw unauthenticated('passkey_user_verification_required', PASSKEY_NEEDS_VERIFICATION);
    }
    // A first step made with a key already is the phishing-resistant proof; after a password it is still owed.
    const keyOwed = policy.phishingResistant.value && !provesKey(firstAmr);
    if (userFactors.length === 0 && !hasApprover) {
      // Policy that requires 2FA sends a user without a factor to enrol, with no session until
      // they finish; this comes before trusted browsers, which cannot stand in for a factor.
      // A user who has factors keeps them even where policy is 'off'.
      if (policy.mode.value !== 'required') return this.finish(user, [...firstAmr], meta, { secondFactor: 'none' }, returnTo);
      const usableForEnrolment = await this.catalogue.usableMethods(user, this.db, policy);
      // Where policy wants a key, a key is the one thing to set up.
      const methods = keyOwed ? ['webauthn'] : usableForEnrolment;
      const { flow, challenge } = await this.startFlow(user, 'enrolment_required', methods, meta, returnTo, firstAmr);
      return { status: 'enrolment_required', user, challenge, flow: await this.viewOf(flow, user, policy) };
    }

    // Policy decides whether this sign-in needs the second factor: always, or only from a device
    // or a place the user has not signed in from before.
    const assessment = assessSignIn({ knownDevice: recognition.device !== null, knownLocation: recognition.knownLocation, triggers: policy.triggers.value });
    if (!assessment.challengeDue) {
      return this.finish(user, [...firstAmr], meta, { secondFactor: 'not_due', triggers: policy.triggers.value, deviceId: recognition.device?.id ?? null, location: recognition.location?.key ?? null }, returnTo);
    }

    // Where a key is required a trusted browser does not stand in for it: the browser may have been
    // trusted after a code, which that policy no longer accepts.
    const trusted = policy.phishingResistant.value ? null : await this.trust.recognise(user, step.trustedBrowserToken, policy.trustBrowserDays.value);
    if (trusted) {
      await this.trust.markUsed(trusted.id);
      return this.finish(user, [...firstAmr], meta, { secondFactor: 'trusted_browser', trustedBrowserId: trusted.id }, returnTo);
    }

    const catalogue = await this.catalogue.forUser(user, this.db, policy);
    const holdsKey = userFactors.some((f) => f.type === 'webauthn');
    const usable = (method: string) => catalogue.some((m) => m.method === method && m.available);
    const offered = offeredMethods(
      [...userFactors.map((f) => f.type), ...(hasApprover ? ['push'] : [])],
      await backupCodes.countUnusedBackupCodes(this.db, user.id),
      usable,
    );
    // Where policy wants a key, a key holder is offered the key and (to recover a lost one) backup
    // codes; someone without a key still proves a code, which then leads to adding a key.
    const methods = keyOwed && holdsKey ? offered.filter((m) => m === 'webauthn' || m === 'backup_code') : offered;
    // The step opens on the method the person chose as their default (if they chose one).
    const defaultId = await defaultMethods.findDefaultFactorId(this.db, user.id);
    const preferred = userFactors.find((f) => f.id === defaultId)?.type;
    const { flow, challenge } = await this.startFlow(user, 'second_factor_required', withDefaultFirst(methods, preferred), meta, returnTo, firstAmr);
    return { status: 'second_factor_required', user, challenge, flow: await this.viewOf(flow, user, policy, { catalogue, held: userFactors, defaultId }) };
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

  private async startFlow(user: User, state: PendingSignInState, methods: readonly string[], meta: RequestMeta, returnTo: string | null, amr: readonly string[] = ['pwd']): Promise<{ flow: SignInFlow; challenge: string }> {
    const nowMs = this.deps.clock();
    const challenge = randomToken(32);
    const flow = startSignInFlow({ id: randomUUID(), userId: user.id, state, methods, nowMs, lifetimeMs: this.deps.settings.signInFlowMs, returnTo, amr });
    // Expired flows are swept by housekeeping in bounded batches, not by every sign-in.
    await signInFlows.insertSignInFlow(this.db, flow, { tokenHash: sha256(challenge), ip: meta.ip, userAgent: meta.userAgent });
    return { flow, challenge };
  }

  /** The view of a flow for its page or API answer; what was already read for this request is passed in rather than read again. */
  private async viewOf(flow: SignInFlow, user: User, policy?: EffectivePolicy, known: { catalogue?: MethodAvailability[]; held?: Factor[]; defaultId?: string | null } = {}): Promise<SignInFlowView> {
    const state = flow.state === 'completed' ? 'second_factor_required' : flow.state;
    const person = { email: user.email, displayName: user.display_name, timeZone: user.time_zone };
    const base = { state, expiresAt: flow.expiresAt, methods: [...flow.methods], returnTo: flow.returnTo, person };
    if (state === 'enrolment_required') return { ...base, sendTargets: [], unavailable: [], trustBrowserDays: 0, codesLockedUntil: null, approvers: [] };
    const effective = policy ?? (await this.policy.effectiveFor(user));
    // The default factor first, so its code is the one sent (and its destination the one shown) first.
    const held = defaultFactorFirst(known.held ?? (await factors.listActiveFactors(this.db, user.id)), known.defaultId !== undefined ? known.defaultId : await defaultMethods.findDefaultFactorId(this.db, user.id));
    const catalogue = known.catalogue ?? (await this.catalogue.forUser(user, this.db, effective));
    const heldTypes = new Set<string>(held.map((f) => f.type));
    return {
      ...base,
      // A factor on a channel the organisation switched off is held but not offered: nothing can be sent to it.
      sendTargets: held
        .filter((f): f is Factor & { type: Channel } => (f.type === 'sms' || f.type === 'email') && flow.methods.includes(f.type))
        .map((f) => {
          const title = catalogue.find((m) => m.method === f.type)?.title;
          return { id: f.id, type: f.type, destination: f.destination_masked ?? '', ...(title ? { title } : {}) };
        }),
      unavailable: catalogue.filter((m) => !m.available && heldTypes.has(m.method)).map((m) => ({ method: m.method, reason: m.reason ?? 'This method cannot be used now.' })),
      trustBrowserDays: Math.max(0, Math.min(effective.trustBrowserDays.value, this.deps.settings.trustBrowserDays)),
      codesLockedUntil: user.second_factor_locked_until !== null && user.second_factor_locked_until > this.deps.clock() ? user.second_factor_locked_until : null,
      approvers: flow.methods.includes('push') ? await this.approvals.approversOf(user.id) : [],
    };
  }

  /** Forced enrolment, step one: an authenticator for the user of a flow in `enrolment_required`. */
  async startEnrolment(challenge: string, label: string | undefined, meta: RequestMeta): Promise<TotpEnrolment> {
    const { user } = await this.open(challenge, 'enrolment_required', 'totp');
    return this.factors.startTotpEnrolment({ via: 'enrolment_flow', user }, label, meta);
  }

  /** Forced enrolment: the authenticator being added, shown again (same key) after a wrong code. */
  async pendingEnrolment(challenge: string, factorId: string): Promise<TotpEnrolment> {
    const { user } = await this.open(challenge, 'enrolment_required', 'totp');
    return this.factors.pendingTotpEnrolment(user, factorId);
  }

  /** Forced enrolment by text message or email: the code goes out now, the flow stays open. */
  async startDeliveredEnrolment(challenge: string, input: DestinationInput, label: string | undefined, meta: RequestMeta): Promise<DeliveredEnrolment> {
    const { user } = await this.open(challenge, 'enrolment_required', input.channel);
    return this.deliveredFactors.start({ via: 'enrolment_flow', user }, input, meta, { label });
  }

  async resendEnrolmentCode(challenge: string, factorId: string, meta: RequestMeta): Promise<SentCode> {
    const { user } = await this.open(challenge, 'enrolment_required');
    return this.deliveredFactors.resend(user, factorId, meta);
  }

  /**
   * Forced enrolment, step two: a valid code switches the factor on, closes the flow and
   * issues the session, all in one transaction (a second confirmation finds the flow closed).
   */
  async confirmEnrolment(step: EnrolmentConfirmStep, meta: RequestMeta): Promise<SignedIn & { backupCodes: string[]; backupCodesEmail?: BackupCodesEmail }> {
    const { flow: opened, user } = await this.open(step.challenge, 'enrolment_required');
    const method = (await factors.findFactor(this.db, user.id, step.factorId))?.type ?? 'totp';
    const flow = accepts(opened, 'enrolment_required', method, this.deps.clock());
    const completed = complete(flow, method === 'sms' ? ['sms'] : ['otp']);
    let session: IssuedSession | undefined;
    const onConfirmed = async (trx: Executor) => {
      await this.saveCompleted(trx, completed, 'enrolment_required');
      session = await this.openSession(trx, user, [...completed.amr], meta, { secondFactor: 'enrolment', factorId: step.factorId });
    };
    const confirmed =
      method === 'totp'
        ? await this.factors.confirmTotp(user, step.factorId, step.code, meta, onConfirmed)
        : await this.deliveredFactors.confirm(user, step.factorId, step.code, meta, onConfirmed);
    if (!session) throw new Error('enrolment confirmed without a session');
    return this.announce({ status: 'signed_in', user, session, trustedBrowser: null, returnTo: completed.returnTo, backupCodes: confirmed.backupCodes ?? [], ...(confirmed.backupCodesEmail ? { backupCodesEmail: confirmed.backupCodesEmail } : {}) }, meta);
  }

  /** The flow is completed once: a second request with another valid proof finds it closed. */
  private async saveCompleted(trx: Executor, completed: SignInFlow, from: PendingSignInState): Promise<void> {
    if (!(await signInFlows.transitionSignInFlow(trx, completed, from))) {
      throw unauthenticated('challenge_invalid', 'This sign-in has already been completed.');
    }
  }

  /** Sends a sign-in code by text message or email to one of the user's factors of that kind. */
  async sendSignInCode(challenge: string, method: string, factorId: string | undefined, meta: RequestMeta): Promise<SentCode> {
    const { flow, user } = await this.open(challenge, 'second_factor_required', method);
    if (method !== 'sms' && method !== 'email') throw invalidInput('method_not_sendable', 'Only text-message and email codes are sent.');
    await this.catalogue.assertUsable(user, method);
    const held = (await factors.listActiveFactors(this.db, user.id)).filter((f) => f.type === method);
    const factor = factorId === undefined ? held[0] : held.find((f) => f.id === factorId);
    if (!factor) throw notFound('factor_not_found', 'No such factor.');
    return this.codes.send({ user, factor, ...signInCodeScope(flow.id, method) }, meta);
  }

  /**
   * The second step opens on a text or email method (the person's default, or their only one):
   * its code goes out by itself, as a send asked for by the person would (same rate limits, same
   * 30-second wait before a resend). A refusal or a failed delivery is not an error here: the step
   * still offers "Send code", which says why. Null when nothing was sent.
   */
  async sendOpeningCode(challenge: string, flow: SignInFlowView, meta: RequestMeta): Promise<OpeningCode | null> {
    const method = flow.methods[0];
    const target = flow.sendTargets.find((t) => t.type === method);
    if (!target) return null;
    try {
      return { method: target.type, factorId: target.id, code: await this.sendSignInCode(challenge, target.type, target.id, meta) };
    } catch {
      return null;
    }
  }

  /** What a browser needs to ask the person's security key or passkey for this sign-in's second step. */
  async securityKeyOptions(challenge: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const { flow, user } = await this.open(challenge, 'second_factor_required', 'webauthn');
    return this.securityKeys.assertionOptions(user, signInChallengeScope(flow.id));
  }

  /**
   * Passkey sign-in, first call: a challenge nobody is named in (discoverable credentials), bound
   * to a fresh random handle the client sends back with the assertion.
   */
  async passkeyOptions(meta: RequestMeta): Promise<{ handle: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    await this.limiter.reserve([[`passkey:options:ip:${meta.ip}`, PASSKEY_OPTIONS_PER_IP]], 'too_many_attempts', 'Too many sign-in attempts from here. Wait a while and try again.');
    const handle = randomToken(32);
    return { handle, options: await this.securityKeys.discoverableOptions(passkeyChallengeScope(handle)) };
  }

  /**
   * Passkey sign-in, second call: the same gates as a password (the account and address limits
   * reserved first, blocked devices and places, disabled accounts), then the assertion. One that
   * verified the person (PIN, biometrics) is two factors and opens the session in the transaction
   * that spends its challenge; one that did not is a first step like a password, and the second
   * step follows with the person's other methods.
   */
  async withPasskey(step: PasskeyStep, meta: RequestMeta): Promise<SignInResult> {
    const assertion = parseAssertion(step.assertion);
    if (!assertion || step.handle.length === 0 || step.handle.length > 128) throw unauthenticated('webauthn_assertion_invalid', WEBAUTHN_MESSAGES.webauthn_assertion_invalid);
    const credential = await webauthn.findCredentialById(this.db, assertion.id);
    const owner = credential ? await users.findUser(this.db, credential.user_id) : undefined;
    const email = owner?.email_normalized ?? null;
    let reservation: Reservation;
    try {
      reservation = await this.limiter.reserve(
        [[`signin:ip:${meta.ip}`, SIGN_IN_PER_IP], ...(email ? ([[signInAccountKey(email), SIGN_IN_PER_ACCOUNT]] as const) : [])],
        'too_many_attempts',
        'Too many failed sign-in attempts. Wait a while and try again.',
      );
    } catch (error) {
      await recordAudit(this.db, this.deps.clock(), { type: 'sign_in.limited', subjectUserId: owner?.id ?? null, orgId: owner?.org_id ?? null, meta, details: { email, method: 'passkey' } });
      throw error;
    }
    const refuse = async (reason: WebAuthnFailure, details: Record<string, unknown> = {}): Promise<never> => {
      await this.db.transaction().execute(async (trx) => {
        const now = this.deps.clock();
        const base = { subjectUserId: owner?.id ?? null, orgId: owner?.org_id ?? null, meta };
        await recordAudit(trx, now, { ...base, type: 'sign_in.failed', details: { email, method: 'passkey', reason, ...details } });
        if (reason === 'webauthn_counter_regressed') await recordAudit(trx, now, { ...base, type: 'webauthn.counter_regressed', details: { purpose: 'passkey', ...details } });
      });
      // The same answer carried twice (a double click) is not a new attempt: its slot goes back.
      if (reason === 'webauthn_challenge_used') await reservation.release();
      throw unauthenticated(reason, WEBAUTHN_MESSAGES[reason]);
    };
    if (!owner || owner.status !== 'active') return refuse('webauthn_credential_unknown');
    const recognition = await this.devices.recognise(this.db, owner, meta.deviceToken, meta);
    await this.refuseIfBlocked(owner, recognition, meta);

    const returnTo = safeLocalPath(step.returnTo);
    const outcome = await this.db.transaction().execute(async (trx) => {
      const checked = await checkAssertion(this.deps, trx, assertion, passkeyChallengeScope(step.handle), owner);
      if (!checked.ok) return checked;
      const { factor, credential: used, userVerified, backupEligible } = checked.checked;
      const amr = mergeAmr([], webAuthnAmr({ backupEligible, userVerified }));
      const key = { method: 'passkey', factorId: factor.id, credentialId: used.credential_id, label: factor.label, keyName: factor.label, userVerified };
      if (!userVerified) return { ok: true as const, amr, key, session: null };
      await recordAudit(trx, this.deps.clock(), { actorUserId: owner.id, subjectUserId: owner.id, orgId: owner.org_id, meta, type: 'second_factor.succeeded', details: { ...key, method: 'webauthn' } });
      const session = await this.openSession(trx, owner, amr, meta, { firstFactor: 'passkey', secondFactor: 'passkey_user_verification', ...key });
      return { ok: true as const, amr, key, session };
    });
    if (!outcome.ok) return refuse(outcome.failureCode as WebAuthnFailure, outcome.details ?? {});
    await reservation.release();
    if (outcome.session) return this.announce({ status: 'signed_in' as const, user: owner, session: outcome.session, trustedBrowser: null, returnTo }, meta);
    return this.afterFirstStep(owner, recognition, outcome.amr, meta, { returnTo, trustedBrowserToken: step.trustedBrowserToken, without: 'webauthn' });
  }

  /** The view of a pending flow (for its page), or null when the challenge names no open flow in `state`. */
  async pendingFlow(challenge: string | undefined, state: PendingSignInState): Promise<SignInFlowView | null> {
    const flow = await this.find(challenge);
    if (!flow || flow.state !== state || isExpired(flow, this.deps.clock())) return null;
    const user = await users.findUser(this.db, flow.userId);
    return user && user.status === 'active' ? this.viewOf(flow, user) : null;
  }

  private async find(challenge: string | undefined): Promise<SignInFlow | undefined> {
    if (!challenge || challenge.length > 128) return undefined;
    return signInFlows.findSignInFlowByTokenHash(this.db, sha256(challenge));
  }

  /** The flow behind a challenge and its user, if it is open in `state` (and takes `method`, when named) now. */
  private async open(challenge: string, state: PendingSignInState, method?: string): Promise<{ flow: SignInFlow; user: User }> {
    const found = await this.find(challenge);
    const nowMs = this.deps.clock();
    const flow = method === undefined ? openIn(found, state, nowMs) : accepts(found, state, method, nowMs);
    const user = await users.findUser(this.db, flow.userId);
    if (!user || user.status !== 'active') throw unauthenticated('challenge_invalid', 'This sign-in has ended. Sign in again.');
    return { flow, user };
  }

  /** Second step by phone: sends an approval request to one of the person's phones; the page shows the number. */
  async requestApproval(challenge: string, approverId: string, meta: RequestMeta): Promise<StartedApproval> {
    const { flow, user } = await this.open(challenge, 'second_factor_required', 'push');
    await this.catalogue.assertUsable(user, 'push');
    return this.approvals.request(user, approverId, 'sign_in', signInBinding(flow.id), { action: 'Sign in' }, meta);
  }

  /** Whether the phone has answered this flow's request yet: what the waiting page asks (the approval itself is spent by `withSecondFactor`). */
  async approvalStatus(challenge: string, requestId: string): Promise<ApprovalStatus> {
    const { flow, user } = await this.open(challenge, 'second_factor_required', 'push');
    return this.approvals.status(user.id, requestId, signInBinding(flow.id));
  }

  async withSecondFactor(step: SecondFactorStep, meta: RequestMeta): Promise<SignedIn> {
    const { flow, user } = await this.open(step.challenge, 'second_factor_required', step.method);
    const policy = await this.policy.effectiveFor(user);
    const keyOwed = policy.phishingResistant.value && !provesKey(flow.amr);
    const holdsKey = keyOwed && (await factors.listActiveFactors(this.db, user.id)).some((f) => f.type === 'webauthn');

    const onVerified = async (trx: Executor, proof: SecondFactorProof): Promise<SignedIn | KeyRequired> => {
      const base = { actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta };
      // A code proves the person but is not the key policy asks for: the flow moves on to adding
      // one (the code spent, so the key is added by whoever proved it). A backup code lets a key
      // holder who lost their key in.
      if (keyOwed && proof.method !== 'webauthn' && !(holdsKey && proof.method === 'backup_code')) {
        const next: SignInFlow = { ...flow, state: 'enrolment_required', methods: ['webauthn'], amr: mergeAmr(flow.amr, proof.amr) };
        if (!(await signInFlows.transitionSignInFlow(trx, next, 'second_factor_required'))) throw unauthenticated('challenge_invalid', 'This sign-in has already been completed.');
        await recordAudit(trx, this.deps.clock(), { ...base, type: 'sign_in.key_required', details: { method: proof.method, ...proof.details } });
        if (proof.method === 'backup_code') await recordAudit(trx, this.deps.clock(), { ...base, type: 'backup_code.used', details: proof.details });
        return { status: 'key_required' };
      }
      const completed = complete(flow, proof.amr);
      await this.saveCompleted(trx, completed, 'second_factor_required');
      const now = this.deps.clock();
      await recordAudit(trx, now, { ...base, type: 'second_factor.succeeded', details: { method: proof.method, ...proof.details } });
      if (proof.method === 'backup_code') await recordAudit(trx, now, { ...base, type: 'backup_code.used', details: proof.details });
      const trustedBrowser = step.trustBrowser ? await this.trust.issue(trx, user, meta, (await this.policy.effectiveFor(user, trx)).trustBrowserDays.value) : null;
      // An approval names the phone, a key its name, in the session's sign-in record (the activity log shows them).
      const named = proof.method === 'push' ? { approvedOn: proof.details.approver ?? null } : proof.method === 'webauthn' ? { keyName: proof.details.label ?? null, factorId: proof.details.factorId ?? null } : {};
      const session = await this.openSession(trx, user, [...completed.amr], meta, named);
      return { status: 'signed_in', user, session, trustedBrowser, returnTo: completed.returnTo };
    };
    let result: SignedIn | KeyRequired;
    if (step.method === 'push') {
      result = await this.verifier.verifyWith(new PushStrategy(this.deps, signInBinding(flow.id)), user, step.code, meta, 'sign_in', onVerified);
    } else if (step.method === 'sms' || step.method === 'email') {
      const strategy = new DeliveredCodeStrategy(this.deps, this.codes, step.method, signInCodeScope(flow.id, step.method));
      result = await this.verifier.verifyWith(strategy, user, step.code, meta, 'sign_in', onVerified);
    } else if (step.method === 'webauthn') {
      result = await this.verifier.verifyWith(new WebAuthnStrategy(this.deps, signInChallengeScope(flow.id)), user, step.code, meta, 'sign_in', onVerified);
    } else {
      result = await this.verifier.verify(user, step.method, step.code, meta, 'sign_in', onVerified);
    }
    // Committed above: the same challenge now waits for a key to be added (forced enrolment).
    if (result.status === 'key_required') throw forbidden('phishing_resistant_required', KEY_REQUIRED);
    return this.announce(result, meta);
  }

  /** Forced enrolment with a security key or passkey: the options for navigator.credentials.create(). */
  async enrolmentKeyOptions(challenge: string): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const { user } = await this.open(challenge, 'enrolment_required', 'webauthn');
    return this.securityKeys.registrationOptions({ via: 'enrolment_flow', user });
  }

  /**
   * Forced enrolment with a key: the browser's answer switches the key on, completes the flow
   * (with the key's amr) and opens the session, in one transaction.
   */
  async enrolKey(challenge: string, response: unknown, name: string | undefined, meta: RequestMeta): Promise<SignedIn & { backupCodes: string[] }> {
    const { flow, user } = await this.open(challenge, 'enrolment_required', 'webauthn');
    let session: IssuedSession | undefined;
    let completed: SignInFlow | undefined;
    const enrolled = await this.securityKeys.register({ via: 'enrolment_flow', user }, response, name, meta, async (trx, amr) => {
      completed = complete(flow, amr);
      await this.saveCompleted(trx, completed, 'enrolment_required');
      session = await this.openSession(trx, user, [...completed.amr], meta, { secondFactor: 'enrolment', method: 'webauthn' });
    });
    if (!session || !completed) throw new Error('security key enrolled without a session');
    return this.announce({ status: 'signed_in', user, session, trustedBrowser: null, returnTo: completed.returnTo, backupCodes: enrolled.backupCodes ?? [] }, meta);
  }

  private async finish(user: User, amr: string[], meta: RequestMeta, details: Record<string, unknown>, returnTo: string | null): Promise<SignedIn> {
    const result = await this.db.transaction().execute(async (trx) => {
      const session = await this.openSession(trx, user, amr, meta, details);
      return { status: 'signed_in' as const, user, session, trustedBrowser: null, returnTo };
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
