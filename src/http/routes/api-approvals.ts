import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import { sessionActor } from '../../services/index.js';
import type { ApproverView, PendingApproval } from '../../services/approvals/approvals.js';
import { requestMeta, requireAuth } from '../request-context.js';
import { idParams, str } from '../schemas.js';
import {
  APPROVER_SIGNED_CODES,
  FLOW_CODES,
  SIGNED_IN,
  approvalStartedReply,
  approvalStatusReply,
  approverReply,
  approversReply,
  decisionReply,
  errorReplies,
  noContent,
  pairedReply,
  pairingLinkReply,
  pendingApprovalsReply,
  vapidKeyReply,
} from '../response-schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();
const approverJson = (a: ApproverView) => ({ id: a.id, name: a.name, createdAt: iso(a.createdAt), lastUsedAt: a.lastUsedAt === null ? null : iso(a.lastUsedAt), push: a.push });
const pendingJson = (p: PendingApproval) => ({ ...p, description: { ...p.description, at: iso(p.description.at) }, expiresAt: iso(p.expiresAt) });

const jwkSchema = {
  type: 'object',
  required: ['kty', 'crv', 'x', 'y'],
  properties: { kty: str(8), crv: str(16), x: str(64), y: str(64) },
} as const;
const subscriptionSchema = {
  type: ['object', 'null'],
  required: ['endpoint', 'keys'],
  properties: {
    endpoint: str(2048),
    expirationTime: { type: ['number', 'null'] },
    keys: { type: 'object', required: ['p256dh', 'auth'], properties: { p256dh: str(128), auth: str(64) } },
  },
} as const;
const signature = str(128);

/**
 * Phone approvals (issue 19). Three callers: the person on their Security page (session), the
 * phone's approver app (no session: every call is signed with its device key, or carries the
 * single-use pairing link), and the page waiting at a sign-in's second step (the flow's challenge).
 */
