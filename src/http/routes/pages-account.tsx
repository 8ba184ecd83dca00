import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError, notFound } from '../../core/errors.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import { ADMIN_ROLE } from '../../services/accounts.js';
import type { Services } from '../../services/index.js';
import { sessionActor } from '../../services/index.js';
import type { SentCode } from '../../services/messaging/code-sender.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { ChecklistItem } from '../../ui/pages/account.js';
import { AccountPage } from '../../ui/pages/account.js';
import { BackupCodesPage, codesOwner } from '../../ui/pages/backup-codes.js';
import type { EnrolCodeView } from '../../ui/pages/enrol-code.js';
import { EnrolCodePage, METHOD_LABELS } from '../../ui/pages/enrol-code.js';
import { EnrolTotpPage } from '../../ui/pages/enrol-totp.js';
import { AddSecurityKeyPage } from '../../ui/pages/security-key.js';
import type { ConfirmActionView } from '../../ui/pages/confirm-action.js';
import { ConfirmActionPage } from '../../ui/pages/confirm-action.js';
import type { SecurityView } from '../../ui/pages/security.js';
import { SecurityPage } from '../../ui/pages/security.js';
import { SetUpAgainPage } from '../../ui/pages/set-up-again.js';
import { safeLocalPath } from '../../core/local-path.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, setSessionCookie } from '../request-context.js';
import { idParams } from '../schemas.js';
import { destinationFrom } from '../api-kit.js';
import { countryFromLanguage, pageStatus, userMessage } from '../pages/messages.js';

type Form = Record<string, string | undefined>;

function needsStepUp(error: unknown): boolean {
  return isTwofoldError(error) && error.code === 'reauthentication_required';
}

/** Refusals about the code itself keep the person on the code page; others (enrolment gone) do not. */
function keepsCodePage(error: unknown): boolean {
  return isTwofoldError(error) && ['invalid_input', 'unauthenticated', 'rate_limited', 'unavailable'].includes(error.kind);
}

/** The zones ICU knows (UTC among them), plus the user's own should it be a name ICU only accepts as an alias. */
function knownTimeZones(current: string): string[] {
  const zones = new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);
  zones.add(current);
  return [...zones].sort((a, b) => (a === 'UTC' ? -1 : b === 'UTC' ? 1 : a.localeCompare(b)));
}
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;
/** A security key's answer (JSON) is longer than any typed field. */
const securityKeyBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 }, properties: { response: { type: 'string', maxLength: 16_384 } } } as const;

