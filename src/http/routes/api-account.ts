import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireAuth, requireSessionActor } from '../request-context.js';
import { str } from '../schemas.js';
import { PASSWORD_RULE_CODES, SIGNED_IN, auditReply, errorReplies, noContent, sessionReply } from '../response-schemas.js';
import type { SessionPrincipal } from '../../services/principal.js';

export function sessionView(s: SessionPrincipal, currentId: string) {
  return {
    id: s.id,
    current: s.id === currentId,
    createdAt: new Date(s.created_at).toISOString(),
    lastSeenAt: new Date(s.last_seen_at).toISOString(),
    expiresAt: new Date(s.expires_at).toISOString(),
    authenticatedAt: new Date(s.authenticated_at).toISOString(),
    ip: s.ip,
    userAgent: s.user_agent,
    amr: s.amr,
  };
}

export function apiAccountRoutes(app: FastifyInstance, services: Services): void {
  app.get('/api/v1/session', { schema: { tags: ['account'], summary: 'The signed-in user and this session', response: { 200: sessionReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { user: await services.accounts.profile(auth.user, auth.roles), session: sessionView(auth.session, auth.session.id) };
  });

  // The session list and ending sessions live with the security centre (api-security.ts).

  app.post<{ Body: { currentPassword: string; newPassword: string } }>(
    '/api/v1/me/password',
    {
      schema: {
        tags: ['account'],
        summary: 'Change your password (ends your other sessions and trusted browsers)', response: { 204: noContent, ...errorReplies(SIGNED_IN, 'invalid_credentials', PASSWORD_RULE_CODES) },
        body: { type: 'object', required: ['currentPassword', 'newPassword'], additionalProperties: false, properties: { currentPassword: str(1024), newPassword: str(1024) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      await services.accounts.changePassword(auth.user, auth.session.id, request.body.currentPassword, request.body.newPassword, requestMeta(request));
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { cursor?: string; limit?: string; type?: string; scope?: 'self' | 'organisation' } }>(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first: admins see their organisation and below, others their own', response: { 200: auditReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'event_type_invalid', 'cursor_invalid') },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            cursor: str(64),
            limit: { type: 'string', pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$' },
            type: str(512),
            scope: { type: 'string', enum: ['self', 'organisation'] },
          },
        },
      },
    },
    async (request) => {
      const q = request.query;
      // An admin's view reaches other people's events: the service asks for sudo, as the admin pages do.
      return services.audit.page(requireSessionActor(request), {
        cursor: q.cursor,
        limit: q.limit === undefined ? undefined : Number(q.limit),
        types: q.type ? q.type.split(',') : undefined,
        scope: q.scope,
      });
    },
  );
}
