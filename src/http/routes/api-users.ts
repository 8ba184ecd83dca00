import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { ADMIN_SUDO, adminBackupCodesReply, backupCodesReply, errorReplies, noContent, removedFactorsReply, userDetailReply, userListReply } from '../response-schemas.js';

/**
 * Admin user management: 2FA status of the people in the admin's organisations, and the
 * recovery actions. Admins only, within their own tree (others are 404), with sudo for every
 * route, reads included, as on the admin pages: UserAdminService checks all of it itself.
 */
export function apiUserAdminRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { org?: string; q?: string; filter?: 'no_2fa'; after?: string; limit?: number } }>(
    '/api/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: "Users of your organisation and those below it, with their 2FA status (admins); filter=no_2fa lists those without a factor", response: { 200: userListReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'cursor_invalid') },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { org: str(64), q: str(254), filter: { type: 'string', enum: ['no_2fa'] }, after: str(254), limit: { type: 'integer', minimum: 1, maximum: 200 } },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return services.userAdmin.list(requireSessionActor(request), { orgId: q.org, query: q.q, withoutTwoFactor: q.filter === 'no_2fa', after: q.after, limit: q.limit });
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/users/:id', { schema: { tags: ['users'], summary: "One user's 2FA status and factors (admins)", response: { 200: userDetailReply, ...errorReplies(ADMIN_SUDO, 'user_not_found') }, params: idParams } }, async (request) => {
    return services.userAdmin.get(requireSessionActor(request), request.params.id);
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/users/:id/reset-factors',
    { schema: { tags: ['users'], summary: "Remove all of a user's factors, backup codes, trusted browsers and sessions (lost phone); the user is emailed", response: { 200: removedFactorsReply, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'cannot_reset_self') }, params: idParams } },
    async (request) => {
      return services.userAdmin.resetFactors(requireSessionActor(request), request.params.id, requestMeta(request));
    },
  );

  for (const [path, disabled] of [['disable', true], ['enable', false]] as const) {
    app.post<{ Params: { id: string } }>(
      `/api/v1/users/:id/${path}`,
      { schema: { tags: ['users'], summary: disabled ? 'Disable a user: sign-in refused, sessions ended' : 'Enable a disabled user', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'cannot_disable_self') }, params: idParams } },
      async (request, reply) => {
        await services.userAdmin.setDisabled(requireSessionActor(request), request.params.id, disabled, requestMeta(request));
        return reply.code(204).send();
      },
    );
  }

  app.get<{ Params: { id: string } }>(
    '/api/v1/users/:id/backup-codes',
    { schema: { tags: ['users'], summary: "Show a user's backup codes (audited; the user is emailed)", response: { 200: adminBackupCodesReply, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'no_backup_codes') }, params: idParams } },
    async (request) => {
      return { codes: await services.userAdmin.viewBackupCodes(requireSessionActor(request), request.params.id, requestMeta(request)) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/users/:id/backup-codes',
    { schema: { tags: ['users'], summary: 'Give a user a new set of backup codes; the old ones stop working (audited; the user is emailed)', response: { 200: backupCodesReply, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'no_factor') }, params: idParams } },
    async (request) => {
      return { codes: await services.userAdmin.regenerateBackupCodes(requireSessionActor(request), request.params.id, requestMeta(request)) };
    },
  );
}
