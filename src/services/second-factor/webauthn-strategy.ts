import type { AuthenticationResponseJSON, VerifiedAuthenticationResponse } from '@simplewebauthn/server';
import { constantTimeEqual } from '../../core/crypto.js';
import { counterAcceptable, parseAuthenticatorData, parseClientData, rpIdHash, webAuthnAmr } from '../../core/webauthn.js';
import { simpleWebAuthn } from './simplewebauthn.js';
import type { Executor, Factor, WebAuthnCredential } from '../../store/index.js';
import { factors, webauthn } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';
import type { Principal } from '../principal.js';
import { webAuthnKeyContext } from '../secret-contexts.js';
import type { SecondFactorStrategy, VerificationResult, VerifyOptions } from './strategy.js';
import type { ChallengeScopeRef } from './webauthn-challenges.js';
import { relyingPartyOf, spendChallenge } from './webauthn-challenges.js';

/** An assertion as it travels: the browser's AuthenticationResponseJSON, as JSON text. */
export function parseAssertion(text: string): AuthenticationResponseJSON | null {
  if (text.length > 16_384) return null;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return null;
    const a = parsed as Partial<AuthenticationResponseJSON>;
    const r = a.response;
    if (typeof a.id !== 'string' || typeof a.rawId !== 'string' || a.type !== 'public-key' || typeof r !== 'object' || r === null) return null;
    if (typeof r.clientDataJSON !== 'string' || typeof r.authenticatorData !== 'string' || typeof r.signature !== 'string') return null;
    return { ...a, clientExtensionResults: a.clientExtensionResults ?? {} } as AuthenticationResponseJSON;
  } catch {
    return null;
  }
}

