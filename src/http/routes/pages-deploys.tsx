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
import { assertFormToken } from '../csrf.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { pageStatus, userMessage } from '../pages/messages.js';

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
  const actorOf = (auth: AuthenticatedSession): DeployActor => ({ kind: 'user', user: auth.user });

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
    const usable = new Set<string>(await services.methods.usableMethods(auth.user));
    return CODE_METHODS.filter((m) => held.has(m) && usable.has(m)).map((m) => ({ method: m, label: METHOD_LABELS[m] ?? m }));
  };

  const renderDeployNow = async (
    request: FastifyRequest,
    reply: FastifyReply,
    auth: AuthenticatedSession,
    targetId: string,
    state: { rollbackTo?: string | undefined; error?: string | undefined; notice?: string | undefined; selected?: string | undefined } = {},
  ) => {
    const actor = actorOf(auth);
    const preview = await services.deploys.preview(actor, targetId);
    const target = preview.target;
    const [methods, isAdmin] = await Promise.all([codeMethods(auth), services.accounts.isAdmin(auth.user.id)]);
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
      changes: rollback ? [] : preview.changes.map((c) => ({ id: c.id, key: c.key, summary: c.summary, author: authors.get(c.author) ?? c.author, at: when(auth, c.createdAt) })),
      digest,
      rollback,
      live: live ? { at: when(auth, live.createdAt), digest: live.digest } : null,
      nothingToDeploy: rollback ? live?.digest === digest : preview.unchanged || preview.changes.length === 0,
      blocked: blockedReason(target, auth.user.id, isAdmin, methods.length),
      methods,
      sendable: methods.filter((m) => m.method === 'sms' || m.method === 'email'),
      selected: state.selected,
    };
    const title = rollback ? `Roll back ${target.name}` : `Deploy ${target.name}`;
    return kit.html(reply, <DeployNowPage chrome={await chrome(request, reply, auth, title)} view={view} error={state.error} notice={state.notice} />);
  };

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
    return kit.html(reply, <DeploysPage chrome={await chrome(request, reply, auth, 'Deploy targets')} targets={rows} />);
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
    assertFormToken(request, request.body._csrf);
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const body = request.body;
    const rollbackTo = body.rollbackTo === undefined || body.rollbackTo === '' ? undefined : body.rollbackTo;
    return orNotFound(request, reply, auth, async () => {
      try {
        const deployment = await services.deploys.deploy(
          actorOf(auth),
          request.params.id,
          { digest: body.digest ?? '', method: body.method === '' ? undefined : body.method, code: body.code?.trim() === '' ? undefined : body.code?.trim(), rollbackTo },
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
    assertFormToken(request, request.body._csrf);
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const rollbackTo = request.body.rollbackTo === undefined || request.body.rollbackTo === '' ? undefined : request.body.rollbackTo;
    const method = request.body.method ?? '';
    return orNotFound(request, reply, auth, async () => {
      try {
        const sent = await services.deploys.sendApprovalCode(actorOf(auth), request.params.id, { digest: request.body.digest ?? '', method, rollbackTo }, requestMeta(request));
        return renderDeployNow(request, reply, auth, request.params.id, { rollbackTo, selected: method, notice: `We sent a code to ${sent.sentTo}. Enter it below.` });
      } catch (error) {
        return renderDeployNow(request, reply.code(pageStatus(error)), auth, request.params.id, { rollbackTo, selected: method, error: userMessage(error) });
      }
    });
  });
}
