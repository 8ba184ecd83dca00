import type { FastifyInstance } from 'fastify';
import type { Channel } from '../../delivery/index.js';
import type { Services } from '../../services/index.js';
import type { ChannelEntryInput } from '../../services/messaging/provider-admin.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { ADMIN_SUDO, channelEntry, errorReplies, noContent, providerTestReply, providerView, servicesReply } from '../response-schemas.js';
import { sendableMethod } from '../api-kit.js';

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
 * only, their own organisation or below, and every call needs recent re-authentication: the
 * ProviderAdminService checks all of it itself.
 */
export function apiServicesRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string } }>(
    '/api/v1/organisations/:id/services',
    { schema: { tags: ['services'], summary: "An organisation's delivery providers (secrets redacted) and channel entries", response: { 200: servicesReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } },
    async (request) => {
      return services.providers.list(requireSessionActor(request), request.params.id);
    },
  );

  app.post<{ Params: { id: string }; Body: { name: string; config: Record<string, unknown> } }>(
    '/api/v1/organisations/:id/providers',
    {
      schema: {
        tags: ['services'],
        summary: 'Add a delivery provider (smtp, twilio, cdyne, webhook, console, file); credentials are encrypted at rest', response: { 201: providerView, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'name_invalid', 'provider_config_invalid', 'provider_address_not_allowed') },
        params: idParams,
        body: { type: 'object', required: ['name', 'config'], additionalProperties: false, properties: { name: str(80), config: providerConfig } },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await services.providers.create(requireSessionActor(request), request.params.id, request.body, requestMeta(request)));
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/providers/:id', { schema: { tags: ['services'], summary: 'One provider, secrets redacted', response: { 200: providerView, ...errorReplies(ADMIN_SUDO, 'provider_not_found') }, params: idParams } }, async (request) => {
    return services.providers.get(requireSessionActor(request), request.params.id);
  });

  app.patch<{ Params: { id: string }; Body: { name?: string; config?: Record<string, unknown> } }>(
    '/api/v1/providers/:id',
    {
      schema: {
        tags: ['services'],
        summary: 'Change a provider; a secret left out or sent back redacted keeps its value unless the host, URL or account changed', response: { 200: providerView, ...errorReplies(ADMIN_SUDO, 'provider_not_found', 'name_invalid', 'provider_config_invalid', 'provider_kind_fixed', 'provider_address_not_allowed') },
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name: str(80), config: providerConfig } },
      },
    },
    async (request) => {
      return services.providers.update(requireSessionActor(request), request.params.id, request.body, requestMeta(request));
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/providers/:id', { schema: { tags: ['services'], summary: 'Remove a provider no channel uses', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'provider_not_found', 'provider_in_use') }, params: idParams } }, async (request, reply) => {
    await services.providers.remove(requireSessionActor(request), request.params.id, requestMeta(request));
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string }; Body: { channel: Channel; to: string } }>(
    '/api/v1/providers/:id/test',
    {
      schema: {
        tags: ['services'],
        summary: 'Send a test message through a provider', response: { 200: providerTestReply, ...errorReplies(ADMIN_SUDO, 'provider_not_found', 'provider_channel_mismatch', 'phone_invalid', 'email_invalid', 'delivery_failed') },
        params: idParams,
        body: { type: 'object', required: ['channel', 'to'], additionalProperties: false, properties: { channel: sendableMethod, to: str(254) } },
      },
    },
    async (request) => {
      return services.providers.test(requireSessionActor(request), request.params.id, request.body, requestMeta(request));
    },
  );

  app.put<{ Params: { id: string; channel: Channel }; Body: ChannelEntryInput }>(
    '/api/v1/organisations/:id/channels/:channel',
    {
      schema: {
        tags: ['services'],
        summary: 'Bind a channel (sms, email) to a provider with a title, and allow or disallow it for 2FA', response: { 200: channelEntry, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'provider_not_found', 'provider_channel_mismatch', 'title_invalid') },
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
      return services.providers.setChannel(requireSessionActor(request), request.params.id, request.params.channel, request.body, requestMeta(request));
    },
  );
}
