import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import type { Channel, ProviderKind } from '../../delivery/index.js';
import { CHANNELS, PROVIDER_KINDS } from '../../delivery/index.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { ProviderView } from '../../services/messaging/provider-admin.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { PageChrome } from '../../ui/layout.js';
import type { ProviderFormView } from '../../ui/pages/admin-provider-form.js';
import { KIND_LABELS, PROVIDER_FORM_FIELDS, ProviderFormPage, channelField } from '../../ui/pages/admin-provider-form.js';
import type { ChannelItem, ServicesView } from '../../ui/pages/admin-services.js';
import { AdminServicesPage, CHANNEL_NAMES, configSummary, providerChannels } from '../../ui/pages/admin-services.js';
import { MessagePage } from '../../ui/pages/message.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from '../pages/messages.js';
import { adminPages, reauthPath } from '../pages/admin.js';
import { renderReauthPage } from '../pages/reauth.js';

type Form = Record<string, string | undefined>;
type Message = { notice?: string | undefined; error?: string | undefined };
type Route<P = object> = { Body: Form; Params: P; Querystring: Form };
type Handler<P> = (request: FastifyRequest<Route<P>>, reply: FastifyReply, auth: AuthenticatedSession) => Promise<FastifyReply>;

const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;
const pageQuery = { type: 'object', properties: { org: { type: 'string', maxLength: 64 }, kind: { type: 'string', maxLength: 16 } } } as const;
const channelParams = {
  type: 'object',
  required: ['channel'],
  additionalProperties: false,
  properties: { channel: { type: 'string', enum: [...CHANNELS] } },
} as const;

const isKind = (value: unknown): value is ProviderKind => typeof value === 'string' && (PROVIDER_KINDS as readonly string[]).includes(value);
const isChannel = (value: unknown): value is Channel => typeof value === 'string' && (CHANNELS as readonly string[]).includes(value);
const servicesPath = (orgId: string) => `/admin/services?org=${encodeURIComponent(orgId)}`;

/** A provider's configuration from its form: blank means absent, and a blank secret on edit keeps the stored one. */
function configFromForm(kind: ProviderKind, body: Form): Record<string, unknown> {
  const config: Record<string, unknown> = { kind };
  for (const field of PROVIDER_FORM_FIELDS[kind]) {
    if (field.input === 'channels') config.channels = CHANNELS.filter((c) => body[channelField(c)] === 'on');
    else if (field.input === 'checkbox') {
      if (body[field.name] === 'on') config[field.name] = true;
    } else {
      const value = body[field.name];
      if (value !== undefined && value !== '') config[field.name] = value;
    }
  }
  return config;
}

/** What the form shows: submitted values on a retry, stored ones on edit. Secrets are never shown. */
function formValues(kind: ProviderKind, source: Record<string, unknown>, fromForm: boolean): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of PROVIDER_FORM_FIELDS[kind]) {
    if (field.input === 'secret') continue;
    if (field.input === 'channels') {
      const stored = Array.isArray(source.channels) ? (source.channels as unknown[]) : CHANNELS;
      for (const c of CHANNELS) {
        const on = fromForm ? source[channelField(c)] === 'on' : stored.includes(c);
        if (on) values[channelField(c)] = 'on';
      }
      continue;
    }
    const value = source[field.name];
    if (value === true || (fromForm && field.input === 'checkbox' && value === 'on')) values[field.name] = 'on';
    else if (typeof value === 'string' || typeof value === 'number') values[field.name] = String(value);
  }
  return values;
}

function secretHints(provider: ProviderView): Record<string, string> {
  const hints: Record<string, string> = {};
  const config = provider.config as unknown as Record<string, unknown>;
  for (const field of PROVIDER_FORM_FIELDS[provider.kind as ProviderKind]) {
    const value = config[field.name];
    if (field.input === 'secret' && typeof value === 'string' && value !== '') hints[field.name] = value;
  }
  return hints;
}

function describeChannel(channel: ChannelItem['channel'], effective: { available: boolean; reason: string | null; title: string | null }, providerName: string | undefined): string {
  const name = CHANNEL_NAMES[channel];
  const plural = `${name.toLowerCase()}s`;
  if (effective.available) return `Users can get codes by ${name.toLowerCase()} through ${providerName ?? 'a provider set up above this organisation'}, shown as “${effective.title ?? name}”.`;
  if (effective.reason === 'not_allowed') return `${name} is set up but not allowed for two-step verification.`;
  return `No provider sends ${plural}, so users cannot get codes this way.`;
}

