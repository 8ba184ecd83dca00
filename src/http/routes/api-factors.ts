import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { sessionActor } from '../../services/index.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, requireAuth, setSessionCookie } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { CODE_CHECK_CODES, CODE_SEND_CODES, DESTINATION_CODES, PENDING_FACTOR_CODES, SIGNED_IN, backupCodeStatus, backupCodesReply, deliveredEnrolment, enrolmentResult, errorReplies, factorsReply, methodsReply, noContent, sentCode, totpEnrolment, trustedBrowsersReply } from '../response-schemas.js';
import { deliveredEnrolmentJson, destinationBody, destinationFrom, sentCodeJson } from '../api-kit.js';

export function apiFactorRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings): void {
  app.get('/api/v1/factors', { schema: { tags: ['factors'], summary: 'Your active factors and backup-code status', response: { 200: factorsReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { factors: await services.factors.list(auth.user.id), backupCodes: await services.backupCodes.status(auth.user.id) };
  });

  app.post<{ Body: { label?: string } | undefined }>(
    '/api/v1/factors/totp',
    {
      schema: {
        tags: ['factors'],
        summary: 'Start enrolling an authenticator app (unconfirmed until a code is entered)', response: { 201: totpEnrolment, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'label_invalid', 'too_many_factors') },
        body: { type: ['object', 'null'], additionalProperties: false, properties: { label: str(64, 0) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const enrolment = await services.factors.startTotpEnrolment(sessionActor(auth), request.body?.label, requestMeta(request));
      return reply.code(201).send(enrolment);
    },
  );

  app.post<{ Params: { id: string }; Body: { code: string } }>(
    '/api/v1/factors/totp/:id/confirm',
    {
      schema: {
        tags: ['factors'],
        summary: 'Switch an authenticator on with a current code; the first factor returns backup codes once', response: { 200: enrolmentResult, ...errorReplies(SIGNED_IN, PENDING_FACTOR_CODES, CODE_CHECK_CODES) },
        params: idParams,
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: str(16) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const { sessionToken, ...result } = await services.factors.confirmInSession(auth, (done) => services.factors.confirmTotp(auth.user, request.params.id, request.body.code, requestMeta(request), done));
      setSessionCookie(reply, cookies, sessionToken);
      return result;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/factors/:id',
    { schema: { tags: ['factors'], summary: 'Remove a factor (needs recent re-authentication)', response: { 204: noContent, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'factor_not_found', 'factor_required_by_policy') }, params: idParams } },
    async (request, reply) => {
      const auth = requireAuth(request);
      await services.factors.remove(sessionActor(auth), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/backup-codes', { schema: { tags: ['factors'], summary: 'How many backup codes remain', response: { 200: backupCodeStatus, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return services.backupCodes.status(auth.user.id);
  });

  app.post('/api/v1/backup-codes', { schema: { tags: ['factors'], summary: 'Regenerate backup codes (needs recent re-authentication); old codes stop working', response: { 200: backupCodesReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'no_factor') } } }, async (request) => {
    const auth = requireAuth(request);
    services.reauth.requireRecentReauth(auth.session);
    return { codes: await services.backupCodes.regenerate(auth.user, requestMeta(request)) };
  });

  app.get('/api/v1/trusted-browsers', { schema: { tags: ['factors'], summary: 'Browsers that skip the second step', response: { 200: trustedBrowsersReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    const browsers = await services.trustedBrowsers.list(auth.user.id);
    return {
      trustedBrowsers: browsers.map((b) => ({
        id: b.id,
        userAgent: b.user_agent,
        ip: b.ip,
        createdAt: new Date(b.created_at).toISOString(),
        expiresAt: new Date(b.expires_at).toISOString(),
        lastUsedAt: b.last_used_at === null ? null : new Date(b.last_used_at).toISOString(),
      })),
    };
  });

  app.delete<{ Params: { id: string } }>(
    '/api/v1/trusted-browsers/:id',
    { schema: { tags: ['factors'], summary: 'Stop trusting a browser', response: { 204: noContent, ...errorReplies(SIGNED_IN, 'trusted_browser_not_found') }, params: idParams } },
    async (request, reply) => {
      const auth = requireAuth(request);
      await services.trustedBrowsers.revoke(auth.user, request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );
}

/** Text-message and email factors for a signed-in user: start, resend, confirm, change destination. */
export function apiDeliveredFactorRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings): void {
  app.get('/api/v1/methods', { schema: { tags: ['factors'], summary: 'Which second-factor methods you may enrol and use, and why not', response: { 200: methodsReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { methods: await services.methods.forUser(auth.user) };
  });

  for (const channel of ['sms', 'email'] as const) {
    app.post<{ Body: { country?: string; number?: string; email?: string; label?: string } | undefined }>(
      `/api/v1/factors/${channel}`,
      {
        schema: {
          tags: ['factors'],
          summary: channel === 'sms' ? 'Start enrolling a phone (E.164); a code is texted to it' : "Start enrolling an email address (default: your account's); a code is sent to it", response: { 201: deliveredEnrolment, ...errorReplies(SIGNED_IN, 'reauthentication_required', DESTINATION_CODES, CODE_SEND_CODES) },
          body: channel === 'sms' ? destinationBody.sms : { ...destinationBody.email, type: ['object', 'null'] },
        },
      },
      async (request, reply) => {
        const auth = requireAuth(request);
        const body = request.body ?? {};
        const enrolment = await services.deliveredFactors.start(sessionActor(auth), destinationFrom(channel, body), requestMeta(request), { label: body.label });
        return reply.code(201).send(deliveredEnrolmentJson(enrolment));
      },
    );

    app.post<{ Params: { id: string }; Body: { code: string } }>(
      `/api/v1/factors/${channel}/:id/confirm`,
      {
        schema: {
          tags: ['factors'],
          summary: `Switch the ${channel === 'sms' ? 'phone' : 'email'} factor on with the code sent to it; the first factor returns backup codes once`, response: { 200: enrolmentResult, ...errorReplies(SIGNED_IN, PENDING_FACTOR_CODES, CODE_CHECK_CODES) },
          params: idParams,
          body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: str(16) } },
        },
      },
      async (request, reply) => {
        const auth = requireAuth(request);
        const { sessionToken, ...result } = await services.factors.confirmInSession(auth, (done) => services.deliveredFactors.confirm(auth.user, request.params.id, request.body.code, requestMeta(request), done));
        setSessionCookie(reply, cookies, sessionToken);
        return result;
      },
    );
  }

  app.post<{ Params: { id: string } }>(
    '/api/v1/factors/:id/resend',
    { schema: { tags: ['factors'], summary: 'Send a new code for a text or email factor being enrolled (the old code stops working)', response: { 200: sentCode, ...errorReplies(SIGNED_IN, PENDING_FACTOR_CODES, CODE_SEND_CODES) }, params: idParams } },
    async (request) => {
      const auth = requireAuth(request);
      return sentCodeJson(await services.deliveredFactors.resend(auth.user, request.params.id, requestMeta(request)));
    },
  );

  app.post<{ Params: { id: string }; Body: { country?: string; number?: string; email?: string; label?: string } }>(
    '/api/v1/factors/:id/replace',
    {
      schema: {
        tags: ['factors'],
        summary: 'Change the phone number or email of a factor (needs recent re-authentication); the new one replaces the old only once its code is confirmed', response: { 201: deliveredEnrolment, ...errorReplies(SIGNED_IN, 'reauthentication_required', DESTINATION_CODES, CODE_SEND_CODES) },
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { country: str(8, 0), number: str(64), email: str(254, 0), label: str(64, 0) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const current = (await services.factors.list(auth.user.id)).find((f) => f.id === request.params.id);
      const channel = current?.type === 'sms' || current?.type === 'email' ? current.type : 'sms';
      const enrolment = await services.deliveredFactors.start(sessionActor(auth), destinationFrom(channel, request.body), requestMeta(request), {
        label: request.body.label,
        replaceFactorId: request.params.id,
      });
      return reply.code(201).send(deliveredEnrolmentJson(enrolment));
    },
  );
}

