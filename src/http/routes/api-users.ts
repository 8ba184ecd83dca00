import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { ADMIN_SUDO, adminBackupCodesReply, errorReplies, invitationReply, noContent, regeneratedBackupCodes, removedFactorReply, removedFactorsReply, userDetailReply, userListReply } from '../response-schemas.js';

const ids = { type: 'array', maxItems: 100, uniqueItems: true, items: str(64) } as const;
/** A query string is text and the app does not coerce types, so the page size is 1 to 200 spelt in digits (as /audit takes it). */
const USER_PAGE_LIMIT = { type: 'string', pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$' } as const;

/**
 * Admin user management: 2FA status of the people in the admin's organisations, and the
 * recovery actions. Admins only, within their own tree (others are 404), with sudo for every
 * route, reads included, as on the admin pages: UserAdminService checks all of it itself.
 */
export function apiUserAdminRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Querystring: { org?: string; q?: string; filter?: 'no_2fa'; after?: string; limit?: string } }>(
    '/api/v1/users',
    {
      schema: {
        tags: ['users'],
        summary: "Users of your organisation and those below it, with their 2FA status (admins); filter=no_2fa lists those without a factor", response: { 200: userListReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'cursor_invalid') },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { org: str(64), q: str(254), filter: { type: 'string', enum: ['no_2fa'] }, after: str(254), limit: USER_PAGE_LIMIT },
        },
      },
    },
    async (request) => {
      const q = request.query;
      return services.userAdmin.list(requireSessionActor(request), { orgId: q.org, query: q.q, withoutTwoFactor: q.filter === 'no_2fa', after: q.after, limit: q.limit === undefined ? undefined : Number(q.limit) });
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
      { schema: { tags: ['users'], summary: disabled ? 'Disable a user: sign-in refused, sessions ended' : 'Enable a disabled user', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'cannot_disable_self', 'invitation_not_pending') }, params: idParams } },
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
    { schema: { tags: ['users'], summary: 'Give a user a new set of backup codes; the old ones stop working (audited; the user is emailed, with a copy of the codes when the organisation sets emailBackupCodes)', response: { 200: regeneratedBackupCodes, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'no_factor') }, params: idParams } },
    async (request) => {
      return services.userAdmin.regenerateBackupCodes(requireSessionActor(request), request.params.id, requestMeta(request));
    },
  );

  app.post<{ Params: { id: string }; Body: { email: string; displayName?: string; roleIds?: string[]; groupIds?: string[] } }>(
    '/api/v1/organisations/:id/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Invite a person to an organisation of your tree: the account is created as invited and they are emailed a single-use link (7 days) to choose their password',
        response: { 201: invitationReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'role_not_found', 'group_not_found', 'organisation_mismatch', 'email_invalid', 'display_name_invalid', 'email_taken', 'too_many_invitations') },
        params: idParams,
        body: { type: 'object', required: ['email'], additionalProperties: false, properties: { email: str(254), displayName: str(200, 0), roleIds: ids, groupIds: ids } },
      },
    },
    async (request, reply) => {
      const outcome = await services.invitations.invite(requireSessionActor(request), request.params.id, request.body, requestMeta(request));
      return reply.code(201).send(outcome);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/users/:id/invitation',
    { schema: { tags: ['users'], summary: 'Send an invited person a new link; the previous one stops working', response: { 200: invitationReply, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'invitation_not_pending', 'too_many_invitations') }, params: idParams } },
    async (request) => {
      return services.invitations.resend(requireSessionActor(request), request.params.id, requestMeta(request));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/users/:id/invitation',
    { schema: { tags: ['users'], summary: 'Withdraw an invitation not yet accepted: the link stops working and the pending account is removed', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'invitation_not_pending') }, params: idParams } },
    async (request, reply) => {
      await services.invitations.revoke(requireSessionActor(request), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  app.patch<{ Params: { id: string }; Body: { displayName?: string; orgId?: string; roleIds?: string[]; groupIds?: string[] } }>(
    '/api/v1/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: "Change a user's name, organisation (within your tree), direct roles or groups; lists given replace the current ones",
        response: { 200: userDetailReply, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'organisation_not_found', 'role_not_found', 'group_not_found', 'organisation_mismatch', 'display_name_invalid', 'cannot_demote_self') },
        params: idParams,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { displayName: str(200), orgId: str(64), roleIds: ids, groupIds: ids } },
      },
    },
    async (request) => {
      const actor = requireSessionActor(request);
      await services.userAdmin.update(actor, request.params.id, request.body, requestMeta(request));
      return services.userAdmin.get(actor, request.params.id);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/users/:id',
    { schema: { tags: ['users'], summary: 'Delete a user: sessions, factors, backup codes, trusted browsers and devices go; the audit log keeps their id and email', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'cannot_delete_self') }, params: idParams } },
    async (request, reply) => {
      await services.userAdmin.delete(requireSessionActor(request), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { id: string; factorId: string } }>(
    '/api/v1/users/:id/factors/:factorId',
    {
      schema: {
        tags: ['users'],
        summary: "Switch off one of a user's methods (their sessions and trusted browsers end, the lock is cleared; the user is emailed)",
        response: { 200: removedFactorReply, ...errorReplies(ADMIN_SUDO, 'user_not_found', 'factor_not_found', 'cannot_reset_self') },
        params: { type: 'object', required: ['id', 'factorId'], additionalProperties: false, properties: { id: str(64), factorId: str(64) } },
      },
    },
    async (request) => {
      return services.userAdmin.removeFactor(requireSessionActor(request), request.params.id, request.params.factorId, requestMeta(request));
    },
  );
}