export function apiApprovalRoutes(app: FastifyInstance, services: Services): void {
  app.get('/api/v1/approvers', { schema: { tags: ['approvals'], summary: 'Your phones paired for sign-in approvals', response: { 200: approversReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { approvers: (await services.approvals.list(sessionActor(auth))).map(approverJson) };
  });

  app.post(
    '/api/v1/approvers/pairings',
    { schema: { tags: ['approvals'], summary: 'A single-use, 10-minute link that pairs a phone (needs recent re-authentication)', response: { 201: pairingLinkReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'too_many_factors') } } },
    async (request, reply) => {
      const auth = requireAuth(request);
      const link = await services.approvals.startPairing(sessionActor(auth), requestMeta(request));
      return reply.code(201).send({ url: link.url, expiresAt: iso(link.expiresAt) });
    },
  );

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    '/api/v1/approvers/:id',
    {
      schema: {
        tags: ['approvals'],
        summary: 'Rename a paired phone',
        response: { 200: approverReply, ...errorReplies(SIGNED_IN, 'approver_not_found', 'label_invalid') },
        params: idParams,
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: str(64, 0) } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      return approverJson(await services.approvals.rename(sessionActor(auth), request.params.id, request.body.name, requestMeta(request)));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/api/v1/approvers/:id',
    { schema: { tags: ['approvals'], summary: 'Remove a paired phone (needs recent re-authentication)', response: { 204: noContent, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'approver_not_found', 'factor_required_by_policy') }, params: idParams } },
    async (request, reply) => {
      const auth = requireAuth(request);
      await services.approvals.remove(sessionActor(auth), request.params.id, requestMeta(request));
      return reply.code(204).send();
    },
  );

  app.get('/api/v1/approver/vapid-key', { schema: { tags: ['approvals'], summary: "Twofold's VAPID public key (RFC 8292), for the phone's push subscription", response: { 200: vapidKeyReply, ...errorReplies() } } }, async () => {
    return { publicKey: await services.approvals.vapidPublicKey() };
  });

  app.post<{ Body: { token: string; name: string; publicKey: Record<string, unknown>; subscription?: Record<string, unknown> | null } }>(
    '/api/v1/approver/pair',
    {
      schema: {
        tags: ['approvals'],
        summary: "The phone's side of pairing: spends the link, registers the device's public key and push subscription",
        response: { 201: pairedReply, ...errorReplies('pairing_link_invalid', 'approver_key_invalid', 'push_subscription_invalid', 'label_invalid', 'too_many_attempts') },
        body: {
          type: 'object',
          required: ['token', 'name', 'publicKey'],
          additionalProperties: false,
          properties: { token: str(128), name: str(64, 0), publicKey: jwkSchema, subscription: subscriptionSchema },
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const paired = await services.approvals.pair({ token: body.token, name: body.name, publicKey: body.publicKey, subscription: body.subscription ?? undefined }, requestMeta(request));
      return reply.code(201).send(paired);
    },
  );

  app.post<{ Body: { deviceId: string; timestamp: number; signature: string } }>(
    '/api/v1/approver/pending',
    {
      schema: {
        tags: ['approvals'],
        summary: "The phone's pending requests (for browsers without push), signed with its device key over its id and the time",
        response: { 200: pendingApprovalsReply, ...errorReplies(APPROVER_SIGNED_CODES) },
        body: { type: 'object', required: ['deviceId', 'timestamp', 'signature'], additionalProperties: false, properties: { deviceId: str(64), timestamp: { type: 'integer' }, signature } },
      },
    },
    async (request) => {
      return { requests: (await services.approvals.pending(request.body)).map(pendingJson) };
    },
  );

  app.post<{ Body: { requestId: string; decision: string; number?: number; signature: string } }>(
    '/api/v1/approver/decisions',
    {
      schema: {
        tags: ['approvals'],
        summary: "The phone's signed decision: approve (with the number on the screen), deny, or report (\"This wasn't me\")",
        response: { 200: decisionReply, ...errorReplies(APPROVER_SIGNED_CODES, 'approval_already_decided', 'approval_expired', 'approval_number_wrong', 'approval_decision_invalid') },
        body: {
          type: 'object',
          required: ['requestId', 'decision', 'signature'],
          additionalProperties: false,
          properties: { requestId: str(64), decision: str(16), number: { type: 'integer', minimum: 0, maximum: 99 }, signature },
        },
      },
    },
    async (request) => {
      return services.approvals.decide(request.body, requestMeta(request));
    },
  );

  app.post<{ Body: { challenge: string; approverId: string } }>(
    '/api/v1/auth/approvals',
    {
      schema: {
        tags: ['auth'],
        summary: 'Second step by phone: send an approval request to a paired phone; show the returned number',
        response: { 201: approvalStartedReply, ...errorReplies(FLOW_CODES, 'approver_not_found', 'approval_pending', 'push_paused', 'too_many_pushes', 'method_unavailable') },
        body: { type: 'object', required: ['challenge', 'approverId'], additionalProperties: false, properties: { challenge: str(128), approverId: str(64) } },
      },
    },
    async (request, reply) => {
      const started = await services.signIn.requestApproval(request.body.challenge, request.body.approverId, requestMeta(request));
      return reply.code(201).send({ requestId: started.requestId, number: started.number, expiresAt: iso(started.expiresAt), approver: started.deviceName, pushed: started.pushed });
    },
  );

  app.post<{ Body: { challenge: string; requestId: string } }>(
    '/api/v1/auth/approvals/status',
    {
      schema: {
        tags: ['auth'],
        summary: "Whether the phone has answered yet; once `approved`, finish with POST /auth/second-factor {method: 'push', code: requestId}",
        response: { 200: approvalStatusReply, ...errorReplies(FLOW_CODES, 'approval_not_found') },
        body: { type: 'object', required: ['challenge', 'requestId'], additionalProperties: false, properties: { challenge: str(128), requestId: str(64) } },
      },
    },
    async (request) => {
      return { state: await services.signIn.approvalStatus(request.body.challenge, request.body.requestId) };
    },
  );
}
