import type { FastifyInstance } from 'fastify';
import type { Channel } from '../../delivery/index.js';
import type { Services } from '../../services/index.js';
import type { CookieSettings } from '../request-context.js';
import { requestMeta, requireAuth } from '../request-context.js';
import { deliveredEnrolmentJson, destinationBody, destinationFrom, sendableMethod, sentCodeJson, signedInAnswer } from '../api-kit.js';
import { str } from '../schemas.js';
import { CODE_CHECK_CODES, CODE_SEND_CODES, DESTINATION_CODES, FLOW_CODES, PASSWORD_RULE_CODES, PENDING_FACTOR_CODES, SIGNED_IN, deliveredEnrolment, errorReplies, sentCode, signedInReply, statusMessageReply } from '../response-schemas.js';

/** Codes sent by text message and email: during sign-in, forced enrolment and re-authentication; and password reset. */
export function apiCodeRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings): void {
  app.post<{ Body: { challenge: string; method: Channel; factorId?: string } }>(
    '/api/v1/auth/second-factor/send',
    {
      schema: {
        tags: ['auth'],
        summary: 'Send a sign-in code by text message or email (limited per user, destination and IP)', response: { 200: sentCode, ...errorReplies(FLOW_CODES, CODE_SEND_CODES) },
        body: { type: 'object', required: ['challenge', 'method'], additionalProperties: false, properties: { challenge: str(128), method: sendableMethod, factorId: str(64) } },
      },
    },
    async (request) => sentCodeJson(await services.signIn.sendSignInCode(request.body.challenge, request.body.method, request.body.factorId, requestMeta(request))),
  );

  for (const channel of ['sms', 'email'] as const) {
    app.post<{ Body: { challenge: string; country?: string; number?: string; email?: string; label?: string } }>(
      `/api/v1/auth/enrolment/${channel}`,
      {
        schema: {
          tags: ['auth'],
          summary: `Forced enrolment: start a ${channel === 'sms' ? 'text-message' : 'email'} factor; a code is sent to it`, response: { 201: deliveredEnrolment, ...errorReplies(FLOW_CODES, DESTINATION_CODES, CODE_SEND_CODES) },
          body: { ...destinationBody[channel], required: ['challenge', ...(channel === 'sms' ? ['number'] : [])], properties: { ...destinationBody[channel].properties, challenge: str(128) } },
        },
      },
      async (request, reply) => {
        const enrolment = await services.signIn.startDeliveredEnrolment(request.body.challenge, destinationFrom(channel, request.body), request.body.label, requestMeta(request));
        return reply.code(201).send(deliveredEnrolmentJson(enrolment));
      },
    );
  }

  app.post<{ Body: { challenge: string; id: string } }>(
    '/api/v1/auth/enrolment/resend',
    {
      schema: {
        tags: ['auth'],
        summary: 'Forced enrolment: send a new code for a text or email factor being enrolled', response: { 200: sentCode, ...errorReplies(FLOW_CODES, PENDING_FACTOR_CODES, CODE_SEND_CODES) },
        body: { type: 'object', required: ['challenge', 'id'], additionalProperties: false, properties: { challenge: str(128), id: str(64) } },
      },
    },
    async (request) => sentCodeJson(await services.signIn.resendEnrolmentCode(request.body.challenge, request.body.id, requestMeta(request))),
  );

  app.post<{ Body: { challenge: string; id: string; code: string } }>(
    '/api/v1/auth/enrolment/confirm',
    {
      schema: {
        tags: ['auth'],
        summary: 'Forced enrolment: confirm any factor (authenticator, text, email) with its code; signs in and returns backup codes once', response: { 200: signedInReply, ...errorReplies(FLOW_CODES, PENDING_FACTOR_CODES, CODE_CHECK_CODES) },
        body: { type: 'object', required: ['challenge', 'id', 'code'], additionalProperties: false, properties: { challenge: str(128), id: str(64), code: str(16) } },
      },
    },
    async (request, reply) => {
      const { challenge, id, code } = request.body;
      const result = await services.signIn.confirmEnrolment({ challenge, factorId: id, code }, requestMeta(request));
      return { ...(await signedInAnswer(reply, cookies, services, result)), backupCodes: result.backupCodes, ...(result.backupCodesEmail ? { backupCodesEmail: result.backupCodesEmail } : {}) };
    },
  );

  app.post<{ Body: { method: Channel } }>(
    '/api/v1/auth/reauthenticate/send',
    {
      schema: {
        tags: ['auth'],
        summary: 'Send a code by text message or email to re-authenticate with', response: { 200: sentCode, ...errorReplies(SIGNED_IN, CODE_SEND_CODES) },
        body: { type: 'object', required: ['method'], additionalProperties: false, properties: { method: sendableMethod } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      return sentCodeJson(await services.reauth.sendCode(auth, request.body.method, requestMeta(request)));
    },
  );

  app.post<{ Body: { email: string } }>(
    '/api/v1/auth/password-reset',
    {
      schema: {
        tags: ['auth'],
        summary: 'Email a single-use reset link (same answer whether or not the address has an account)', response: { 202: statusMessageReply('sent_if_registered'), ...errorReplies('too_many_requests') },
        body: { type: 'object', required: ['email'], additionalProperties: false, properties: { email: str(254) } },
      },
    },
    async (request, reply) => {
      await services.passwordReset.request(request.body.email, requestMeta(request));
      return reply.code(202).send({ status: 'sent_if_registered', message: 'If an account uses that address, a reset link is on its way. It works for 30 minutes.' });
    },
  );

  app.post<{ Body: { token: string; password: string } }>(
    '/api/v1/auth/password-reset/complete',
    {
      schema: {
        tags: ['auth'],
        summary: 'Set a new password with a reset link token; ends every session and trusted browser, keeps 2FA', response: { 200: statusMessageReply('password_changed'), ...errorReplies('reset_link_invalid', 'too_many_attempts', PASSWORD_RULE_CODES) },
        body: { type: 'object', required: ['token', 'password'], additionalProperties: false, properties: { token: str(128), password: str(1024) } },
      },
    },
    async (request) => {
      await services.passwordReset.complete(request.body.token, request.body.password, requestMeta(request));
      return { status: 'password_changed', message: 'Your password was changed. Sign in with it; your second factor is still needed.' };
    },
  );
}
