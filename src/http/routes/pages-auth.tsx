import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import type { Services } from '../../services/index.js';
import type { SentCode } from '../../services/messaging/code-sender.js';
import type { TotpEnrolment } from '../../services/factors.js';
import { BackupCodesPage, codesOwner } from '../../ui/pages/backup-codes.js';
import { BackupCodeUsedPage } from '../../ui/pages/backup-code-used.js';
import type { CodeChannel, EnrolCodeView } from '../../ui/pages/enrol-code.js';
import { EnrolCodePage } from '../../ui/pages/enrol-code.js';
import { EnrolRequiredPage } from '../../ui/pages/enrol-required.js';
import { EnrolTotpPage } from '../../ui/pages/enrol-totp.js';
import { MessagePage } from '../../ui/pages/message.js';
import type { SecondFactorView } from '../../ui/pages/second-factor.js';
import { SecondFactorPage } from '../../ui/pages/second-factor.js';
import { SetupPage } from '../../ui/pages/setup.js';
import type { PasskeyOffer } from '../../ui/pages/sign-in.js';
import { SignInPage } from '../../ui/pages/sign-in.js';
import { AddSecurityKeyPage } from '../../ui/pages/security-key.js';
import type { SignInResult } from '../../services/sign-in.js';
import { safeLocalPath } from '../../core/local-path.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { COOKIE, clearSessionCookie, requestMeta, setSessionCookie, setSignInCookies, setTrustCookie } from '../request-context.js';
import { idParams } from '../schemas.js';
import { countryFromLanguage, pageStatus, userMessage } from '../pages/messages.js';
import { destinationFrom } from '../api-kit.js';

type Form = Record<string, string | undefined>;

