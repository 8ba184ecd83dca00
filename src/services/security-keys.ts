import { randomUUID } from 'node:crypto';
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON, RegistrationResponseJSON, VerifiedRegistrationResponse } from '@simplewebauthn/server';
import { conflict, invalidInput, notFound, unauthenticated } from '../core/errors.js';
import { parseClientData, webAuthnAmr } from '../core/webauthn.js';
import { simpleWebAuthn } from './second-factor/simplewebauthn.js';
import type { Executor } from '../store/index.js';
import { factors, webauthn } from '../store/index.js';
import type { Actor } from './actor.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { EnrolmentResult, FactorService } from './factors.js';
import { MAX_FACTORS } from './factors.js';
import type { Principal } from './principal.js';
import { webAuthnKeyContext } from './secret-contexts.js';
import { requireProofToChangeFactors } from './step-up.js';
import type { ChallengeRefusal, ChallengeScopeRef } from './second-factor/webauthn-challenges.js';
import { issueChallenge, registrationChallengeScope, relyingPartyOf, spendChallenge } from './second-factor/webauthn-challenges.js';

const CHALLENGE_REFUSALS: Record<ChallengeRefusal, string> = {
  webauthn_challenge_invalid: 'This security key request has ended or was replaced by a newer one. Try again.',
  webauthn_challenge_expired: 'This security key request took too long and has expired. Try again.',
  webauthn_challenge_used: 'This security key answer was already used. Try again.',
};

/** The bytes of a base64url challenge, as the WebAuthn library wants them. */
function bytesOf(base64url: string): Uint8Array<ArrayBuffer> {
  const raw = Buffer.from(base64url, 'base64url');
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  out.set(raw);
  return out;
}

function registrationScope(actor: Actor, user: Principal): ChallengeScopeRef {
  return registrationChallengeScope(actor.via === 'session' ? { sessionId: actor.session.id } : { flowUserId: user.id });
}

export function parseRegistration(value: unknown): RegistrationResponseJSON | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Partial<RegistrationResponseJSON>;
  const inner = r.response;
  if (typeof r.id !== 'string' || typeof r.rawId !== 'string' || r.type !== 'public-key' || typeof inner !== 'object' || inner === null) return null;
  if (typeof inner.clientDataJSON !== 'string' || typeof inner.attestationObject !== 'string') return null;
  if (inner.transports !== undefined && (!Array.isArray(inner.transports) || inner.transports.some((t) => typeof t !== 'string'))) return null;
  return { ...r, clientExtensionResults: r.clientExtensionResults ?? {} } as RegistrationResponseJSON;
}

/**
 * Security keys and passkeys (WebAuthn credentials): registering one for a person, and the
 * options a browser needs to use one. Each credential is a factor of type `webauthn`, so lists,
 * removal, admin reset and "the last method" rules treat it like any other method.
 */