/** The stored public key of a credential: sealed in its factor row, so only this factor's key opens. */
export function credentialPublicKey(deps: ServiceDeps, factor: Factor): Uint8Array<ArrayBuffer> {
  const bytes = Buffer.from(deps.box.decrypt(factor.secret_encrypted, webAuthnKeyContext(factor.id)), 'base64url');
  const out = new Uint8Array(new ArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

export interface CheckedAssertion {
  factor: Factor;
  credential: WebAuthnCredential;
  userVerified: boolean;
  backupEligible: boolean;
}

/**
 * Judges one assertion against one challenge scope: the origin and relying party it was made
 * for, a credential of `user` (or, for a passkey sign-in, of whoever it names), the challenge
 * (spent here, once), the signature, and a counter that only moves forward. Shared by the
 * second-step strategy and the passwordless sign-in.
 */
export async function checkAssertion(
  deps: ServiceDeps,
  db: Executor,
  assertion: AuthenticationResponseJSON,
  ref: ChallengeScopeRef,
  user: Principal | null,
  options: VerifyOptions = {},
): Promise<{ ok: true; checked: CheckedAssertion } | { ok: false; failureCode: NonNullable<VerificationResult['failureCode']>; details?: Record<string, unknown> }> {
  const rp = relyingPartyOf(deps);
  const clientData = parseClientData(assertion.response.clientDataJSON);
  const head = parseAuthenticatorData(assertion.response.authenticatorData);
  if (!clientData || !head || clientData.type !== 'webauthn.get') return { ok: false, failureCode: 'webauthn_assertion_invalid' };
  // Checked before the challenge is spent: an assertion a look-alike site relayed spends nothing.
  if (clientData.origin !== rp.origin) return { ok: false, failureCode: 'webauthn_origin_mismatch', details: { origin: clientData.origin.slice(0, 200) } };
  if (!head.rpIdHash.equals(rpIdHash(rp.id))) return { ok: false, failureCode: 'webauthn_rp_id_mismatch' };

  const credential = await webauthn.findCredentialById(db, assertion.id);
  const factor = credential ? await factors.findFactor(db, credential.user_id, credential.factor_id) : undefined;
  const cutoff = options.confirmedBefore;
  if (!credential || !factor || factor.status !== 'active' || (user !== null && credential.user_id !== user.id) || (cutoff !== undefined && (factor.confirmed_at ?? 0) > cutoff)) {
    return { ok: false, failureCode: 'webauthn_credential_unknown' };
  }

  const spent = await spendChallenge(deps, db, clientData.challenge, ref, credential.user_id);
  if (!spent.ok) return { ok: false, failureCode: spent.reason, details: { factorId: factor.id } };

  const { verifyAuthenticationResponse } = await simpleWebAuthn();
  let verification: VerifiedAuthenticationResponse;
  try {
    verification = await verifyAuthenticationResponse({
      response: assertion,
      expectedChallenge: clientData.challenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.id,
      // The counter is judged below, so a cloned key gets its own refusal and audit record.
      credential: { id: credential.credential_id, publicKey: credentialPublicKey(deps, factor), counter: 0, transports: JSON.parse(credential.transports) as string[] },
      requireUserVerification: false,
    });
  } catch {
    return { ok: false, failureCode: 'webauthn_assertion_invalid', details: { factorId: factor.id } };
  }
  if (!verification.verified) return { ok: false, failureCode: 'webauthn_assertion_invalid', details: { factorId: factor.id } };

  const stored = Number(credential.sign_count);
  const received = verification.authenticationInfo.newCounter;
  const counterDetails = { factorId: factor.id, credentialId: credential.credential_id, label: factor.label, storedCounter: stored, receivedCounter: received };
  if (!counterAcceptable(stored, received)) return { ok: false, failureCode: 'webauthn_counter_regressed', details: counterDetails };
  if (!(await webauthn.advanceSignCount(db, factor.id, stored, received, verification.authenticationInfo.credentialBackedUp))) {
    // Another assertion moved the counter while this one was judged: one of them was a copy.
    return { ok: false, failureCode: 'webauthn_counter_regressed', details: counterDetails };
  }
  await factors.markFactorUsed(db, factor.id, deps.clock());
  return { ok: true, checked: { factor, credential, userVerified: verification.authenticationInfo.userVerified, backupEligible: head.backupEligible } };
}

/**
 * A security key or passkey at a second step (sign-in, re-authentication, a deploy): the "code"
 * is the browser's assertion as JSON, checked against the challenges of one scope. Not gated by
 * the code lockout: an assertion cannot be guessed, and a key is the way in while codes are locked.
 */
export class WebAuthnStrategy implements SecondFactorStrategy {
  readonly method = 'webauthn' as const;
  readonly amr = ['hwk'] as const;
  readonly gatedByLockout = false;

  /**
   * `expectedChallenge`: when the challenge is derived from what it approves (a deploy's target and
   * digest), the one value the signed clientDataJSON must carry; anything else is refused before
   * the stored challenge is even looked up.
   */
  constructor(
    private readonly deps: ServiceDeps,
    private readonly ref: ChallengeScopeRef,
    private readonly expectedChallenge?: string,
  ) {}

  async verify(db: Executor, user: Principal, code: string, options: VerifyOptions = {}): Promise<VerificationResult> {
    const assertion = parseAssertion(code);
    if (!assertion) return { ok: false, failureCode: 'webauthn_assertion_invalid' };
    if (this.expectedChallenge !== undefined) {
      const signed = parseClientData(assertion.response.clientDataJSON)?.challenge ?? '';
      if (!constantTimeEqual(signed, this.expectedChallenge)) return { ok: false, failureCode: 'webauthn_challenge_invalid' };
    }
    const result = await checkAssertion(this.deps, db, assertion, this.ref, user, options);
    if (!result.ok) return { ok: false, failureCode: result.failureCode, ...(result.details ? { details: result.details } : {}) };
    const { factor, credential, userVerified, backupEligible } = result.checked;
    return {
      ok: true,
      amr: webAuthnAmr({ backupEligible, userVerified }),
      details: { factorId: factor.id, credentialId: credential.credential_id, label: factor.label, userVerified },
    };
  }
}
