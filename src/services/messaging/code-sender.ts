import { randomUUID } from 'node:crypto';
import { hmacSha256, sha256 } from '../../core/crypto.js';
import { rateLimited } from '../../core/errors.js';
import { generateNumericCode } from '../../core/one-time-code.js';
import type { Channel, CodeAction } from '../../delivery/index.js';
import { codeMessage } from '../../delivery/index.js';
import type { Executor, Factor, OneTimeCodePurpose } from '../../store/index.js';
import { oneTimeCodes, rateLimits, users } from '../../store/index.js';
import { recordAudit } from '../audit-log.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import { companyNameFor } from '../branding.js';
import { CHANNEL_LABELS, channelStatus } from './channels.js';
import type { AttemptLimiter, Limit } from '../rate-limiter.js';
import { factorDestinationContext } from '../secret-contexts.js';
import { lockoutRetryAfterMs } from '../second-factor/lockout.js';
import type { MessageSender } from './sender.js';
import { deliveryFailedForUser, deliveryFailureDetails } from './sender.js';
import type { Principal } from '../principal.js';

/**
 * Sends are limited three ways: per user (one account cannot be made to spam its owner), per
 * destination (one victim number cannot be flooded through many accounts) and per IP (one
 * client cannot pump premium-rate texts through many accounts and numbers).
 */
export const CODE_SENDS_PER_USER: Limit = { max: 10, windowMs: 60 * 60_000 };
export const CODE_SENDS_PER_DESTINATION: Limit = { max: 8, windowMs: 60 * 60_000 };
export const CODE_SENDS_PER_IP: Limit = { max: 30, windowMs: 60 * 60_000 };

function resendTooSoon(waitMs: number) {
  return rateLimited('resend_too_soon', 'A code was just sent. Wait a moment before asking for another.', waitMs / 1000);
}

export interface CodeTarget {
  user: Principal;
  factor: Factor;
  purpose: OneTimeCodePurpose;
  /** What the code is good for within its purpose: the flow, the enrolment, the session, the deploy (see delivered-code-strategy.ts). */
  scope: string;
  /** Deploy codes: the target named in the message, and whether it is a roll back. */
  deploy?: { targetName: string; rollback: boolean };
}

/** The words of the message: each purpose names its own action. */
function actionOf(target: CodeTarget, channel: Channel): CodeAction {
  switch (target.purpose) {
    case 'enrolment':
      return { purpose: 'enrolment', channel };
    case 'deploy':
      if (!target.deploy) throw new Error('a deploy code needs its target');
      return { purpose: 'deploy', targetName: target.deploy.targetName, rollback: target.deploy.rollback };
    default:
      return { purpose: target.purpose };
  }
}

export interface SentCode {
  channel: Channel;
  /** The channel's title as the organisation named it (Services, channel entries), e.g. "Text message to your phone". */
  title: string;
  sentTo: string;
  expiresAt: number;
  /** When the user may ask for another code. */
  resendAt: number;
}

