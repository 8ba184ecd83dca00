import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SignInResult } from '../../services/sign-in.js';
import type { Services } from '../../services/index.js';
import type { ReauthProof } from '../../services/reauthentication.js';
import type { CookieSettings } from '../request-context.js';
import { COOKIE, clearSessionCookie, requestMeta, requireAuth, setSessionCookie, setTrustCookie } from '../request-context.js';
import { sentCodeJson, signedInAnswer } from '../api-kit.js';
import { str } from '../schemas.js';
import { WEBAUTHN_CHECK_CODES, WEBAUTHN_REGISTRATION_CODES, approvalStartedReply, approvalStatusReply, passkeyOptionsReply, webAuthnCreationReply, webAuthnRequestReply } from '../response-schemas.js';
import { CODE_CHECK_CODES, FLOW_CODES, PENDING_FACTOR_CODES, SIGNED_IN, errorReplies, noContent, reauthenticatedReply, signInReply, signedInReply, stepUpReply, totpEnrolment } from '../response-schemas.js';

export function apiAuthRoutes(app: FastifyInstance, services: Services, cookies: CookieSettings): void {
  app.post<{ Body: { email: string; password: string; sendCode?: boolean } }>(
    '/api/v1/auth/sign-in',
    {
      schema: {
        tags: ['auth'],
        summary: 'Password step of sign-in', response: { 200: signInReply, ...errorReplies('invalid_credentials', 'too_many_attempts', 'sign_in_refused', 'location_unavailable') },
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          // sendCode: send the code of the method the step opens on by itself, as the sign-in page does. Opt-in, so
          // clients that ask for the code themselves right after this call are not told to wait (resend_too_soon).
          properties: { email: str(254), password: str(1024), sendCode: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const result = await services.signIn.withPassword(
        { email: request.body.email, password: request.body.password, trustedBrowserToken: request.cookies[COOKIE.trust] },
        requestMeta(request),
      );
      return signInAnswer(request, reply, result, request.body.sendCode === true);
    },
  );

  /** A sign-in's answer, after a password or a passkey: signed in, or the flow's next step as the pages render it. */
  async function signInAnswer(request: FastifyRequest, reply: FastifyReply, result: SignInResult, sendCode: boolean) {
    if (result.status === 'signed_in') {
      // As the pages do: after an administrator's reset, say the person is asked to set a method up again.
      const setUpAgain = (await services.factors.setUpAgainSince(result.user.id)) !== null;
      return { ...(await signedInAnswer(reply, cookies, services, result)), ...(setUpAgain ? { setUpAgain } : {}) };
    }
    // The flow's view, as the pages render it: what the next step accepts and what it can use.
    const { flow } = result;
    const step = { status: result.status, challenge: result.challenge, methods: flow.methods, expiresAt: new Date(flow.expiresAt).toISOString() };
    if (flow.state === 'enrolment_required') return step;
    const codesLockedUntil = flow.codesLockedUntil === null ? null : new Date(flow.codesLockedUntil).toISOString();
    // As the pages do, when asked: a text or email code for the method the step opens on goes out by itself.
    const opening = sendCode ? await services.signIn.sendOpeningCode(result.challenge, flow, requestMeta(request)) : null;
    const codeSent = opening ? { codeSent: { method: opening.method, factorId: opening.factorId, ...sentCodeJson(opening.code) } } : {};
    return { ...step, sendTargets: flow.sendTargets, unavailable: flow.unavailable, trustBrowserDays: flow.trustBrowserDays, codesLockedUntil, approvers: flow.approvers, ...codeSent };
  }

  app.post(
    '/api/v1/auth/passkey/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Passkey sign-in without a password: options for navigator.credentials.get() (empty allowCredentials: the browser offers its discoverable credentials) and the handle to send back with the assertion',
        response: { 200: passkeyOptionsReply, ...errorReplies('too_many_attempts') },
      },
    },
    async (request) => services.signIn.passkeyOptions(requestMeta(request)),
  );

  app.post<{ Body: { handle: string; assertion: Record<string, unknown>; sendCode?: boolean } }>(
    '/api/v1/auth/passkey',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Passkey sign-in: the assertion for the options of /auth/passkey/options. With user verification it is two factors (signed in, amr hwk or swk, user, mfa); without, it is a first step like a password and the answer is the second step, with the methods other than that key',
        response: { 200: signInReply, ...errorReplies(WEBAUTHN_CHECK_CODES, 'sign_in_refused', 'passkey_user_verification_required') },
        body: {
          type: 'object',
          required: ['handle', 'assertion'],
          additionalProperties: false,
          properties: {
            handle: str(128),
            assertion: { type: 'object', description: 'AuthenticationResponseJSON from navigator.credentials.get()' },
            sendCode: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      const result = await services.signIn.withPasskey(
        { handle: request.body.handle, assertion: JSON.stringify(request.body.assertion), trustedBrowserToken: request.cookies[COOKIE.trust] },
        requestMeta(request),
      );
      return signInAnswer(request, reply, result, request.body.sendCode === true);
    },
  );

  app.post<{ Body: { challenge: string } }>(
    '/api/v1/auth/second-factor/webauthn/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Second step with a security key or passkey: options for navigator.credentials.get() (a fresh single-use challenge for this sign-in)',
        response: { 200: webAuthnRequestReply, ...errorReplies(FLOW_CODES) },
        body: { type: 'object', required: ['challenge'], additionalProperties: false, properties: { challenge: str(128) } },
      },
    },
    async (request) => ({ options: await services.signIn.securityKeyOptions(request.body.challenge) }),
  );

  app.post<{ Body: { challenge: string; method: string; code?: string; assertion?: Record<string, unknown>; trustBrowser?: boolean } }>(
    '/api/v1/auth/second-factor',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Second step of sign-in: a code from one of the offered methods, or (method `webauthn`) the assertion of a security key or passkey. Where policy requires a phishing-resistant method and the person has no key, a right code is answered 403 `phishing_resistant_required` and the same challenge then waits for a key (/auth/enrolment/webauthn)',
        response: { 200: signedInReply, ...errorReplies(FLOW_CODES, CODE_CHECK_CODES, WEBAUTHN_CHECK_CODES, 'sign_in_refused', 'phishing_resistant_required') },
        body: {
          type: 'object',
          required: ['challenge', 'method'],
          anyOf: [{ required: ['code'] }, { required: ['assertion'] }],
          additionalProperties: false,
          properties: {
            challenge: str(128),
            method: str(32),
            code: str(64),
            assertion: { type: 'object', description: 'AuthenticationResponseJSON from navigator.credentials.get() (method `webauthn`)' },
            trustBrowser: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      const { assertion, code, ...step } = request.body;
      const result = await services.signIn.withSecondFactor({ ...step, code: code ?? JSON.stringify(assertion) }, requestMeta(request));
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
      return { ...(await signedInAnswer(reply, cookies, services, result)), backupCodes: result.backupCodes, ...(result.backupCodesEmail ? { backupCodesEmail: result.backupCodesEmail } : {}) };
    },
  );

  app.post<{ Body: { challenge: string } }>(
    '/api/v1/auth/enrolment/webauthn/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Forced enrolment with a security key or passkey (policy requires 2FA, or a key): options for navigator.credentials.create()',
        response: { 200: webAuthnCreationReply, ...errorReplies(FLOW_CODES, 'too_many_factors') },
        body: { type: 'object', required: ['challenge'], additionalProperties: false, properties: { challenge: str(128) } },
      },
    },
    async (request) => ({ options: await services.signIn.enrolmentKeyOptions(request.body.challenge) }),
  );

  app.post<{ Body: { challenge: string; response: Record<string, unknown>; name?: string } }>(
    '/api/v1/auth/enrolment/webauthn',
    {
      schema: {
        tags: ['auth'],
        summary: 'Forced enrolment: register the key with the answer of navigator.credentials.create(); signs in (amr with hwk or swk) and returns backup codes once',
        response: { 200: signedInReply, ...errorReplies(FLOW_CODES, WEBAUTHN_REGISTRATION_CODES) },
        body: {
          type: 'object',
          required: ['challenge', 'response'],
          additionalProperties: false,
          properties: { challenge: str(128), response: { type: 'object', description: 'RegistrationResponseJSON' }, name: str(64, 0) },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const result = await services.signIn.enrolKey(body.challenge, body.response, body.name, requestMeta(request));
      return { ...(await signedInAnswer(reply, cookies, services, result)), backupCodes: result.backupCodes };
    },
  );

  app.post('/api/v1/auth/sign-out', { schema: { tags: ['auth'], summary: 'End the current session', response: { 204: noContent, ...errorReplies(SIGNED_IN) } } }, async (request, reply) => {
    const auth = requireAuth(request);
    await services.signOut.signOut(auth.user, auth.session, requestMeta(request));
    clearSessionCookie(reply, cookies);
    return reply.code(204).send();
  });

  app.get(
    '/api/v1/auth/reauthenticate',
    {
      schema: {
        tags: ['auth'],
        summary: 'The step-up as it stands: what admin areas still need proven (password, code) and the code methods usable now',
        response: { 200: stepUpReply, ...errorReplies(SIGNED_IN) },
      },
    },
    async (request) => {
      const step = await services.reauth.stepUp(requireAuth(request), { returnTo: null });
      return {
        state: step.flow.state,
        missing: [...step.flow.missing],
        askPassword: step.askPassword,
        askCode: step.askCode,
        methods: step.codeMethods,
        approvers: step.approvers,
        expiresAt: new Date(step.flow.expiresAt).toISOString(),
      };
    },
  );

  app.post<{ Body: { password?: string; method?: string; code?: string; assertion?: Record<string, unknown> } }>(
    '/api/v1/auth/reauthenticate',
    {
      schema: {
        tags: ['auth'],
        summary:
          'Prove it is you again before a sensitive action: password, a code, or both (admin areas need both when you have 2FA). Method `webauthn` takes the assertion for /reauthenticate/webauthn/options; method `push` takes the approved requestId as code',
        response: { 200: reauthenticatedReply, ...errorReplies(SIGNED_IN, 'proof_required', 'invalid_credentials', CODE_CHECK_CODES, WEBAUTHN_CHECK_CODES) },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { password: str(1024), method: str(32), code: str(64), assertion: { type: 'object', description: 'AuthenticationResponseJSON (method `webauthn`)' } },
          anyOf: [{ required: ['password'] }, { required: ['method', 'code'] }, { required: ['method', 'assertion'] }],
        },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const body = request.body;
      const code = body.code ?? (body.assertion !== undefined ? JSON.stringify(body.assertion) : undefined);
      const proof: ReauthProof = { password: body.password, ...(body.method !== undefined && code !== undefined ? { method: body.method, code } : {}) };
      const token = await services.reauth.reauthenticate(auth.user, auth.session, proof, requestMeta(request));
      setSessionCookie(reply, cookies, token);
      return { status: 'ok', validUntil: new Date(services.clock() + services.settings.reauthMs).toISOString() };
    },
  );

  app.post(
    '/api/v1/auth/reauthenticate/webauthn/options',
    {
      schema: {
        tags: ['auth'],
        summary: 'Re-authenticate with a security key: options for navigator.credentials.get() (a fresh single-use challenge for this session only)',
        response: { 200: webAuthnRequestReply, ...errorReplies(SIGNED_IN, 'method_unavailable', 'factor_not_found') },
      },
    },
    async (request) => ({ options: await services.reauth.webAuthnOptions(requireAuth(request)) }),
  );

  app.post<{ Body: { approverId: string } }>(
    '/api/v1/auth/reauthenticate/approvals',
    {
      schema: {
        tags: ['auth'],
        summary: 'Re-authenticate on a phone: send a request to a paired phone and show the returned number; once approved, POST /auth/reauthenticate {method: "push", code: requestId}',
        response: { 201: approvalStartedReply, ...errorReplies(SIGNED_IN, 'approver_not_found', 'approval_pending', 'push_paused', 'too_many_pushes', 'method_unavailable') },
        body: { type: 'object', required: ['approverId'], additionalProperties: false, properties: { approverId: str(64) } },
      },
    },
    async (request, reply) => {
      const started = await services.reauth.requestApproval(requireAuth(request), request.body.approverId, requestMeta(request));
      return reply.code(201).send({ requestId: started.requestId, number: started.number, expiresAt: new Date(started.expiresAt).toISOString(), approver: started.deviceName, pushed: started.pushed });
    },
  );

  app.post<{ Body: { requestId: string } }>(
    '/api/v1/auth/reauthenticate/approvals/status',
    {
      schema: {
        tags: ['auth'],
        summary: "Whether the phone has answered this session's step-up request",
        response: { 200: approvalStatusReply, ...errorReplies(SIGNED_IN, 'approval_not_found') },
        body: { type: 'object', required: ['requestId'], additionalProperties: false, properties: { requestId: str(64) } },
      },
    },
    async (request) => ({ state: await services.reauth.approvalStatus(requireAuth(request), request.body.requestId) }),
  );
}
