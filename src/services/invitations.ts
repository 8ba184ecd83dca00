import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import { conflict, gone, invalidInput, notFound } from '../core/errors.js';
import { checkNewPassword } from '../core/password-rules.js';
import { invitationMessage } from '../delivery/index.js';
import type { Executor, User } from '../store/index.js';
import { invitations, users } from '../store/index.js';
import { assertValidEmail, normaliseEmail } from './accounts.js';
import type { Actor } from './actor.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { MembershipInput } from './memberships.js';
import { setMemberships } from './memberships.js';
import type { MessageSender } from './messaging/sender.js';
import { deliveryFailureDetails } from './messaging/sender.js';
import { hashPassword } from './passwords.js';
import type { AttemptLimiter, Limit, LimitedKey } from './rate-limiter.js';
import { requireSudoAdmin } from './step-up.js';
import { isWithinTree, requireInTree } from './tenancy.js';
import type { Principal } from './principal.js';

export const INVITATION_DAYS = 7;
export const INVITATION_MS = INVITATION_DAYS * 24 * 60 * 60_000;
/** Invitations (and resends) one admin may send an hour: enough to onboard a team, not to spam. */
export const INVITES_PER_ADMIN: Limit = { max: 50, windowMs: 60 * 60_000 };
/** Mails one address may receive an hour, whoever sends them. */
export const INVITES_PER_ADDRESS: Limit = { max: 3, windowMs: 60 * 60_000 };
/** Wrong links tried from one address before it must wait (the token is 256 bits; this bounds the noise). */
export const INVITATION_FAILURES_PER_IP: Limit = { max: 20, windowMs: 15 * 60_000 };

/** An unusable password hash: argon2 cannot parse it, so no password matches an invited account. */
const NO_PASSWORD = '!invited';

export interface InvitationInput extends MembershipInput {
  email: string;
  displayName?: string | undefined;
}

export interface InvitationOutcome {
  userId: string;
  email: string;
  expiresAt: string;
  /** Whether the email was handed to the provider (a failure is audited; the admin may resend). */
  emailed: boolean;
}

const NO_USER = { code: 'user_not_found', message: 'No such user.' } as const;

/**
 * Adding people by invitation. The admin names an email (and optionally roles and groups); the
 * account exists at once with status `invited` and no usable password, and the person gets a
 * single-use link (kept only as a hash, valid INVITATION_DAYS) to choose their password. They then
 * sign in like anyone else, which sends them to enrolment when policy requires a second factor.
 * Sends are limited per admin and per address, reserved before anything is written or sent.
 */
