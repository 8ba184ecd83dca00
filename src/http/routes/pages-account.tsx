import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formatInTimeZone } from '../../core/time-zone.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { AccountPage } from '../../ui/pages/account.js';
import { BackupCodesPage } from '../../ui/pages/backup-codes.js';
import { EnrolTotpPage } from '../../ui/pages/enrol-totp.js';
import { SecurityPage } from '../../ui/pages/security.js';
import { assertFormToken } from '../csrf.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, setSessionCookie } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from './pages-auth.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

export function accountPageRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit): void {
  /** Pages need a session; without one the browser goes to sign in instead of seeing an error. */
  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };

  const when = (auth: AuthenticatedSession, ms: number | null) => (ms === null ? null : formatInTimeZone(ms, auth.user.time_zone));

  const renderSecurity = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, message: { notice?: string; error?: string } = {}) => {
    const [factorList, backup, browsers] = await Promise.all([
      services.factors.list(auth.user.id),
      services.backupCodes.status(auth.user.id),
      services.trustedBrowsers.list(auth.user.id),
    ]);
    let reauthenticated = true;
    try {
      services.reauth.requireRecentReauth(auth.session);
    } catch {
      reauthenticated = false;
    }
    const view = {
      factors: factorList.map((f) => ({
        id: f.id,
        label: f.label,
        type: f.type,
        createdAt: when(auth, Date.parse(f.createdAt)) ?? '',
        lastUsedAt: f.lastUsedAt ? when(auth, Date.parse(f.lastUsedAt)) : null,
      })),
      backupCodes: backup,
      trustedBrowsers: browsers.map((b) => ({ id: b.id, userAgent: b.user_agent, ip: b.ip, createdAt: when(auth, b.created_at) ?? '', expiresAt: when(auth, b.expires_at) ?? '' })),
      reauthenticated,
      hasFactor: factorList.length > 0,
    };
    return kit.html(reply, <SecurityPage chrome={kit.chrome(request, reply, 'Security')} view={view} notice={message.notice} error={message.error} />);
  };

  /** Runs a form action; a refusal re-renders the security page with the reason. */
  const action = (run: (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply, auth: AuthenticatedSession) => Promise<unknown>) =>
    async (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply) => {
      assertFormToken(request, request.body._csrf);
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      try {
        return await run(request, reply, auth);
      } catch (error) {
        reply.code(400);
        return renderSecurity(request, reply, auth, { error: userMessage(error) });
      }
    };

  const renderAccount = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, message: { notice?: string; error?: string } = {}) => {
    const profile = await services.accounts.profile(auth.user);
    const account = {
      displayName: profile.displayName,
      email: profile.email,
      roles: profile.roles,
      timeZone: profile.timeZone,
      signedInAt: when(auth, auth.session.created_at) ?? '',
      amr: auth.amr,
      sessionCount: (await services.sessions.listActive(auth.user.id)).length,
    };
    return kit.html(reply, <AccountPage chrome={kit.chrome(request, reply, 'Account')} account={account} notice={message.notice} error={message.error} />);
  };

  app.get('/account', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    return renderAccount(request, reply, auth);
  });

  app.post<{ Body: Form }>('/account/password', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    assertFormToken(request, request.body._csrf);
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    try {
      await services.accounts.changePassword(auth.user, auth.session.id, request.body.currentPassword ?? '', request.body.newPassword ?? '', requestMeta(request));
    } catch (error) {
      return renderAccount(request, reply.code(400), auth, { error: userMessage(error) });
    }
    return renderAccount(request, reply, auth, { notice: 'Your password was changed. Your other sessions were signed out.' });
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
      const enrolment = await services.factors.startTotpEnrolment(auth.user, request.body.label, requestMeta(request));
      return kit.html(reply, <EnrolTotpPage chrome={kit.chrome(request, reply, 'Add an authenticator app')} enrolment={enrolment} />);
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/totp/:id/confirm',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      const result = await services.factors.confirmTotp(auth.user, request.params.id, request.body.code ?? '', requestMeta(request));
      if (result.backupCodes) {
        return kit.html(
          reply,
          <BackupCodesPage chrome={kit.chrome(request, reply, 'Backup codes')} codes={result.backupCodes} intro="Your authenticator app is on. Keep these codes in case you lose your phone." />,
        );
      }
      return renderSecurity(request, reply, auth, { notice: `“${result.factor.label}” is on.` });
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/reauthenticate',
    { schema: { hide: true, body: formBody } },
    action(async (request, reply, auth) => {
      const proof = request.body.code !== undefined ? { method: 'totp', code: request.body.code } : { password: request.body.password ?? '' };
      const token = await services.reauth.reauthenticate(auth.user, auth.session, proof, requestMeta(request));
      setSessionCookie(reply, cookies, token);
      return reply.redirect('/account/security', 303);
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/factors/:id/remove',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(async (request, reply, auth) => {
      services.reauth.requireRecentReauth(auth.session);
      await services.factors.remove(auth.user, request.params.id, requestMeta(request));
      return renderSecurity(request, reply, auth, { notice: 'The authenticator was removed.' });
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/backup-codes',
    { schema: { hide: true, body: formBody } },
    action(async (request, reply, auth) => {
      services.reauth.requireRecentReauth(auth.session);
      const codes = await services.backupCodes.regenerate(auth.user, requestMeta(request));
      return kit.html(reply, <BackupCodesPage chrome={kit.chrome(request, reply, 'Backup codes')} codes={codes} intro="Your new backup codes are ready; the old ones no longer work." />);
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
