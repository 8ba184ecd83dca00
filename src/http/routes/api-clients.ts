import type { FastifyInstance } from 'fastify';
import { OIDC_SCOPES } from '../../core/oidc.js';
import type { Services } from '../../services/index.js';
import type { OidcClientChange, OidcClientInput } from '../../services/oidc-clients.js';
import { OIDC_AUDIENCES } from '../../services/oidc-clients.js';
import { requestMeta, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { ADMIN_SUDO, clientReply, clientsReply, errorReplies, noContent, oidcClientWithSecret } from '../response-schemas.js';

const uris = { type: 'array', maxItems: 10, items: str(2000) } as const;
const clientFields = {
  name: str(80),
  redirectUris: { ...uris, minItems: 1 },
  postLogoutRedirectUris: uris,
  public: { type: 'boolean' },
  scopes: { type: 'array', maxItems: OIDC_SCOPES.length, items: { type: 'string', enum: [...OIDC_SCOPES] } },
  requireTwoFactor: { type: 'boolean' },
  /** 'organisation' (default): people of the client's organisation and those below it; 'everyone': a shared app. */
  audience: { type: 'string', enum: [...OIDC_AUDIENCES] },
} as const;

/**
 * OpenID Connect clients (the apps that sign people in through Twofold). Admins of the client's
 * organisation or one above it, with a recent re-authentication for every call, reads included
 * (OidcClientService checks all of it itself); a secret is in the answer that creates or rotates
 * it, and nowhere else.
 */
export function apiClientRoutes(app: FastifyInstance, services: Services): void {
  app.get<{ Params: { id: string } }>('/api/v1/organisations/:id/clients', { schema: { tags: ['clients'], summary: "An organisation's OpenID Connect clients (admins; needs re-authentication)", response: { 200: clientsReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } }, async (request) => {
    return { clients: await services.oidcClients.list(requireSessionActor(request), request.params.id) };
  });

  app.post<{ Params: { id: string }; Body: OidcClientInput }>(
    '/api/v1/organisations/:id/clients',
    {
      schema: {
        tags: ['clients'],
        summary: "Register an OpenID Connect client; a confidential client's secret is in this answer only. It signs in people of the organisation and those below it, or anyone with audience 'everyone' (admins; needs re-authentication)", response: { 201: oidcClientWithSecret, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'name_invalid', 'redirect_uri_invalid', 'post_logout_redirect_uri_invalid', 'scopes_invalid', 'audience_invalid', 'audience_everyone_not_allowed') },
        params: idParams,
        body: { type: 'object', required: ['name', 'redirectUris'], additionalProperties: false, properties: clientFields },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await services.oidcClients.create(requireSessionActor(request), request.params.id, request.body, requestMeta(request)));
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/clients/:id', { schema: { tags: ['clients'], summary: 'One OpenID Connect client (admins; needs re-authentication)', response: { 200: clientReply, ...errorReplies(ADMIN_SUDO, 'client_not_found') }, params: idParams } }, async (request) => {
    return { client: await services.oidcClients.get(requireSessionActor(request), request.params.id) };
  });

  app.patch<{ Params: { id: string }; Body: OidcClientChange }>(
    '/api/v1/clients/:id',
    {
      schema: {
        tags: ['clients'],
        summary: 'Change a client: name, redirect URIs, scopes, whether it requires two-step verification, who may sign in to it (admins; needs re-authentication)', response: { 200: clientReply, ...errorReplies(ADMIN_SUDO, 'client_not_found', 'name_invalid', 'redirect_uri_invalid', 'post_logout_redirect_uri_invalid', 'scopes_invalid', 'audience_invalid', 'audience_everyone_not_allowed') },
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: { name: clientFields.name, redirectUris: clientFields.redirectUris, postLogoutRedirectUris: clientFields.postLogoutRedirectUris, scopes: clientFields.scopes, requireTwoFactor: clientFields.requireTwoFactor, audience: clientFields.audience },
        },
      },
    },
    async (request) => {
      return { client: await services.oidcClients.update(requireSessionActor(request), request.params.id, request.body, requestMeta(request)) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/clients/:id/secret',
    { schema: { tags: ['clients'], summary: 'Give a confidential client a new secret (in this answer only); the old one stops working (admins; needs re-authentication)', response: { 200: oidcClientWithSecret, ...errorReplies(ADMIN_SUDO, 'client_not_found', 'client_is_public') }, params: idParams } },
    async (request) => {
      return services.oidcClients.rotateSecret(requireSessionActor(request), request.params.id, requestMeta(request));
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/clients/:id', { schema: { tags: ['clients'], summary: 'Delete a client (admins; needs re-authentication)', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'client_not_found') }, params: idParams } }, async (request, reply) => {
    await services.oidcClients.remove(requireSessionActor(request), request.params.id, requestMeta(request));
    return reply.code(204).send();
  });
}
