import { randomUUID } from 'node:crypto';
import { TwofoldError, conflict, gone, invalidInput, notFound } from '../core/errors.js';
import type { Channel } from '../delivery/index.js';
import { maskEmail, maskPhone, parseEmailAddress, parsePhoneNumber } from '../delivery/index.js';
import type { Executor, Factor } from '../store/index.js';
import { factors } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { Actor } from './actor.js';
import type { EnrolmentResult, FactorService } from './factors.js';
import type { CodeSender, SentCode } from './messaging/code-sender.js';
import type { MethodCatalogue } from './methods.js';
import { factorDestinationContext } from './secret-contexts.js';
import { DeliveredCodeStrategy, enrolmentCodeScope } from './second-factor/delivered-code-strategy.js';
import type { SecondFactorVerifier } from './second-factor/verifier.js';
import { requireProofToChangeFactors } from './step-up.js';
import type { Principal } from './principal.js';

export type DestinationInput = { channel: 'sms'; country: string; number: string } | { channel: 'email'; email?: string | undefined };

export interface DeliveredEnrolment extends SentCode {
  id: string;
  type: Channel;
  label: string;
  /** The active factor this one will replace once confirmed, if any. */
  replaces: string | null;
  enrolmentExpiresAt: number;
}

const MAX_FACTORS = 10;

/**
 * Text-message and email factors: the destination is checked and normalised, a code is sent
 * to it, and only a correct code switches the factor on (or swaps it in for the old number).
 */
export class DeliveredFactorService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly factorService: FactorService,
    private readonly codes: CodeSender,
    private readonly verifier: SecondFactorVerifier,
    private readonly methods: MethodCatalogue,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  /** Starts an enrolment, or with `replaceFactorId` a change of destination for an active factor. */
  async start(actor: Actor, input: DestinationInput, meta: RequestMeta, options: { label?: string | undefined; replaceFactorId?: string | undefined } = {}): Promise<DeliveredEnrolment> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    const destination = normaliseDestination(user, input);
    const masked = input.channel === 'sms' ? maskPhone(destination) : maskEmail(destination);
    const label = (options.label ?? '').trim() || (input.channel === 'sms' ? `Text message to ${masked}` : `Email to ${masked}`);
    if (label.length > 64) throw invalidInput('label_invalid', 'A label is at most 64 characters.');
    await this.methods.assertUsable(user, input.channel);

    const now = this.deps.clock();
    await factors.deleteExpiredPendingFactors(this.db, user.id, now);
    const live = await factors.listLiveFactors(this.db, user.id);
    let replaces: Factor | undefined;
    if (options.replaceFactorId !== undefined) {
      replaces = live.find((f) => f.id === options.replaceFactorId && f.status === 'active');
      if (!replaces || replaces.type !== input.channel) throw notFound('factor_not_found', 'No such sign-in method to change.');
    }
    for (const other of live.filter((f) => f.type === input.channel && f.status === 'active')) {
      if (this.destinationOf(other) === destination) throw conflict('factor_exists', `${masked} is already one of your factors.`);
    }
    if (live.length >= MAX_FACTORS) throw conflict('too_many_factors', `You can have at most ${MAX_FACTORS} sign-in methods, counting ones not yet confirmed.`);

    const id = randomUUID();
    const pending: Factor = {
      id,
      user_id: user.id,
      type: input.channel,
      label,
      secret_encrypted: this.deps.box.encrypt(destination, factorDestinationContext(id)),
      destination_masked: masked,
      replaces_factor_id: replaces?.id ?? null,
      status: 'pending',
      created_at: now,
      expires_at: now + this.deps.settings.enrolmentMs,
      confirmed_at: null,
      last_used_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      await factors.insertFactor(trx, pending);
      await recordAudit(trx, now, {
        type: 'factor.enrolment_started',
        actorUserId: user.id,
        subjectUserId: user.id,
        orgId: user.org_id,
        meta,
        details: { factorId: id, type: input.channel, destination: masked, replaces: replaces?.id ?? null },
      });
    });
    try {
      const sent = await this.codes.send({ user, factor: pending, ...enrolmentCodeScope(id) }, meta);
      return { id, type: input.channel, label, replaces: replaces?.id ?? null, enrolmentExpiresAt: pending.expires_at ?? now, ...sent };
    } catch (error) {
      // No code went out, so the enrolment could never be finished: do not leave it behind.
      await factors.deleteFactor(this.db, user.id, id);
      throw error;
    }
  }

  async resend(user: Principal, factorId: string, meta: RequestMeta): Promise<SentCode> {
    const pending = await this.pendingFactor(user, factorId);
    await this.methods.assertUsable(user, pending.type as Channel);
    return this.codes.send({ user, factor: pending, ...enrolmentCodeScope(factorId) }, meta);
  }

  async confirm(user: Principal, factorId: string, code: string, meta: RequestMeta, onConfirmed?: (trx: Executor) => Promise<void>): Promise<EnrolmentResult> {
    const pending = await this.pendingFactor(user, factorId);
    const strategy = new DeliveredCodeStrategy(this.deps, this.codes, pending.type as Channel, enrolmentCodeScope(factorId));
    const result = await this.verifier.verifyWith(strategy, user, code, meta, 'enrolment', (trx, proof) => this.factorService.finishEnrolment(trx, user, pending, proof.details, meta, onConfirmed));
    return this.factorService.announceAdded(user, result, meta);
  }

  private async pendingFactor(user: Principal, factorId: string): Promise<Factor> {
    const pending = await factors.findFactor(this.db, user.id, factorId);
    if (!pending || (pending.type !== 'sms' && pending.type !== 'email')) throw notFound('factor_not_found', 'No such sign-in method.');
    if (pending.status === 'active') throw conflict('factor_already_confirmed', 'This factor is already switched on.');
    if ((pending.expires_at ?? 0) <= this.deps.clock()) throw gone('enrolment_expired', 'This enrolment has expired. Start again.');
    return pending;
  }

  private destinationOf(factor: Factor): string {
    return this.deps.box.decrypt(factor.secret_encrypted, factorDestinationContext(factor.id));
  }
}

function normaliseDestination(user: Principal, input: DestinationInput): string {
  if (input.channel === 'email') return parseEmailAddress(input.email === undefined || input.email.trim() === '' ? user.email : input.email);
  try {
    // A landline takes the code as a voice call at best: refuse it here rather than send a code that never arrives.
    return parsePhoneNumber(input.country, input.number, { mobileOnly: true }).e164;
  } catch (error) {
    if (error instanceof TwofoldError) throw error;
    // libphonenumber throws a plain Error for a calling code it has no metadata for ("+999"): still the user's input.
    throw new TwofoldError('invalid_input', 'phone_invalid', 'Choose the country of the phone number, or start it with + and the country code.', { details: { field: 'country', reason: 'unknown_calling_code' } });
  }
}
