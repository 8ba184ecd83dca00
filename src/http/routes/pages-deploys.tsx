import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import type { DeployActor, DeploymentView, TargetView } from '../../services/deploys/index.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { PageChrome } from '../../ui/layout.js';
import type { DeployNowView } from '../../ui/pages/deploy-now.js';
import { DeployNowPage, DeployedPage } from '../../ui/pages/deploy-now.js';
import type { DeployTargetView, DeploymentRow } from '../../ui/pages/deploy-target.js';
import { DeployTargetPage } from '../../ui/pages/deploy-target.js';
import { DeploysPage } from '../../ui/pages/deploys.js';
import { METHOD_LABELS } from '../../ui/pages/enrol-code.js';
import { MessagePage } from '../../ui/pages/message.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { pageStatus, userMessage } from '../pages/messages.js';
import { adminFormBody, adminPages } from '../pages/admin.js';
import { sessionActor } from '../../services/actor.js';
import type { NewTargetValues, TargetSettingsView } from '../../ui/pages/deploy-settings.js';
import { NewTargetPage, TargetSettingsPage } from '../../ui/pages/deploy-settings.js';
import type { DeployApiKeysView } from '../../ui/pages/deploy-api-keys.js';
import { DeployApiKeysPage } from '../../ui/pages/deploy-api-keys.js';
import { API_KEY_SCOPES } from '../../services/api-keys.js';
import { notFound } from '../../core/errors.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;
const deployQuery = { type: 'object', properties: { rollback: { type: 'string', maxLength: 64 } } } as const;
const CODE_METHODS = ['totp', 'sms', 'email'] as const;

/** What the viewer may do on a target: null when they may deploy, else the reason they may not. */
function blockedReason(target: TargetView, userId: string, isAdmin: boolean, methods: number): string | null {
  const listed = target.deployers.find((d) => d.id === userId);
  if (target.requireTwoFactor) {
    if (!listed) return 'You are not on the list of people who may deploy this target. An administrator can add you.';
    if (!listed.enrolled || methods === 0) return 'Set up two-step verification again before you deploy: your methods were reset.';
    return null;
  }
  return listed || isAdmin ? null : 'Only administrators and the deployers of this target can deploy it.';
}

/**
 * Deploy targets for people: the list, one target (pending changes, what is live, history,
 * deployers), and Deploy Now, which shows exactly what goes out with its digest and takes a
 * current code. The digest travels in the form, so a bundle that changed meanwhile is refused.
 */