/**
 * The Services Manager in the browser: an organisation's delivery providers and channel entries.
 * Admins only (checked first, so others are not asked to re-authenticate for nothing), and every
 * page and action needs a fresh confirmation: stale GETs go to /reauthenticate and come back,
 * stale form posts get the confirmation form instead of a change. That guard is for the browser's
 * sake; ProviderAdminService checks the same again itself, and that is what protects it.
 */
export function adminServicesPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const shared = adminPages(services, kit);
  const chrome = (request: FastifyRequest, reply: FastifyReply, title: string): PageChrome => shared.chrome(request, reply, title);

  const problemPage = (request: FastifyRequest, reply: FastifyReply, error: unknown, heading: string) => {
    const text = userMessage(error);
    return kit.html(reply.code(describeError(error).status), <MessagePage chrome={chrome(request, reply, heading)} heading={heading} text={text} link={{ href: '/admin/services', label: 'Back to services' }} />);
  };

  /** Signed in, admin, confirmed lately; otherwise answers the request itself and returns null. */
  const guard = async (request: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<AuthenticatedSession | null> => {
    const auth = request.auth;
    if (!auth) {
      void reply.redirect('/sign-in', 303);
      return null;
    }
    try {
      // The same bar as the services themselves: an admin, with the password and, for admins who hold a factor, a current code.
      await services.reauth.requireAdminSudo(sessionActor(auth));
    } catch (error) {
      if (isTwofoldError(error) && error.code === 'not_admin') {
        void kit.html(reply.code(403), <MessagePage chrome={kit.chrome(request, reply, 'Administrators only')} heading="Administrators only" text={error.message} link={{ href: '/account', label: 'Your account' }} />);
        return null;
      }
      if (!isTwofoldError(error) || error.code !== 'reauthentication_required') throw error;
      if (request.method === 'GET') void reply.redirect(reauthPath(returnTo), 303);
      // A form that arrives after the window closed is not replayed: the admin confirms, then sends it again.
      else await renderReauthPage(services, kit, request, reply.code(403), auth, returnTo, { notice: 'Confirm it is you, then send the form again. Nothing was changed.' });
      return null;
    }
    return auth;
  };

  /** Runs a page or action for an admin; a refusal nobody handled becomes a page with the reason. */
  const adminRoute =
    <P,>(returnTo: (request: FastifyRequest<Route<P>>) => string, run: Handler<P>) =>
    async (request: FastifyRequest<Route<P>>, reply: FastifyReply) => {
      const auth = await guard(request, reply, returnTo(request));
      if (!auth) return reply;
      try {
        return await run(request, reply, auth);
      } catch (error) {
        return problemPage(request, reply, error, isTwofoldError(error) && error.kind === 'not_found' ? 'Not found' : 'That did not work');
      }
    };

  /** The organisation's name, and those of the organisations above it that this admin also manages. */
  const managedChain = async (auth: AuthenticatedSession, orgId: string): Promise<Array<{ id: string; name: string }>> => {
    const chain: Array<{ id: string; name: string }> = [];
    let org = (await services.policy.organisationPolicy(sessionActor(auth), orgId)).organisation;
    chain.push({ id: org.id, name: org.name });
    while (org.id !== auth.user.org_id && org.parentId) {
      org = (await services.policy.organisationPolicy(sessionActor(auth), org.parentId)).organisation;
      chain.push({ id: org.id, name: org.name });
    }
    return chain;
  };

  const loadView = async (auth: AuthenticatedSession, orgId: string): Promise<ServicesView> => {
    const [chain, organisations] = await Promise.all([managedChain(auth, orgId), shared.managedOrganisations(auth)]);
    const lists = await Promise.all(chain.map((org) => services.providers.list(sessionActor(auth), org.id)));
    const own = lists[0]!;
    const names = new Map(chain.map((o) => [o.id, o.name]));
    const usable = chain.flatMap((org, i) => (lists[i]?.providers ?? []).map((p) => ({ provider: p, org, inherited: i > 0 })));
    const channels: ChannelItem[] = own.channels.map((entry) => {
      const fromOrgId = entry.effective.fromOrgId;
      const provider = usable.find((u) => u.provider.id === entry.effective.providerId)?.provider;
      return {
        channel: entry.channel,
        own: entry.own,
        available: entry.effective.available,
        state: describeChannel(entry.channel, entry.effective, provider?.name),
        inheritedFrom: fromOrgId !== null && fromOrgId !== orgId ? (names.get(fromOrgId) ?? 'an organisation above this one') : null,
        choices: usable
          .filter((u) => providerChannels(u.provider.kind as ProviderKind, u.provider.config as unknown as Record<string, unknown>).includes(entry.channel))
          .map((u) => ({ id: u.provider.id, label: `${u.provider.name} (${KIND_LABELS[u.provider.kind as ProviderKind]}${u.inherited ? `, ${u.org.name}` : ''})` })),
      };
    });
    return {
      orgId,
      orgName: chain[0]!.name,
      organisations,
      providers: own.providers.map((p) => {
        const config = p.config as unknown as Record<string, unknown>;
        return { id: p.id, name: p.name, kind: p.kind as ProviderKind, summary: configSummary(p.kind as ProviderKind, config), channels: providerChannels(p.kind as ProviderKind, config) };
      }),
      channels,
    };
  };

  const renderServices = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, orgId: string, message: Message = {}) => {
    const view = await loadView(auth, orgId);
    return kit.html(reply, <AdminServicesPage chrome={chrome(request, reply, 'Services')} view={view} notice={message.notice} error={message.error} />);
  };

  /** A refused action shows the services page again with the reason, under the refusal's status. */
  const servicesWithError = (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, orgId: string, error: unknown, prefix = '') => {
    const text = `${prefix}${userMessage(error)}`;
    return renderServices(request, reply.code(describeError(error).status), auth, orgId, { error: text });
  };

  const renderForm = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, view: Omit<ProviderFormView, 'orgName'>, error?: string) => {
    const orgName = (await services.policy.organisationPolicy(sessionActor(auth), view.orgId)).organisation.name;
    const title = view.mode === 'edit' ? `Edit ${view.name}` : `New ${KIND_LABELS[view.kind]} provider`;
    return kit.html(reply, <ProviderFormPage chrome={chrome(request, reply, title)} view={{ ...view, orgName }} error={error} />);
  };

  const configError = (error: unknown) => {
    const text = userMessage(error);
    return isTwofoldError(error) && error.code === 'provider_config_invalid' ? `Check the settings: ${text}${/[.!?]$/.test(text) ? '' : '.'}` : text;
  };

  app.get<Route>(
    '/admin/services',
    { schema: { hide: true, querystring: pageQuery } },
    adminRoute<object>(
      (request) => request.url,
      (request, reply, auth) => renderServices(request, reply, auth, request.query.org || auth.user.org_id),
    ),
  );

  app.get<Route>(
    '/admin/services/providers/new',
    { schema: { hide: true, querystring: pageQuery } },
    adminRoute<object>(
      (request) => request.url,
      async (request, reply, auth) => {
        const orgId = request.query.org || auth.user.org_id;
        const kind = request.query.kind;
        if (!isKind(kind)) return renderServices(request, reply.code(400), auth, orgId, { error: `Choose a provider kind: ${PROVIDER_KINDS.join(', ')}.` });
        const values: Record<string, string> = kind === 'webhook' ? { [channelField('email')]: 'on', [channelField('sms')]: 'on' } : {};
        return renderForm(request, reply, auth, { mode: 'new', kind, orgId, name: '', values, secretHints: {} });
      },
    ),
  );

  app.post<Route>(
    '/admin/services/providers',
    { schema: { hide: true, body: formBody } },
    adminRoute<object>(
      (request) => `/admin/services/providers/new?kind=${encodeURIComponent(request.body.kind ?? '')}&org=${encodeURIComponent(request.body.org ?? '')}`,
      async (request, reply, auth) => {
        const body = request.body;
        const orgId = body.org || auth.user.org_id;
        const kind = body.kind;
        if (!isKind(kind)) return renderServices(request, reply.code(400), auth, orgId, { error: `Choose a provider kind: ${PROVIDER_KINDS.join(', ')}.` });
        const name = body.name ?? '';
        try {
          const created = await services.providers.create(sessionActor(auth), orgId, { name, config: configFromForm(kind, body) }, requestMeta(request));
          return await renderServices(request, reply, auth, orgId, { notice: `Added ${created.name}. Bind a channel to it below to put it to use.` });
        } catch (error) {
          const view = { mode: 'new' as const, kind, orgId, name, values: formValues(kind, body, true), secretHints: {} };
          return renderForm(request, reply.code(describeError(error).status), auth, view, configError(error));
        }
      },
    ),
  );

  app.get<Route<{ id: string }>>(
    '/admin/services/providers/:id/edit',
    { schema: { hide: true, params: idParams } },
    adminRoute<{ id: string }>(
      (request) => request.url,
      async (request, reply, auth) => {
        const provider = await services.providers.get(sessionActor(auth), request.params.id);
        const kind = provider.kind as ProviderKind;
        const values = formValues(kind, provider.config as unknown as Record<string, unknown>, false);
        return renderForm(request, reply, auth, { mode: 'edit', kind, orgId: provider.orgId, providerId: provider.id, name: provider.name, values, secretHints: secretHints(provider) });
      },
    ),
  );

  app.post<Route<{ id: string }>>(
    '/admin/services/providers/:id',
    { schema: { hide: true, body: formBody, params: idParams } },
    adminRoute<{ id: string }>(
      (request) => `/admin/services/providers/${encodeURIComponent(request.params.id)}/edit`,
      async (request, reply, auth) => {
        const provider = await services.providers.get(sessionActor(auth), request.params.id);
        const kind = provider.kind as ProviderKind;
        const body = request.body;
        const name = body.name ?? '';
        try {
          const saved = await services.providers.update(sessionActor(auth), provider.id, { name, config: configFromForm(kind, body) }, requestMeta(request));
          return await renderServices(request, reply, auth, saved.orgId, { notice: `Saved ${saved.name}.` });
        } catch (error) {
          const view = { mode: 'edit' as const, kind, orgId: provider.orgId, providerId: provider.id, name, values: formValues(kind, body, true), secretHints: secretHints(provider) };
          return renderForm(request, reply.code(describeError(error).status), auth, view, configError(error));
        }
      },
    ),
  );

  app.post<Route<{ id: string }>>(
    '/admin/services/providers/:id/delete',
    { schema: { hide: true, body: formBody, params: idParams } },
    adminRoute<{ id: string }>(
      () => '/admin/services',
      async (request, reply, auth) => {
        const provider = await services.providers.get(sessionActor(auth), request.params.id);
        try {
          await services.providers.remove(sessionActor(auth), provider.id, requestMeta(request));
        } catch (error) {
          return servicesWithError(request, reply, auth, provider.orgId, error);
        }
        return renderServices(request, reply, auth, provider.orgId, { notice: `Deleted ${provider.name}.` });
      },
    ),
  );

  app.post<Route<{ id: string }>>(
    '/admin/services/providers/:id/test',
    { schema: { hide: true, body: formBody, params: idParams } },
    adminRoute<{ id: string }>(
      () => '/admin/services',
      async (request, reply, auth) => {
        const provider = await services.providers.get(sessionActor(auth), request.params.id);
        const channel = request.body.channel;
        const to = (request.body.to ?? '').trim();
        if (!isChannel(channel)) return renderServices(request, reply.code(400), auth, provider.orgId, { error: 'Choose email or text message for the test.' });
        try {
          await services.providers.test(sessionActor(auth), provider.id, { channel, to }, requestMeta(request));
        } catch (error) {
          // The admin needs the provider's own words to fix the setup.
          return servicesWithError(request, reply, auth, provider.orgId, error, `${provider.name} could not send the test message: `);
        }
        return renderServices(request, reply, auth, provider.orgId, { notice: `Test message sent to ${to} through ${provider.name}.` });
      },
    ),
  );

  app.post<Route<{ channel: Channel }>>(
    '/admin/services/channels/:channel',
    { schema: { hide: true, body: formBody, params: channelParams } },
    adminRoute<{ channel: Channel }>(
      (request) => servicesPath(request.body.org ?? ''),
      async (request, reply, auth) => {
        const body = request.body;
        const orgId = body.org || auth.user.org_id;
        const channel = request.params.channel;
        const input = { providerId: body.providerId ? body.providerId : null, title: body.title ?? '', allowed: body.allowed === 'on' };
        try {
          await services.providers.setChannel(sessionActor(auth), orgId, channel, input, requestMeta(request));
        } catch (error) {
          return servicesWithError(request, reply, auth, orgId, error);
        }
        return renderServices(request, reply, auth, orgId, { notice: `${CHANNEL_NAMES[channel]} saved.` });
      },
    ),
  );
}
