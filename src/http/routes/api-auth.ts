import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import type { ReauthProof } from '../../services/reauthentication.js';
import type { CookieSettings } from '../request-context.js';
import { COOKIE, clearSessionCookie, requestMeta, requireAuth, setSessionCookie, setTrustCookie } from '../request-context.js';
import { signedInAnswer } from '../api-kit.js';
import { str } from '../schemas.js';
import { CODE_CHECK_CODES, FLOW_CODES, PENDING_FACTOR_CODES, SIGNED_IN, errorReplies, noContent, reauthenticatedReply, signInReply, signedInReply, totpEnrolment } from '../response-schemas.js';

export function apiAuthRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings): void {
  app.post<{ Body: { email: string; password: string } }>(
    '/api/v1/auth/sign-in',
    {
      schema: {
        tags: ['auth'],
        summary: 'Password step of sign-in', response: { 200: signInReply, ...errorReplies('invalid_credentials', 'too_many_attempts', 'sign_in_refused', 'location_unavailable') },
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: { email: str(254), password: str(1024) },
        },
      },
    },
    async (request, reply) => {
      const result = await services.signIn.withPassword(
        { email: request.body.email, password: request.body.password, trustedBrowserToken: request.cookies[COOKIE.trust] },
        requestMeta(request),
      );
      if (result.status === 'enrolment_required') {
        return { status: result.status, challenge: result.challenge, methods: result.methods, expiresAt: new Date(result.expiresAt).toISOString() };
      }
      if (result.status === 'second_factor_required') {
        return {
          status: result.status,
          challenge: result.challenge,
          methods: result.methods,
          expiresAt: new Date(result.expiresAt).toISOString(),
          // Where text and email codes would go (masked), and factors held but switched off, with why.
          sendTargets: await services.signIn.sendTargets(result.challenge),
          unavailable: result.unavailable.map((m) => ({ method: m.method, reason: m.reason })),
        };
      }
      return signedInAnswer(reply, cookies, services, result);
    },
  );

  app.post<{ Body: { challenge: string; method: string; code: string; trustBrowser?: boolean } }>(
    '/api/v1/auth/second-factor',
    {
      schema: {
        tags: ['auth'],
        summary: 'Second step of sign-in: a code from one of the offered methods', response: { 200: signedInReply, ...errorReplies(FLOW_CODES, CODE_CHECK_CODES, 'sign_in_refused') },
        body: {
          type: 'object',
          required: ['challenge', 'method', 'code'],
          additionalProperties: false,
          properties: { challenge: str(128), method: str(32), code: str(64), trustBrowser: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const result = await services.signIn.withSecondFactor(request.body, requestMeta(request));
      if (result.trustedBrowser) setTrustCookie(reply, cookies, result.trustedBrowser.token, result.trustedBrowser.expiresAt, services.clock());
      return signedInAnswer(reply, cookies, services, result);
    },
  );

  app.post<{ Body: { challenge: string; label?: string } }>(
    '/api/v1/auth/enrolment/totp',
    {
      schema: {
        tags: ['auth'],
        summary: 'Forced enrolment: start an authenticator for a sign-in that policy sent to enrol', response: { 201: totpEnrolment, ...errorReplies(FLOW_CODES, 'label_invalid', 'too_many_factors') },
        body: {
          type: 'object',
          required: ['challenge'],
          additionalProperties: false,
          properties: { challenge: str(128), label: str(64, 0) },
        },
      },
    },
    async (request, reply) => {
      const enrolment = await services.signIn.startEnrolment(request.body.challenge, request.body.label, requestMeta(request));
      return reply.code(201).send(enrolment);
    },
  );

  app.post<{ Body: { challenge: string; id: string; code: string } }>(
    '/api/v1/auth/enrolment/totp/confirm',
    {
      schema: {
        tags: ['auth'],
        summary: 'Forced enrolment: confirm the authenticator with a code; signs in and returns backup codes once', response: { 200: signedInReply, ...errorReplies(FLOW_CODES, PENDING_FACTOR_CODES, CODE_CHECK_CODES) },
        body: {
          type: 'object',
          required: ['challenge', 'id', 'code'],
          additionalProperties: false,
          properties: { challenge: str(128), id: str(64), code: str(16) },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await services.signIn.confirmEnrolment({ challenge: body.challenge, factorId: body.id, code: body.code }, requestMeta(request));
      return { ...(await signedInAnswer(reply, cookies, services, result)), backupCodes: result.backupCodes };
    },
  );

  app.post('/api/v1/auth/sign-out', { schema: { tags: ['auth'], summary: 'End the current session', response: { 204: noContent, ...errorReplies(SIGNED_IN) } } }, async (request, reply) => {
    const auth = requireAuth(request);
    await services.signOut.signOut(auth.user, auth.session, requestMeta(request));
    clearSessionCookie(reply, cookies);
    return reply.code(204).send();
  });

  app.post<{ Body: { password?: string; method?: string; code?: string } }>(
    '/api/v1/auth/reauthenticate',
    {
      schema: {
        tags: ['auth'],
        summary: 'Prove it is you again before a sensitive action: password, a code, or both (admin areas need both when you have 2FA)', response: { 200: reauthenticatedReply, ...errorReplies(SIGNED_IN, 'proof_required', 'invalid_credentials', CODE_CHECK_CODES) },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { password: str(1024), method: str(32), code: str(64) },
          anyOf: [{ required: ['password'] }, { required: ['method', 'code'] }],
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const body = request.body;
      const proof: ReauthProof = { password: body.password, ...(body.method !== undefined && body.code !== undefined ? { method: body.method, code: body.code } : {}) };
      const token = await services.reauth.reauthenticate(auth.user, auth.session, proof, requestMeta(request));
      setSessionCookie(reply, cookies, token);
      return { status: 'ok', validUntil: new Date(services.clock() + services.settings.reauthMs).toISOString() };
    },
  );
}
