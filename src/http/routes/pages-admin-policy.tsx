import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import type { TwoFactorMode } from '../../core/policy.js';
import { CHALLENGE_TRIGGERS, MAX_TRUST_BROWSER_DAYS, POLICY_METHODS } from '../../core/policy.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { OrganisationPolicyInput } from '../../services/policy.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { AdminPolicyView, PolicyFormValues } from '../../ui/pages/admin-policy.js';
import { AdminPolicyPage, methodField, triggerField } from '../../ui/pages/admin-policy.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from '../pages/messages.js';
import { adminFormBody, adminPages } from '../pages/admin.js';

type Form = Record<string, string | undefined>;
type Message = { notice?: string | undefined; error?: string | undefined };

const policyQuery = { type: 'object', properties: { org: { type: 'string', maxLength: 64 } } } as const;
const policyPath = (orgId: string) => `/admin/policy?org=${encodeURIComponent(orgId)}`;

/** The service words its refusals for API callers; the form says the same in terms of its fields. */
const FORM_MESSAGES: Record<string, string> = {
  mode_invalid: 'Choose whether two-step verification is off, optional or required.',
  triggers_invalid: 'Choose at least one moment to ask for a code.',
  allowed_methods_invalid: 'Allow at least one method.',
  trust_browser_days_invalid: `Trust a browser for a whole number of days from 0 to ${MAX_TRUST_BROWSER_DAYS}.`,
};

/** The policy as the form sent it; the service decides whether it is valid. */
function inputFromForm(body: Form): OrganisationPolicyInput {
  const daysText = (body.trustBrowserDays ?? '').trim();
  return {
    mode: (body.mode ?? '') as TwoFactorMode,
    appliesToSubOrganisations: body.appliesToSubOrganisations === 'on',
    triggers: CHALLENGE_TRIGGERS.filter((t) => body[triggerField(t)] === 'on'),
    allowedMethods: POLICY_METHODS.filter((m) => body[methodField(m)] === 'on'),
    trustBrowserDays: /^\d{1,6}$/.test(daysText) ? Number(daysText) : Number.NaN,
    requirePhishingResistant: body.requirePhishingResistant === 'on',
  };
}

/**
 * The two-factor policy in the browser: an organisation's own rules, what its members get and
 * where each rule comes from, and which of its roles require two-step verification.
 */
export function adminPolicyPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const admin = adminPages(services, kit);
  const backToPolicy = { href: '/admin/policy', label: 'Back to policy' };

  const renderPolicy = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, orgId: string, message: Message & { submitted?: PolicyFormValues } = {}) => {
    const [{ report, roles: roleItems, updatedByEmail }, orgs] = await Promise.all([services.policy.adminView(sessionActor(auth), orgId), admin.managedOrganisations(auth)]);
    const own = report.own;
    const e = report.effective;
    // Without a policy of its own, the form starts from what applies now, so saving it changes nothing by surprise.
    const stored: PolicyFormValues = own
      ? { mode: own.mode, appliesToSubOrganisations: own.appliesToSubOrganisations, triggers: own.triggers, allowedMethods: own.allowedMethods, trustBrowserDays: String(own.trustBrowserDays), requirePhishingResistant: own.requirePhishingResistant }
      : { mode: e.mode.value, appliesToSubOrganisations: false, triggers: e.triggers.value, allowedMethods: e.allowedMethods.value, trustBrowserDays: String(e.trustBrowserDays.value), requirePhishingResistant: e.phishingResistant.value };
    const view: AdminPolicyView = {
      organisations: orgs,
      orgId: report.organisation.id,
      orgName: report.organisation.name,
      hasOwn: own !== null,
      updated: own ? `${admin.when(auth, own.updatedAt) ?? ''}${updatedByEmail ? ` by ${updatedByEmail}` : ''}` : null,
      form: message.submitted ?? stored,
      effective: e,
      roles: roleItems,
    };
    return kit.html(reply, <AdminPolicyPage chrome={admin.chrome(request, reply, 'Policy')} view={view} notice={message.notice} error={message.error} />);
  };

  app.get<{ Querystring: Form }>('/admin/policy', { schema: { hide: true, querystring: policyQuery } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, request.url);
    if (!auth) return reply;
    try {
      return await renderPolicy(request, reply, auth, request.query.org || auth.user.org_id);
    } catch (error) {
      return admin.problem(request, reply, error, backToPolicy);
    }
  });

  app.post<{ Body: Form }>('/admin/policy', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const orgId = request.body.org || request.auth?.user.org_id || '';
    const auth = await admin.guard(request, reply, policyPath(orgId));
    if (!auth) return reply;
    const input = inputFromForm(request.body);
    try {
      await services.policy.setOrganisationPolicy(sessionActor(auth), orgId, input, requestMeta(request));
    } catch (error) {
      if (isTwofoldError(error) && error.kind === 'not_found') return admin.problem(request, reply, error, backToPolicy);
      const text = (isTwofoldError(error) && FORM_MESSAGES[error.code]) || userMessage(error);
      const submitted: PolicyFormValues = { ...input, trustBrowserDays: request.body.trustBrowserDays ?? '' };
      try {
        return await renderPolicy(request, reply.code(describeError(error).status), auth, orgId, { error: `Nothing was saved. ${text}`, submitted });
      } catch (renderError) {
        return admin.problem(request, reply, renderError, backToPolicy);
      }
    }
    return renderPolicy(request, reply, auth, orgId, { notice: 'The policy was saved. It applies from each member’s next sign-in; the organisation’s admins have been told.' });
  });

  app.post<{ Body: Form; Params: { id: string } }>('/admin/policy/roles/:id', { schema: { hide: true, body: adminFormBody, params: idParams } }, async (request, reply) => {
    const fallbackOrg = request.body.org || request.auth?.user.org_id || '';
    const auth = await admin.guard(request, reply, policyPath(fallbackOrg));
    if (!auth) return reply;
    const wanted = request.body.requireTwoFactor;
    if (wanted !== 'on' && wanted !== 'off') {
      return renderPolicy(request, reply.code(400), auth, fallbackOrg, { error: 'Say whether the role requires two-step verification.' }).catch((error: unknown) => admin.problem(request, reply, error, backToPolicy));
    }
    const key = request.body.requirePhishingResistant;
    if (key !== undefined && key !== 'on' && key !== 'off') {
      return renderPolicy(request, reply.code(400), auth, fallbackOrg, { error: 'Say whether the role requires a security key.' }).catch((error: unknown) => admin.problem(request, reply, error, backToPolicy));
    }
    let result;
    try {
      result = await services.policy.setRoleRequirement(sessionActor(auth), request.params.id, wanted === 'on', requestMeta(request), { requirePhishingResistant: key === undefined ? undefined : key === 'on' });
    } catch (error) {
      return admin.problem(request, reply, error, backToPolicy);
    }
    const notice = result.requirePhishingResistant
      ? `Everyone holding “${result.role}” must now finish signing in with a security key or passkey; those without one add one at their next sign-in.`
      : result.requireTwoFactor
        ? `Everyone holding “${result.role}” must now use two-step verification; those without a method set one up at their next sign-in.`
        : `“${result.role}” no longer requires two-step verification by itself.`;
    return renderPolicy(request, reply, auth, result.orgId, { notice });
  });
}
