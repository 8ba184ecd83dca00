import type { FastifyInstance, FastifyRequest } from 'fastify';
import { unauthenticated } from '../../core/errors.js';
import { API_KEY_SCOPES } from '../../services/api-keys.js';
import type { DeployActor } from '../../services/deploys/index.js';
import type { Services } from '../../services/index.js';
import { requestMeta, requireAuth, requireSessionActor } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import { WEBAUTHN_CHECK_CODES, approvalStartedReply, approvalStatusReply, deployWebAuthnOptionsReply } from '../response-schemas.js';
import { ADMIN_SUDO, CODE_CHECK_CODES, CODE_SEND_CODES, DEPLOY_READER_CODES, apiKeyCreated, apiKeysReply, bundleReply, changeAdded, deployPreview, deployerCandidatesReply, deployTargetView, deployTargetsReply, deploymentView, deploymentsReply, errorReplies, jwksReply, noContent, notModified, sentCode } from '../response-schemas.js';
import { sendableMethod, sentCodeJson } from '../api-kit.js';

const codeFields = { method: { type: 'string', enum: ['totp', 'sms', 'email', 'backup_code', 'webauthn', 'push'] }, code: str(64) } as const;
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Deploy targets, changes, deployments and API keys. Apps authenticate with
 * `Authorization: Bearer <api key>`; people with their session cookie.
 */