export function accountPageRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit): void {
  /** Pages need a session; without one the browser goes to sign in instead of seeing an error. */
  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };

  /** The re-authentication page, asking for a code from a method held (the password when none is), then back to `next`. */
  const stepUpFirst = (reply: FastifyReply, next: string) => reply.redirect(`/reauthenticate?next=${encodeURIComponent(next)}&ask=code`, 303);

  /** Whose backup codes: the download and the page name the site, the account and the day. */
  const ownerOf = (auth: AuthenticatedSession, chrome: { companyName: string }) =>
    codesOwner({ companyName: chrome.companyName, publicUrl: services.settings.publicUrl, account: auth.user.email, timeZone: auth.user.time_zone, nowMs: services.clock() });

  const when = (auth: AuthenticatedSession, ms: number | null) => (ms === null ? null : formatInTimeZone(ms, auth.user.time_zone));

  interface SecurityState {
    notice?: string | undefined;
    error?: string | undefined;
    /** What was typed into an add or change form, shown again after a refusal. */
    values?: Form | undefined;
    reauthSent?: SecurityView['reauthSent'];
  }

  const renderSecurity = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, state: SecurityState = {}) => {
    const [factorList, backup, browsers, methods] = await Promise.all([
      services.factors.list(auth.user.id),
      services.backupCodes.status(auth.user.id),
      services.trustedBrowsers.list(auth.user.id),
      services.methods.forUser(auth.user),
    ]);
    let reauthenticated = await services.reauth.canChangeFactors(auth);
    try {
      services.reauth.requireRecentReauth(auth.session);
    } catch {
      reauthenticated = false;
    }
    const usable = (m: string) => methods.some((x) => x.method === m && x.available);
    const held = new Set(factorList.map((f) => f.type));
    const values = state.values ?? {};
    const view: SecurityView = {
      factors: factorList.map((f) => ({
        id: f.id,
        label: f.label,
        type: f.type,
        destination: f.destination,
        default: f.default === true,
        createdAt: when(auth, Date.parse(f.createdAt)) ?? '',
        lastUsedAt: f.lastUsedAt ? when(auth, Date.parse(f.lastUsedAt)) : null,
      })),
      backupCodes: backup,
      trustedBrowsers: browsers.map((b) => ({ id: b.id, userAgent: b.user_agent, ip: b.ip, createdAt: when(auth, b.created_at) ?? '', expiresAt: when(auth, b.expires_at) ?? '' })),
      reauthenticated,
      hasFactor: factorList.length > 0,
      methods,
      accountEmail: auth.user.email,
      values: { country: values.country ?? countryFromLanguage(request), number: values.number, email: values.email },
      reauthSendable: (['sms', 'email'] as const).filter((m) => held.has(m) && usable(m)),
      reauthSent: state.reauthSent,
      holdsTotp: held.has('totp'),
    };
    return kit.html(reply, <SecurityPage chrome={kit.chrome(request, reply, 'Security')} view={view} notice={state.notice} error={state.error} />);
  };

  /** Runs a form action; a refusal re-renders the security page with the reason (and what was typed). */
  const action = (run: (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply, auth: AuthenticatedSession) => Promise<unknown>) =>
    async (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      try {
        return await run(request, reply, auth);
      } catch (error) {
        const message = userMessage(error);
        return renderSecurity(request, reply.code(pageStatus(error)), auth, { error: message, values: request.body });
      }
    };

  /** The page that takes the code sent to a phone or address being added (or swapped in). */
  const renderCodePage = (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthenticatedSession,
    state: { id: string; channel: 'sms' | 'email'; sentTo: string; replacing: boolean; code?: SentCode | undefined; notice?: string | undefined; error?: string | undefined },
  ) => {
    const noun = state.channel === 'sms' ? (state.replacing ? 'new number' : 'phone') : state.replacing ? 'new email' : 'email';
    const view: EnrolCodeView = {
      heading: `Confirm your ${noun}`,
      channel: state.channel,
      sentTo: state.sentTo,
      expiresAt: state.code ? when(auth, state.code.expiresAt) ?? undefined : undefined,
      resendInSeconds: state.code ? Math.max(0, Math.ceil((state.code.resendAt - services.clock()) / 1000)) : undefined,
      confirmAction: `/account/security/delivered/${state.id}/confirm`,
      resendAction: `/account/security/delivered/${state.id}/resend`,
      hidden: { channel: state.channel, sentTo: state.sentTo, ...(state.replacing ? { replacing: '1' } : {}) },
      submitLabel: state.replacing ? `Switch to the ${noun}` : 'Turn on',
      cancel: { href: '/account/security', label: 'Cancel' },
    };
    return kit.html(reply, <EnrolCodePage chrome={kit.chrome(request, reply, view.heading)} view={view} notice={state.notice} error={state.error} />);
  };

  const deliveredAction = (
    run: (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply, auth: AuthenticatedSession, page: { channel: 'sms' | 'email'; sentTo: string; replacing: boolean }) => Promise<unknown>,
  ) =>
    async (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      const page = { channel: request.body.channel === 'sms' ? ('sms' as const) : ('email' as const), sentTo: request.body.sentTo ?? '', replacing: request.body.replacing === '1' };
      try {
        return await run(request, reply, auth, page);
      } catch (error) {
        const message = userMessage(error);
        reply.code(pageStatus(error));
        // A wrong, spent or too-early code keeps the code page; a vanished enrolment goes back to the list.
        if (keepsCodePage(error)) {
          return renderCodePage(request, reply, auth, { id: request.params.id, ...page, error: message });
        }
        return renderSecurity(request, reply, auth, { error: message });
      }
    };

  /** Each step is read from what exists, so the list keeps itself up to date (and goes once all is done). */
  const firstRunChecklist = async (auth: AuthenticatedSession): Promise<ChecklistItem[]> => {
    const [held, people, methods, policy] = await Promise.all([
      services.factors.list(auth.user.id),
      services.setup.peopleCount(),
      services.methods.forUser(auth.user),
      services.policy.effectiveFor(auth.user),
    ]);
    return [
      { label: 'Turn on two-step verification for yourself', done: held.length > 0, href: '/account/security' },
      { label: 'Add the people who will sign in here', done: people > 1, href: '/admin/users' },
      { label: 'Set up email, so codes and notices can be sent', done: methods.some((m) => m.method === 'email' && m.available), href: '/admin/services' },
      { label: 'Require two-step verification for everyone', done: policy.mode.value === 'required', href: '/admin/policy' },
    ];
  };

  const renderAccount = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, message: { notice?: string; error?: string; timeZoneError?: string } = {}) => {
    const profile = await services.accounts.profile(auth.user);
    const account = {
      displayName: profile.displayName,
      email: profile.email,
      roles: profile.roles,
      timeZone: profile.timeZone,
      signedInAt: when(auth, auth.session.created_at) ?? '',
      amr: auth.amr,
      sessionCount: (await services.sessions.listActive(auth.user.id)).length,
      timeZones: knownTimeZones(profile.timeZone),
      localNow: when(auth, services.clock()) ?? '',
    };
    // The account page is where admins land: show them the way to the admin areas, and the
    // first run's next steps until they are done.
    const admin = profile.roles.includes(ADMIN_ROLE);
    const chrome = { ...kit.chrome(request, reply, 'Account'), admin };
    const checklist = admin ? await firstRunChecklist(auth) : undefined;
    return kit.html(reply, <AccountPage chrome={chrome} account={account} notice={message.notice} error={message.error} timeZoneError={message.timeZoneError} checklist={checklist} />);
  };

  app.get('/account', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    return renderAccount(request, reply, auth);
  });

  app.post<{ Body: Form }>('/account/password', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    try {
      await services.accounts.changePassword(auth.user, auth.session.id, request.body.currentPassword ?? '', request.body.newPassword ?? '', requestMeta(request));
    } catch (error) {
      return renderAccount(request, reply.code(400), auth, { error: userMessage(error) });
    }
    return renderAccount(request, reply, auth, { notice: 'Your password was changed. Your other sessions were signed out.' });
  });

  app.post<{ Body: Form }>('/account/time-zone', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    try {
      await services.securityCentre.setTimeZone(auth.user, request.body.timeZone ?? '', requestMeta(request));
    } catch (error) {
      return renderAccount(request, reply.code(pageStatus(error)), auth, { timeZoneError: userMessage(error) });
    }
    const zone = (request.body.timeZone ?? '').trim();
    const updated = { ...auth, user: { ...auth.user, time_zone: zone } };
    return renderAccount(request, reply, updated, { notice: `Times are now shown in ${zone}.` });
  });

  app.get<{ Querystring: { return_to?: string } }>(
    '/account/set-up-again',
    { schema: { hide: true, querystring: { type: 'object', properties: { return_to: { type: 'string', maxLength: 2048 } } } } },
    async (request, reply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      const returnTo = safeLocalPath(request.query.return_to);
      const since = await services.factors.setUpAgainSince(auth.user.id);
      if (since === null) return reply.redirect(returnTo ?? '/account', 303);
      const chrome = kit.chrome(request, reply, 'Set up two-step verification again');
      return kit.html(reply, <SetUpAgainPage chrome={chrome} resetAt={when(auth, since) ?? ''} returnTo={returnTo} />);
    },
  );

  app.post<{ Body: Form }>('/account/set-up-again/skip', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    await services.factors.skipSetUpAgain(sessionActor(auth), requestMeta(request));
    return reply.redirect(safeLocalPath(request.body.return_to) ?? '/account', 303);
  });

  app.get('/account/security', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    return renderSecurity(request, reply, auth);
  });

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/totp',
    { schema: { hide: true, body: formBody } },
    action(async (request, reply, auth) => {
      const enrolment = await services.factors.startTotpEnrolment(sessionActor(auth), request.body.label, requestMeta(request));
      return kit.html(reply, <EnrolTotpPage chrome={kit.chrome(request, reply, 'Add an authenticator app')} enrolment={enrolment} />);
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/totp/:id/confirm',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      let confirmed;
      try {
        confirmed = await services.factors.confirmInSession(auth, (done) => services.factors.confirmTotp(auth.user, request.params.id, request.body.code ?? '', requestMeta(request), done));
      } catch (error) {
        // A wrong (or too early) code keeps the same pending authenticator, key and QR code on
        // screen: the entry already in the person's app stays the one that will work.
        if (!keepsCodePage(error)) throw error;
        const enrolment = await services.factors.pendingTotpEnrolment(auth.user, request.params.id);
        return kit.html(reply.code(pageStatus(error)), <EnrolTotpPage chrome={kit.chrome(request, reply, 'Add an authenticator app')} enrolment={enrolment} error={userMessage(error)} />);
      }
      const { sessionToken, ...result } = confirmed;
      setSessionCookie(reply, cookies, sessionToken);
      if (result.backupCodes) {
        const chrome = kit.chrome(request, reply, 'Backup codes');
        return kit.html(
          reply,
          <BackupCodesPage chrome={chrome} codes={result.backupCodes} email={result.backupCodesEmail} owner={ownerOf(auth, chrome)} method="totp" intro="Your authenticator app is on. Keep these codes in case you lose your phone." />,
        );
      }
      return renderSecurity(request, reply, auth, { notice: `“${result.factor.label}” is on.` });
    }),
  );

  const renderAddKey = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, name: string, error?: string) => {
    const options = await services.securityKeys.registrationOptions(sessionActor(auth));
    return kit.html(reply, <AddSecurityKeyPage chrome={kit.chrome(request, reply, 'Add a security key')} options={JSON.stringify(options)} name={name} error={error} />);
  };

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/webauthn',
    { schema: { hide: true, body: formBody } },
    action(async (request, reply, auth) => renderAddKey(request, reply, auth, (request.body.name ?? '').trim() || 'Security key')),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/webauthn/register',
    { schema: { hide: true, body: securityKeyBody } },
    action(async (request, reply, auth) => {
      let response: unknown;
      try {
        response = JSON.parse(request.body.response ?? '');
      } catch {
        response = null;
      }
      let confirmed;
      try {
        confirmed = await services.factors.confirmInSession(auth, (done) => services.securityKeys.register(sessionActor(auth), response, request.body.name, requestMeta(request), done));
      } catch (error) {
        // A refused answer (cancelled, another site, a reused request) offers the key again with a fresh request.
        if (!keepsCodePage(error)) throw error;
        return renderAddKey(request, reply.code(pageStatus(error)), auth, request.body.name ?? '', userMessage(error));
      }
      const { sessionToken, ...result } = confirmed;
      setSessionCookie(reply, cookies, sessionToken);
      if (result.backupCodes) {
        const chrome = kit.chrome(request, reply, 'Backup codes');
        return kit.html(reply, <BackupCodesPage chrome={chrome} codes={result.backupCodes} email={result.backupCodesEmail} owner={ownerOf(auth, chrome)} method="webauthn" intro="Your security key is on. Keep these codes in case you lose it." />);
      }
      return renderSecurity(request, reply, auth, { notice: `“${result.factor.label}” is on.` });
    }),
  );

  for (const channel of ['sms', 'email'] as const) {
    app.post<{ Body: Form; Params: { id: string } }>(
      `/account/security/${channel}`,
      { schema: { hide: true, body: formBody } },
      action(async (request, reply, auth) => {
        const enrolment = await services.deliveredFactors.start(sessionActor(auth), destinationFrom(channel, request.body), requestMeta(request), { label: request.body.label });
        return renderCodePage(request, reply, auth, { id: enrolment.id, channel, sentTo: enrolment.sentTo, replacing: false, code: enrolment });
      }),
    );
  }

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/factors/:id/change',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      const current = (await services.factors.list(auth.user.id)).find((f) => f.id === request.params.id);
      if (current?.type !== 'sms' && current?.type !== 'email') throw notFound('factor_not_found', 'No such phone or email factor.');
      const enrolment = await services.deliveredFactors.start(sessionActor(auth), destinationFrom(current.type, request.body), requestMeta(request), { replaceFactorId: current.id });
      return renderCodePage(request, reply, auth, { id: enrolment.id, channel: current.type, sentTo: enrolment.sentTo, replacing: true, code: enrolment });
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/delivered/:id/resend',
    { schema: { hide: true, body: formBody, params: idParams } },
    deliveredAction(async (request, reply, auth, page) => {
      const code = await services.deliveredFactors.resend(auth.user, request.params.id, requestMeta(request));
      return renderCodePage(request, reply, auth, { id: request.params.id, ...page, sentTo: code.sentTo, code, notice: `A new code is on its way to ${code.sentTo}.` });
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/delivered/:id/confirm',
    { schema: { hide: true, body: formBody, params: idParams } },
    deliveredAction(async (request, reply, auth, page) => {
      const { sessionToken, ...result } = await services.factors.confirmInSession(auth, (done) => services.deliveredFactors.confirm(auth.user, request.params.id, request.body.code ?? '', requestMeta(request), done));
      setSessionCookie(reply, cookies, sessionToken);
      const what = page.channel === 'sms' ? 'Text-message' : 'Email';
      if (result.backupCodes) {
        const chrome = kit.chrome(request, reply, 'Backup codes');
        return kit.html(
          reply,
          <BackupCodesPage chrome={chrome} codes={result.backupCodes} email={result.backupCodesEmail} owner={ownerOf(auth, chrome)} method={page.channel} intro={`${what} codes are on. Keep these codes in case you cannot get one.`} />,
        );
      }
      const notice = page.replacing ? `Codes now go to ${result.factor.destination ?? page.sentTo}; the old ${page.channel === 'sms' ? 'number' : 'address'} no longer gets them.` : `“${result.factor.label}” is on.`;
      return renderSecurity(request, reply, auth, { notice });
    }),
  );

  const sendableMethod = (value: string | undefined) => (value === 'sms' || value === 'email' ? value : undefined);

  app.post<{ Body: Form }>('/account/security/reauthenticate/send', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const method = sendableMethod(request.body.method);
    try {
      const sent = await services.reauth.sendCode(auth, method ?? request.body.method ?? '', requestMeta(request));
      return renderSecurity(request, reply, auth, { notice: `Code sent to ${sent.sentTo}. It works until ${when(auth, sent.expiresAt)}.`, reauthSent: { method: sent.channel, sentTo: sent.sentTo } });
    } catch (error) {
      const message = userMessage(error);
      // Too soon means the earlier code is still good, so its form stays.
      const stillWaiting = isTwofoldError(error) && error.code === 'resend_too_soon' && method !== undefined;
      return renderSecurity(request, reply.code(pageStatus(error)), auth, { error: message, reauthSent: stillWaiting && method ? { method } : undefined });
    }
  });

  app.post<{ Body: Form }>('/account/security/reauthenticate', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const b = request.body;
    const proof = b.code !== undefined ? { method: b.method ?? 'totp', code: b.code } : { password: b.password ?? '' };
    try {
      const token = await services.reauth.reauthenticate(auth.user, auth.session, proof, requestMeta(request));
      setSessionCookie(reply, cookies, token);
      return reply.redirect('/account/security', 303);
    } catch (error) {
      const message = userMessage(error);
      const method = sendableMethod(b.method);
      return renderSecurity(request, reply.code(pageStatus(error)), auth, { error: message, reauthSent: b.code !== undefined && method ? { method } : undefined });
    }
  });

  // Removing a method and replacing backup codes are steps of their own: a confirmation page
  // (GET) says what will happen and posts the action. Outside the re-authentication window the
  // person is sent to confirm it is them first, with that page as the return address, so they
  // come back to finish the very action they asked for.
  const confirm = (request: FastifyRequest, reply: FastifyReply, view: ConfirmActionView) =>
    kit.html(reply, <ConfirmActionPage chrome={kit.chrome(request, reply, view.heading)} view={view} />);

  const removePath = (id: string) => `/account/security/factors/${encodeURIComponent(id)}/remove`;

  app.get<{ Params: { id: string } }>('/account/security/factors/:id/remove', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const held = await services.factors.list(auth.user.id);
    const factor = held.find((f) => f.id === request.params.id);
    if (!factor) return renderSecurity(request, reply.code(404), auth, { error: 'That method is no longer on your account.' });
    if (!(await services.reauth.canChangeFactors(auth))) return stepUpFirst(reply, removePath(factor.id));
    const last = held.length === 1;
    return confirm(request, reply, {
      heading: `Remove “${factor.label}”?`,
      lines: [
        `${METHOD_LABELS[factor.type] ?? factor.type}${factor.destination ? ` (${factor.destination})` : ''} will no longer sign you in.`,
        ...(last ? ['It is your only method: two-step verification turns off, your backup codes stop working and trusted browsers are forgotten. A password alone will then sign you in.'] : []),
      ],
      action: removePath(factor.id),
      submitLabel: 'Remove',
      destructive: true,
      cancelHref: '/account/security',
    });
  });

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/factors/:id/default',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      const held = await services.factors.chooseDefault(sessionActor(auth), request.params.id, requestMeta(request));
      const chosen = held.find((f) => f.default);
      return renderSecurity(request, reply, auth, { notice: `Your second step now opens on “${chosen?.label ?? 'that method'}”.` });
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/factors/:id/rename',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      const renamed = await services.factors.rename(sessionActor(auth), request.params.id, request.body.name ?? '', requestMeta(request));
      return renderSecurity(request, reply, auth, { notice: `Renamed to “${renamed.label}”.` });
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/factors/:id/remove',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      try {
        await services.factors.remove(sessionActor(auth), request.params.id, requestMeta(request));
      } catch (error) {
        if (needsStepUp(error)) return stepUpFirst(reply, removePath(request.params.id));
        throw error;
      }
      return renderSecurity(request, reply, auth, { notice: 'The method was removed.' });
    }),
  );

  app.get('/account/security/backup-codes/new', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    try {
      services.reauth.requireRecentReauth(auth.session);
    } catch {
      return stepUpFirst(reply, '/account/security/backup-codes/new');
    }
    const { remaining } = await services.backupCodes.status(auth.user.id);
    return confirm(request, reply, {
      heading: 'Create new backup codes?',
      lines:
        remaining > 0
          ? [`Your ${remaining} unused backup ${remaining === 1 ? 'code stops' : 'codes stop'} working at once, including any you printed or saved.`, 'You see the new codes once, on the next page.']
          : ['You see the new codes once, on the next page.'],
      action: '/account/security/backup-codes',
      submitLabel: 'Create new codes',
      destructive: remaining > 0,
      cancelHref: '/account/security',
    });
  });

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/backup-codes',
    { schema: { hide: true, body: formBody } },
    action(async (request, reply, auth) => {
      try {
        services.reauth.requireRecentReauth(auth.session);
      } catch {
        return stepUpFirst(reply, '/account/security/backup-codes/new');
      }
      const { codes, email } = await services.backupCodes.regenerate(auth.user, requestMeta(request));
      const chrome = kit.chrome(request, reply, 'Backup codes');
      return kit.html(reply, <BackupCodesPage chrome={chrome} codes={codes} email={email} owner={ownerOf(auth, chrome)} intro="Your new backup codes are ready; the old ones no longer work." />);
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/trusted-browsers/:id/revoke',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      await services.trustedBrowsers.revoke(auth.user, request.params.id, requestMeta(request));
      return renderSecurity(request, reply, auth, { notice: 'That browser will be asked for a code next time.' });
    }),
  );
}
