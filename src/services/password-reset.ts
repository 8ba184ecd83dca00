import { randomToken, sha256 } from '../core/crypto.js';
import { gone, invalidInput } from '../core/errors.js';
import { checkNewPassword } from '../core/password-rules.js';
import { passwordResetMessage } from '../delivery/index.js';
import type { User } from '../store/index.js';
import { passwordResets, rateLimits, sessions, trustedBrowsers, users } from '../store/index.js';
import { normaliseEmail } from './accounts.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import { companyNameFor } from './branding.js';
import type { Notifier } from './messaging/notifier.js';
import type { MessageSender } from './messaging/sender.js';
import { deliveryFailureDetails } from './messaging/sender.js';
import { hashPassword } from './passwords.js';
import type { AttemptLimiter, Limit } from './rate-limiter.js';
import { signInAccountKey } from './rate-limiter.js';
import type { Principal } from './principal.js';

export const RESET_LINK_MS = 30 * 60_000;
export const RESET_REQUESTS_PER_ADDRESS: Limit = { max: 5, windowMs: 60 * 60_000 };
export const RESET_REQUESTS_PER_IP: Limit = { max: 20, windowMs: 60 * 60_000 };
export const RESET_FAILURES_PER_IP: Limit = { max: 20, windowMs: 15 * 60_000 };

/**
 * Forgotten password by email. The answer to a request is the same whether or not the address
 * has an account, and the mail goes out after the answer, so timing does not tell either. A
 * reset changes the password only: every factor stays, so the next sign-in still asks for one.
 */
export class PasswordResetService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly limiter: AttemptLimiter,
    private readonly sender: MessageSender,
    private readonly notifier: Notifier,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  /** Resolves once the request is recorded; `delivered` settles when the email was handed over (tests wait on it). */
  async request(emailInput: string, meta: RequestMeta): Promise<{ delivered: Promise<void> }> {
    const email = normaliseEmail(emailInput);
    const limits: Array<readonly [string, Limit]> = [
      [`reset:addr:${sha256(email)}`, RESET_REQUESTS_PER_ADDRESS],
      [`reset:ip:${meta.ip}`, RESET_REQUESTS_PER_IP],
    ];
    // Every request spends its slots, answered or not: the limit counts mails that may go out.
    await this.limiter.reserve(limits, 'too_many_requests', 'Too many reset requests. Wait a while before asking again.');
    const user = await users.findUserByEmail(this.db, email);
    const token = randomToken(32);
    await this.db.transaction().execute(async (trx) => {
      if (!user || user.status !== 'active') return;
      const now = this.deps.clock();
      await passwordResets.voidResetTokens(trx, user.id, now);
      await passwordResets.insertResetToken(trx, { token_hash: sha256(token), user_id: user.id, created_at: now, expires_at: now + RESET_LINK_MS, used_at: null });
      await recordAudit(trx, now, { type: 'password_reset.requested', subjectUserId: user.id, orgId: user.org_id, meta, details: {} });
    });
    if (!user || user.status !== 'active') return { delivered: Promise.resolve() };
    return { delivered: this.sendLink(user, token, meta) };
  }

  /** Whether a link can still be used: the page shows the form or says why not. */
  async check(token: string): Promise<{ email: string }> {
    const user = await this.userForToken(token);
    return { email: user.email };
  }

  async complete(token: string, newPassword: string, meta: RequestMeta): Promise<{ user: Principal }> {
    const ipKey = `reset-confirm:ip:${meta.ip}`;
    const reservation = await this.limiter.reserve([[ipKey, RESET_FAILURES_PER_IP]], 'too_many_attempts', 'Too many attempts from here. Wait a while and try again.');
    // A token that does not work keeps the slot: guessing tokens from one address is bounded.
    const user = await this.userForToken(token);
    await reservation.release();
    const strength = checkNewPassword(newPassword, { email: user.email_normalized, displayName: user.display_name });
    if (!strength.ok) throw invalidInput(strength.code, strength.message);
    const hash = await hashPassword(newPassword);
    await this.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      if (!(await passwordResets.spendResetToken(trx, sha256(token), now))) throw gone('reset_link_invalid', 'This reset link has already been used or has expired. Ask for a new one.');
      await passwordResets.voidResetTokens(trx, user.id, now);
      await users.setPasswordHash(trx, user.id, hash, now);
      const endedSessions = await sessions.revokeUserSessions(trx, user.id, now);
      const revokedBrowsers = await trustedBrowsers.revokeAllTrustedBrowsers(trx, user.id, now);
      // Whoever could open the reset link owns the address: the failed-password count that
      // locked password sign-in (the guesser's, or their own) no longer stands between them and the account.
      await rateLimits.clearCounter(trx, signInAccountKey(user.email_normalized));
      await recordAudit(trx, now, { type: 'password_reset.completed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { endedSessions, revokedBrowsers, clearedSignInLock: true } });
    });
    await this.notifier.notify(user, { title: 'Your password was reset', lines: [['What happened', 'Your password was changed with a reset link. You were signed out everywhere.']] }, meta);
    return { user };
  }

  private async userForToken(token: string): Promise<User> {
    const invalid = () => gone('reset_link_invalid', 'This reset link has already been used or has expired. Ask for a new one.');
    if (token.length < 20 || token.length > 128) throw unknownLink();
    const row = await passwordResets.findResetToken(this.db, sha256(token));
    if (!row) throw unknownLink();
    if (row.used_at !== null || row.expires_at <= this.deps.clock()) throw invalid();
    const user = await users.findUser(this.db, row.user_id);
    if (!user || user.status !== 'active') throw invalid();
    return user;
  }

  private async sendLink(user: Principal, token: string, meta: RequestMeta): Promise<void> {
    const rendered = passwordResetMessage({
      companyName: await companyNameFor(this.deps, user.org_id),
      link: `${this.deps.settings.publicUrl}/reset-password?token=${token}`,
      minutesValid: RESET_LINK_MS / 60_000,
    });
    try {
      await this.sender.sendFor(this.db, user.org_id, { channel: 'email', to: user.email, subject: rendered.subject, text: rendered.text, html: rendered.html }, { fallbackToOutbox: true });
    } catch (error) {
      await recordAudit(this.db, this.deps.clock(), { type: 'notification.failed', subjectUserId: user.id, orgId: user.org_id, meta, details: { title: 'password reset link', ...deliveryFailureDetails(error) } }).catch(() => undefined);
    }
  }
}

/** A token that was never issued: the same code and status as a spent or expired one (410), only the wording differs. */
function unknownLink() {
  return gone('reset_link_invalid', 'This reset link is not valid. Ask for a new one.');
}
