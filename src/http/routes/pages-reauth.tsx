import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import type { ReauthProof } from '../../services/reauthentication.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, setSessionCookie } from '../request-context.js';
import { userMessage } from '../pages/messages.js';
import { AFTER_REAUTH_DEFAULT, reauthAskOf, renderReauthPage, safeNext } from '../pages/reauth.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

export function reauthPageRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings, kit: PageKit): void {
  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };

  app.get<{ Querystring: { next?: string; method?: string; ask?: string } }>(
    '/reauthenticate',
    { schema: { hide: true, querystring: { type: 'object', properties: { next: { type: 'string', maxLength: 2048 }, method: { type: 'string', maxLength: 32 }, ask: { type: 'string', maxLength: 8 } } } } },
    async (request, reply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      return renderReauthPage(services, kit, request, reply, auth, request.query.next ?? AFTER_REAUTH_DEFAULT, { selected: request.query.method, ask: reauthAskOf(request.query.ask) });
    },
  );

  app.post<{ Body: Form }>('/reauthenticate', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const body = request.body;
    const next = safeNext(body.next);
    // Whatever the form asked for is checked together: admin areas want the password and a code at once.
    const proof: ReauthProof = {
      ...(body.password !== undefined ? { password: body.password } : {}),
      ...(body.code !== undefined ? { method: body.method ?? '', code: body.code } : {}),
    };
    try {
      const token = await services.reauth.reauthenticate(auth.user, auth.session, proof, requestMeta(request));
      setSessionCookie(reply, cookies, token);
      return reply.redirect(next, 303);
    } catch (error) {
      const text = userMessage(error);
      // Ask again for what was asked: the form sends exactly the fields it showed.
      const ask = body.code === undefined ? undefined : body.password === undefined ? 'code' : 'all';
      return renderReauthPage(services, kit, request, reply.code(describeError(error).status), auth, next, { error: text, selected: body.method, ask });
    }
  });

  app.post<{ Body: Form }>('/reauthenticate/send', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const method = request.body.method ?? '';
    const next = safeNext(request.body.next);
    try {
      const sent = await services.reauth.sendCode(auth, method, requestMeta(request));
      return renderReauthPage(services, kit, request, reply, auth, next, { notice: `We sent a code by ${sent.title} to ${sent.sentTo}. Enter it below.`, selected: method });
    } catch (error) {
      const text = userMessage(error);
      const { status, retryAfter } = describeError(error);
      if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
      return renderReauthPage(services, kit, request, reply.code(status), auth, next, { error: text, selected: method });
    }
  });

  /** Sends the step-up to one of the person's phones; the page then shows the number to pick there. */
  app.post<{ Body: Form }>('/reauthenticate/approve', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const next = safeNext(request.body.next);
    try {
      const started = await services.reauth.requestApproval(auth, request.body.approverId ?? '', requestMeta(request));
      const approval = { requestId: started.requestId, number: started.number, approver: started.deviceName, pushed: started.pushed };
      return renderReauthPage(services, kit, request, reply, auth, next, { approval });
    } catch (error) {
      const { status, retryAfter } = describeError(error);
      if (retryAfter !== undefined) reply.header('Retry-After', String(retryAfter));
      return renderReauthPage(services, kit, request, reply.code(status), auth, next, { error: userMessage(error) });
    }
  });

  /** What the waiting page asks: has the phone answered this session's step-up request? */
  app.get<{ Querystring: { request?: string } }>(
    '/reauthenticate/approval',
    { schema: { hide: true, querystring: { type: 'object', properties: { request: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = request.auth;
      if (!auth) return reply.code(401).send({ state: 'expired' });
      // Anything but an answer for this session's own request reads as expired.
      const state = await services.reauth.approvalStatus(auth, request.query.request ?? '').catch(() => 'expired' as const);
      return reply.header('Cache-Control', 'no-store').send({ state });
    },
  );
}
