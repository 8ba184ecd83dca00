import { randomInt, randomUUID } from 'node:crypto';
import type { ApprovalDecision } from '../../core/approval.js';
import { APPROVAL_LIFETIME_MS, DENIALS_BEFORE_PAUSE, LISTING_SKEW_MS, denialsInARow, isApprovalDecision, numberAndChoices, signedApprovalMessage, signedListingMessage } from '../../core/approval.js';
import { randomToken, sha256 } from '../../core/crypto.js';
import { conflict, forbidden, gone, invalidInput, notFound, unauthenticated } from '../../core/errors.js';
import type { SecondFactorPolicy } from '../policy.js';
import { placeLabel } from '../../core/place.js';
import { deviceLabel } from '../../core/user-agent.js';
import type { PushSubscriptionKeys } from '../../delivery/index.js';
import { pushEndpointAllowed, sendWebPush } from '../../delivery/index.js';
import type { ApprovalRequest, ApprovalRequestState, ApproverDevice } from '../../store/index.js';
import { approvals, backupCodes, factors, sessions, signInFlows, trustedBrowsers, users } from '../../store/index.js';
import type { Actor } from '../actor.js';
import { personOf } from '../actor.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { IpLocator } from '../geoip.js';
import type { Notifier } from '../messaging/notifier.js';
import type { Principal } from '../principal.js';
import type { AttemptLimiter, Limit } from '../rate-limiter.js';
import { pushSubscriptionContext } from '../secret-contexts.js';
import { requireProofToChangeFactors } from '../step-up.js';
import { parseDevicePublicKey, verifyDeviceSignature } from './device-key.js';
import type { VapidKeys } from './vapid.js';

export const PAIRING_LIFETIME_MS = 10 * 60_000;
export const MAX_APPROVERS = 5;
/** Pushes one account may cause: enough for honest retries, too few to wear a person down. */
export const PUSHES_PER_ACCOUNT: Limit = { max: 5, windowMs: 15 * 60_000 };
export const PUSHES_PER_IP: Limit = { max: 30, windowMs: 15 * 60_000 };
const PAIRINGS_PER_IP: Limit = { max: 20, windowMs: 15 * 60_000 };
const PUSH_TIMEOUT_MS = 5_000;

export type ApprovalPurpose = 'sign_in' | 'reauthentication' | 'deploy';

/** What the phone shows about a request: nothing secret. */
export interface ApprovalDescription {
  /** "Sign in", "Confirm it is you", "Deploy to Production". */
  action: string;
  browser: string;
  place: string | null;
  ip: string;
  at: number;
  /** Deploys: the target and how many changes. */
  target?: string;
  changes?: number;
}

export interface ApproverView {
  id: string;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** Whether the phone gets pushes (else it lists requests when its app is open). */
  push: boolean;
}

export interface StartedApproval {
  requestId: string;
  number: number;
  expiresAt: number;
  deviceName: string;
  /** Whether a push went out to the phone (false: the person opens the app to see it). */
  pushed: boolean;
}

export interface PendingApproval {
  requestId: string;
  challenge: string;
  binding: string;
  choices: number[];
  description: ApprovalDescription;
  expiresAt: number;
}

export interface DecisionInput {
  requestId: string;
  decision: string;
  number?: number | undefined;
  signature: string;
}

/** What a waiting browser sees: `pending` until the phone answers or the minute is over. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

export interface PairingInput {
  token: string;
  name: string;
  publicKey: unknown;
  subscription?: unknown;
}

/**
 * Phones as approvers (issue 19): pairing, the requests a flow sends to a phone, and the phone's
 * signed decisions. The decision is judged here (signature, number, expiry, once); what the
 * approval unlocks is spent by the flow that asked, through the second-factor verifier
 * (second-factor/push-strategy.ts), so one approval opens one thing once.
 */
