import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { sessionActor } from '../../services/index.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, requireAuth, setSessionCookie } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { CODE_CHECK_CODES, CODE_SEND_CODES, DESTINATION_CODES, PENDING_FACTOR_CODES, SIGNED_IN, backupCodeStatus, deliveredEnrolment, enrolmentResult, errorReplies, factorsReply, methodsReply, noContent, regeneratedBackupCodes, sentCode, totpEnrolment, trustedBrowsersReply } from '../response-schemas.js';
import { WEBAUTHN_REGISTRATION_CODES, renamedFactorReply, webAuthnCreationReply } from '../response-schemas.js';
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

  app.post('/api/v1/factors/webauthn/options', { schema: { tags: ['factors'], summary: 'Start registering a security key or passkey: options for navigator.credentials.create() (needs recent re-authentication)', response: { 200: webAuthnCreationReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'too_many_factors') } } }, async (request) => {
    const auth = requireAuth(request);
    return { options: await services.securityKeys.registrationOptions(sessionActor(auth)) };
  });

  app.post<{ Body: { response: Record<string, unknown>; name?: string } }>(
    '/api/v1/factors/webauthn',
    {
      schema: {
        tags: ['factors'],
        summary: 'Register a security key or passkey with the answer of navigator.credentials.create(); the first method returns backup codes once',
        response: { 201: enrolmentResult, ...errorReplies(SIGNED_IN, 'reauthentication_required', WEBAUTHN_REGISTRATION_CODES) },
        body: { type: 'object', required: ['response'], additionalProperties: false, properties: { response: { type: 'object', description: 'RegistrationResponseJSON' }, name: str(64, 0) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const { sessionToken, ...result } = await services.factors.confirmInSession(auth, (done) => services.securityKeys.register(sessionActor(auth), request.body.response, request.body.name, requestMeta(request), done));
      setSessionCookie(reply, cookies, sessionToken);
      return reply.code(201).send(result);
    },
  );

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/api/v1/factors/:id',
    {
      schema: {
        tags: ['factors'],
        summary: 'Rename one of your methods (a security key, an authenticator app, a phone): 1 to 64 characters; sign-in records keep the name used then',
        response: { 200: renamedFactorReply, ...errorReplies(SIGNED_IN, 'label_invalid', 'factor_not_found') },
        params: idParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: str(256, 0) } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      return { factor: await services.factors.rename(sessionActor(auth), request.params.id, request.body.name, requestMeta(request)) };
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

  app.put<{ Params: { id: string } }>(
    '/api/v1/factors/:id/default',
    { schema: { tags: ['factors'], summary: 'Make a method your default: the second step opens on it, and a text or email one sends its code by itself', response: { 200: factorsReply, ...errorReplies(SIGNED_IN, 'factor_not_found') }, params: idParams } },
    async (request) => {
      const auth = requireAuth(request);
      return { factors: await services.factors.chooseDefault(sessionActor(auth), request.params.id, requestMeta(request)), backupCodes: await services.backupCodes.status(auth.user.id) };
    },
  );

  app.get('/api/v1/backup-codes', { schema: { tags: ['factors'], summary: 'How many backup codes remain', response: { 200: backupCodeStatus, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return services.backupCodes.status(auth.user.id);
  });

  app.post('/api/v1/backup-codes', { schema: { tags: ['factors'], summary: 'Regenerate backup codes (needs recent re-authentication); old codes stop working; a copy is emailed when the organisation asks for it', response: { 200: regeneratedBackupCodes, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'no_factor') } } }, async (request) => {
    const auth = requireAuth(request);
    services.reauth.requireRecentReauth(auth.session);
    return services.backupCodes.regenerate(auth.user, requestMeta(request));
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