export function apiDeployRoutes(app: FastifyInstance, services: Services): void {
  async function actorOf(request: FastifyRequest): Promise<DeployActor> {
    const header = request.headers.authorization;
    if (typeof header === 'string' && header !== '') {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match?.[1]) throw unauthenticated('api_key_invalid', 'Send the key as "Authorization: Bearer <key>".');
      return { kind: 'api_key', principal: await services.apiKeys.authenticate(match[1]) };
    }
    const auth = requireAuth(request);
    return { kind: 'user', user: auth.user, sessionId: auth.session.id };
  }

  app.get<{ Params: { id: string } }>('/api/v1/organisations/:id/api-keys', { schema: { tags: ['api-keys'], summary: "An organisation's API keys (admins)", response: { 200: apiKeysReply, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } }, async (request) => {
    return { apiKeys: await services.apiKeys.list(requireSessionActor(request), request.params.id) };
  });

  app.post<{ Params: { id: string }; Body: { name: string; scopes: string[] } }>(
    '/api/v1/organisations/:id/api-keys',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Create an API key; the key is in this answer only (admins; needs re-authentication)', response: { 201: apiKeyCreated, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'name_invalid', 'scopes_invalid') },
        params: idParams,
        body: {
          type: 'object',
          required: ['name', 'scopes'],
          additionalProperties: false,
          properties: { name: str(80), scopes: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', enum: [...API_KEY_SCOPES] } } },
        },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await services.apiKeys.create(requireSessionActor(request), request.params.id, request.body, requestMeta(request)));
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/api-keys/:id', { schema: { tags: ['api-keys'], summary: 'Revoke an API key', response: { 204: noContent, ...errorReplies(ADMIN_SUDO, 'api_key_not_found') }, params: idParams } }, async (request, reply) => {
    await services.apiKeys.revoke(requireSessionActor(request), request.params.id, requestMeta(request));
    return reply.code(204).send();
  });

  app.get<{ Querystring: { org?: string } }>(
    '/api/v1/deploy-targets',
    { schema: { tags: ['deploys'], summary: 'Deploy targets of your organisation tree', response: { 200: deployTargetsReply, ...errorReplies(DEPLOY_READER_CODES, 'organisation_not_found') }, querystring: { type: 'object', additionalProperties: false, properties: { org: str(64) } } } },
    async (request) => ({ targets: await services.deploys.listTargets(await actorOf(request), request.query.org) }),
  );

  app.post<{ Params: { id: string }; Body: { name: string; timing: 'automatic' | 'manual'; requireTwoFactor?: boolean } }>(
    '/api/v1/organisations/:id/deploy-targets',
    {
      schema: {
        tags: ['deploys'],
        summary: 'Create a deploy target (admins; needs re-authentication). requireTwoFactor needs manual timing and can never be switched off', response: { 201: deployTargetView, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'name_invalid', 'two_factor_needs_manual') },
        params: idParams,
        body: {
          type: 'object',
          required: ['name', 'timing'],
          additionalProperties: false,
          properties: { name: str(80), timing: { type: 'string', enum: ['automatic', 'manual'] }, requireTwoFactor: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      return reply.code(201).send(await services.deploys.createTarget(requireSessionActor(request), request.params.id, request.body, requestMeta(request)));
    },
  );

  app.get<{ Params: { id: string } }>('/api/v1/deploy-targets/:id', { schema: { tags: ['deploys'], summary: 'One deploy target', response: { 200: deployTargetView, ...errorReplies(DEPLOY_READER_CODES) }, params: idParams } }, async (request) =>
    services.deploys.getTarget(await actorOf(request), request.params.id),
  );

  app.patch<{ Params: { id: string }; Body: { name?: string; timing?: 'automatic' | 'manual'; requireTwoFactor?: boolean } }>(
    '/api/v1/deploy-targets/:id',
    {
      schema: {
        tags: ['deploys'],
        summary: 'Change a target. Switching 2FA off, or a protected target to automatic, is refused: create a new target instead', response: { 200: deployTargetView, ...errorReplies(ADMIN_SUDO, 'deploy_target_not_found', 'name_invalid', 'two_factor_needs_manual', 'two_factor_irreversible') },
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name: str(80), timing: { type: 'string', enum: ['automatic', 'manual'] }, requireTwoFactor: { type: 'boolean' } } },
      },
    },
    async (request) => {
      return services.deploys.updateTarget(requireSessionActor(request), request.params.id, request.body, requestMeta(request));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/deploy-targets/:id/deployer-candidates',
    { schema: { tags: ['deploys'], summary: 'People who may be named deployers: active, with 2FA, able to see the target (admins; needs re-authentication)', response: { 200: deployerCandidatesReply, ...errorReplies(ADMIN_SUDO, 'deploy_target_not_found') }, params: idParams } },
    async (request) => ({ candidates: await services.deploys.deployerCandidates(requireSessionActor(request), request.params.id) }),
  );

  app.put<{ Params: { id: string }; Body: { userIds: string[]; method?: string; code?: string } }>(
    '/api/v1/deploy-targets/:id/deployers',
    {
      schema: {
        tags: ['deploys'],
        summary: 'Set who may deploy (only users with 2FA); for a protected target, include a current code from your own device', response: { 200: deployTargetView, ...errorReplies(ADMIN_SUDO, 'deploy_target_not_found', 'too_many_deployers', 'deployer_not_found', 'deployer_outside_organisation', 'deployer_without_two_factor', 'code_required', CODE_CHECK_CODES) },
        params: idParams,
        body: {
          type: 'object',
          required: ['userIds'],
          additionalProperties: false,
          properties: { userIds: { type: 'array', maxItems: 50, items: str(64) }, ...codeFields },
        },
      },
    },
    async (request) => {
      return services.deploys.setDeployers(requireAuth(request), request.params.id, request.body, requestMeta(request));
    },
  );

  app.post<{ Params: { id: string }; Body: { key: string; value?: unknown; summary: string } }>(
    '/api/v1/deploy-targets/:id/changes',
    {
      schema: {
        tags: ['deploys'],
        summary: 'Add a change to the pending bundle: set entry `key` to `value` (null or absent removes it) with a one-line summary. Automatic targets go live at once', response: { 201: changeAdded, ...errorReplies(DEPLOY_READER_CODES, 'not_deployer', 'entry_key_invalid', 'summary_invalid', 'bundle_too_large', 'target_busy', 'deploy_conflict') },
        params: idParams,
        body: { type: 'object', required: ['key', 'summary'], additionalProperties: false, properties: { key: str(200), value: {}, summary: str(200) } },
      },
    },
    async (request, reply) => {
      const actor = await actorOf(request);
      return reply.code(201).send(await services.deploys.addChange(actor, request.params.id, request.body, requestMeta(request)));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/deploy-targets/:id/preview',
    { schema: { tags: ['deploys'], summary: 'What Deploy Now would send: pending changes and the bundle digest to confirm', response: { 200: deployPreview, ...errorReplies(DEPLOY_READER_CODES) }, params: idParams } },
    async (request) => services.deploys.preview(await actorOf(request), request.params.id),
  );

  app.get<{ Params: { id: string } }>('/api/v1/deploy-targets/:id/deployments', { schema: { tags: ['deploys'], summary: 'Deployment history, newest first', response: { 200: deploymentsReply, ...errorReplies(DEPLOY_READER_CODES) }, params: idParams } }, async (request) => ({
    deployments: await services.deploys.history(await actorOf(request), request.params.id),
  }));

  app.post<{ Params: { id: string }; Body: { digest: string; method?: string; code?: string; rollbackTo?: string; assertion?: Record<string, unknown>; nonce?: string } }>(
    '/api/v1/deploy-targets/:id/deployments',
    {
      schema: {
        tags: ['deploys'],
        summary:
          'Deploy the reviewed bundle (digest from the preview), or roll back to an earlier deployment; protected targets need a person with a current code, other targets also take an API key with deployments:write', response: { 201: deploymentView, ...errorReplies(DEPLOY_READER_CODES, 'not_deployer', 'person_required', 'deployer_not_enrolled', 'code_required', 'deployment_not_found', 'bundle_changed', 'deploy_conflict', CODE_CHECK_CODES, WEBAUTHN_CHECK_CODES) },
        params: idParams,
        body: {
          type: 'object',
          required: ['digest'],
          additionalProperties: false,
          properties: {
            digest: str(80),
            rollbackTo: str(64),
            ...codeFields,
            assertion: { type: 'object', description: 'Method `webauthn`: AuthenticationResponseJSON for the options of /deployments/webauthn/options' },
            nonce: { ...str(64), description: 'Method `webauthn`: the nonce from /deployments/webauthn/options' },
          },
        },
      },
    },
    async (request, reply) => {
      const actor = await actorOf(request);
      const { assertion, ...input } = request.body;
      const code = input.code ?? (assertion !== undefined ? JSON.stringify(assertion) : undefined);
      return reply.code(201).send(await services.deploys.deploy(actor, request.params.id, { ...input, code }, requestMeta(request)));
    },
  );

  app.post<{ Params: { id: string }; Body: { digest: string; rollbackTo?: string } }>(
    '/api/v1/deploy-targets/:id/deployments/webauthn/options',
    {
      schema: {
        tags: ['deploys'],
        summary:
          'Approve with a security key: options for navigator.credentials.get() whose challenge is SHA-256(nonce || target id || digest), single use, for this session; send the assertion and the nonce to /deployments with method `webauthn`',
        response: { 200: deployWebAuthnOptionsReply, ...errorReplies(DEPLOY_READER_CODES, 'not_deployer', 'person_required', 'deployer_not_enrolled', 'code_not_required', 'method_not_allowed', 'method_unavailable', 'factor_not_found', 'deployment_not_found', 'bundle_changed', 'deploy_conflict') },
        params: idParams,
        body: { type: 'object', required: ['digest'], additionalProperties: false, properties: { digest: str(80), rollbackTo: str(64) } },
      },
    },
    async (request) => services.deploys.webAuthnOptions(await actorOf(request), request.params.id, request.body),
  );

  app.post<{ Params: { id: string }; Body: { digest: string; approverId: string; rollbackTo?: string } }>(
    '/api/v1/deploy-targets/:id/deployments/approvals',
    {
      schema: {
        tags: ['deploys'],
        summary: 'Approve on a phone: the phone shows the target and the number of changes and signs a request bound to this digest; when approved, deploy with method `push` and code = requestId',
        response: { 201: approvalStartedReply, ...errorReplies(DEPLOY_READER_CODES, 'not_deployer', 'person_required', 'deployer_not_enrolled', 'code_not_required', 'method_not_allowed', 'method_unavailable', 'deployment_not_found', 'bundle_changed', 'deploy_conflict', 'approver_not_found', 'approval_pending', 'push_paused', 'too_many_pushes') },
        params: idParams,
        body: { type: 'object', required: ['digest', 'approverId'], additionalProperties: false, properties: { digest: str(80), approverId: str(64), rollbackTo: str(64) } },
      },
    },
    async (request, reply) => {
      const started = await services.deploys.requestApproval(await actorOf(request), request.params.id, request.body, requestMeta(request));
      return reply.code(201).send({ requestId: started.requestId, number: started.number, expiresAt: iso(started.expiresAt), approver: started.deviceName, pushed: started.pushed });
    },
  );

  app.post<{ Params: { id: string }; Body: { digest: string; requestId: string; rollbackTo?: string } }>(
    '/api/v1/deploy-targets/:id/deployments/approvals/status',
    {
      schema: {
        tags: ['deploys'],
        summary: "Whether the phone has answered this deploy's request (for the reviewed digest)",
        response: { 200: approvalStatusReply, ...errorReplies(DEPLOY_READER_CODES, 'not_deployer', 'person_required', 'deployer_not_enrolled', 'code_not_required', 'deployment_not_found', 'bundle_changed', 'deploy_conflict', 'approval_not_found') },
        params: idParams,
        body: { type: 'object', required: ['digest', 'requestId'], additionalProperties: false, properties: { digest: str(80), requestId: str(64), rollbackTo: str(64) } },
      },
    },
    async (request) => ({ state: await services.deploys.approvalStatus(await actorOf(request), request.params.id, request.body) }),
  );

  app.post<{ Params: { id: string }; Body: { digest: string; method: 'sms' | 'email'; rollbackTo?: string } }>(
    '/api/v1/deploy-targets/:id/deployments/code',
    {
      schema: {
        tags: ['deploys'],
        summary: 'Send a code by text message or email that approves this deploy only: this target and the reviewed digest (or roll back to rollbackTo); for authorised deployers of a protected target', response: { 200: sentCode, ...errorReplies(DEPLOY_READER_CODES, 'not_deployer', 'person_required', 'deployer_not_enrolled', 'code_not_required', 'deployment_not_found', 'bundle_changed', 'deploy_conflict', CODE_SEND_CODES) },
        params: idParams,
        body: { type: 'object', required: ['digest', 'method'], additionalProperties: false, properties: { digest: str(80), method: sendableMethod, rollbackTo: str(64) } },
      },
    },
    async (request) => sentCodeJson(await services.deploys.sendApprovalCode(await actorOf(request), request.params.id, request.body, requestMeta(request))),
  );

  app.get<{ Params: { key: string } }>(
    '/deploy/:key/bundle',
    { schema: { tags: ['deploys'], summary: "The target's current bundle, exactly as deployed; ETag is its digest, X-Twofold-Approval the signed approval", response: { 200: bundleReply, 304: notModified, ...errorReplies('bundle_not_found') }, params: { type: 'object', required: ['key'], properties: { key: str(64) } } } },
    async (request, reply) => {
      const current = await services.deploys.publicBundle(request.params.key);
      if (!current) return reply.code(404).send({ error: { code: 'bundle_not_found', message: 'Nothing is deployed here.' } });
      const etag = `"${current.digest}"`;
      reply.header('ETag', etag).header('X-Twofold-Approval', current.approval).header('X-Twofold-Deployment', current.deploymentId).header('Cache-Control', 'no-cache');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type('application/json; charset=utf-8').send(current.body);
    },
  );

  app.get('/.well-known/jwks.json', { schema: { tags: ['deploys'], summary: 'Public keys that verify deploy approvals (and tokens)', response: { 200: jwksReply, ...errorReplies() } } }, async (_request, reply) => {
    reply.header('Cache-Control', 'public, max-age=300');
    return services.signingKeys.jwks();
  });
}
