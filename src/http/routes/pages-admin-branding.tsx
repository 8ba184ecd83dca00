import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { AdminBrandingPage } from '../../ui/pages/admin-branding.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { adminFormBody, adminPages } from '../pages/admin.js';
import { pageStatus, userMessage } from '../pages/messages.js';

type Form = Record<string, string | undefined>;

/** The company name per organisation (admins, with sudo). */
export function adminBrandingPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const admin = adminPages(services, kit);
  const pagePath = (orgId: string) => `/admin/organisations?org=${encodeURIComponent(orgId)}`;
  const back = { href: '/admin/organisations', label: 'Organisations' };

  async function render(request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, orgId: string, message: { notice?: string; error?: string; value?: string; newName?: string } = {}) {
    const organisations = await admin.managedOrganisations(auth);
    const index = organisations.findIndex((o) => o.id === orgId);
    const org = organisations[index];
    if (!org) return admin.problem(request, reply, notFound('organisation_not_found', 'No such organisation.'), back);
    // managedBy lists the tree depth-first: the children are the following entries one level deeper, up to the next at this depth.
    const children: Array<{ id: string; name: string }> = [];
    for (const o of organisations.slice(index + 1)) {
      if (o.depth <= org.depth) break;
      if (o.depth === org.depth + 1) children.push({ id: o.id, name: o.name });
    }
    const branding = await services.branding.get(sessionActor(auth), org.id);
    const from = branding.inheritedFrom === null ? null : organisations.find((o) => o.id === branding.inheritedFrom);
    const source = branding.inheritedFrom === null ? 'the default' : branding.inheritedFrom === org.id ? 'its own' : `from ${from?.name ?? 'an organisation above it'}`;
    const settings = await services.organisationSettings.view(sessionActor(auth), org.id);
    const view = { organisations, orgId: org.id, orgName: org.name, companyName: branding.companyName, effectiveCompanyName: branding.effectiveCompanyName, source, value: message.value, children, newName: message.newName, emailBackupCodes: settings.emailBackupCodes };
    return kit.html(reply, <AdminBrandingPage chrome={admin.chrome(request, reply, 'Organisations')} view={view} notice={message.notice} error={message.error} />);
  }

  for (const path of ['/admin/organisations', '/admin/branding']) {
    app.get<{ Querystring: { org?: string } }>(
      path,
      { schema: { hide: true, querystring: { type: 'object', properties: { org: { type: 'string', maxLength: 64 } } } } },
      async (request, reply) => {
        const auth = await admin.guard(request, reply, request.url);
        if (!auth) return reply;
        return render(request, reply, auth, request.query.org || auth.user.org_id);
      },
    );
  }

  app.post<{ Body: Form }>('/admin/organisations', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const parentId = request.body.org || '';
    const auth = await admin.guard(request, reply, pagePath(parentId));
    if (!auth) return reply;
    const name = request.body.name ?? '';
    try {
      const created = await services.organisations.createBelow(sessionActor(auth), parentId, { name }, requestMeta(request));
      return await render(request, reply.code(201), auth, parentId, { notice: `Added ${created.name}.` });
    } catch (error) {
      const text = userMessage(error);
      if (pageStatus(error) === 404) return admin.problem(request, reply, error, back);
      return render(request, reply.code(pageStatus(error)), auth, parentId, { error: text, newName: name });
    }
  });

  app.post<{ Body: Form }>('/admin/branding', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const orgId = request.body.org || '';
    const auth = await admin.guard(request, reply, pagePath(orgId));
    if (!auth) return reply;
    const value = (request.body.companyName ?? '').trim();
    try {
      const saved = await services.branding.set(sessionActor(auth), orgId, { companyName: value === '' ? null : value }, requestMeta(request));
      return render(request, reply, auth, orgId, { notice: saved.companyName === null ? 'Saved: this organisation uses the inherited name.' : `Saved: people here now see ${saved.effectiveCompanyName}.` });
    } catch (error) {
      const text = userMessage(error);
      if (pageStatus(error) === 404) return admin.problem(request, reply, error, back);
      return render(request, reply.code(pageStatus(error)), auth, orgId, { error: text, value });
    }
  });

  app.post<{ Body: Form }>('/admin/organisations/settings', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const orgId = request.body.org || '';
    const auth = await admin.guard(request, reply, pagePath(orgId));
    if (!auth) return reply;
    try {
      const saved = await services.organisationSettings.setEmailBackupCodes(sessionActor(auth), orgId, request.body.emailBackupCodes === 'on', requestMeta(request));
      return await render(request, reply, auth, orgId, { notice: saved.emailBackupCodes ? 'Saved: new backup codes are now also emailed to verified addresses.' : 'Saved: backup codes are no longer emailed.' });
    } catch (error) {
      if (pageStatus(error) === 404) return admin.problem(request, reply, error, back);
      return render(request, reply.code(pageStatus(error)), auth, orgId, { error: userMessage(error) });
    }
  });
}