export class CodeSender {
  private readonly pepper: Buffer;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly sender: MessageSender,
    private readonly limiter: AttemptLimiter,
  ) {
    this.pepper = deps.box.deriveKey('one-time-codes');
  }

  /** Keyed by the code's own id, so equal codes never hash alike and a table dump gives nothing to grind. */
  hashCode(codeId: string, code: string): string {
    return hmacSha256(this.pepper, `${codeId}:${code}`);
  }

  destinationOf(factor: Factor): string {
    return this.deps.box.decrypt(factor.secret_encrypted, factorDestinationContext(factor.id));
  }

  /**
   * Makes a code, sends it, and only then stores its hash (voiding earlier codes of the same
   * scope) with the audit record in one transaction: a failed send leaves no challenge behind.
   */
  async send(target: CodeTarget, meta: RequestMeta): Promise<SentCode> {
    const { user, purpose, scope } = target;
    const db = this.deps.database.db;
    // A locked account could not use the code anyway: sending one would only cost money and annoy.
    if (purpose !== 'enrolment') {
      const fresh = await users.findUser(db, user.id);
      const lockedMs = fresh ? lockoutRetryAfterMs(fresh, this.deps.clock()) : 0;
      if (lockedMs > 0) throw rateLimited('second_factor_locked', 'Too many wrong codes. Wait before asking for a new one, or use a backup code.', lockedMs / 1000);
    }
    const latest = await oneTimeCodes.latestCode(db, { userId: user.id, purpose, scope });
    const waitMs = latest ? latest.created_at + this.deps.settings.codeResendMs - this.deps.clock() : 0;
    if (waitMs > 0) throw resendTooSoon(waitMs);

    // The check above cannot see a send still in flight (its code is stored only once it went
    // out), so the scope is also claimed with an atomic counter: of two requests at the same
    // moment one sends and the other waits. The claim is let go once the code is stored, or the
    // send failed: from then on the stored code, or nothing, decides. (At least a second, so
    // that even with no resend pause configured two simultaneous requests send one code.)
    const slot = `code-send:scope:${sha256(`${user.id}:${purpose}:${scope}`)}`;
    const claim = await rateLimits.hitCounter(db, slot, Math.max(this.deps.settings.codeResendMs, 1000), this.deps.clock());
    if (claim.count > 1) throw resendTooSoon(claim.resetAt - this.deps.clock());
    try {
      return await this.sendClaimed(target, meta);
    } finally {
      await rateLimits.clearCounter(db, slot);
    }
  }

  private async sendClaimed(target: CodeTarget, meta: RequestMeta): Promise<SentCode> {
    const { user, factor, purpose, scope } = target;
    const channel = factor.type as Channel;
    const db = this.deps.database.db;
    const where = { userId: user.id, purpose, scope };
    const settings = this.deps.settings;

    const destination = this.destinationOf(factor);
    const limits: Array<readonly [string, Limit]> = [
      [`code-send:user:${user.id}`, CODE_SENDS_PER_USER],
      [`code-send:dest:${sha256(destination)}`, CODE_SENDS_PER_DESTINATION],
      [`code-send:ip:${meta.ip}`, CODE_SENDS_PER_IP],
    ];
    // Reserved before sending and never given back: a flood of parallel requests is charged
    // even if every send fails, and no burst gets more sends than the limit.
    await this.limiter.reserve(limits, 'too_many_codes', 'Too many codes have been sent. Wait a while, or use another method.');

    const code = generateNumericCode();
    const codeId = randomUUID();
    const rendered = codeMessage({
      ...actionOf(target, channel),
      companyName: await companyNameFor(this.deps, user.org_id),
      code,
      minutesValid: Math.round(settings.codeValidityMs / 60_000),
      // The origin-bound autofill line (`@host #code`) is for text messages only: in an email it is noise.
      ...(channel === 'sms' ? { host: new URL(settings.publicUrl).hostname } : {}),
    });
    const auditBase = { actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta };
    const masked = factor.destination_masked ?? '';
    let sent;
    // Wall-clock time of the hand-over (all attempts): the delivery-latency metric reads it from the event.
    const sendStarted = performance.now();
    try {
      // Subject and HTML are email-only (OutgoingMessage): a webhook would otherwise pass a subject along with a text message.
      const message = channel === 'email' ? { channel, to: destination, subject: rendered.subject, text: rendered.text, html: rendered.html } : { channel, to: destination, text: rendered.text };
      sent = await this.sender.sendFor(db, user.org_id, message, { requireAllowed: true });
    } catch (error) {
      await recordAudit(db, this.deps.clock(), {
        ...auditBase,
        type: 'code.send_failed',
        details: { channel, to: masked, purpose, factorId: factor.id, ...deliveryFailureDetails(error), elapsedMs: Math.round(performance.now() - sendStarted) },
      });
      throw deliveryFailedForUser(channel, error);
    }

    const elapsedMs = Math.round(performance.now() - sendStarted);
    const now = this.deps.clock();
    const expiresAt = now + settings.codeValidityMs;
    await db.transaction().execute(async (trx: Executor) => {
      // Nothing else sweeps the table: each send tidies its own user's long-dead codes.
      await oneTimeCodes.deleteExpiredCodes(trx, now, user.id);
      await oneTimeCodes.voidLiveCodes(trx, where);
      await oneTimeCodes.insertCode(trx, {
        id: codeId,
        user_id: user.id,
        factor_id: factor.id,
        purpose,
        scope,
        code_hash: this.hashCode(codeId, code),
        status: 'live',
        attempts: 0,
        created_at: now,
        expires_at: expiresAt,
        used_at: null,
      });
      await recordAudit(trx, now, {
        ...auditBase,
        type: 'code.sent',
        details: { channel, to: masked, purpose, factorId: factor.id, providerId: sent.providerId, provider: sent.providerKind, attempts: sent.attempts, providerMessageId: sent.providerMessageId ?? null, elapsedMs },
      });
    });
    const title = (await channelStatus(db, user.org_id, channel)).entry?.title ?? CHANNEL_LABELS[channel];
    return { channel, title, sentTo: masked, expiresAt, resendAt: now + settings.codeResendMs };
  }
}
