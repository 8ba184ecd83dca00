import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import type { Services } from '../../services/index.js';
import type { SentCode } from '../../services/messaging/code-sender.js';
import { BackupCodesPage } from '../../ui/pages/backup-codes.js';
import type { CodeChannel, EnrolCodeView } from '../../ui/pages/enrol-code.js';
import { EnrolCodePage } from '../../ui/pages/enrol-code.js';
import { EnrolRequiredPage } from '../../ui/pages/enrol-required.js';
import { EnrolTotpPage } from '../../ui/pages/enrol-totp.js';
import { MessagePage } from '../../ui/pages/message.js';
import type { SecondFactorView } from '../../ui/pages/second-factor.js';
import { SecondFactorPage } from '../../ui/pages/second-factor.js';
import { SetupPage } from '../../ui/pages/setup.js';
import { SignInPage } from '../../ui/pages/sign-in.js';
import { BackupCodesContinuePage } from '../../ui/pages/oidc.js';
import { forgetReturnTo, rememberReturnTo, safeLocalPath, takeReturnTo } from '../return-to.js';
import { assertFormToken } from '../csrf.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { COOKIE, clearSessionCookie, requestMeta, setSessionCookie, setSignInCookies, setTrustCookie } from '../request-context.js';
import { idParams } from '../schemas.js';
import { countryFromLanguage, pageStatus, userMessage } from '../pages/messages.js';
import { destinationFrom } from '../api-kit.js';

type Form = Record<string, string | undefined>;

const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

/** Refusals about the code itself keep the user on the code page; others (flow over, enrolment gone) do not. */
function keepsCodePage(error: unknown): boolean {
  return isTwofoldError(error) && ['invalid_input', 'unauthenticated', 'rate_limited', 'unavailable'].includes(error.kind) && !/^challenge_/.test(error.code);
}

function codeChannelOf(value: string | undefined): CodeChannel {
  return value === 'sms' || value === 'email' ? value : 'totp';
}

