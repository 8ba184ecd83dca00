import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { ADMIN_SUDO, errorReplies, managedOrganisationsReply, organisationCreated } from '../response-schemas.js';

/** The organisation tree an admin manages, and sub-organisations added to it (what `twofold orgs list/create` do). */
export function apiOrganisationRoutes(app: FastifyInstance, services: Services): void {
  app.get(
    '/api/v1/organisations',
    { schema: { tags: ['organisations'], summary: 'Your organisation and every one below it, in tree order (admins; needs re-authentication)', response: { 200: managedOrganisationsReply, ...errorReplies(ADMIN_SUDO) } } },
    async (request) => ({ organisations: await services.organisations.managedBy(requireSessionActor(request)) }),
  );

  app.post<{ Params: { id: string }; Body: { name: string } }>(
    '/api/v1/organisations/:id/organisations',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Add an organisation below this one (admins of its tree; needs re-authentication)',
        response: { 201: organisationCreated, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'name_invalid') },
        params: idParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: str(200) } },
      },
    },
    async (request, reply) => reply.code(201).send(await services.organisations.createBelow(requireSessionActor(request), request.params.id, request.body, requestMeta(request))),
  );
}
