import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../../core/errors.js';
import { OIDC_SCOPES } from '../../core/oidc.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { AdminClientsView, ClientFormValues } from '../../ui/pages/admin-clients.js';
import { AdminClientsPage } from '../../ui/pages/admin-clients.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from '../pages/messages.js';
import { adminFormBody, adminPages } from '../pages/admin.js';

type Form = Record<string, string | undefined>;

interface Message {
  notice?: string | undefined;
  error?: string | undefined;
  values?: ClientFormValues | undefined;
  revealed?: AdminClientsView['revealed'];
}

const splitUris = (value: string | undefined) => (value ?? '').split(/\s+/).filter((u) => u !== '');

/** Registering and looking after the apps that sign people in through Twofold (admins, with sudo). */
export function adminClientPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const admin = adminPages(services, kit);
  const issuer = services.settings.publicUrl;
  const listPath = (orgId: string) => `/admin/clients?org=${encodeURIComponent(orgId)}`;

  async function render(request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, orgId: string, message: Message = {}) {
    const organisations = await admin.managedOrganisations(auth);
    const org = organisations.find((o) => o.id === orgId) ?? organisations[0];
    if (!org) return admin.problem(request, reply, notFound('organisation_not_found', 'No such organisation.'), { href: '/account', label: 'Your account' });
    const clients = await services.oidcClients.list(sessionActor(auth), org.id);
    const view: AdminClientsView = {
      organisations,
      orgId: org.id,
      orgName: org.name,
      clients: clients.map((c) => ({ id: c.id, name: c.name, public: c.public, redirectUris: c.redirectUris, scopes: c.scopes, requireTwoFactor: c.requireTwoFactor, audience: c.audience })),
      allScopes: OIDC_SCOPES,
      mayOpenToEveryone: await services.oidcClients.mayOpenToEveryone(sessionActor(auth)),
      issuer,
      values: message.values ?? {},
      revealed: message.revealed,
    };
    return kit.html(reply, <AdminClientsPage chrome={admin.chrome(request, reply, 'Apps')} view={view} notice={message.notice} error={message.error} />);
  }

  app.get<{ Querystring: { org?: string } }>(
    '/admin/clients',
    { schema: { hide: true, querystring: { type: 'object', properties: { org: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = await admin.guard(request, reply, request.url);
      if (!auth) return reply;
      return render(request, reply, auth, request.query.org || auth.user.org_id);
    },
  );

  app.post<{ Body: Form }>('/admin/clients', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const b = request.body;
    const orgId = b.org || '';
    const auth = await admin.guard(request, reply, listPath(orgId));
    if (!auth) return reply;
    const scopes = OIDC_SCOPES.filter((s) => s === 'openid' || b[`scope_${s}`] === '1');
    const values: ClientFormValues = {
      name: b.name,
      redirectUris: b.redirectUris,
      postLogoutRedirectUris: b.postLogoutRedirectUris,
      public: b.kind === 'public',
      scopes,
      requireTwoFactor: b.requireTwoFactor === '1',
      audience: b.audience === 'everyone' ? 'everyone' : 'organisation',
    };
    try {
      const { client, secret } = await services.oidcClients.create(
        sessionActor(auth),
        orgId,
        {
          name: b.name ?? '',
          redirectUris: splitUris(b.redirectUris),
          postLogoutRedirectUris: splitUris(b.postLogoutRedirectUris),
          public: values.public,
          scopes,
          requireTwoFactor: values.requireTwoFactor,
          audience: values.audience,
        },
        requestMeta(request),
      );
      return render(request, reply.code(201), auth, orgId, { notice: `${client.name} is registered.`, revealed: { clientId: client.id, name: client.name, secret } });
    } catch (error) {
      const text = userMessage(error);
      return render(request, reply.code(describeError(error).status), auth, orgId, { error: text, values });
    }
  });

  for (const [action, label] of [
    ['secret', 'New secret'],
    ['delete', 'Delete'],
  ] as const) {
    app.post<{ Body: Form; Params: { id: string } }>(`/admin/clients/:id/${action}`, { schema: { hide: true, body: adminFormBody, params: idParams } }, async (request, reply) => {
      const orgId = request.body.org || '';
      const auth = await admin.guard(request, reply, listPath(orgId));
      if (!auth) return reply;
      try {
        if (action === 'delete') {
          const client = await services.oidcClients.get(sessionActor(auth), request.params.id);
          await services.oidcClients.remove(sessionActor(auth), client.id, requestMeta(request));
          return render(request, reply, auth, orgId || client.orgId, { notice: `${client.name} was deleted; it can no longer sign anyone in.` });
        }
        const { client, secret } = await services.oidcClients.rotateSecret(sessionActor(auth), request.params.id, requestMeta(request));
        return render(request, reply, auth, orgId || client.orgId, { notice: `${client.name} has a new secret; the old one no longer works.`, revealed: { clientId: client.id, name: client.name, secret } });
      } catch (error) {
        return admin.problem(request, reply, error, { href: listPath(orgId), label: `Back to apps (${label.toLowerCase()} failed)` });
      }
    });
  }
}