export class SecurityKeyService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly factorService: FactorService,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  /** Options for `navigator.credentials.create()`; needs the same fresh proof as adding any method. */
  async registrationOptions(actor: Actor): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    await factors.deleteExpiredPendingFactors(this.db, user.id, this.deps.clock());
    if ((await factors.countLiveFactors(this.db, user.id)) >= MAX_FACTORS) throw conflict('too_many_factors', `You can have at most ${MAX_FACTORS} sign-in methods.`);
    const rp = relyingPartyOf(this.deps);
    const held = await webauthn.listActiveCredentials(this.db, user.id);
    const challenge = await issueChallenge(this.deps, this.db, registrationScope(actor, user), user.id);
    const { generateRegistrationOptions } = await simpleWebAuthn();
    return generateRegistrationOptions({
      rpName: rp.name,
      rpID: rp.id,
      userName: user.email,
      userDisplayName: user.display_name,
      // The user handle names nobody outside this server: the account id, not the email.
      userID: bytesOf(Buffer.from(user.id, 'utf8').toString('base64url')),
      challenge: bytesOf(challenge),
      attestationType: 'none',
      // A key already registered is not registered twice.
      excludeCredentials: held.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as string[] })),
      // A passkey that can sign in without an email is welcome; a plain security key is fine too.
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
  }

  /**
   * Checks the browser's answer to `registrationOptions` and switches the key on, with the same
   * bookkeeping as any confirmed method (audit, backup codes with a first method, the owner told).
   */
  async register(
    actor: Actor,
    response: unknown,
    name: string | undefined,
    meta: RequestMeta,
    /** Runs in the transaction that switches the key on, told the key's amr (forced enrolment opens the session there). */
    onConfirmed?: (trx: Executor, amr: string[]) => Promise<void>,
  ): Promise<EnrolmentResult> {
    const user = await requireProofToChangeFactors(this.deps, actor);
    const label = (name ?? '').trim() || 'Security key';
    if (label.length > 64) throw invalidInput('label_invalid', 'A name is at most 64 characters.');
    const registration = parseRegistration(response);
    const clientData = registration ? parseClientData(registration.response.clientDataJSON) : null;
    if (!registration || !clientData || clientData.type !== 'webauthn.create') throw invalidInput('webauthn_registration_invalid', 'The security key answer could not be read. Try again.');
    const rp = relyingPartyOf(this.deps);
    if (clientData.origin !== rp.origin) throw unauthenticated('webauthn_origin_mismatch', 'This security key answer was made for another website.');

    const { verifyRegistrationResponse } = await simpleWebAuthn(); // before the transaction: the first load takes a moment
    const result = await this.db.transaction().execute(async (trx) => {
      const spent = await spendChallenge(this.deps, trx, clientData.challenge, registrationScope(actor, user), user.id);
      if (!spent.ok) throw unauthenticated(spent.reason, CHALLENGE_REFUSALS[spent.reason]);
      let verified: VerifiedRegistrationResponse;
      try {
        verified = await verifyRegistrationResponse({ response: registration, expectedChallenge: clientData.challenge, expectedOrigin: rp.origin, expectedRPID: rp.id, requireUserVerification: false });
      } catch (error) {
        const rpMismatch = error instanceof Error && /RP ID/i.test(error.message);
        if (rpMismatch) throw unauthenticated('webauthn_rp_id_mismatch', 'This security key answer was made for another website.');
        throw invalidInput('webauthn_registration_invalid', 'The security key could not be registered. Try again.');
      }
      if (!verified.verified) throw invalidInput('webauthn_registration_invalid', 'The security key could not be registered. Try again.');
      const info = verified.registrationInfo;
      if (await webauthn.findCredentialById(trx, info.credential.id)) throw conflict('webauthn_credential_exists', 'This security key is already registered.');
      const now = this.deps.clock();
      const id = randomUUID();
      const transports = info.credential.transports ?? registration.response.transports ?? [];
      await factors.insertFactor(trx, {
        id,
        user_id: user.id,
        type: 'webauthn',
        label,
        secret_encrypted: this.deps.box.encrypt(Buffer.from(info.credential.publicKey).toString('base64url'), webAuthnKeyContext(id)),
        status: 'pending',
        created_at: now,
        expires_at: now + 60_000,
        confirmed_at: null,
        last_used_at: null,
      });
      await webauthn.insertCredential(trx, {
        factor_id: id,
        user_id: user.id,
        credential_id: info.credential.id,
        sign_count: info.credential.counter,
        transports: JSON.stringify(transports),
        aaguid: info.aaguid,
        backup_eligible: info.credentialDeviceType === 'multiDevice' ? 1 : 0,
        backup_state: info.credentialBackedUp ? 1 : 0,
        discoverable: registration.clientExtensionResults.credProps?.rk === true ? 1 : 0,
        user_verified: info.userVerified ? 1 : 0,
      });
      const pending = await factors.findFactor(trx, user.id, id);
      if (!pending) throw new Error('security key vanished while registering');
      const details = { credentialId: info.credential.id, aaguid: info.aaguid, transports, userVerified: info.userVerified, backupEligible: info.credentialDeviceType === 'multiDevice' };
      const amr = webAuthnAmr({ backupEligible: info.credentialDeviceType === 'multiDevice', userVerified: info.userVerified });
      return this.factorService.finishEnrolment(trx, user, pending, details, meta, onConfirmed ? (t) => onConfirmed(t, amr) : undefined);
    });
    return this.factorService.announceAdded(user, result, meta);
  }

  /**
   * Options for `navigator.credentials.get()` at a second step: the person's own keys, one fresh
   * challenge for `ref` (random, or `challengeBytes` when derived from what it approves).
   */
  async assertionOptions(user: Principal, ref: ChallengeScopeRef, challengeBytes?: Buffer): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const held = await webauthn.listActiveCredentials(this.db, user.id);
    if (held.length === 0) throw notFound('factor_not_found', 'You have no security key or passkey.');
    const challenge = await issueChallenge(this.deps, this.db, ref, user.id, challengeBytes);
    const { generateAuthenticationOptions } = await simpleWebAuthn();
    return generateAuthenticationOptions({
      rpID: relyingPartyOf(this.deps).id,
      challenge: bytesOf(challenge),
      allowCredentials: held.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as string[] })),
      userVerification: 'preferred',
    });
  }

  /**
   * Options for a passkey sign-in: nobody is named yet, so `allowCredentials` is empty and the
   * browser offers the discoverable credentials it holds for this site (or fills them into the
   * email field, conditional UI). User verification is preferred: with it a passkey is two factors.
   */
  async discoverableOptions(ref: ChallengeScopeRef): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const challenge = await issueChallenge(this.deps, this.db, ref, null);
    const { generateAuthenticationOptions } = await simpleWebAuthn();
    return generateAuthenticationOptions({ rpID: relyingPartyOf(this.deps).id, challenge: bytesOf(challenge), allowCredentials: [], userVerification: 'preferred' });
  }
}
