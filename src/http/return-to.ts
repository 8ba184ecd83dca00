import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CookieSettings } from './request-context.js';

const SITE = 'http://twofold.invalid';

/**
 * A path on this site, or null. "//host" and "/\host" are other sites to a browser, and control
 * characters or spaces can smuggle either past a naive check, so anything unusual is refused.
 */
export function safeLocalPath(next: unknown): string | null {
  if (typeof next !== 'string' || next.length > 1024) return null;
  if (!/^\/(?![/\\])/.test(next) || /[\\\s\p{Cc}]/u.test(next)) return null;
  let url: URL;
  try {
    url = new URL(next, SITE);
  } catch {
    return null;
  }
  if (url.origin !== SITE) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** Where the sign-in pages send someone once they are in (an app's authorization, say). */
export const RETURN_COOKIE = 'twofold_return';
const RETURN_PATH = '/sign-in';

/** Remembers a safe `return_to` for the sign-in that starts now; an unsafe one is ignored. */
export function rememberReturnTo(reply: FastifyReply, settings: CookieSettings, value: unknown, maxAgeMs: number): string | null {
  const path = safeLocalPath(value);
  if (path === null) return null;
  reply.setCookie(RETURN_COOKIE, path, { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: RETURN_PATH, maxAge: Math.floor(maxAgeMs / 1000) });
  return path;
}

/** The remembered destination, if any; it is used once. */
export function takeReturnTo(request: FastifyRequest, reply: FastifyReply, settings: CookieSettings): string | null {
  const path = safeLocalPath(request.cookies[RETURN_COOKIE]);
  if (request.cookies[RETURN_COOKIE] !== undefined) reply.clearCookie(RETURN_COOKIE, { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: RETURN_PATH });
  return path;
}

/** Forgets a remembered destination (a sign-in started without one). */
export function forgetReturnTo(request: FastifyRequest, reply: FastifyReply, settings: CookieSettings): void {
  if (request.cookies[RETURN_COOKIE] !== undefined) reply.clearCookie(RETURN_COOKIE, { httpOnly: true, secure: settings.secure, sameSite: 'lax', path: RETURN_PATH });
}
