import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams } from '../schemas.js';
import { ADMIN_SUDO, brandingView, errorReplies } from '../response-schemas.js';

/** An organisation's branding: the company name its people see (admins of its tree, with sudo). */
export function apiBrandingRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/organisations/:id/branding',
    { schema: { tags: ['organisations'], summary: "An organisation's company name: its own, and the one its people see (admins; needs re-authentication)", response: { 200: brandingView, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } },
    async (request) => services.branding.get(requireSessionActor(request), request.params.id),
  );

  app.put<{ Params: { id: string }; Body: { companyName: string | null } }>(
    '/api/v1/organisations/:id/branding',
    {
      schema: {
        tags: ['organisations'],
        summary: 'Set the company name shown to the people of this organisation and those below it that set none; null goes back to the inherited name (admins; needs re-authentication)',
        response: { 200: brandingView, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'company_name_invalid') },
        params: idParams,
        body: {
          type: 'object',
          required: ['companyName'],
          additionalProperties: false,
          properties: { companyName: { type: ['string', 'null'], maxLength: 200 } },
        },
      },
    },
    async (request) => services.branding.set(requireSessionActor(request), request.params.id, request.body, requestMeta(request)),
  );
}
