import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthenticated } from '../core/errors.js';
import type { SessionActor } from '../services/actor.js';
import { sessionActor } from '../services/actor.js';
import type { RequestMeta } from '../services/index.js';
import type { AuthenticatedSession } from '../services/sessions.js';

export const COOKIE = {
  session: 'twofold_session',
  trust: 'twofold_trust',
  flow: 'twofold_flow',
  csrf: 'twofold_csrf',
  device: 'twofold_device',
} as const;

export function requestMeta(request: FastifyRequest): RequestMeta {
  const ua = request.headers['user-agent'];
  const device = request.cookies[COOKIE.device];
  return { ip: request.ip, userAgent: typeof ua === 'string' ? ua.slice(0, 512) : '', ...(device ? { deviceToken: device } : {}) };
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the session hook on every request: the live session, or null. */
    auth: AuthenticatedSession | null;
  }
}

export function requireAuth(request: FastifyRequest): AuthenticatedSession {
  if (!request.auth) throw unauthenticated('not_signed_in', 'Sign in first.');
  return request.auth;
}

/** The signed-in person as an actor for a use case, which checks for itself what it needs (admin, sudo, tenancy). */
export function requireSessionActor(request: FastifyRequest): SessionActor {
  return sessionActor(requireAuth(request));
}

export interface CookieSettings {
  secure: boolean;
}

/** Cookies are Secure except on plain-HTTP localhost, where browsers would drop them. */
export function cookieSettingsFor(publicUrl: string): CookieSettings {
  const url = new URL(publicUrl);
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  return { secure: url.protocol === 'https:' || !local };
}

export function setSessionCookie(reply: FastifyReply, settings: CookieSettings, token: string): void {
  reply.setCookie(COOKIE.session, token, { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: '/' });
}

export function clearSessionCookie(reply: FastifyReply, settings: CookieSettings): void {
  reply.clearCookie(COOKIE.session, { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: '/' });
}

export function setTrustCookie(reply: FastifyReply, settings: CookieSettings, token: string, expiresAt: number, nowMs: number): void {
  reply.setCookie(COOKIE.trust, token, {
    httpOnly: true,
    secure: settings.secure,
    sameSite: 'lax',
    path: '/',
    maxAge: Math.floor((expiresAt - nowMs) / 1000),
  });
}

const DEVICE_COOKIE_SECONDS = 400 * 24 * 60 * 60;

/** Sets the session cookie of a completed sign-in, and the long-lived device cookie with it. */
export function setSignInCookies(reply: FastifyReply, settings: CookieSettings, issued: { token: string; deviceToken?: string | undefined }): void {
  setSessionCookie(reply, settings, issued.token);
  if (issued.deviceToken) {
    reply.setCookie(COOKIE.device, issued.deviceToken, { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: '/', maxAge: DEVICE_COOKIE_SECONDS });
  }
}
