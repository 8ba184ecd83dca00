import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { MessagePage } from '../ui/pages/message.js';
import { assertSameOrigin } from './csrf.js';
import { describeError } from './errors.js';
import type { PageKit } from './page-kit.js';
import { safeLocalPath } from '../core/local-path.js';

const HEADINGS: Partial<Record<number, string>> = {
  400: 'That request was not valid',
  401: 'Please sign in',
  403: 'That was refused',
  404: 'Page not found',
  409: 'That changed in the meantime',
  410: 'That link has expired',
  413: 'That was too large',
  415: 'That was not a form',
  429: 'Too many attempts',
};

const STALE_FORM =
  'This form was open too long, or was sent from another tab or window after you signed in or out somewhere else, so it was not accepted and nothing was saved. Go back to the page, check what you entered and send it again.';

/**
 * The pages' error handler: an HTML page with the status the JSON API would give (the
 * catalogue's), never a JSON body in a browser. A refused form (csrf_failed) says so in plain
 * words, links back to the page the form came from and makes sure the browser holds a sound
 * form token, so the next try works.
 */
export function installPageErrorHandler(pages: FastifyInstance, kit: PageKit, publicOrigin: string): void {
  // Pages a refused form can send the browser back to: every static GET path of this plugin.
  const getPaths = new Set<string>();
  pages.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('GET') && !route.url.includes(':') && !route.url.includes('*')) getPaths.add(route.url);
  });

  pages.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, body, retryAfter } = describeError(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
    // A refused form from this site (not a cross-site forgery, which gets the plain refusal).
    const staleForm = body.error.code === 'csrf_failed' && request.method === 'POST' && sentFromThisSite(request, publicOrigin);
    // The chrome sets a new form token when the browser holds none (or a garbled one), so the page
    // linked below renders its form with a token that works; a sound token is kept, so forms open
    // in other tabs keep working.
    const chrome = kit.chrome(request, reply, staleForm ? 'Form not sent' : (HEADINGS[status] ?? 'Something went wrong'));
    reply.code(status);
    if (staleForm) {
      const back = backTo(request, publicOrigin, getPaths);
      return kit.html(reply, <MessagePage chrome={chrome} heading="Your form was not sent" text={STALE_FORM} link={{ href: back, label: 'Back to the page' }} />);
    }
    const link = request.auth ? { href: '/account', label: 'Go to your account' } : { href: '/sign-in', label: 'Go to sign in' };
    return kit.html(reply, <MessagePage chrome={chrome} heading={HEADINGS[status] ?? 'Something went wrong'} text={body.error.message} link={link} />);
  });
}

function sentFromThisSite(request: FastifyRequest, publicOrigin: string): boolean {
  try {
    assertSameOrigin(request, publicOrigin);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where a refused form sends the browser back to: the Referer's path when it is a safe path of
 * this site; else the same URL as a GET, or the nearest page above it (a form posting to
 * `/account/time-zone` came from `/account`).
 */
export function backTo(request: FastifyRequest, publicOrigin: string, getPaths: ReadonlySet<string>): string {
  const referer = request.headers.referer;
  if (typeof referer === 'string') {
    try {
      const url = new URL(referer);
      const ownOrigin = `${request.protocol}://${request.host}`;
      if (url.origin === publicOrigin || url.origin === ownOrigin) {
        const path = safeLocalPath(`${url.pathname}${url.search}`);
        if (path) return path;
      }
    } catch {
      // not a URL: fall through
    }
  }
  const [path = '/', query] = request.url.split('?', 2);
  let candidate = path;
  while (candidate.length > 1) {
    if (getPaths.has(candidate)) {
      const withQuery = candidate === path && query ? `${candidate}?${query}` : candidate;
      return safeLocalPath(withQuery) ?? '/';
    }
    candidate = candidate.slice(0, candidate.lastIndexOf('/')) || '/';
  }
  return '/';
}
