import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { qrSvgOf } from '../../core/qr-code.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import type { Services } from '../../services/index.js';
import { sessionActor } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { ApproverAppPage, ApproversPage } from '../../ui/pages/approvers.js';
import type { ApproversView } from '../../ui/pages/approvers.js';
import { APPROVER_ICON, APPROVER_SCRIPT, APPROVER_SERVICE_WORKER, approverManifest } from '../../ui/static/approver.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { userMessage } from '../pages/messages.js';
import { describeError } from '../errors.js';

const APP_SCRIPT = `/approver/app.${createHash('sha256').update(APPROVER_SCRIPT).digest('hex').slice(0, 12)}.js`;
const MANIFEST = '/approver/manifest.webmanifest';

/** The phone approver web app (public: it holds its own key) and the Security page's phones. */
export function approvalPageRoutes(app: FastifyInstance, services: Services, kit: PageKit, companyName: string): void {
  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };

  app.get('/approver', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/approver/', 301));
  app.get('/approver/', { schema: { hide: true } }, async (request, reply) => {
    const chrome = { ...kit.chrome(request, reply, 'Approvals'), app: { manifest: MANIFEST, script: APP_SCRIPT } };
    return kit.html(reply, <ApproverAppPage chrome={chrome} />);
  });
  app.get(APP_SCRIPT, { schema: { hide: true } }, async (_r, reply) => reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'public, max-age=31536000, immutable').send(APPROVER_SCRIPT));
  // Not cached: a new service worker must reach phones with the next release.
  app.get('/approver/sw.js', { schema: { hide: true } }, async (_r, reply) => reply.type('text/javascript; charset=utf-8').header('Cache-Control', 'no-cache').send(APPROVER_SERVICE_WORKER));
  app.get(MANIFEST, { schema: { hide: true } }, async (_r, reply) => reply.type('application/manifest+json; charset=utf-8').header('Cache-Control', 'no-cache').send(approverManifest(companyName)));
  app.get('/approver/icon.svg', { schema: { hide: true } }, async (_r, reply) => reply.type('image/svg+xml').header('Cache-Control', 'public, max-age=86400').send(APPROVER_ICON));

  const render = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, extra: Partial<ApproversView> & { notice?: string; error?: string } = {}) => {
    const zone = auth.user.time_zone;
    const approvers = (await services.approvals.list(sessionActor(auth))).map((a) => ({
      id: a.id,
      name: a.name,
      added: formatInTimeZone(a.createdAt, zone),
      lastUsed: a.lastUsedAt === null ? null : formatInTimeZone(a.lastUsedAt, zone),
      push: a.push,
    }));
    return kit.html(reply, <ApproversPage chrome={kit.chrome(request, reply, 'Phones for approvals')} view={{ approvers, pairing: extra.pairing }} notice={extra.notice} error={extra.error} />);
  };

  app.get('/account/security/approvers', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    return auth ? render(request, reply, auth) : reply;
  });

  const stepUpFirst = (reply: FastifyReply, next: string) => reply.redirect(`/reauthenticate?next=${encodeURIComponent(next)}&ask=code`, 303);
  const needsStepUp = (error: unknown) => isTwofoldError(error) && error.code === 'reauthentication_required';

  app.post('/account/security/approvers/pair', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    try {
      const link = await services.approvals.startPairing(sessionActor(auth), requestMeta(request));
      const qrSvg = await qrSvgOf(link.url);
      return render(request, reply, auth, { pairing: { url: link.url, qrSvg, until: formatInTimeZone(link.expiresAt, auth.user.time_zone) } });
    } catch (error) {
      if (needsStepUp(error)) return stepUpFirst(reply, '/account/security/approvers');
      return render(request, reply.code(isTwofoldError(error) ? 409 : 500), auth, { error: userMessage(error) });
    }
  });

  app.post<{ Params: { id: string }; Body: Record<string, string | undefined> }>(
    '/account/security/approvers/:id/rename',
    { schema: { hide: true, params: idParams, body: { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } } },
    async (request, reply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      try {
        const renamed = await services.approvals.rename(sessionActor(auth), request.params.id, request.body.name ?? '', requestMeta(request));
        return render(request, reply, auth, { notice: `The phone is now called “${renamed.name}”.` });
      } catch (error) {
        return render(request, reply.code(describeError(error).status), auth, { error: userMessage(error) });
      }
    },
  );

  app.post<{ Params: { id: string } }>('/account/security/approvers/:id/remove', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    try {
      await services.approvals.remove(sessionActor(auth), request.params.id, requestMeta(request));
      return render(request, reply, auth, { notice: 'The phone was removed. It can no longer approve anything.' });
    } catch (error) {
      if (needsStepUp(error)) return stepUpFirst(reply, '/account/security/approvers');
      return render(request, reply.code(404), auth, { error: userMessage(error) });
    }
  });
}
