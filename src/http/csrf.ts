import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual, randomToken } from '../core/crypto.js';
import { forbidden } from '../core/errors.js';
import type { CookieSettings } from './request-context.js';
import { COOKIE } from './request-context.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this route's writes carry no form token (the OIDC provider's endpoints, which check their own). */
    formToken?: boolean;
  }
}

/**
 * Refuses a cookie-carrying write that a browser says came from another site. Clients that
 * send neither Origin nor Sec-Fetch-Site (curl, server-to-server) are not browsers and pass.
 */
export function assertSameOrigin(request: FastifyRequest, publicOrigin: string): void {
  if (SAFE_METHODS.has(request.method)) return;
  const site = request.headers['sec-fetch-site'];
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    throw forbidden('csrf_failed', 'This request came from another site and was refused.');
  }
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    const ownOrigin = `${request.protocol}://${request.host}`;
    if (origin !== publicOrigin && origin !== ownOrigin) {
      throw forbidden('csrf_failed', 'This request came from another site and was refused.');
    }
  } else if (origin === 'null' && site !== 'same-origin') {
    // Under our own `Referrer-Policy: no-referrer`, browsers send `Origin: null` even for
    // same-origin form posts; they then also send `Sec-Fetch-Site: same-origin`, which vouches.
    throw forbidden('csrf_failed', 'This request came from an opaque origin and was refused.');
  }
}

/** The form token for this browser, set as a cookie on first sight (double-submit). */
export function csrfTokenFor(request: FastifyRequest, reply: FastifyReply, settings: CookieSettings): string {
  const existing = request.cookies[COOKIE.csrf];
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const token = randomToken(32);
  reply.setCookie(COOKIE.csrf, token, { httpOnly: true, secure: settings.secure, sameSite: 'strict', path: '/' });
  request.cookies[COOKIE.csrf] = token;
  return token;
}

/**
 * The pages' form check, as a hook on the whole pages scope: every write carries this browser's
 * form token unless its route says it has none. A page route cannot forget it; the handlers'
 * own calls to assertFormToken are then only a second look.
 */
export async function requireFormToken(request: FastifyRequest): Promise<void> {
  // No route (a 404) has nothing to protect and keeps its own answer.
  if (SAFE_METHODS.has(request.method) || request.routeOptions.url === undefined || request.routeOptions.config.formToken === false) return;
  const body: unknown = request.body;
  assertFormToken(request, typeof body === 'object' && body !== null ? (body as Record<string, unknown>)._csrf : undefined);
}

export function assertFormToken(request: FastifyRequest, submitted: unknown): void {
  const cookie = request.cookies[COOKIE.csrf];
  if (typeof submitted !== 'string' || !cookie || !constantTimeEqual(submitted, cookie)) {
    throw forbidden('csrf_failed', 'The form expired. Reload the page and try again.');
  }
}
