/**
 * The rules Twofold applies when an app asks it to sign someone in with OpenID Connect: what the
 * `acr` values mean, which scopes exist, what a client registration may contain, and what a
 * signed-in person still has to do before the app gets its authorization code.
 */
import { invalidInput } from './errors.js';
import { provesKey } from './webauthn.js';

/** Authentication context classes, documented in the README ("Connect an app"). */
export const ACR = {
  /** A password was checked in this sign-in session, and no second factor. */
  password: 'urn:twofold:acr:pwd',
  /** A second factor (authenticator app, text message, email or backup code) was checked in this sign-in session. */
  twoFactor: 'urn:twofold:acr:2fa',
  /**
   * A security key or passkey was among the proofs of this sign-in session (amr hwk or swk): a
   * look-alike site cannot relay it. Given only to an app that asks for it (acr_values), so apps
   * asking for the 2FA level keep seeing the value they asked for.
   */
  phishingResistant: 'urn:twofold:acr:phr',
} as const;

export const OIDC_SCOPES = ['openid', 'email', 'profile', 'offline_access'] as const;
export type OidcScope = (typeof OIDC_SCOPES)[number];

const MAX_URIS = 10;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Exact redirect URIs: https anywhere, plain http only on this machine (development, native
 * apps on a loopback port). No fragments, no credentials: the provider compares them verbatim.
 */
export function normaliseRedirectUris(values: readonly string[], what: 'redirect' | 'post_logout'): string[] {
  const label = what === 'redirect' ? 'redirect URI' : 'post-logout redirect URI';
  const code = what === 'redirect' ? 'redirect_uri_invalid' : 'post_logout_redirect_uri_invalid';
  const uris = [...new Set(values.map((v) => v.trim()).filter((v) => v !== ''))];
  if (what === 'redirect' && uris.length === 0) throw invalidInput(code, 'Give at least one redirect URI.');
  if (uris.length > MAX_URIS) throw invalidInput(code, `At most ${MAX_URIS} ${label}s.`);
  for (const uri of uris) {
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw invalidInput(code, `"${uri.slice(0, 100)}" is not an absolute URL.`);
    }
    const problem =
      uri.length > 2000
        ? 'is too long'
        : url.hash !== '' || uri.includes('#')
          ? 'must not contain a fragment (#)'
          : url.username !== '' || url.password !== ''
            ? 'must not contain credentials'
            : url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))
              ? null
              : 'must use https (plain http only for localhost)';
    if (problem) throw invalidInput(code, `The ${label} "${uri.slice(0, 100)}" ${problem}.`);
  }
  return uris;
}

/** The scopes a client may ask for; `openid` is always among them. */
export function normaliseScopes(values: readonly string[] | undefined): OidcScope[] {
  if (values === undefined || values.length === 0) return [...OIDC_SCOPES];
  const wanted = new Set(values.flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== ''));
  const unknown = [...wanted].filter((s) => !(OIDC_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) throw invalidInput('scopes_invalid', `Unknown scope ${unknown.map((s) => `"${s.slice(0, 40)}"`).join(', ')}; scopes are ${OIDC_SCOPES.join(', ')}.`);
  wanted.add('openid');
  return OIDC_SCOPES.filter((s) => wanted.has(s));
}

/** What the app asked for, as far as authentication goes. */
export interface AuthenticationRequest {
  /** prompt=login: the person proves who they are again, now. */
  promptLogin: boolean;
  /** max_age in seconds, when given. */
  maxAgeSeconds?: number | undefined;
  acrValues: readonly string[];
  /** The client's own setting, which applies whatever the organisation's policy says. */
  clientRequiresTwoFactor: boolean;
  /** When the authorization request reached Twofold (ms). */
  startedAt: number;
}

/** The proofs in the person's Twofold session (ms timestamps). */
export interface SessionProofs {
  passwordAt: number | null;
  secondFactorAt: number | null;
  authenticatedAt: number;
  amr: readonly string[];
}

export type NextStep =
  /** Confirm again: `all` asks for the password and (if held) a code; `code` only a second factor. */
  | { step: 'reauthenticate'; ask: 'all' | 'code' }
  /** A second factor is needed and the person has none: set one up first. */
  | { step: 'enrol' }
  /** The app asked for the phishing-resistant level and this session's proofs include no key: sign in with one. */
  | { step: 'key' }
  | { step: 'ready' };

/** The app asked for the phishing-resistant level (a security key or passkey in this sign-in). */
export function wantsKey(request: Pick<AuthenticationRequest, 'acrValues'>): boolean {
  return request.acrValues.includes(ACR.phishingResistant);
}

export function wantsTwoFactor(request: Pick<AuthenticationRequest, 'acrValues' | 'clientRequiresTwoFactor'>): boolean {
  return request.clientRequiresTwoFactor || request.acrValues.includes(ACR.twoFactor);
}

/**
 * What stands between a signed-in person and the code. Freshness (prompt=login, max_age) needs
 * every proof the person can give to be newer than the request (or than max_age); step-up (the
 * 2FA acr, or a client that requires it) needs a second factor proven in this session.
 */
export function nextStep(request: AuthenticationRequest, proofs: SessionProofs, holdsFactor: boolean, nowMs: number): NextStep {
  if (request.promptLogin || request.maxAgeSeconds !== undefined) {
    // prompt=login and max_age=0 want proofs given after the request arrived; a longer max_age
    // also accepts proofs within it.
    const maxAgeMs = (request.maxAgeSeconds ?? 0) * 1000;
    const sinceRequest = request.promptLogin || maxAgeMs === 0;
    const fresh = (at: number | null) => at !== null && (at > request.startedAt || (!sinceRequest && at >= nowMs - maxAgeMs));
    if (!fresh(proofs.passwordAt) || (holdsFactor && !fresh(proofs.secondFactorAt))) return { step: 'reauthenticate', ask: 'all' };
  }
  if (wantsKey(request) && !(proofs.secondFactorAt !== null && provesKey(proofs.amr))) return { step: 'key' };
  if (wantsTwoFactor(request) && proofs.secondFactorAt === null) return holdsFactor ? { step: 'reauthenticate', ask: 'code' } : { step: 'enrol' };
  return { step: 'ready' };
}

/**
 * The login an app is told about: `acr` and `amr` say how this session was authenticated. The
 * phishing-resistant acr only for an app that asked for it (`asked`, its acr_values), and only
 * when a key was among the proofs.
 */
export function loginClaims(proofs: SessionProofs, asked: readonly string[] = []): { acr: string; amr: string[]; authTime: number } {
  const secondFactor = proofs.secondFactorAt !== null;
  return {
    acr: secondFactor && asked.includes(ACR.phishingResistant) && provesKey(proofs.amr) ? ACR.phishingResistant : secondFactor ? ACR.twoFactor : ACR.password,
    amr: [...proofs.amr],
    authTime: Math.floor(proofs.authenticatedAt / 1000),
  };
}
