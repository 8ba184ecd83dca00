import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Channel } from '../../delivery/index.js';
import type { Services } from '../../services/index.js';
import type { ChannelEntryInput } from '../../services/messaging/provider-admin.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { requestMeta, requireAuth } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { sendableMethod } from './api-codes.js';

const orgChannelParams = {
  type: 'object',
  required: ['id', 'channel'],
  additionalProperties: false,
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, channel: sendableMethod },
} as const;

// The provider's fields are checked by parseProviderConfig, which knows each kind; the schema only bounds the shape.
const providerConfig = { type: 'object', required: ['kind'], properties: { kind: str(16) }, maxProperties: 16 } as const;

/**
 * The Services Manager API: delivery providers and channel entries of an organisation. Admins
 * only, their own organisation or below, and every call needs recent re-authentication.
 */
export function apiServicesRoutes(app: FastifyInstance, services: Services): void {
  async function requireAdminSudo(request: FastifyRequest): Promise<AuthenticatedSession> {
    const auth = requireAuth(request);
    await services.policy.assertAdmin(auth.user);
    await services.reauth.requireAdminReauth(auth.user, auth.session);
    return auth;
  }

  app.get<{ Params: { id: string } }>(
    '/api/v1/organisations/:id/services',
    { schema: { tags: ['services'], summary: "An organisation's delivery providers (secrets redacted) and channel entries", params: idParams } },
    async (request) => {
      const auth = await requireAdminSudo(request);
      return services.providers.list(auth.user, request.params.id);
    },
  );

  app.post<{ Params: { id: string }; Body: { name: string; config: Record<string, unknown> } }>(
    '/api/v1/organisations/:id/providers',
    {
      schema: {
        tags: ['services'],
        summary: 'Add a delivery provider (smtp, twilio, cdyne, webhook, console, file); credentials are encrypted at rest',
        params: idParams,
        body: { type: 'object', required: ['name', 'config'], additionalProperties: false, properties: { name: str(80), config: providerConfig } },
      },
    },
    async (request, reply) => {
      const auth = await requireAdminSudo(request);
      return reply.code(201).send(await services.providers.create(auth.user, request.params.id, request.body, requestMeta(request)));
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/providers/:id', { schema: { tags: ['services'], summary: 'One provider, secrets redacted', params: idParams } }, async (request) => {
    const auth = await requireAdminSudo(request);
    return services.providers.get(auth.user, request.params.id);
  });

  app.patch<{ Params: { id: string }; Body: { name?: string; config?: Record<string, unknown> } }>(
    '/api/v1/providers/:id',
    {
      schema: {
        tags: ['services'],
        summary: 'Change a provider; a secret left out or sent back redacted keeps its value unless the host, URL or account changed',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name: str(80), config: providerConfig } },
      },
    },
    async (request) => {
      const auth = await requireAdminSudo(request);
      return services.providers.update(auth.user, request.params.id, request.body, requestMeta(request));
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/providers/:id', { schema: { tags: ['services'], summary: 'Remove a provider no channel uses', params: idParams } }, async (request, reply) => {
    const auth = await requireAdminSudo(request);
    await services.providers.remove(auth.user, request.params.id, requestMeta(request));
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { channel: Channel; to: string } }>(
    '/api/v1/providers/:id/test',
    {
      schema: {
        tags: ['services'],
        summary: 'Send a test message through a provider',
        params: idParams,
        body: { type: 'object', required: ['channel', 'to'], additionalProperties: false, properties: { channel: sendableMethod, to: str(254) } },
      },
    },
    async (request) => {
      const auth = await requireAdminSudo(request);
      return services.providers.test(auth.user, request.params.id, request.body, requestMeta(request));
    },
  );

  app.put<{ Params: { id: string; channel: Channel }; Body: ChannelEntryInput }>(
    '/api/v1/organisations/:id/channels/:channel',
    {
      schema: {
        tags: ['services'],
        summary: 'Bind a channel (sms, email) to a provider with a title, and allow or disallow it for 2FA',
        params: orgChannelParams,
        body: {
          type: 'object',
          required: ['providerId', 'title', 'allowed'],
          additionalProperties: false,
          properties: { providerId: { type: ['string', 'null'], maxLength: 64 }, title: str(80), allowed: { type: 'boolean' } },
        },
      },
    },
    async (request) => {
      const auth = await requireAdminSudo(request);
      return services.providers.setChannel(auth.user, request.params.id, request.params.channel, request.body, requestMeta(request));
    },
  );
}