const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;
/** The second step's `code` may be a security key's answer (JSON), longer than any typed code. */
const secondStepBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 }, properties: { code: { type: 'string', maxLength: 16_384 } } } as const;
/** A security key's registration answer (JSON) at forced enrolment. */
const securityKeyBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 }, properties: { response: { type: 'string', maxLength: 16_384 } } } as const;
/** A passkey sign-in's `assertion` (JSON) is as long as a security key's answer. */
const passkeyBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 }, properties: { assertion: { type: 'string', maxLength: 16_384 } } } as const;

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
  // sign-in lands instead of the account page: the form carries it into the sign-in flow, which
  // keeps it through the steps and hands it back once the person is in.
  app.get<{ Querystring: { return_to?: string } }>(
    '/sign-in',
    { schema: { hide: true, querystring: { type: 'object', properties: { return_to: { type: 'string', maxLength: 2048 } } } } },
    async (request, reply) => {
      const returnTo = safeLocalPath(request.query.return_to);
      if (request.auth) return reply.redirect(returnTo ?? '/account');
      return kit.html(reply, <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} returnTo={returnTo} passkey={await passkeyOffer(request)} />);
    },
  );

  /**
   * A passkey sign-in for the page: a fresh challenge, bound to a handle the form carries. When
   * this address has asked for too many, the page simply offers the password (never an error page);
   * any other failure (the database gone) is the page's failure too.
   */
  const passkeyOffer = async (request: FastifyRequest): Promise<PasskeyOffer | undefined> => {
    try {
      const { handle, options } = await services.signIn.passkeyOptions(requestMeta(request));
      return { handle, options: JSON.stringify(options) };
    } catch (error) {
      if (isTwofoldError(error) && error.kind === 'rate_limited') return undefined;
      throw error;
    }
  };

  /** Where a sign-in goes once its first step is done (a password or a passkey): in, to enrol, or to the second step. */
  const afterSignIn = async (request: FastifyRequest, reply: FastifyReply, result: SignInResult) => {
    if (result.status === 'signed_in') {
      setSignInCookies(reply, cookies, result.session);
      // After an administrator's reset the first stop is setting a method up again (skippable, as policy allows this sign-in without one).
      if ((await services.factors.setUpAgainSince(result.user.id)) !== null) {
        return reply.redirect(`/account/set-up-again${result.returnTo ? `?return_to=${encodeURIComponent(result.returnTo)}` : ''}`, 303);
      }
      return reply.redirect(result.returnTo ?? '/account', 303);
    }
    flowCookie(reply, result.challenge);
    if (result.status === 'enrolment_required') return reply.redirect('/sign-in/enrol', 303);
    // A person whose first method (their default, or their only one) is a text or email code gets it
    // sent as the step opens, once (a reload does not send again; "Send a new code" stays).
    const sent = await services.signIn.sendOpeningCode(result.challenge, result.flow, requestMeta(request));
    if (sent) return reply.redirect(`/sign-in/second-factor?method=${sent.method}&sent=${encodeURIComponent(sent.factorId)}`, 303);
    return reply.redirect('/sign-in/second-factor', 303);
  };

  app.post<{ Body: Form }>('/sign-in/passkey', { schema: { hide: true, body: passkeyBody } }, async (request, reply) => {
    const returnTo = safeLocalPath(request.body.return_to);
    try {
      const result = await services.signIn.withPasskey(
        { handle: request.body.handle ?? '', assertion: request.body.assertion ?? '', trustedBrowserToken: request.cookies[COOKIE.trust], returnTo: returnTo ?? undefined },
        requestMeta(request),
      );
      return await afterSignIn(request, reply, result);
    } catch (error) {
      const status = isTwofoldError(error) ? pageStatus(error) : 500;
      if (status >= 500) throw error;
      return kit.html(reply.code(status), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} returnTo={returnTo} error={userMessage(error)} passkey={await passkeyOffer(request)} />);
    }
  });

  app.post<{ Body: Form }>('/sign-in', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const email = request.body.email ?? '';
    const returnTo = safeLocalPath(request.body.return_to);
    try {
      const result = await services.signIn.withPassword(
        { email, password: request.body.password ?? '', trustedBrowserToken: request.cookies[COOKIE.trust], returnTo: returnTo ?? undefined },
        requestMeta(request),
      );
      return await afterSignIn(request, reply, result);
    } catch (error) {
      const status = isTwofoldError(error) && error.kind === 'rate_limited' ? 429 : 401;
      return kit.html(reply.code(status), <SignInPage chrome={kit.chrome(request, reply, 'Sign in')} email={email} returnTo={returnTo} error={userMessage(error)} passkey={await passkeyOffer(request)} />);
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
    approval?: SecondFactorView['approval'];
  }

  const renderSecondFactor = async (request: FastifyRequest, reply: FastifyReply, state: SecondFactorState) => {
    const flow = await services.signIn.pendingFlow(challengeOf(request), 'second_factor_required');
    if (!flow) return expiredSignIn(request, reply, state.error !== undefined);
    const requested = state.method;
    const method = requested && flow.methods.includes(requested) ? requested : (flow.methods[0] ?? 'totp');
    const targets = flow.sendTargets.filter((t) => t.type === method);
    let sent: SecondFactorView['sent'];
    if (state.sent && targets.length > 0) {
      const target = targets.find((t) => t.id === state.sent?.factorId) ?? targets[0];
      const code = state.sent.code;
      sent = {
        factorId: target?.id ?? '',
        sentTo: code?.sentTo ?? target?.destination ?? '',
        expiresAt: code ? formatInTimeZone(code.expiresAt, flow.person.timeZone) : undefined,
        resendInSeconds: code ? secondsUntil(code.resendAt) : undefined,
      };
    }
    const view: SecondFactorView = {
      methods: flow.methods,
      method,
      trustDays: flow.trustBrowserDays,
      targets: targets.map((t) => ({ id: t.id, destination: t.destination })),
      channelTitle: targets[0]?.title,
      sent,
      unavailable: flow.unavailable,
      securityKeyOptions: method === 'webauthn' ? JSON.stringify(await services.signIn.securityKeyOptions(challengeOf(request))) : undefined,
      lock: flow.codesLockedUntil === null ? undefined : { seconds: secondsUntil(flow.codesLockedUntil), until: formatInTimeZone(flow.codesLockedUntil, flow.person.timeZone) },
      approvers: flow.approvers,
      approval: state.approval,
    };
    return kit.html(reply, <SecondFactorPage chrome={kit.chrome(request, reply, 'Two-step verification')} view={view} error={state.error} notice={state.notice} />);
  };

  app.get<{ Querystring: { method?: string; sent?: string } }>(
    '/sign-in/second-factor',
    { schema: { hide: true, querystring: { type: 'object', properties: { method: { type: 'string', maxLength: 32 }, sent: { type: 'string', maxLength: 64 } } } } },
    // `sent` names the factor a code went to when the step opened: the code form shows at once.
    async (request, reply) => renderSecondFactor(request, reply, { method: request.query.method, sent: request.query.sent ? { factorId: request.query.sent } : undefined }),
  );

  app.post<{ Body: Form }>('/sign-in/second-factor/send', { schema: { hide: true, body: formBody } }, async (request, reply) => {
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

  // Phone approval: the request goes to the phone, this page shows the number and learns the
  // outcome by polling the route below (the form's button is the fallback without script).
  app.post<{ Body: Form }>('/sign-in/second-factor/approve', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    try {
      const started = await services.signIn.requestApproval(challengeOf(request), request.body.approverId ?? '', requestMeta(request));
      return renderSecondFactor(request, reply, { method: 'push', approval: { requestId: started.requestId, number: started.number, approver: started.deviceName, pushed: started.pushed } });
    } catch (error) {
      reply.code(pageStatus(error));
      return renderSecondFactor(request, reply, { method: 'push', error: userMessage(error) });
    }
  });

  app.get<{ Querystring: { request?: string } }>(
    '/sign-in/second-factor/approval',
    { schema: { hide: true, querystring: { type: 'object', properties: { request: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      // A sign-in that has ended ("This wasn't me" on the phone, or its time is up) reads as ended: choosing
      // the phone again cannot help. Anything else but an answer for this flow's own request reads as expired.
      const state = await services.signIn.approvalStatus(challengeOf(request), request.query.request ?? '').catch((error: unknown) => (flowEnded(error) ? ('ended' as const) : ('expired' as const)));
      return reply.header('Cache-Control', 'no-store').send({ state });
    },
  );

  app.post<{ Body: Form }>('/sign-in/second-factor', { schema: { hide: true, body: secondStepBody } }, async (request, reply) => {
    const method = request.body.method ?? 'totp';
    try {
      const result = await services.signIn.withSecondFactor(
        { challenge: challengeOf(request), method, code: request.body.code ?? '', trustBrowser: request.body.trustBrowser === '1' },
        requestMeta(request),
      );
      reply.clearCookie(COOKIE.flow, { path: '/sign-in' });
      setSignInCookies(reply, cookies, result.session);
      if (result.trustedBrowser) setTrustCookie(reply, cookies, result.trustedBrowser.token, result.trustedBrowser.expiresAt, services.clock());
      if (method === 'backup_code') {
        // A backup code is spent: say how many are left (and push for a new set when few are).
        const left = await services.backupCodes.status(result.user.id);
        const chrome = { ...kit.chrome(request, reply, 'Backup code used'), userName: result.user.display_name };
        return kit.html(reply, <BackupCodeUsedPage chrome={chrome} remaining={left.remaining} low={left.low} continueHref={result.returnTo ?? '/account'} />);
      }
      return reply.redirect(result.returnTo ?? '/account', 303);
    } catch (error) {
      // The code was right, but policy wants a key: the same sign-in now waits for one to be added.
      if (isTwofoldError(error) && error.code === 'phishing_resistant_required') return reply.redirect('/sign-in/enrol', 303);
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
    const view = { methods: flow.methods, accountEmail: flow.person.email, country: values.country ?? countryFromLanguage(request), number: values.number, email: values.email };
    return kit.html(reply, <EnrolRequiredPage chrome={kit.chrome(request, reply, 'Set up two-step verification')} view={view} error={error} />);
  };

  const renderEnrolCode = async (request: FastifyRequest, reply: FastifyReply, state: { id: string; channel: CodeChannel; sentTo: string; code?: SentCode; notice?: string; error?: string }) => {
    const flow = await services.signIn.pendingFlow(challengeOf(request), 'enrolment_required');
    if (!flow) return expiredSignIn(request, reply, state.error !== undefined);
    const view: EnrolCodeView = {
      heading: state.channel === 'sms' ? 'Confirm your phone' : state.channel === 'email' ? 'Confirm your email' : 'Confirm your authenticator app',
      channel: state.channel,
      sentTo: state.sentTo,
      expiresAt: state.code ? formatInTimeZone(state.code.expiresAt, flow.person.timeZone) : undefined,
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

  /** The authenticator being added at sign-in; after a wrong code the same key and QR code, with the error by the field. */
  const showEnrolTotp = (request: FastifyRequest, reply: FastifyReply, enrolment: TotpEnrolment, error?: string) =>
    kit.html(
      reply,
      <EnrolTotpPage
        chrome={kit.chrome(request, reply, 'Add an authenticator app')}
        enrolment={enrolment}
        error={error}
        confirmAction={`/sign-in/enrol/${enrolment.id}/confirm`}
        cancelHref="/sign-in/enrol"
      />,
    );

  const renderEnrolTotp = async (request: FastifyRequest, reply: FastifyReply, factorId: string, error: string) => {
    try {
      return showEnrolTotp(request, reply, await services.signIn.pendingEnrolment(challengeOf(request), factorId), error);
    } catch (gone) {
      return renderEnrolRequired(request, reply.code(pageStatus(gone)), {}, userMessage(gone));
    }
  };

  /** Forced enrolment with a key: the page the static script completes (navigator.credentials.create()). */
  const renderEnrolKey = async (request: FastifyRequest, reply: FastifyReply, name: string, error?: string) => {
    let options;
    try {
      options = await services.signIn.enrolmentKeyOptions(challengeOf(request));
    } catch (gone) {
      return renderEnrolRequired(request, reply.code(pageStatus(gone)), {}, userMessage(gone));
    }
    return kit.html(
      reply,
      <AddSecurityKeyPage chrome={kit.chrome(request, reply, 'Add a security key')} options={JSON.stringify(options)} name={name} error={error} action="/sign-in/enrol/webauthn" cancelHref="/sign-in/enrol" />,
    );
  };

  app.get('/sign-in/enrol/webauthn', { schema: { hide: true } }, async (request, reply) => renderEnrolKey(request, reply, 'Security key'));

  app.post<{ Body: Form }>('/sign-in/enrol/webauthn', { schema: { hide: true, body: securityKeyBody } }, async (request, reply) => {
    let response: unknown;
    try {
      response = JSON.parse(request.body.response ?? '');
    } catch {
      response = null;
    }
    try {
      const result = await services.signIn.enrolKey(challengeOf(request), response, request.body.name, requestMeta(request));
      reply.clearCookie(COOKIE.flow, { path: '/sign-in' });
      setSignInCookies(reply, cookies, result.session);
      if (result.backupCodes.length === 0) return reply.redirect(result.returnTo ?? '/account', 303);
      const chrome = { ...kit.chrome(request, reply, 'Backup codes'), userName: result.user.display_name };
      const owner = codesOwner({ companyName: chrome.companyName, publicUrl: services.settings.publicUrl, account: result.user.email, timeZone: result.user.time_zone, nowMs: services.clock() });
      const next = result.returnTo ? { href: result.returnTo, label: 'Continue' } : undefined;
      return kit.html(reply, <BackupCodesPage chrome={chrome} codes={result.backupCodes} intro="Your security key is on and you are signed in. Keep these codes in case you lose it." owner={owner} method="webauthn" next={next} />);
    } catch (error) {
      reply.code(pageStatus(error));
      if (!keepsCodePage(error)) return renderEnrolRequired(request, reply, {}, userMessage(error));
      return renderEnrolKey(request, reply, request.body.name ?? '', userMessage(error));
    }
  });

  app.post<{ Body: Form }>('/sign-in/enrol/totp', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    try {
      const enrolment = await services.signIn.startEnrolment(challengeOf(request), request.body.label, requestMeta(request));
      return showEnrolTotp(request, reply, enrolment);
    } catch (error) {
      const message = userMessage(error);
      return renderEnrolRequired(request, reply.code(pageStatus(error)), request.body, message);
    }
  });

  for (const channel of ['sms', 'email'] as const) {
    app.post<{ Body: Form }>(`/sign-in/enrol/${channel}`, { schema: { hide: true, body: formBody } }, async (request, reply) => {
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
    const channel = codeChannelOf(request.body.channel);
    try {
      const result = await services.signIn.confirmEnrolment({ challenge: challengeOf(request), factorId: request.params.id, code: request.body.code ?? '' }, requestMeta(request));
      reply.clearCookie(COOKIE.flow, { path: '/sign-in' });
      setSignInCookies(reply, cookies, result.session);
      const returnTo = result.returnTo;
      if (result.backupCodes.length === 0) return reply.redirect(returnTo ?? '/account', 303);
      const chrome = { ...kit.chrome(request, reply, 'Backup codes'), userName: result.user.display_name };
      const intro = 'Two-step verification is on and you are signed in. Keep these codes in case you cannot get a code.';
      const owner = codesOwner({ companyName: chrome.companyName, publicUrl: services.settings.publicUrl, account: result.user.email, timeZone: result.user.time_zone, nowMs: services.clock() });
      const next = returnTo ? { href: returnTo, label: 'Continue' } : undefined;
      return kit.html(reply, <BackupCodesPage chrome={chrome} codes={result.backupCodes} email={result.backupCodesEmail} intro={intro} owner={owner} method={channel} next={next} />);
    } catch (error) {
      const message = userMessage(error);
      reply.code(pageStatus(error));
      if (!keepsCodePage(error)) return renderEnrolRequired(request, reply, {}, message);
      if (channel === 'totp') return renderEnrolTotp(request, reply, request.params.id, message);
      return renderEnrolCode(request, reply, { id: request.params.id, channel, sentTo: request.body.sentTo ?? '', error: message });
    }
  });

  app.post<{ Body: Form }>('/sign-out', { schema: { hide: true, body: formBody } }, async (request, reply) => {
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

/** The sign-in flow itself is over (ended by the phone's "This wasn't me", or timed out), not just one request. */
function flowEnded(error: unknown): boolean {
  return isTwofoldError(error) && (error.code === 'challenge_expired' || error.code === 'challenge_invalid');
}