export function authPageRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit): void {
  const flowCookie = (reply: FastifyReply, challenge: string) =>
    reply.setCookie(COOKIE.flow, challenge, {
      httpOnly: true,
      secure: cookies.secure,
      sameSite: 'lax',
      path: '/sign-in',
      maxAge: Math.floor(services.settings.signInFlowMs / 1000),
    });

  app.get('/', { schema: { hide: true } }, async (request, reply) => reply.redirect(request.auth ? '/account' : '/sign-in'));

  // `return_to` (a path on this site, e.g. an app's pending authorization) is where a completed
  // sign-in lands instead of the account page; it rides in a short-lived cookie through the steps.
  app.get<{ Querystring: { return_to?: string } }>(
    '/sign-in',
    { schema: { hide: true, querystring: { type: 'object', properties: { return_to: { type: 'string', maxLength: 2048 } } } } },
    async (request, reply) => {
      if (request.auth) return reply.redirect(safeLocalPath(request.query.return_to) ?? '/account');
      if (request.query.return_to === undefined) forgetReturnTo(request, reply, cookies);
      else rememberReturnTo(reply, cookies, request.query.return_to, services.settings.signInFlowMs);
      return kit.html(reply, <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} />);
    },
  );
  const afterSignIn = (request: FastifyRequest, reply: FastifyReply) => takeReturnTo(request, reply, cookies) ?? '/account';

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
        flowCookie(reply, result.challenge);
        return reply.redirect('/sign-in/enrol', 303);
      }
      setSignInCookies(reply, cookies, result.session);
      return reply.redirect(afterSignIn(request, reply), 303);
    } catch (error) {
      const status = isTwofoldError(error) && error.kind === 'rate_limited' ? 429 : 401;
      return kit.html(reply.code(status), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} email={email} error={userMessage(error)} />);
    }
  });

  const challengeOf = (request: FastifyRequest) => request.cookies[COOKIE.flow] ?? '';
  const now = () => services.clock();
  const secondsUntil = (ms: number) => Math.max(0, Math.ceil((ms - now()) / 1000));
  const expiredSignIn = (request: FastifyRequest, reply: FastifyReply, failed: boolean) =>
    kit.html(reply.code(failed ? 401 : 200), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} notice="Your sign-in expired. Please sign in again." />);

  interface SecondFactorState {
    method?: string | undefined;
    error?: string | undefined;
    notice?: string | undefined;
    /** A code went out (or was asked for): which factor, and what the service said about it. */
    sent?: { factorId: string | undefined; code?: SentCode | undefined } | undefined;
  }

  const renderSecondFactor = async (request: FastifyRequest, reply: FastifyReply, state: SecondFactorState) => {
    const challenge = challengeOf(request);
    const flow = await services.signIn.pendingFlow(challenge);
    if (!flow) return expiredSignIn(request, reply, state.error !== undefined);
    const requested = state.method;
    const method = requested && flow.methods.includes(requested) ? requested : (flow.methods[0] ?? 'totp');
    const delivered = (method === 'sms' || method === 'email') && flow.methods.includes(method);
    const [catalogue, held, allTargets, policy] = await Promise.all([
      services.methods.forUser(flow.user),
      services.factors.list(flow.user.id),
      delivered ? services.signIn.sendTargets(challenge) : [],
      services.policy.effectiveFor(flow.user),
    ]);
    const heldTypes = new Set(held.map((f) => f.type));
    const unavailable = catalogue.filter((m) => !m.available && heldTypes.has(m.method)).map((m) => ({ method: m.method, reason: m.reason ?? 'This method cannot be used now.' }));
    const targets = allTargets.filter((t) => t.type === method);
    let sent: SecondFactorView['sent'];
    if (state.sent && delivered) {
      const target = targets.find((t) => t.id === state.sent?.factorId) ?? targets[0];
      const code = state.sent.code;
      sent = {
        factorId: target?.id ?? '',
        sentTo: code?.sentTo ?? target?.destination ?? '',
        expiresAt: code ? formatInTimeZone(code.expiresAt, flow.user.time_zone) : undefined,
        resendInSeconds: code ? secondsUntil(code.resendAt) : undefined,
      };
    }
    const view: SecondFactorView = {
      methods: flow.methods,
      method,
      // The policy may shorten trust (or turn it off) below the server's setting, never lengthen it.
      trustDays: Math.max(0, Math.min(policy.trustBrowserDays.value, services.settings.trustBrowserDays)),
      targets: targets.map((t) => ({ id: t.id, destination: t.destination })),
      sent,
      unavailable,
    };
    return kit.html(reply, <SecondFactorPage chrome={kit.chrome(request, reply, 'Two-step verification')} view={view} error={state.error} notice={state.notice} />);
  };

  app.get<{ Querystring: { method?: string } }>(
    '/sign-in/second-factor',
    { schema: { hide: true, querystring: { type: 'object', properties: { method: { type: 'string', maxLength: 32 } } } } },
    async (request, reply) => renderSecondFactor(request, reply, { method: request.query.method }),
  );

  app.post<{ Body: Form }>('/sign-in/second-factor/send', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const method = request.body.method ?? '';
    const factorId = request.body.factorId || undefined;
    try {
      const code = await services.signIn.sendSignInCode(challengeOf(request), method, factorId, requestMeta(request));
      // The page itself says where the first code went; a new one deserves a word of its own.
      const notice = request.body.resend === '1' ? `A new code is on its way to ${code.sentTo}; earlier codes no longer work.` : undefined;
      return renderSecondFactor(request, reply, { method, sent: { factorId, code }, notice });
    } catch (error) {
      const message = userMessage(error);
      reply.code(pageStatus(error));
      // Asked again too soon: the earlier code is still on its way, so the code form stays.
      const stillWaiting = isTwofoldError(error) && error.code === 'resend_too_soon';
      return renderSecondFactor(request, reply, { method, error: message, sent: stillWaiting ? { factorId } : undefined });
    }
  });

  app.post<{ Body: Form }>('/sign-in/second-factor', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const method = request.body.method ?? 'totp';
    try {
      const result = await services.signIn.withSecondFactor(
        { challenge: challengeOf(request), method, code: request.body.code ?? '', trustBrowser: request.body.trustBrowser === '1' },
        requestMeta(request),
      );
      reply.clearCookie(COOKIE.flow, { path: '/sign-in' });
      setSignInCookies(reply, cookies, result.session);
      if (result.trustedBrowser) setTrustCookie(reply, cookies, result.trustedBrowser.token, result.trustedBrowser.expiresAt, services.clock());
      return reply.redirect(afterSignIn(request, reply), 303);
    } catch (error) {
      reply.code(isTwofoldError(error) && error.kind === 'rate_limited' ? 429 : 401);
      const delivered = method === 'sms' || method === 'email';
      return renderSecondFactor(request, reply, { method, error: userMessage(error), sent: delivered ? { factorId: request.body.factorId || undefined } : undefined });
    }
  });

  // Forced enrolment: policy requires a factor this user lacks. The flow cookie carries the
  // enrolment challenge; the session is only issued once a factor is confirmed.
  const renderEnrolRequired = async (request: FastifyRequest, reply: FastifyReply, values: Form = {}, error?: string) => {
    const flow = await services.signIn.pendingFlow(challengeOf(request), 'enrolment_required');
    if (!flow) return expiredSignIn(request, reply, error !== undefined);
    const view = { methods: flow.methods, accountEmail: flow.user.email, country: values.country ?? countryFromLanguage(request), number: values.number, email: values.email };
    return kit.html(reply, <EnrolRequiredPage chrome={kit.chrome(request, reply, 'Set up two-step verification')} view={view} error={error} />);
  };

  const renderEnrolCode = async (request: FastifyRequest, reply: FastifyReply, state: { id: string; channel: CodeChannel; sentTo: string; code?: SentCode; notice?: string; error?: string }) => {
    const flow = await services.signIn.pendingFlow(challengeOf(request), 'enrolment_required');
    if (!flow) return expiredSignIn(request, reply, state.error !== undefined);
    const view: EnrolCodeView = {
      heading: state.channel === 'sms' ? 'Confirm your phone' : state.channel === 'email' ? 'Confirm your email' : 'Confirm your authenticator app',
      channel: state.channel,
      sentTo: state.sentTo,
      expiresAt: state.code ? formatInTimeZone(state.code.expiresAt, flow.user.time_zone) : undefined,
      resendInSeconds: state.code ? secondsUntil(state.code.resendAt) : undefined,
      confirmAction: `/sign-in/enrol/${state.id}/confirm`,
      resendAction: state.channel === 'totp' ? undefined : `/sign-in/enrol/${state.id}/resend`,
      hidden: { channel: state.channel, sentTo: state.sentTo },
      submitLabel: 'Turn on and sign in',
      cancel: { href: '/sign-in/enrol', label: 'Choose another method' },
    };
    return kit.html(reply, <EnrolCodePage chrome={kit.chrome(request, reply, view.heading)} view={view} notice={state.notice} error={state.error} />);
  };

  app.get('/sign-in/enrol', { schema: { hide: true } }, async (request, reply) => renderEnrolRequired(request, reply));

  app.post<{ Body: Form }>('/sign-in/enrol/totp', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    try {
      const enrolment = await services.signIn.startEnrolment(challengeOf(request), request.body.label, requestMeta(request));
      return kit.html(
        reply,
        <EnrolTotpPage
          chrome={kit.chrome(request, reply, 'Add an authenticator app')}
          enrolment={enrolment}
          confirmAction={`/sign-in/enrol/${enrolment.id}/confirm`}
          cancelHref="/sign-in/enrol"
        />,
      );
    } catch (error) {
      const message = userMessage(error);
      return renderEnrolRequired(request, reply.code(pageStatus(error)), request.body, message);
    }
  });

  for (const channel of ['sms', 'email'] as const) {
    app.post<{ Body: Form }>(`/sign-in/enrol/${channel}`, { schema: { hide: true, body: formBody } }, async (request, reply) => {
      assertFormToken(request, request.body._csrf);
      const b = request.body;
      try {
        const enrolment = await services.signIn.startDeliveredEnrolment(challengeOf(request), destinationFrom(channel, b), b.label, requestMeta(request));
        return renderEnrolCode(request, reply, { id: enrolment.id, channel, sentTo: enrolment.sentTo, code: enrolment });
      } catch (error) {
        const message = userMessage(error);
        return renderEnrolRequired(request, reply.code(pageStatus(error)), b, message);
      }
    });
  }

  app.post<{ Body: Form; Params: { id: string } }>('/sign-in/enrol/:id/resend', { schema: { hide: true, body: formBody, params: idParams } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const channel = codeChannelOf(request.body.channel);
    const sentTo = request.body.sentTo ?? '';
    try {
      const code = await services.signIn.resendEnrolmentCode(challengeOf(request), request.params.id, requestMeta(request));
      return renderEnrolCode(request, reply, { id: request.params.id, channel, sentTo: code.sentTo, code, notice: `A new code is on its way to ${code.sentTo}.` });
    } catch (error) {
      const message = userMessage(error);
      reply.code(pageStatus(error));
      if (!keepsCodePage(error)) return renderEnrolRequired(request, reply, {}, message);
      return renderEnrolCode(request, reply, { id: request.params.id, channel, sentTo, error: message });
    }
  });

  app.post<{ Body: Form; Params: { id: string } }>('/sign-in/enrol/:id/confirm', { schema: { hide: true, body: formBody, params: idParams } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const channel = codeChannelOf(request.body.channel);
    try {
      const result = await services.signIn.confirmEnrolment({ challenge: challengeOf(request), factorId: request.params.id, code: request.body.code ?? '' }, requestMeta(request));
      reply.clearCookie(COOKIE.flow, { path: '/sign-in' });
      setSignInCookies(reply, cookies, result.session);
      const returnTo = takeReturnTo(request, reply, cookies);
      if (result.backupCodes.length === 0) return reply.redirect(returnTo ?? '/account', 303);
      const chrome = { ...kit.chrome(request, reply, 'Backup codes'), userName: result.user.display_name };
      const intro = 'Two-step verification is on and you are signed in. Keep these codes in case you cannot get a code.';
      if (returnTo) return kit.html(reply, <BackupCodesContinuePage chrome={chrome} codes={result.backupCodes} intro={intro} continueHref={returnTo} />);
      return kit.html(reply, <BackupCodesPage chrome={chrome} codes={result.backupCodes} intro={intro} />);
    } catch (error) {
      const message = userMessage(error);
      reply.code(pageStatus(error));
      if (!keepsCodePage(error)) return renderEnrolRequired(request, reply, {}, message);
      return renderEnrolCode(request, reply, { id: request.params.id, channel, sentTo: request.body.sentTo ?? '', error: message });
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