export function deployPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };
  const when = (auth: AuthenticatedSession, iso: string) => formatInTimeZone(Date.parse(iso), auth.user.time_zone);
  const chrome = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, title: string): Promise<PageChrome> => ({
    ...kit.chrome(request, reply, title),
    admin: await services.accounts.isAdmin(auth.user.id),
  });
  const actorOf = (auth: AuthenticatedSession): DeployActor => ({ kind: 'user', user: auth.user, sessionId: auth.session.id });

  /** Unknown targets (and those outside the viewer's tree) are a page, not a JSON error. */
  const orNotFound = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, render: () => Promise<FastifyReply>) => {
    try {
      return await render();
    } catch (error) {
      if (!isTwofoldError(error) || error.kind !== 'not_found') throw error;
      return kit.html(reply.code(404), <MessagePage chrome={await chrome(request, reply, auth, 'Not found')} heading="Not found" text={error.message} link={{ href: '/deploy', label: 'Deploy targets' }} />);
    }
  };

  const deploymentRows = async (auth: AuthenticatedSession, deployments: DeploymentView[], liveId: string | null): Promise<DeploymentRow[]> => {
    const labels = await services.deploys.actorLabels(deployments.map((d) => d.approver));
    return deployments.map((d) => ({
      id: d.id,
      at: when(auth, d.createdAt),
      approver: labels.get(d.approver) ?? d.approver,
      method: d.method,
      summary: d.summary,
      digest: d.digest,
      rollbackOf: d.rollbackOf,
      live: d.id === liveId,
    }));
  };

  /** The code methods the viewer holds and may use, authenticator first. */
  const codeMethods = async (auth: AuthenticatedSession) => {
    const held = new Set((await services.factors.list(auth.user.id)).map((f) => f.type));
    // Text and email show under the title the organisation gave the channel.
    const usable = new Map((await services.methods.forUser(auth.user)).filter((m) => m.available).map((m) => [m.method as string, m.title]));
    return CODE_METHODS.filter((m) => held.has(m) && usable.has(m)).map((m) => ({ method: m, label: usable.get(m) ?? METHOD_LABELS[m] ?? m }));
  };

  /** Whether the viewer holds a security key the organisation allows, and their paired phones (when phone approvals are allowed). */
  const keyAndPhones = async (auth: AuthenticatedSession): Promise<{ key: boolean; phones: Array<{ id: string; name: string }> }> => {
    const usable = new Set((await services.methods.forUser(auth.user)).filter((m) => m.available).map((m) => m.method as string));
    const key = usable.has('webauthn') && (await services.factors.list(auth.user.id)).some((f) => f.type === 'webauthn');
    const phones = usable.has('push') ? await services.approvals.approversOf(auth.user.id) : [];
    return { key, phones };
  };

  const renderDeployNow = async (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthenticatedSession,
    targetId: string,
    state: { rollbackTo?: string | undefined; error?: string | undefined; notice?: string | undefined; selected?: string | undefined; approval?: DeployNowView['approval'] } = {},
  ) => {
    const actor = actorOf(auth);
    const preview = await services.deploys.preview(actor, targetId);
    const target = preview.target;
    const [methods, isAdmin, others] = await Promise.all([codeMethods(auth), services.accounts.isAdmin(auth.user.id), keyAndPhones(auth)]);
    const live = target.currentDeployment;
    let rollback: DeployNowView['rollback'] = null;
    let digest = preview.digest;
    if (state.rollbackTo !== undefined) {
      const earlier = (await services.deploys.history(actor, targetId, 200)).find((d) => d.id === state.rollbackTo);
      if (!earlier) return kit.html(reply.code(404), <MessagePage chrome={await chrome(request, reply, auth, 'Not found')} heading="Not found" text="No such deployment of this target." link={{ href: `/deploy/targets/${encodeURIComponent(targetId)}`, label: target.name }} />);
      rollback = { id: earlier.id, at: when(auth, earlier.createdAt), summary: earlier.summary };
      digest = earlier.digest;
    }
    const authors = await services.deploys.actorLabels(preview.changes.map((c) => c.author));
    const view: DeployNowView = {
      targetId: target.id,
      targetName: target.name,
      timing: target.timing,
      requireTwoFactor: target.requireTwoFactor,
      changes: rollback ? [] : preview.changes.map((c) => ({ id: c.id, key: c.key, summary: c.summary, author: authors.get(c.author) ?? c.author, at: when(auth, c.createdAt), oldValue: c.oldValue, newValue: c.newValue })),
      digest,
      rollback,
      live: live ? { at: when(auth, live.createdAt), digest: live.digest } : null,
      nothingToDeploy: rollback ? live?.digest === digest : preview.unchanged || preview.changes.length === 0,
      blocked: blockedReason(target, auth.user.id, isAdmin, methods.length + (others.key ? 1 : 0) + others.phones.length),
      methods,
      sendable: methods.filter((m) => m.method === 'sms' || m.method === 'email'),
      selected: state.selected,
      approvers: others.phones,
      approval: state.approval,
    };
    if (target.requireTwoFactor && others.key && view.blocked === null && !view.nothingToDeploy) {
      // A fresh challenge derived from this digest and target, for this session; a page left open past it asks again.
      const issued = await services.deploys.webAuthnOptions(actor, targetId, { digest, rollbackTo: state.rollbackTo }).catch(() => null);
      if (issued) view.securityKey = { options: JSON.stringify(issued.options), nonce: issued.nonce };
    }
    const title = rollback ? `Roll back ${target.name}` : `Deploy ${target.name}`;
    return kit.html(reply, <DeployNowPage chrome={await chrome(request, reply, auth, title)} view={view} error={state.error} notice={state.notice} />);
  };

  const admin = adminPages(services, kit);

  const renderNewTarget = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, values: NewTargetValues, error?: string) => {
    const organisations = await admin.managedOrganisations(auth);
    return kit.html(reply, <NewTargetPage chrome={admin.chrome(request, reply, 'New deploy target')} organisations={organisations} values={{ orgId: auth.user.org_id, ...values }} error={error} />);
  };

  const renderSettings = async (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthenticatedSession,
    targetId: string,
    state: { notice?: string | undefined; error?: string | undefined; selected?: string | undefined } = {},
  ) => {
    const target = await services.deploys.getTarget(actorOf(auth), targetId);
    const [candidates, methods] = await Promise.all([services.deploys.deployerCandidates(sessionActor(auth), targetId), codeMethods(auth)]);
    const pickable = new Set(candidates.map((c) => c.id));
    const view: TargetSettingsView = {
      id: target.id,
      name: target.name,
      timing: target.timing,
      requireTwoFactor: target.requireTwoFactor,
      candidates,
      deployerIds: target.deployers.map((d) => d.id),
      lapsed: target.deployers.filter((d) => !pickable.has(d.id)).map((d) => d.email),
      methods,
      sendable: methods.filter((m) => m.method === 'sms' || m.method === 'email'),
      selected: state.selected,
    };
    return kit.html(reply, <TargetSettingsPage chrome={admin.chrome(request, reply, `Settings of ${target.name}`)} view={view} notice={state.notice} error={state.error} />);
  };

  /** Admin forms on a target: a target outside the admin's tree is a 404 page; other refusals show on the settings page. */
  const onSettings = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, targetId: string, work: () => Promise<{ notice: string } | FastifyReply>, selected?: string) => {
    try {
      const done = await work();
      if (!('notice' in done)) return done;
      return await renderSettings(request, reply, auth, targetId, { notice: done.notice, selected });
    } catch (error) {
      if (isTwofoldError(error) && error.code === 'deploy_target_not_found') return admin.problem(request, reply, error, { href: '/deploy', label: 'Deploy targets' });
      const message = userMessage(error);
      return renderSettings(request, reply.code(pageStatus(error)), auth, targetId, { error: message, selected });
    }
  };

  const SCOPE_WORDS: Record<(typeof API_KEY_SCOPES)[number], string> = {
    'changes:write': 'Add changes to targets',
    'deployments:read': 'Read targets, previews and history',
    'deployments:write': 'Deploy targets that need no code',
  };
  const keysPath = (orgId: string) => `/deploy/api-keys?org=${encodeURIComponent(orgId)}`;
  const renderApiKeys = async (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthenticatedSession,
    orgId: string,
    state: { notice?: string; error?: string; revealed?: DeployApiKeysView['revealed']; values?: DeployApiKeysView['values'] } = {},
  ) => {
    const organisations = await admin.managedOrganisations(auth);
    const org = organisations.find((o) => o.id === orgId);
    if (!org) return admin.problem(request, reply, notFound('organisation_not_found', 'No such organisation.'), { href: '/deploy', label: 'Deploy targets' });
    const keys = await services.apiKeys.list(sessionActor(auth), org.id);
    const view: DeployApiKeysView = {
      organisations,
      orgId: org.id,
      orgName: org.name,
      keys: keys.map((k) => ({ id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, createdAt: when(auth, k.createdAt), lastUsedAt: k.lastUsedAt ? when(auth, k.lastUsedAt) : null, revokedAt: k.revokedAt ? when(auth, k.revokedAt) : null })),
      scopes: API_KEY_SCOPES.map((scope) => ({ scope, description: SCOPE_WORDS[scope] })),
      revealed: state.revealed,
      values: state.values,
    };
    return kit.html(reply, <DeployApiKeysPage chrome={admin.chrome(request, reply, 'API keys')} view={view} notice={state.notice} error={state.error} />);
  };

  app.get<{ Querystring: { org?: string } }>(
    '/deploy/api-keys',
    { schema: { hide: true, querystring: { type: 'object', properties: { org: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = await admin.guard(request, reply, request.url);
      if (!auth) return reply;
      return renderApiKeys(request, reply, auth, request.query.org || auth.user.org_id);
    },
  );

  app.post<{ Body: Form }>('/deploy/api-keys', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const orgId = request.body.org || '';
    const auth = await admin.guard(request, reply, keysPath(orgId));
    if (!auth) return reply;
    const body = request.body;
    const scopes = API_KEY_SCOPES.filter((s) => body[`scope:${s}`] === 'on');
    try {
      const created = await services.apiKeys.create(sessionActor(auth), orgId, { name: body.name ?? '', scopes }, requestMeta(request));
      return await renderApiKeys(request, reply.code(201), auth, orgId, { revealed: { name: created.apiKey.name, key: created.key } });
    } catch (error) {
      const message = userMessage(error);
      if (pageStatus(error) === 404) return admin.problem(request, reply, error, { href: '/deploy/api-keys', label: 'API keys' });
      return renderApiKeys(request, reply.code(pageStatus(error)), auth, orgId, { error: message, values: { name: body.name, scopes } });
    }
  });

  app.post<{ Params: { id: string }; Body: Form }>('/deploy/api-keys/:id/revoke', { schema: { hide: true, params: idParams, body: adminFormBody } }, async (request, reply) => {
    const orgId = request.body.org || '';
    const auth = await admin.guard(request, reply, keysPath(orgId));
    if (!auth) return reply;
    try {
      await services.apiKeys.revoke(sessionActor(auth), request.params.id, requestMeta(request));
    } catch (error) {
      return admin.problem(request, reply, error, { href: keysPath(orgId), label: 'API keys' });
    }
    return renderApiKeys(request, reply, auth, orgId || auth.user.org_id, { notice: 'Revoked: the key no longer works.' });
  });

  app.get('/deploy/new', { schema: { hide: true } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, request.url);
    if (!auth) return reply;
    return renderNewTarget(request, reply, auth, {});
  });

  app.post<{ Body: Form }>('/deploy/new', { schema: { hide: true, body: adminFormBody } }, async (request, reply) => {
    const auth = await admin.guard(request, reply, '/deploy/new');
    if (!auth) return reply;
    const body = request.body;
    const timing = body.timing === 'automatic' ? 'automatic' : 'manual';
    const values: NewTargetValues = { orgId: body.org, name: body.name, timing, requireTwoFactor: body.requireTwoFactor === 'on' };
    try {
      const target = await services.deploys.createTarget(sessionActor(auth), body.org || auth.user.org_id, { name: body.name ?? '', timing, requireTwoFactor: values.requireTwoFactor }, requestMeta(request));
      return reply.redirect(`/deploy/targets/${encodeURIComponent(target.id)}/settings?created=1`, 303);
    } catch (error) {
      const message = userMessage(error);
      return renderNewTarget(request, reply.code(pageStatus(error)), auth, values, message);
    }
  });

  app.get<{ Params: { id: string }; Querystring: { created?: string } }>(
    '/deploy/targets/:id/settings',
    { schema: { hide: true, params: idParams, querystring: { type: 'object', properties: { created: { type: 'string', maxLength: 8 } } } } },
    async (request, reply) => {
      const auth = await admin.guard(request, reply, request.url);
      if (!auth) return reply;
      const notice = request.query.created ? 'Target created. Choose who may deploy it.' : undefined;
      return onSettings(request, reply, auth, request.params.id, async () => renderSettings(request, reply, auth, request.params.id, { notice }));
    },
  );

  app.post<{ Params: { id: string }; Body: Form }>('/deploy/targets/:id/settings', { schema: { hide: true, params: idParams, body: adminFormBody } }, async (request, reply) => {
    const id = request.params.id;
    const auth = await admin.guard(request, reply, `/deploy/targets/${encodeURIComponent(id)}/settings`);
    if (!auth) return reply;
    const body = request.body;
    return onSettings(request, reply, auth, id, async () => {
      // An unticked box is absent, never "off": no form can ask to switch the requirement off.
      const input = { name: body.name ?? '', timing: body.timing === 'automatic' ? ('automatic' as const) : ('manual' as const), requireTwoFactor: body.requireTwoFactor === 'on' ? true : undefined };
      await services.deploys.updateTarget(sessionActor(auth), id, input, requestMeta(request));
      return { notice: 'Saved.' };
    });
  });

  app.post<{ Params: { id: string }; Body: Form }>('/deploy/targets/:id/deployers', { schema: { hide: true, params: idParams, body: adminFormBody } }, async (request, reply) => {
    const id = request.params.id;
    const auth = await admin.guard(request, reply, `/deploy/targets/${encodeURIComponent(id)}/settings`);
    if (!auth) return reply;
    const body = request.body;
    const userIds = Object.keys(body).filter((k) => k.startsWith('user:') && body[k] === 'on').map((k) => k.slice('user:'.length));
    const code = body.code?.trim() === '' ? undefined : body.code?.replace(/\s+/g, '');
    return onSettings(
      request,
      reply,
      auth,
      id,
      async () => {
        await services.deploys.setDeployers(auth, id, { userIds, method: body.method === '' ? undefined : body.method, code }, requestMeta(request));
        return { notice: 'Deployers saved.' };
      },
      body.method,
    );
  });

  app.post<{ Params: { id: string }; Body: Form }>('/deploy/targets/:id/deployers/send-code', { schema: { hide: true, params: idParams, body: adminFormBody } }, async (request, reply) => {
    const id = request.params.id;
    const auth = await admin.guard(request, reply, `/deploy/targets/${encodeURIComponent(id)}/settings`);
    if (!auth) return reply;
    const method = request.body.method ?? '';
    return onSettings(
      request,
      reply,
      auth,
      id,
      async () => {
        // Check the target first, so nothing is sent for a target the admin cannot reach.
        await services.deploys.deployerCandidates(sessionActor(auth), id);
        const sent = await services.reauth.sendCode(auth, method, requestMeta(request));
        return { notice: `We sent a code by ${sent.title} to ${sent.sentTo}. Enter it below.` };
      },
      method,
    );
  });

  app.get('/deploy', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const targets = await services.deploys.listTargets(actorOf(auth), undefined);
    const rows = targets.map((t) => ({
      id: t.id,
      name: t.name,
      timing: t.timing,
      requireTwoFactor: t.requireTwoFactor,
      pendingChanges: t.pendingChanges,
      liveSince: t.currentDeployment ? when(auth, t.currentDeployment.createdAt) : null,
      liveDigest: t.currentDeployment?.digest ?? null,
    }));
    const pageChrome = await chrome(request, reply, auth, 'Deploy targets');
    return kit.html(reply, <DeploysPage chrome={pageChrome} targets={rows} canCreate={pageChrome.admin === true} />);
  });

  app.get<{ Params: { id: string } }>('/deploy/targets/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    return orNotFound(request, reply, auth, async () => {
      const actor = actorOf(auth);
      const preview = await services.deploys.preview(actor, request.params.id);
      const target = preview.target;
      const [history, methods, isAdmin] = await Promise.all([services.deploys.history(actor, target.id, 50), codeMethods(auth), services.accounts.isAdmin(auth.user.id)]);
      const liveId = target.currentDeployment?.id ?? null;
      const rows = await deploymentRows(auth, history, liveId);
      const authors = await services.deploys.actorLabels(preview.changes.map((c) => c.author));
      const view: DeployTargetView = {
        id: target.id,
        name: target.name,
        timing: target.timing,
        requireTwoFactor: target.requireTwoFactor,
        bundleUrl: target.bundleUrl,
        pending: preview.changes.map((c) => ({ id: c.id, key: c.key, summary: c.summary, author: authors.get(c.author) ?? c.author, at: when(auth, c.createdAt) })),
        unchanged: preview.unchanged,
        current: rows.find((r) => r.live) ?? (target.currentDeployment ? (await deploymentRows(auth, [target.currentDeployment], liveId))[0] ?? null : null),
        history: rows,
        deployers: target.deployers.map((d) => ({ email: d.email, enrolled: d.enrolled })),
        blocked: blockedReason(target, auth.user.id, isAdmin, methods.length),
        canManage: isAdmin,
      };
      return kit.html(reply, <DeployTargetPage chrome={await chrome(request, reply, auth, target.name)} view={view} />);
    });
  });

  app.get<{ Params: { id: string }; Querystring: { rollback?: string } }>(
    '/deploy/targets/:id/deploy',
    { schema: { hide: true, params: idParams, querystring: deployQuery } },
    async (request, reply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      return orNotFound(request, reply, auth, () => renderDeployNow(request, reply, auth, request.params.id, { rollbackTo: request.query.rollback }));
    },
  );

  app.post<{ Params: { id: string }; Body: Form }>('/deploy/targets/:id/deploy', { schema: { hide: true, params: idParams, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const body = request.body;
    const rollbackTo = body.rollbackTo === undefined || body.rollbackTo === '' ? undefined : body.rollbackTo;
    return orNotFound(request, reply, auth, async () => {
      try {
        const deployment = await services.deploys.deploy(
          actorOf(auth),
          request.params.id,
          { digest: body.digest ?? '', method: body.method === '' ? undefined : body.method, code: body.code?.trim() === '' ? undefined : body.code?.trim(), rollbackTo, nonce: body.nonce },
          requestMeta(request),
        );
        const target = await services.deploys.getTarget(actorOf(auth), request.params.id);
        return kit.html(
          reply,
          <DeployedPage
            chrome={await chrome(request, reply, auth, deployment.rollbackOf ? 'Rolled back' : 'Deployed')}
            view={{
              targetId: target.id,
              targetName: target.name,
              deploymentId: deployment.id,
              at: when(auth, deployment.createdAt),
              digest: deployment.digest,
              summary: deployment.summary,
              bundleUrl: target.bundleUrl,
              rollback: deployment.rollbackOf !== null,
            }}
          />,
        );
      } catch (error) {
        if (isTwofoldError(error) && error.code === 'deploy_target_not_found') throw error;
        // The page shows the bundle as it is now: after "changed since you reviewed", the new summary and digest.
        return renderDeployNow(request, reply.code(pageStatus(error)), auth, request.params.id, { rollbackTo, error: userMessage(error), selected: body.method });
      }
    });
  });

  app.post<{ Params: { id: string }; Body: Form }>('/deploy/targets/:id/deploy/send-code', { schema: { hide: true, params: idParams, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const rollbackTo = request.body.rollbackTo === undefined || request.body.rollbackTo === '' ? undefined : request.body.rollbackTo;
    const method = request.body.method ?? '';
    return orNotFound(request, reply, auth, async () => {
      try {
        const sent = await services.deploys.sendApprovalCode(actorOf(auth), request.params.id, { digest: request.body.digest ?? '', method, rollbackTo }, requestMeta(request));
        return renderDeployNow(request, reply, auth, request.params.id, { rollbackTo, selected: method, notice: `We sent a code by ${sent.title} to ${sent.sentTo}. Enter it below.` });
      } catch (error) {
        return renderDeployNow(request, reply.code(pageStatus(error)), auth, request.params.id, { rollbackTo, selected: method, error: userMessage(error) });
      }
    });
  });

  /** Sends the reviewed deploy to one of the viewer's phones; the page then shows the number to pick there. */
  app.post<{ Params: { id: string }; Body: Form }>('/deploy/targets/:id/deploy/approve', { schema: { hide: true, params: idParams, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const rollbackTo = request.body.rollbackTo === undefined || request.body.rollbackTo === '' ? undefined : request.body.rollbackTo;
    return orNotFound(request, reply, auth, async () => {
      try {
        const started = await services.deploys.requestApproval(actorOf(auth), request.params.id, { digest: request.body.digest ?? '', approverId: request.body.approverId ?? '', rollbackTo }, requestMeta(request));
        const approval = { requestId: started.requestId, number: started.number, approver: started.deviceName, pushed: started.pushed };
        return renderDeployNow(request, reply, auth, request.params.id, { rollbackTo, approval });
      } catch (error) {
        if (isTwofoldError(error) && error.code === 'deploy_target_not_found') throw error;
        return renderDeployNow(request, reply.code(pageStatus(error)), auth, request.params.id, { rollbackTo, error: userMessage(error) });
      }
    });
  });

  /** What the waiting Deploy Now page asks: has the phone answered this deploy's request (for this digest)? */
  app.get<{ Params: { id: string }; Querystring: { request?: string; digest?: string; rollback?: string } }>(
    '/deploy/targets/:id/deploy/approval',
    { schema: { hide: true, params: idParams, querystring: { type: 'object', properties: { request: { type: 'string', maxLength: 64 }, digest: { type: 'string', maxLength: 80 }, rollback: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = request.auth;
      if (!auth) return reply.code(401).send({ state: 'expired' });
      try {
        const state = await services.deploys.approvalStatus(actorOf(auth), request.params.id, { digest: request.query.digest ?? '', requestId: request.query.request ?? '', rollbackTo: request.query.rollback });
        return { state };
      } catch {
        // Gone, moved on or not theirs: the page stops waiting and says it expired.
        return { state: 'expired' };
      }
    },
  );
}
