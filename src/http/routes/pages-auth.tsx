import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import type { Services } from '../../services/index.js';
import { MessagePage } from '../../ui/pages/message.js';
import { SecondFactorPage } from '../../ui/pages/second-factor.js';
import { SetupPage } from '../../ui/pages/setup.js';
import { SignInPage } from '../../ui/pages/sign-in.js';
import { assertFormToken } from '../csrf.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { COOKIE, clearSessionCookie, requestMeta, setSessionCookie, setTrustCookie } from '../request-context.js';

type Form = Record<string, string | undefined>;

const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

/** A user-facing sentence for a refusal; unexpected errors are rethrown to the error handler. */
export function userMessage(error: unknown): string {
  if (isTwofoldError(error)) {
    return error.retryAfterSeconds ? `${error.message} (try again in ${Math.ceil(error.retryAfterSeconds / 60)} min)` : error.message;
  }
  throw error;
}

export function authPageRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit): void {
  const flowCookie = (reply: FastifyReply, challenge: string) =>
    reply.setCookie(COOKIE.flow, challenge, {
      httpOnly: true,
      secure: cookies.secure,
      sameSite: 'lax',
      path: '/sign-in',
      maxAge: Math.floor(services.deps.settings.signInFlowMs / 1000),
    });

  app.get('/', { schema: { hide: true } }, async (request, reply) => reply.redirect(request.auth ? '/account' : '/sign-in'));

  app.get('/sign-in', { schema: { hide: true } }, async (request, reply) => {
    if (request.auth) return reply.redirect('/account');
    return kit.html(reply, <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} />);
  });

  app.post<{ Body: Form }>('/sign-in', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const email = request.body.email ?? '';
    try {
      const result = await services.signIn.withPassword(
        { email, password: request.body.password ?? '', trustedBrowserToken: request.cookies[COOKIE.trust] },
        requestMeta(request),
      );
      if (result.status === 'second_factor_required') {
        flowCookie(reply, result.challenge);
        return reply.redirect('/sign-in/second-factor', 303);
      }
      if (result.status === 'enrolment_required') {
        // The enrolment pages come with the policy pages; until then the browser gets no session.
        const message = 'Your organisation requires two-step verification, and you have not set it up yet. Ask your administrator for help.';
        return kit.html(reply.code(403), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} email={email} error={message} />);
      }
      setSessionCookie(reply, cookies, result.session.token);
      return reply.redirect('/account', 303);
    } catch (error) {
      const status = isTwofoldError(error) && error.kind === 'rate_limited' ? 429 : 401;
      return kit.html(reply.code(status), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} email={email} error={userMessage(error)} />);
    }
  });

  const renderSecondFactor = async (request: FastifyRequest, reply: FastifyReply, requested: string | undefined, error?: string) => {
    const flow = await services.signIn.pendingFlow(request.cookies[COOKIE.flow]);
    if (!flow) {
      return kit.html(reply.code(error ? 401 : 200), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} notice="Your sign-in expired. Please sign in again." />);
    }
    const method = requested && flow.methods.includes(requested) ? requested : (flow.methods[0] ?? 'totp');
    return kit.html(
      reply,
      <SecondFactorPage
        chrome={kit.chrome(request, reply, 'Two-step verification')}
        methods={flow.methods}
        method={method}
        trustDays={services.deps.settings.trustBrowserDays}
        error={error}
      />,
    );
  };

  app.get<{ Querystring: { method?: string } }>(
    '/sign-in/second-factor',
    { schema: { hide: true, querystring: { type: 'object', properties: { method: { type: 'string', maxLength: 32 } } } } },
    async (request, reply) => renderSecondFactor(request, reply, request.query.method),
  );

  app.post<{ Body: Form }>('/sign-in/second-factor', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const method = request.body.method ?? 'totp';
    try {
      const result = await services.signIn.withSecondFactor(
        { challenge: request.cookies[COOKIE.flow] ?? '', method, code: request.body.code ?? '', trustBrowser: request.body.trustBrowser === '1' },
        requestMeta(request),
      );
      reply.clearCookie(COOKIE.flow, { path: '/sign-in' });
      setSessionCookie(reply, cookies, result.session.token);
      if (result.trustedBrowser) setTrustCookie(reply, cookies, result.trustedBrowser.token, result.trustedBrowser.expiresAt, services.deps.clock());
      return reply.redirect('/account', 303);
    } catch (error) {
      reply.code(isTwofoldError(error) && error.kind === 'rate_limited' ? 429 : 401);
      return renderSecondFactor(request, reply, method, userMessage(error));
    }
  });

  app.post<{ Body: Form }>('/sign-out', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    if (request.auth) await services.signOut.signOut(request.auth.user, request.auth.session, requestMeta(request));
    clearSessionCookie(reply, cookies);
    return reply.redirect('/sign-in', 303);
  });

  app.get<{ Querystring: { token?: string } }>(
    '/setup',
    { schema: { hide: true, querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 128 } } } } },
    async (request, reply) => {
      const token = request.query.token ?? '';
      if (!(await services.setup.needsSetup())) {
        return kit.html(reply.code(410), <MessagePage chrome={kit.chrome(request, reply, 'Setup')} heading="Setup is complete" text="An administrator already exists." link={{ href: '/sign-in', label: 'Sign in' }} />);
      }
      if (!token || !(await services.setup.tokenIsValid(token))) {
        return kit.html(reply.code(401), <MessagePage chrome={kit.chrome(request, reply, 'Setup')} heading="Setup link not valid" text="Restart the server to print a new setup link." />);
      }
      return kit.html(reply, <SetupPage chrome={kit.chrome(request, reply, 'Setup')} token={token} values={{}} />);
    },
  );

  app.post<{ Body: Form }>('/setup', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const b = request.body;
    const values = { organisationName: b.organisationName, email: b.email, displayName: b.displayName };
    try {
      const { session } = await services.setup.completeSetup(
        b.token ?? '',
        { organisationName: b.organisationName ?? '', email: b.email ?? '', displayName: b.displayName, password: b.password ?? '' },
        requestMeta(request),
      );
      setSessionCookie(reply, cookies, session.token);
      return reply.redirect('/account', 303);
    } catch (error) {
      return kit.html(reply.code(400), <SetupPage chrome={kit.chrome(request, reply, 'Setup')} token={b.token ?? ''} values={values} error={userMessage(error)} />);
    }
  });

  app.setNotFoundHandler((request, reply) => {
    if (request.url.startsWith('/api/')) {
      return reply.code(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` } });
    }
    return kit.html(reply.code(404), <MessagePage chrome={kit.chrome(request, reply, 'Not found')} heading="Page not found" text="There is nothing at this address." link={{ href: '/', label: 'Home' }} />);
  });

}
