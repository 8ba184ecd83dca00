import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { ADMIN_SUDO, errorReplies, noContent, requirementPreviewReply, roleOrGroupReply, rolesOverviewReply } from '../response-schemas.js';

const nameBody = { type: 'object', required: ['name'], additionalProperties: false, properties: { name: str(100) } } as const;
const pairParams = (second: string) => ({ type: 'object', required: ['id', second], additionalProperties: false, properties: { id: str(64), [second]: str(64) } }) as const;

/**
 * Roles and groups of an organisation (admins with sudo, their own tree; RolesAdminService checks
 * it all). Requiring 2FA for a role stays `PUT /api/v1/roles/{id}/policy` (api-policy.ts); the
 * preview here says how many people that would send to enrolment.
 */
export function apiRoleRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/organisations/:id/roles',
    { schema: { tags: ['roles'], summary: "An organisation's roles (with their 2FA requirement and number of holders), its groups with their roles and members, and its people", response: { 200: rolesOverviewReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } },
    async (request) => services.rolesAdmin.overview(requireSessionActor(request), request.params.id),
  );

  for (const kind of ['roles', 'groups'] as const) {
    const isRole = kind === 'roles';
    const notFoundCode = isRole ? 'role_not_found' : 'group_not_found';
    const invalidCode = isRole ? 'role_invalid' : 'group_invalid';
    const existsCode = isRole ? 'role_exists' : 'group_exists';
    app.post<{ Params: { id: string }; Body: { name: string } }>(
      `/api/v1/organisations/:id/${kind}`,
      { schema: { tags: ['roles'], summary: `Create a ${isRole ? 'role' : 'group'} in an organisation of your tree`, response: { 201: roleOrGroupReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', invalidCode, existsCode) }, params: idParams, body: nameBody } },
      async (request, reply) => {
        const actor = requireSessionActor(request);
        const made = isRole
          ? await services.rolesAdmin.createRole(actor, request.params.id, request.body.name, requestMeta(request))
          : await services.rolesAdmin.createGroup(actor, request.params.id, request.body.name, requestMeta(request));
        return reply.code(201).send({ id: made.id, orgId: made.org_id, name: made.name });
      },
    );
    app.patch<{ Params: { id: string }; Body: { name: string } }>(
      `/api/v1/${kind}/:id`,
      { schema: { tags: ['roles'], summary: `Rename a ${isRole ? 'role (not the admin role)' : 'group'}`, response: { 200: roleOrGroupReply, ...errorReplies(ADMIN_SUDO, notFoundCode, invalidCode, existsCode, ...(isRole ? (['role_protected'] as const) : [])) }, params: idParams, body: nameBody } },
      async (request) => {
        const actor = requireSessionActor(request);
        const renamed = isRole
          ? await services.rolesAdmin.renameRole(actor, request.params.id, request.body.name, requestMeta(request))
          : await services.rolesAdmin.renameGroup(actor, request.params.id, request.body.name, requestMeta(request));
        return { id: renamed.id, orgId: renamed.org_id, name: renamed.name };
      },
    );
    app.delete<{ Params: { id: string } }>(
      `/api/v1/${kind}/:id`,
      { schema: { tags: ['roles'], summary: isRole ? 'Delete a role (not the admin role): its grants and 2FA requirement go with it' : 'Delete a group: its memberships and role grants go with it', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, notFoundCode, ...(isRole ? (['role_protected'] as const) : [])) }, params: idParams } },
      async (request, reply) => {
        const actor = requireSessionActor(request);
        if (isRole) await services.rolesAdmin.deleteRole(actor, request.params.id, requestMeta(request));
        else await services.rolesAdmin.deleteGroup(actor, request.params.id, requestMeta(request));
        return reply.code(204).send();
      },
    );
  }

  for (const [method, on] of [['PUT', true], ['DELETE', false]] as const) {
    app.route<{ Params: { id: string; roleId: string } }>({
      method,
      url: '/api/v1/groups/:id/roles/:roleId',
      schema: { tags: ['roles'], summary: on ? 'Grant a role to everyone in a group' : 'Take a role back from a group', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'group_not_found', 'role_not_found', 'organisation_mismatch') }, params: pairParams('roleId') },
      handler: async (request, reply) => {
        await services.rolesAdmin.setGroupRole(requireSessionActor(request), request.params.id, request.params.roleId, on, requestMeta(request));
        return reply.code(204).send();
      },
    });
    app.route<{ Params: { id: string; userId: string } }>({
      method,
      url: '/api/v1/groups/:id/members/:userId',
      schema: { tags: ['roles'], summary: on ? 'Add a person of the same organisation to a group' : 'Remove a person from a group', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'group_not_found', 'user_not_found', 'organisation_mismatch') }, params: pairParams('userId') },
      handler: async (request, reply) => {
        await services.rolesAdmin.setGroupMember(requireSessionActor(request), request.params.id, request.params.userId, on, requestMeta(request));
        return reply.code(204).send();
      },
    });
  }

  app.get<{ Params: { id: string } }>(
    '/api/v1/roles/:id/policy/preview',
    { schema: { tags: ['roles'], summary: 'Before requiring 2FA for a role: how many of its holders it would send to enrolment at their next sign-in', response: { 200: requirementPreviewReply, ...errorReplies(ADMIN_SUDO, 'role_not_found') }, params: idParams } },
    async (request) => services.rolesAdmin.requirementPreview(requireSessionActor(request), request.params.id),
  );
}
