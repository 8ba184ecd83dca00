import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireAuth } from '../request-context.js';
import { idParams, str } from '../schemas.js';

export function apiFactorRoutes(app: FastifyInstance, services: Services): void {
  app.get('/api/v1/factors', { schema: { tags: ['factors'], summary: 'Your active factors and backup-code status' } }, async (request) => {
    const auth = requireAuth(request);
    return { factors: await services.factors.list(auth.user.id), backupCodes: await services.backupCodes.status(auth.user.id) };
  });

  app.post<{ Body: { label?: string } | undefined }>(
    '/api/v1/factors/totp',
    {
      schema: {
        tags: ['factors'],
        summary: 'Start enrolling an authenticator app (unconfirmed until a code is entered)',
        body: { type: ['object', 'null'], additionalProperties: false, properties: { label: str(64, 0) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const enrolment = await services.factors.startTotpEnrolment(auth.user, request.body?.label, requestMeta(request));
      return reply.code(201).send(enrolment);
    },
  );

  app.post<{ Params: { id: string }; Body: { code: string } }>(
    '/api/v1/factors/totp/:id/confirm',
    {
      schema: {
        tags: ['factors'],
        summary: 'Switch an authenticator on with a current code; the first factor returns backup codes once',
        params: idParams,
        body: { type: 'object', required: ['code'], additionalProperties: false, properties: { code: str(16) } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      return services.factors.confirmTotp(auth.user, request.params.id, request.body.code, requestMeta(request));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/factors/:id',
    { schema: { tags: ['factors'], summary: 'Remove a factor (needs recent re-authentication)', params: idParams } },
    async (request, reply) => {
      const auth = requireAuth(request);
      services.reauth.requireRecentReauth(auth.session);
      await services.factors.remove(auth.user, request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/backup-codes', { schema: { tags: ['factors'], summary: 'How many backup codes remain' } }, async (request) => {
    const auth = requireAuth(request);
    return services.backupCodes.status(auth.user.id);
  });

  app.post('/api/v1/backup-codes', { schema: { tags: ['factors'], summary: 'Regenerate backup codes (needs recent re-authentication); old codes stop working' } }, async (request) => {
    const auth = requireAuth(request);
    services.reauth.requireRecentReauth(auth.session);
    return { codes: await services.backupCodes.regenerate(auth.user, requestMeta(request)) };
  });

  app.get('/api/v1/trusted-browsers', { schema: { tags: ['factors'], summary: 'Browsers that skip the second step' } }, async (request) => {
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
    { schema: { tags: ['factors'], summary: 'Stop trusting a browser', params: idParams } },
    async (request, reply) => {
      const auth = requireAuth(request);
      await services.trustedBrowsers.revoke(auth.user, request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );
}
