import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams } from '../schemas.js';
import { ADMIN_SUDO, errorReplies, organisationSettingsReply } from '../response-schemas.js';

/** An organisation's settings beyond its policy (admins of its tree, with sudo). */
export function apiOrganisationSettingsRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/organisations/:id/settings',
    { schema: { tags: ['organisations'], summary: "An organisation's settings (admins; needs re-authentication)", response: { 200: organisationSettingsReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } },
    async (request) => services.organisationSettings.view(requireSessionActor(request), request.params.id),
  );

  app.put<{ Params: { id: string }; Body: { emailBackupCodes: boolean } }>(
    '/api/v1/organisations/:id/settings',
    {
      schema: {
        tags: ['organisations'],
        summary: "Change an organisation's settings: emailBackupCodes also emails people their new backup codes, to their verified address only (off by default; admins; needs re-authentication; audited)",
        response: { 200: organisationSettingsReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') },
        params: idParams,
        body: { type: 'object', required: ['emailBackupCodes'], additionalProperties: false, properties: { emailBackupCodes: { type: 'boolean' } } },
      },
    },
    async (request) => services.organisationSettings.setEmailBackupCodes(requireSessionActor(request), request.params.id, request.body.emailBackupCodes, requestMeta(request)),
  );
}