export class ApprovalService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly limiter: AttemptLimiter,
    private readonly notifier: Notifier,
    private readonly locator: IpLocator,
    private readonly vapid: VapidKeys,
    private readonly policy: SecondFactorPolicy,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async vapidPublicKey(): Promise<string> {
    return (await this.vapid.get()).publicKey;
  }

  /** A single-use link that pairs a phone; adding an approver is changing how the account is protected, so it needs a fresh proof. */
  async startPairing(actor: Actor, meta: RequestMeta): Promise<{ url: string; token: string; expiresAt: number }> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    if ((await approvals.countActiveDevices(this.db, user.id)) >= MAX_APPROVERS) {
      throw conflict('too_many_factors', `You can pair at most ${MAX_APPROVERS} phones for approvals.`);
    }
    const token = randomToken(32);
    const now = this.deps.clock();
    const expiresAt = now + PAIRING_LIFETIME_MS;
    await this.db.transaction().execute(async (trx) => {
      await approvals.insertPairing(trx, { id: randomUUID(), user_id: user.id, token_hash: sha256(token), created_at: now, expires_at: expiresAt });
      await recordAudit(trx, now, { type: 'approver.pairing_started', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { expiresAt } });
    });
    // In the fragment: a browser never sends it to a server, so it stays out of logs and Referer.
    return { url: `${this.deps.settings.publicUrl}/approver/#pair=${token}`, token, expiresAt };
  }

  /** The phone's side of pairing: spends the link, stores the public key and the push subscription (sealed). */
  async pair(input: PairingInput, meta: RequestMeta): Promise<{ deviceId: string; name: string }> {
    const name = checkName(input.name);
    const publicKey = parseDevicePublicKey(input.publicKey);
    const subscription = input.subscription === undefined || input.subscription === null ? null : this.parseSubscription(input.subscription);
    await this.limiter.reserve([[`pair:ip:${meta.ip}`, PAIRINGS_PER_IP]], 'too_many_attempts', 'Too many pairing attempts from here. Wait a while and try again.');
    const deviceId = randomUUID();
    const now = this.deps.clock();
    const user = await this.db.transaction().execute(async (trx) => {
      const userId = await approvals.claimPairing(trx, sha256(input.token), deviceId, now);
      if (!userId) throw gone('pairing_link_invalid', 'This pairing link has expired or was used already. Make a new one on your Security page.');
      const owner = await trx.selectFrom('users').select(['id', 'org_id', 'status']).where('id', '=', userId).executeTakeFirstOrThrow();
      if (owner.status !== 'active') throw gone('pairing_link_invalid', 'This pairing link has expired or was used already.');
      await approvals.insertDevice(trx, {
        id: deviceId,
        user_id: userId,
        name,
        public_key_jwk: publicKey,
        push_subscription_encrypted: subscription ? this.deps.box.encrypt(JSON.stringify(subscription), pushSubscriptionContext(deviceId)) : null,
        created_at: now,
        last_used_at: null,
        removed_at: null,
      });
      await recordAudit(trx, now, { type: 'approver.paired', actorUserId: userId, subjectUserId: userId, orgId: owner.org_id, meta, details: { approverId: deviceId, name, push: subscription !== null } });
      return owner;
    });
    const principal = await users.findUser(this.db, user.id);
    if (principal) await this.notifier.notify(principal, { title: 'A phone was added for sign-in approvals', lines: [['Phone', name]] }, meta);
    return { deviceId, name };
  }

  async list(actor: Actor): Promise<ApproverView[]> {
    const user = personOf(actor);
    return (await approvals.listActiveDevices(this.db, user.id)).map(viewOf);
  }

  /** The phones a person can choose at a second step. */
  async approversOf(userId: string): Promise<Array<{ id: string; name: string }>> {
    return (await approvals.listActiveDevices(this.db, userId)).map((d) => ({ id: d.id, name: d.name }));
  }

  async hasApprover(userId: string): Promise<boolean> {
    return (await approvals.countActiveDevices(this.db, userId)) > 0;
  }

  async rename(actor: Actor, deviceId: string, name: string, meta: RequestMeta): Promise<ApproverView> {
    const user = personOf(actor);
    const checked = checkName(name);
    const now = this.deps.clock();
    await this.db.transaction().execute(async (trx) => {
      if (!(await approvals.renameDevice(trx, user.id, deviceId, checked))) throw notFound('approver_not_found', 'No such phone.');
      await recordAudit(trx, now, { type: 'approver.renamed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { approverId: deviceId, name: checked } });
    });
    const device = await approvals.findDevice(this.db, deviceId);
    if (!device) throw notFound('approver_not_found', 'No such phone.');
    return viewOf(device);
  }

  /**
   * Three denials in a row pause push until the person signs in with a second factor again
   * (another method, or a backup code): only decisions after that sign-in count. Someone who
   * holds only the password cannot do that, so they cannot lift the pause by themselves.
   */
  private async pushPaused(userId: string): Promise<boolean> {
    const since = (await sessions.latestSecondFactorSessionAt(this.db, userId)) ?? 0;
    return denialsInARow(await approvals.recentDecisions(this.db, userId, DENIALS_BEFORE_PAUSE, since)) >= DENIALS_BEFORE_PAUSE;
  }

  /** Removing an approver needs a fresh proof, like removing any factor. */
  async remove(actor: Actor, deviceId: string, meta: RequestMeta): Promise<void> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    const now = this.deps.clock();
    const removed = await this.db.transaction().execute(async (trx) => {
      const device = await approvals.findDevice(trx, deviceId);
      if (!device || device.user_id !== user.id || !(await approvals.removeDevice(trx, user.id, deviceId, now))) throw notFound('approver_not_found', 'No such phone.');
      // The last method gone (a phone counts as one): backup codes and trusted browsers would be orphans that still open doors.
      const last = (await factors.countHeldFactors(trx, user.id)) === 0;
      // The same rule as for any factor; throwing rolls the removal back.
      if (last && (await this.policy.requiresSecondFactor(user, trx))) {
        throw forbidden('factor_required_by_policy', 'Your organisation requires two-step verification, so you cannot remove your last method. Add another first.');
      }
      let revokedBrowsers = 0;
      if (last) {
        await backupCodes.deleteBackupCodes(trx, user.id);
        revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, user.id, now);
      }
      await recordAudit(trx, now, { type: 'approver.removed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { approverId: deviceId, name: device.name, lastMethod: last, revokedBrowsers } });
      return { last, name: device.name };
    });
    // Told like any other method removed: a stolen session removing the owner's phone should not go unseen.
    const lines: Array<readonly [string, string]> = [['Phone', removed.name]];
    if (removed.last) lines.push(['What happened', 'You removed your last sign-in method; a password alone now signs you in.']);
    lines.push(['Not you?', 'Open your security page now, add your own method again and change your password.']);
    await this.notifier.notify(user, { title: removed.last ? 'Two-step verification is off' : 'A phone for sign-in approvals was removed', lines }, meta);
  }

  /**
   * Sends a request to one of the user's phones and returns the number the asking page shows.
   * One pending request per account; pushes are limited per account and per IP (reserved before
   * anything is sent) and pause after three denials in a row. A push that cannot be delivered
   * does not fail the request: the phone's app lists it when opened.
   */
  async request(user: Principal, deviceId: string, purpose: ApprovalPurpose, binding: string, description: Omit<ApprovalDescription, 'browser' | 'place' | 'ip' | 'at'>, meta: RequestMeta): Promise<StartedApproval> {
    const device = await approvals.findDevice(this.db, deviceId);
    if (!device || device.user_id !== user.id || device.removed_at !== null) throw notFound('approver_not_found', 'No such phone.');
    if (await this.pushPaused(user.id)) {
      throw forbidden('push_paused', 'Phone approvals are paused for this account after several denied requests. Use another method.');
    }
    await this.limiter.reserve(
      [
        [`push:acct:${user.id}`, PUSHES_PER_ACCOUNT],
        [`push:ip:${meta.ip}`, PUSHES_PER_IP],
      ],
      'too_many_pushes',
      'Too many approval requests. Wait a while, or use another method.',
    );
    const now = this.deps.clock();
    const { number, choices } = numberAndChoices(randomInt);
    const full: ApprovalDescription = { ...description, browser: deviceLabel(meta.userAgent), place: await this.placeOf(meta.ip), ip: meta.ip, at: now };
    const requestId = randomUUID();
    const expiresAt = now + APPROVAL_LIFETIME_MS;
    await this.db.transaction().execute(async (trx) => {
      await approvals.expirePending(trx, user.id, now);
      // The same flow asking again replaces its own request; another flow waits its turn.
      await approvals.cancelPendingFor(trx, user.id, binding, now);
      if (await approvals.findPendingForUser(trx, user.id)) throw conflict('approval_pending', 'Another approval request is waiting on your phone. Answer it or wait a minute.');
      await approvals.insertRequest(trx, {
        id: requestId,
        user_id: user.id,
        device_id: device.id,
        purpose,
        binding,
        number,
        choices: JSON.stringify(choices),
        challenge: randomToken(32),
        description: JSON.stringify(full),
        state: 'pending',
        created_at: now,
        expires_at: expiresAt,
        decided_at: null,
        used_at: null,
        ip: meta.ip,
        user_agent: meta.userAgent.slice(0, 512),
      });
      await recordAudit(trx, now, { type: 'approval.requested', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { requestId, approverId: device.id, approver: device.name, purpose } });
    }).catch((error: unknown) => {
      // Two requests racing past the check: the one-pending index refuses the second.
      if (isUniqueViolation(error)) throw conflict('approval_pending', 'Another approval request is waiting on your phone. Answer it or wait a minute.');
      throw error;
    });
    const pushed = await this.push(user, device, { requestId, description: full, expiresAt }, meta);
    return { requestId, number, expiresAt, deviceName: device.name, pushed };
  }

  /** The phone's list of its pending requests, for browsers without push; authenticated by a signature with its device key. */
  async pending(input: { deviceId: string; timestamp: number; signature: string }): Promise<PendingApproval[]> {
    const device = await this.liveDevice(input.deviceId);
    const now = this.deps.clock();
    if (!Number.isSafeInteger(input.timestamp) || Math.abs(input.timestamp - now) > LISTING_SKEW_MS || !verifyDeviceSignature(device.public_key_jwk, signedListingMessage(device.id, input.timestamp), input.signature)) {
      throw unauthenticated('approval_signature_invalid', 'The request was not signed by this phone, or its clock is far off.');
    }
    return (await approvals.listPendingForDevice(this.db, device.id, now)).map((r) => ({
      requestId: r.id,
      challenge: r.challenge,
      binding: r.binding,
      choices: JSON.parse(r.choices) as number[],
      description: JSON.parse(r.description) as ApprovalDescription,
      expiresAt: r.expires_at,
    }));
  }

  /**
   * The phone's signed decision. Signature first (a forgery learns nothing about the request's
   * state), then once only: of two racing decisions exactly one is written. A wrong number is a
   * denial. "This wasn't me" (`report`) ends a sign-in flow and tells the owner.
   */
  async decide(input: DecisionInput, meta: RequestMeta): Promise<{ state: Exclude<ApprovalRequestState, 'pending'> }> {
    if (!isApprovalDecision(input.decision)) throw invalidInput('approval_decision_invalid', 'The decision is one of approve, deny, report.');
    const decision: ApprovalDecision = input.decision;
    const number = decision === 'approve' ? (input.number ?? null) : null;
    if (decision === 'approve' && (number === null || !Number.isInteger(number))) throw invalidInput('approval_decision_invalid', 'An approval names the number shown on the screen.');
    const request = await approvals.findRequest(this.db, input.requestId);
    if (!request) throw notFound('approval_not_found', 'No such request.');
    const device = await this.liveDevice(request.device_id);
    const message = signedApprovalMessage({ requestId: request.id, challenge: request.challenge, binding: request.binding, number, decision });
    if (!verifyDeviceSignature(device.public_key_jwk, message, input.signature)) throw unauthenticated('approval_signature_invalid', 'This decision was not signed by the paired phone.');
    const now = this.deps.clock();
    if (request.state !== 'pending') throw conflict('approval_already_decided', 'This request was already answered.');
    if (request.expires_at <= now) throw gone('approval_expired', 'This request has expired.');

    const wrongNumber = decision === 'approve' && number !== request.number;
    const state = decision === 'report' ? 'reported' : decision === 'deny' || wrongNumber ? 'denied' : 'approved';
    const user = await users.findUser(this.db, request.user_id);
    if (!user) throw notFound('approval_not_found', 'No such request.');
    await this.db.transaction().execute(async (trx) => {
      if (!(await approvals.decide(trx, request.id, state, now))) {
        const again = await approvals.findRequest(trx, request.id);
        if (again && again.state === 'pending') throw gone('approval_expired', 'This request has expired.');
        throw conflict('approval_already_decided', 'This request was already answered.');
      }
      await approvals.markDeviceUsed(trx, device.id, now);
      if (state === 'reported' && request.binding.startsWith('sign_in:')) await signInFlows.endSignInFlow(trx, request.binding.slice('sign_in:'.length), now);
      const description = JSON.parse(request.description) as ApprovalDescription;
      await recordAudit(trx, now, {
        type: 'approval.decided',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { requestId: request.id, approverId: device.id, approver: device.name, purpose: request.purpose, decision: state, wrongNumber, requestedFrom: { browser: description.browser, place: description.place, ip: description.ip } },
      });
    });
    if (state !== 'approved') await this.afterRefusal(user, request, device, state, wrongNumber, meta);
    if (wrongNumber) throw forbidden('approval_number_wrong', 'That was not the number on the screen, so the request was denied.');
    return { state };
  }

  /** What a waiting page sees of its own request (bound to `binding`); anything else reads as not found. */
  async status(userId: string, requestId: string, binding: string): Promise<ApprovalStatus> {
    const request = await approvals.findRequest(this.db, requestId);
    if (!request || request.user_id !== userId || request.binding !== binding) throw notFound('approval_not_found', 'No such request.');
    const now = this.deps.clock();
    if (request.state === 'pending') return request.expires_at <= now ? 'expired' : 'pending';
    if (request.state === 'approved') return request.used_at === null ? 'approved' : 'expired';
    if (request.state === 'denied' || request.state === 'reported') return 'denied';
    return 'expired';
  }

  private async liveDevice(deviceId: string): Promise<ApproverDevice> {
    const device = await approvals.findDevice(this.db, deviceId);
    if (!device || device.removed_at !== null) throw notFound('approver_not_found', 'This phone is not paired (it may have been removed). Pair it again from your Security page.');
    return device;
  }

  /** After a denial: the owner hears of "This wasn't me" and of a pause; a third denial in a row pauses push. */
  private async afterRefusal(user: Principal, request: ApprovalRequest, device: ApproverDevice, state: ApprovalRequestState, wrongNumber: boolean, meta: RequestMeta): Promise<void> {
    const description = JSON.parse(request.description) as ApprovalDescription;
    const from: Array<readonly [string, string]> = [
      ['Requested from', description.browser],
      ['Place', description.place ?? 'Unknown'],
      ['Requesting IP address', description.ip],
      ['Phone', device.name],
    ];
    if (state === 'reported' || wrongNumber) {
      await this.notifier.notify(
        user,
        {
          title: state === 'reported' ? 'You reported a sign-in request that was not you' : 'A sign-in request was denied: the wrong number was picked',
          lines: from,
          link: { path: '/account/security/devices', label: 'Review and block devices' },
          advice: 'Someone who knows your password asked for your approval. Change your password now, and block the device if you do not know it.',
        },
        null,
      );
    }
    const paused = await this.pushPaused(user.id);
    if (paused) {
      await this.db.transaction().execute(async (trx) => {
        await recordAudit(trx, this.deps.clock(), { type: 'approval.paused', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { approverId: device.id, approver: device.name } });
      });
      await this.notifier.notify(user, { title: 'Phone approvals are paused', lines: [['Why', `${DENIALS_BEFORE_PAUSE} approval requests in a row were denied.`], ...from], advice: 'Sign in with another method to switch approvals back on; change your password if the requests were not yours.' }, null);
    }
  }

  private async placeOf(ip: string): Promise<string | null> {
    try {
      const place = await this.locator.locate(ip);
      return place ? placeLabel(place) : null;
    } catch {
      return null; // the place is a courtesy on the phone, never a reason to fail the request
    }
  }

  private parseSubscription(input: unknown): PushSubscriptionKeys {
    const refuse = () => invalidInput('push_subscription_invalid', 'The push subscription must have an https endpoint and p256dh and auth keys.');
    if (typeof input !== 'object' || input === null) throw refuse();
    const s = input as { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } };
    const keys = s.keys;
    if (typeof s.endpoint !== 'string' || s.endpoint.length > 2048 || typeof keys !== 'object' || keys === null) throw refuse();
    if (typeof keys.p256dh !== 'string' || !/^[A-Za-z0-9_-]{80,100}={0,2}$/.test(keys.p256dh) || typeof keys.auth !== 'string' || !/^[A-Za-z0-9_-]{16,32}={0,2}$/.test(keys.auth)) throw refuse();
    if (!pushEndpointAllowed(s.endpoint, this.deps.settings.deliveryAllowPrivate === true)) throw refuse();
    return { endpoint: s.endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
  }

  /** Sends the push; a failure is audited and the subscription dropped when the push service says it is gone. */
  private async push(user: Principal, device: ApproverDevice, message: { requestId: string; description: ApprovalDescription; expiresAt: number }, meta: RequestMeta): Promise<boolean> {
    if (device.push_subscription_encrypted === null) return false;
    try {
      const subscription = JSON.parse(this.deps.box.decrypt(device.push_subscription_encrypted, pushSubscriptionContext(device.id))) as PushSubscriptionKeys;
      const outcome = await sendWebPush(subscription, JSON.stringify({ type: 'approval', ...message }), {
        vapid: await this.vapid.get(),
        subject: this.vapid.subject(),
        ttlSeconds: Math.ceil(APPROVAL_LIFETIME_MS / 1000),
        timeoutMs: Math.min(PUSH_TIMEOUT_MS, this.deps.settings.deliveryTimeoutMs),
        allowPrivate: this.deps.settings.deliveryAllowPrivate === true,
      });
      if (outcome.ok) return true;
      await this.db.transaction().execute(async (trx) => {
        if (outcome.reason === 'gone') await approvals.setSubscription(trx, device.id, null);
        await recordAudit(trx, this.deps.clock(), { type: 'approval.push_failed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { requestId: message.requestId, approverId: device.id, reason: outcome.reason, status: outcome.status ?? null } });
      });
    } catch {
      // A push is a convenience: the request stands and the phone's app lists it.
    }
    return false;
  }
}

function checkName(name: string): string {
  const trimmed = (name ?? '').trim();
  // A name shows on pages, in emails and on the phone: one line of 1 to 64 characters.
  if (trimmed.length < 1 || trimmed.length > 64 || [...trimmed].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) throw invalidInput('label_invalid', 'A phone name is one line of 1 to 64 characters.');
  return trimmed;
}

function viewOf(d: ApproverDevice): ApproverView {
  return { id: d.id, name: d.name, createdAt: d.created_at, lastUsedAt: d.last_used_at, push: d.push_subscription_encrypted !== null };
}


/** PostgreSQL's unique_violation, or SQLite's constraint message: the one-pending index said no. */
function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e?.code === '23505' || (typeof e?.message === 'string' && /UNIQUE constraint failed/.test(e.message));
}
