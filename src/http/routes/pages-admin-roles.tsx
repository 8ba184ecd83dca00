import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { AdminRolesPage, RoleRequirementConfirmPage } from '../../ui/pages/admin-roles.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from '../pages/messages.js';
import { adminFormBody, adminPages } from '../pages/admin.js';

type Form = Record<string, string | undefined>;
type Message = { notice?: string | undefined; error?: string | undefined };

/**
 * Roles and groups in the browser. Every form posts here, is guarded like every admin page, calls
 * one RolesAdminService (or PolicyService) method, and shows the page again with the outcome.
 * Requiring 2FA for a role goes through a confirmation that says how many people it sends to
 * enrolment before anything is saved.
 */
export function adminRolePageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const admin = adminPages(services, kit);
  const rolesPath = (orgId: string) => `/admin/roles?org=${encodeURIComponent(orgId)}`;
  const backToRoles = { href: '/admin/roles', label: 'Back to roles and groups' };

  const render = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, orgId: string, message: Message = {}) => {
    const [overview, organisations] = await Promise.all([services.rolesAdmin.overview(sessionActor(auth), orgId), admin.managedOrganisations(auth)]);
    const view = { organisations, orgId: overview.organisation.id, orgName: overview.organisation.name, roles: overview.roles, groups: overview.groups, people: overview.people };
    return kit.html(reply, <AdminRolesPage chrome={admin.chrome(request, reply, 'Roles and groups')} view={view} notice={message.notice} error={message.error} />);
  };

  app.get<{ Querystring: { org?: string } }>(
    '/admin/roles',
    { schema: { hide: true, querystring: { type: 'object', properties: { org: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = await admin.guard(request, reply, request.url);
      if (!auth) return reply;
      try {
        return await render(request, reply, auth, request.query.org || auth.user.org_id);
      } catch (error) {
        return admin.problem(request, reply, error, { href: '/admin/users', label: 'Back to users' });
      }
    },
  );

  /** One form: guarded, run, then the roles page again with the outcome (or the refusal, under its status). */
  const action = <P extends Record<string, string>>(
    path: string,
    params: object | undefined,
    run: (request: FastifyRequest<{ Body: Form; Params: P }>, auth: AuthenticatedSession, reply: FastifyReply) => Promise<Message | FastifyReply>,
  ) =>
    app.post<{ Body: Form; Params: P }>(path, { schema: { hide: true, body: adminFormBody, ...(params ? { params } : {}) } }, async (request, reply) => {
      const orgId = request.body.org || request.auth?.user.org_id || '';
      const auth = await admin.guard(request, reply, rolesPath(orgId));
      if (!auth) return reply;
      let outcome: Message | FastifyReply;
      try {
        outcome = await run(request, auth, reply);
      } catch (error) {
        if (isTwofoldError(error) && error.kind === 'not_found') return admin.problem(request, reply, error, backToRoles);
        return render(request, reply.code(describeError(error).status), auth, orgId, { error: userMessage(error) });
      }
      if ('sent' in outcome) return outcome;
      return render(request, reply, auth, orgId, outcome);
    });

  const actor = (auth: AuthenticatedSession) => sessionActor(auth);
  const meta = requestMeta;

  action<Record<string, never>>('/admin/roles', undefined, async (request, auth) => {
    const role = await services.rolesAdmin.createRole(actor(auth), request.body.org ?? '', request.body.name ?? '', meta(request));
    return { notice: `Role ${role.name} created.` };
  });
  action<{ id: string }>('/admin/roles/:id/rename', idParams, async (request, auth) => {
    const role = await services.rolesAdmin.renameRole(actor(auth), request.params.id, request.body.name ?? '', meta(request));
    return { notice: `Role renamed to ${role.name}.` };
  });
  action<{ id: string }>('/admin/roles/:id/delete', idParams, async (request, auth) => {
    await services.rolesAdmin.deleteRole(actor(auth), request.params.id, meta(request));
    return { notice: 'Role deleted.' };
  });
  action<{ id: string }>('/admin/roles/:id/requirement', idParams, async (request, auth, reply) => {
    const requireTwoFactor = request.body.requireTwoFactor === 'yes';
    if (request.body.confirm !== 'yes') {
      const preview = await services.rolesAdmin.requirementPreview(actor(auth), request.params.id);
      const orgId = request.body.org || auth.user.org_id;
      return kit.html(
        reply,
        <RoleRequirementConfirmPage chrome={admin.chrome(request, reply, 'Confirm the requirement')} orgId={orgId} role={{ id: preview.roleId, name: preview.role }} requireTwoFactor={requireTwoFactor} holders={preview.holders} forcedToEnrol={preview.forcedToEnrol} />,
      );
    }
    const saved = await services.policy.setRoleRequirement(actor(auth), request.params.id, requireTwoFactor, meta(request));
    return { notice: saved.requireTwoFactor ? `Two-step verification is now required for ${saved.role}.` : `Two-step verification is no longer required for ${saved.role}.` };
  });
  action<Record<string, never>>('/admin/groups', undefined, async (request, auth) => {
    const group = await services.rolesAdmin.createGroup(actor(auth), request.body.org ?? '', request.body.name ?? '', meta(request));
    return { notice: `Group ${group.name} created.` };
  });
  action<{ id: string }>('/admin/groups/:id/rename', idParams, async (request, auth) => {
    const group = await services.rolesAdmin.renameGroup(actor(auth), request.params.id, request.body.name ?? '', meta(request));
    return { notice: `Group renamed to ${group.name}.` };
  });
  action<{ id: string }>('/admin/groups/:id/delete', idParams, async (request, auth) => {
    await services.rolesAdmin.deleteGroup(actor(auth), request.params.id, meta(request));
    return { notice: 'Group deleted.' };
  });
  action<{ id: string }>('/admin/groups/:id/roles', idParams, async (request, auth) => {
    const grant = request.body.action !== 'revoke';
    await services.rolesAdmin.setGroupRole(actor(auth), request.params.id, request.body.roleId ?? '', grant, meta(request));
    return { notice: grant ? 'Role granted to the group.' : 'Role taken from the group.' };
  });
  action<{ id: string }>('/admin/groups/:id/members', idParams, async (request, auth) => {
    const add = request.body.action !== 'remove';
    await services.rolesAdmin.setGroupMember(actor(auth), request.params.id, request.body.userId ?? '', add, meta(request));
    return { notice: add ? 'Member added.' : 'Member removed.' };
  });
}