export class InvitationService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly limiter: AttemptLimiter,
    private readonly sender: MessageSender,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async invite(actor: Actor, orgId: string, input: InvitationInput, meta: RequestMeta): Promise<InvitationOutcome> {
    const admin = await requireSudoAdmin(this.deps, actor);
    assertValidEmail(input.email);
    const email = input.email.trim();
    const emailNormalized = normaliseEmail(email);
    const displayName = (input.displayName ?? '').trim() || emailNormalized.split('@')[0] || emailNormalized;
    if (displayName.length > 200) throw invalidInput('display_name_invalid', 'The display name is too long.');
    const reservation = await this.reserveSend(admin, emailNormalized);
    const token = randomToken(32);
    let user: User;
    let expiresAt: number;
    try {
      ({ user, expiresAt } = await this.db.transaction().execute(async (trx) => {
        await requireInTree(trx, admin, orgId);
        if (await users.findUserByEmail(trx, emailNormalized)) throw conflict('email_taken', 'An account with this email already exists.');
        const now = this.deps.clock();
        const created: User = {
          id: randomUUID(),
          org_id: orgId,
          email,
          email_normalized: emailNormalized,
          display_name: displayName,
          time_zone: 'UTC',
          password_hash: NO_PASSWORD,
          status: 'invited',
          password_changed_at: now,
          created_at: now,
          totp_last_step: null,
          second_factor_failures: 0,
          second_factor_locked_until: null,
          set_up_again_since: null,
        };
        await users.insertUser(trx, created);
        const held = await setMemberships(trx, admin, created, orgId, input);
        const expires = await this.issue(trx, created, admin, now, token);
        await recordAudit(trx, now, {
          type: 'user.invited',
          actorUserId: admin.id,
          subjectUserId: created.id,
          orgId,
          meta,
          details: { email, displayName, ...held, expiresAt: new Date(expires).toISOString() },
        });
        return { user: created, expiresAt: expires };
      }));
    } catch (error) {
      // Nothing was written or sent: the slots go back, so a typo does not use up the address's sends.
      await reservation.release();
      throw error;
    }
    const emailed = await this.send(user, admin, token, meta);
    return { userId: user.id, email: user.email, expiresAt: new Date(expiresAt).toISOString(), emailed };
  }

  /** A new link (the old one stops working) for someone who has not accepted yet. */
  async resend(actor: Actor, userId: string, meta: RequestMeta): Promise<InvitationOutcome> {
    const admin = await requireSudoAdmin(this.deps, actor);
    const invitee = await this.invitee(this.db, admin, userId);
    const reservation = await this.reserveSend(admin, invitee.email_normalized);
    const token = randomToken(32);
    let expiresAt: number;
    try {
      expiresAt = await this.db.transaction().execute(async (trx) => {
        const subject = await this.invitee(trx, admin, userId);
        const now = this.deps.clock();
        const voided = await invitations.voidInvitations(trx, subject.id, now);
        const expires = await this.issue(trx, subject, admin, now, token);
        await recordAudit(trx, now, { type: 'invitation.resent', actorUserId: admin.id, subjectUserId: subject.id, orgId: subject.org_id, meta, details: { email: subject.email, voided, expiresAt: new Date(expires).toISOString() } });
        return expires;
      });
    } catch (error) {
      await reservation.release();
      throw error;
    }
    const emailed = await this.send(invitee, admin, token, meta);
    return { userId: invitee.id, email: invitee.email, expiresAt: new Date(expiresAt).toISOString(), emailed };
  }

  /** Withdraws an invitation not yet accepted: the link stops working and the pending account goes. */
  async revoke(actor: Actor, userId: string, meta: RequestMeta): Promise<void> {
    const admin = await requireSudoAdmin(this.deps, actor);
    await this.db.transaction().execute(async (trx) => {
      const subject = await this.invitee(trx, admin, userId);
      const now = this.deps.clock();
      await invitations.voidInvitations(trx, subject.id, now);
      await users.deleteUser(trx, subject.id);
      await recordAudit(trx, now, { type: 'invitation.revoked', actorUserId: admin.id, subjectUserId: subject.id, orgId: subject.org_id, meta, details: { email: subject.email } });
    });
  }

  /** Whether a link can still be used: the page shows the form or says why not. */
  async check(token: string): Promise<{ email: string; displayName: string }> {
    const user = await this.userForToken(token);
    return { email: user.email, displayName: user.display_name };
  }

  /** The person chooses their password; the account becomes active and they sign in as usual. */
  async accept(token: string, password: string, meta: RequestMeta): Promise<{ email: string }> {
    const reservation = await this.limiter.reserve([[`invitation:ip:${meta.ip}`, INVITATION_FAILURES_PER_IP]], 'too_many_attempts', 'Too many attempts from here. Wait a while and try again.');
    // A link that does not work keeps the slot: guessing links from one address is bounded.
    const user = await this.userForToken(token);
    await reservation.release();
    const strength = checkNewPassword(password, { email: user.email_normalized, displayName: user.display_name });
    if (!strength.ok) throw invalidInput(strength.code, strength.message);
    const hash = await hashPassword(password);
    await this.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      if (!(await invitations.spendInvitation(trx, sha256(token), now))) throw linkInvalid();
      await invitations.voidInvitations(trx, user.id, now);
      if (!(await users.activateWithPassword(trx, user.id, hash, now))) throw linkInvalid();
      await recordAudit(trx, now, { type: 'invitation.accepted', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { email: user.email } });
    });
    return { email: user.email };
  }

  private async reserveSend(admin: Principal, emailNormalized: string) {
    const limits: LimitedKey[] = [
      [`invite:admin:${admin.id}`, INVITES_PER_ADMIN],
      [`invite:addr:${sha256(emailNormalized)}`, INVITES_PER_ADDRESS],
    ];
    return this.limiter.reserve(limits, 'too_many_invitations', 'Too many invitations were sent just now. Wait a while before sending another.');
  }

  /** Stores a new link for the user (its hash) and returns when it expires. */
  private async issue(trx: Executor, user: Principal, admin: Principal, now: number, token: string): Promise<number> {
    const expiresAt = now + INVITATION_MS;
    await invitations.insertInvitation(trx, { token_hash: sha256(token), user_id: user.id, invited_by: admin.id, created_at: now, expires_at: expiresAt, used_at: null });
    return expiresAt;
  }

  /** An invited (not yet active) user of the admin's tree; anyone else outside it is 404, and an active one is a conflict. */
  private async invitee(db: Executor, admin: Principal, userId: string): Promise<User> {
    if (userId.length > 64) throw invalidInput('user_id_invalid', 'That is not a user id.');
    const subject = await users.findUser(db, userId);
    if (!subject || !(await isWithinTree(db, admin, subject.org_id))) throw notFound(NO_USER.code, NO_USER.message);
    if (subject.status !== 'invited') throw conflict('invitation_not_pending', 'This person has already accepted their invitation.');
    return subject;
  }

  private async userForToken(token: string): Promise<User> {
    if (token.length < 20 || token.length > 128) throw linkInvalid();
    const row = await invitations.findInvitation(this.db, sha256(token));
    if (!row || row.used_at !== null || row.expires_at <= this.deps.clock()) throw linkInvalid();
    const user = await users.findUser(this.db, row.user_id);
    if (!user || user.status !== 'invited') throw linkInvalid();
    return user;
  }

  private async send(user: Principal, admin: Principal, token: string, meta: RequestMeta): Promise<boolean> {
    const rendered = invitationMessage({
      companyName: this.deps.settings.companyName,
      link: `${this.deps.settings.publicUrl}/invitation?token=${token}`,
      invitedBy: admin.email,
      daysValid: INVITATION_DAYS,
    });
    try {
      await this.sender.sendFor(this.db, user.org_id, { channel: 'email', to: user.email, subject: rendered.subject, text: rendered.text, html: rendered.html }, { fallbackToOutbox: true });
      return true;
    } catch (error) {
      await recordAudit(this.db, this.deps.clock(), { type: 'notification.failed', actorUserId: admin.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { title: 'invitation', ...deliveryFailureDetails(error) } }).catch(() => undefined);
      return false;
    }
  }
}

function linkInvalid() {
  return gone('invitation_invalid', 'This invitation link has already been used, was withdrawn or has expired. Ask your administrator for a new one.');
}
