import { randomUUID } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { sha256 } from '../../core/crypto.js';
import type { Executor, WebAuthnChallengePurpose } from '../../store/index.js';
import { webauthn } from '../../store/index.js';
import type { ServiceDeps } from '../context.js';

/** How long a browser has to answer a WebAuthn challenge: a person finding and touching their key. */
export const WEBAUTHN_CHALLENGE_MS = 5 * 60_000;

/** What a challenge is good for: one purpose and, within it, one scope (a flow, a session, a deploy). */
export interface ChallengeScopeRef {
  purpose: WebAuthnChallengePurpose;
  scope: string;
}

export function signInChallengeScope(flowId: string): ChallengeScopeRef {
  return { purpose: 'sign_in', scope: `flow:${flowId}` };
}

/** Bound to the session that asked: a challenge for a step-up confirms nothing else (not a sign-in, not a deploy). */
export function reauthChallengeScope(sessionId: string): ChallengeScopeRef {
  return { purpose: 'reauthentication', scope: `session:${sessionId}` };
}

/** Bound to one target, the exact digest reviewed and the approver's session (or, without one, the approver). */
export function deployChallengeScope(targetId: string, digest: string, holder: { sessionId?: string | undefined; userId: string }): ChallengeScopeRef {
  const who = holder.sessionId !== undefined ? `session:${holder.sessionId}` : `user:${holder.userId}`;
  return { purpose: 'deploy', scope: `target:${targetId}:digest:${digest}:${who}` };
}

/**
 * A passkey sign-in names nobody until the assertion does: its challenge is bound to the random
 * handle the options were issued with (kept only as a hash), so an assertion signs in only the
 * browser that asked for that challenge, once.
 */
export function passkeyChallengeScope(handle: string): ChallengeScopeRef {
  return { purpose: 'passkey', scope: `passkey:${sha256(handle)}` };
}

/** Registration by a signed-in person is bound to their session; during forced enrolment, to the flow. */
export function registrationChallengeScope(boundTo: { sessionId: string } | { flowUserId: string }): ChallengeScopeRef {
  return { purpose: 'registration', scope: 'sessionId' in boundTo ? `session:${boundTo.sessionId}` : `enrolment:${boundTo.flowUserId}` };
}

/** The relying party: its id (the host name) and the one origin assertions may come from, both from TWOFOLD_PUBLIC_URL. */
export interface RelyingParty {
  id: string;
  origin: string;
  name: string;
}

export function relyingPartyOf(deps: ServiceDeps): RelyingParty {
  const url = new URL(deps.settings.publicUrl);
  return { id: url.hostname, origin: url.origin, name: 'Twofold' };
}

export function challengeHash(challenge: string): string {
  return sha256(`webauthn-challenge:${challenge}`);
}

/**
 * A fresh random challenge (base64url) for `ref`, stored only as a hash; it replaces any unspent
 * one of the same scope, so a flow has at most one live challenge.
 */
export async function issueChallenge(deps: ServiceDeps, db: Executor, ref: ChallengeScopeRef, userId: string | null, bytes: Buffer = randomBytes(32)): Promise<string> {
  const challenge = bytes.toString('base64url');
  const nowMs = deps.clock();
  await webauthn.replaceChallenge(db, { id: randomUUID(), challengeHash: challengeHash(challenge), userId, ...ref, nowMs, expiresAt: nowMs + WEBAUTHN_CHALLENGE_MS });
  return challenge;
}

export type ChallengeRefusal = 'webauthn_challenge_invalid' | 'webauthn_challenge_expired' | 'webauthn_challenge_used';

/**
 * Spends the challenge a browser signed, if it was issued for `ref` (and `userId`, when named),
 * is unexpired and unspent. The spend is a compare-and-set in the caller's transaction: of two
 * assertions carrying one challenge, exactly one gets past here.
 */
export async function spendChallenge(deps: ServiceDeps, db: Executor, challenge: string, ref: ChallengeScopeRef, userId: string | null): Promise<{ ok: true } | { ok: false; reason: ChallengeRefusal }> {
  const row = await webauthn.findChallenge(db, challengeHash(challenge), ref.purpose, ref.scope);
  if (!row || (userId !== null && row.user_id !== null && row.user_id !== userId)) return { ok: false, reason: 'webauthn_challenge_invalid' };
  if (row.used_at !== null) return { ok: false, reason: 'webauthn_challenge_used' };
  const now = deps.clock();
  if (row.expires_at <= now) return { ok: false, reason: 'webauthn_challenge_expired' };
  if (!(await webauthn.spendChallenge(db, row.id, now))) return { ok: false, reason: 'webauthn_challenge_used' };
  return { ok: true };
}
