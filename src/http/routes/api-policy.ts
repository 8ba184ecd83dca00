import type { FastifyInstance } from 'fastify';
import { CHALLENGE_TRIGGERS, MAX_TRUST_BROWSER_DAYS, POLICY_METHODS, TWO_FACTOR_MODES } from '../../core/policy.js';
import type { Services } from '../../services/index.js';
import type { OrganisationPolicyInput } from '../../services/policy.js';
import { requestMeta, requireAuth, requireSessionActor } from '../request-context.js';
import { idParams } from '../schemas.js';
import { ADMIN_SUDO, SIGNED_IN, errorReplies, myPolicyReply, organisationPolicyReport, rolePolicyReply } from '../response-schemas.js';

const policyBody = {
  type: 'object',
  required: ['mode', 'appliesToSubOrganisations', 'triggers', 'allowedMethods', 'trustBrowserDays'],
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: [...TWO_FACTOR_MODES] },
    appliesToSubOrganisations: { type: 'boolean' },
    triggers: { type: 'array', minItems: 1, maxItems: CHALLENGE_TRIGGERS.length, uniqueItems: true, items: { type: 'string', enum: [...CHALLENGE_TRIGGERS] } },
    allowedMethods: { type: 'array', minItems: 1, maxItems: POLICY_METHODS.length, uniqueItems: true, items: { type: 'string', enum: [...POLICY_METHODS] } },
    trustBrowserDays: { type: 'integer', minimum: 0, maximum: MAX_TRUST_BROWSER_DAYS },
    requirePhishingResistant: { type: 'boolean', description: 'Codes (app, text, email, phone approval) no longer finish the second step; a security key or passkey does. Needs mode "required" and "webauthn" allowed. Members without a key enrol one at sign-in; backup codes still recover. Absent: false.' },
  },
} as const;

/** Two-factor policy: admins set it per organisation and per role (PolicyService checks admin, sudo and tree); everyone can see their own. */
export function apiPolicyRoutes(app: FastifyInstance, services: Services): void {
  app.get('/api/v1/me/policy', { schema: { tags: ['policy'], summary: 'The two-factor policy that applies to you, and where each rule comes from', response: { 200: myPolicyReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { policy: await services.policy.effectiveFor(auth.user) };
  });

  app.get<{ Params: { id: string } }>(
    '/api/v1/organisations/:id/policy',
    { schema: { tags: ['policy'], summary: "An organisation's own policy and what applies to its members (admins)", response: { 200: organisationPolicyReport, ...errorReplies(ADMIN_SUDO, 'organisation_not_found') }, params: idParams } },
    async (request) => {
      return services.policy.organisationPolicy(requireSessionActor(request), request.params.id);
    },
  );

  app.put<{ Params: { id: string }; Body: OrganisationPolicyInput }>(
    '/api/v1/organisations/:id/policy',
    { schema: { tags: ['policy'], summary: "Set an organisation's two-factor policy (admins; needs recent re-authentication)", response: { 200: organisationPolicyReport, ...errorReplies(ADMIN_SUDO, 'organisation_not_found', 'mode_invalid', 'triggers_invalid', 'allowed_methods_invalid', 'trust_browser_days_invalid') }, params: idParams, body: policyBody } },
    async (request) => {
      return services.policy.setOrganisationPolicy(requireSessionActor(request), request.params.id, request.body, requestMeta(request));
    },
  );

  app.put<{ Params: { id: string }; Body: { requireTwoFactor: boolean; requirePhishingResistant?: boolean } }>(
    '/api/v1/roles/:id/policy',
    {
      schema: {
        tags: ['policy'],
        summary: 'Require two-factor authentication, and optionally a security key or passkey, for everyone holding a role (admins; needs recent re-authentication)',
        response: { 200: rolePolicyReply, ...errorReplies(ADMIN_SUDO, 'role_not_found', 'mode_invalid') },
        params: idParams,
        body: { type: 'object', required: ['requireTwoFactor'], additionalProperties: false, properties: { requireTwoFactor: { type: 'boolean' }, requirePhishingResistant: { type: 'boolean' } } },
      },
    },
    async (request) => {
      const { requireTwoFactor, requirePhishingResistant } = request.body;
      return services.policy.setRoleRequirement(requireSessionActor(request), request.params.id, requireTwoFactor, requestMeta(request), { requirePhishingResistant });
    },
  );
}
