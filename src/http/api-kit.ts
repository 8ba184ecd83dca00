import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { formatInTimeZone } from '../core/time-zone.js';
import type { Channel } from '../delivery/index.js';
import type { DeliveredEnrolment, DestinationInput } from '../services/delivered-factors.js';
import type { Services } from '../services/index.js';
import type { SentCode } from '../services/messaging/code-sender.js';
import type { IssuedSession } from '../services/sessions.js';
import type { User } from '../store/index.js';
import type { CookieSettings } from './request-context.js';
import { setSignInCookies } from './request-context.js';
import { str } from './schemas.js';

/**
 * What more than one API route file shares (route files never import each other): JSON shapes,
 * body schemas and the signed-in answer. Pages use the request-value helpers too.
 */

/** The answer of every API step that completes a sign-in: cookies set, who, and how they proved it. */
export async function signedInAnswer(reply: FastifyReply, cookies: CookieSettings, services: Services, result: { user: User; session: IssuedSession }) {
  setSignInCookies(reply, cookies, result.session);
  return { status: 'signed_in' as const, user: await services.accounts.profile(result.user), amr: result.session.session.amr };
}

export const sendableMethod = { type: 'string', enum: ['sms', 'email'] } as const;

export function sentCodeJson(sent: SentCode) {
  return { channel: sent.channel, title: sent.title, sentTo: sent.sentTo, expiresAt: new Date(sent.expiresAt).toISOString(), resendAt: new Date(sent.resendAt).toISOString() };
}

export function deliveredEnrolmentJson(e: DeliveredEnrolment) {
  return { id: e.id, type: e.type, label: e.label, replaces: e.replaces, enrolmentExpiresAt: new Date(e.enrolmentExpiresAt).toISOString(), ...sentCodeJson(e) };
}

/** `{channel:'sms', country, number}` or `{channel:'email', email?}` from a request body. */
export function destinationFrom(channel: Channel, body: { country?: string; number?: string; email?: string }): DestinationInput {
  return channel === 'sms' ? { channel, country: body.country ?? '', number: body.number ?? '' } : { channel, email: body.email };
}

export const destinationBody = {
  // The number's bound is above the parser's own 40 characters, so an over-long number gets phone_invalid like any other bad one.
  sms: { type: 'object', required: ['number'], additionalProperties: false, properties: { country: str(8, 0), number: str(64), label: str(64, 0) } },
  email: { type: 'object', additionalProperties: false, properties: { email: str(254, 0), label: str(64, 0) } },
} as const;

/** Export file name: the date in the user's zone, so two exports of one day do not look different. */
export function exportFileName(nowMs: number, timeZone: string): string {
  return `security-activity-${formatInTimeZone(nowMs, timeZone).slice(0, 10)}.csv`;
}

/**
 * Sends a CSV download as it is produced: a byte stream (not object mode), so it pulls the next
 * chunk only when the client has taken the last one and a slow reader holds back the export
 * instead of letting it pile up in memory.
 */
export function sendCsvDownload(reply: FastifyReply, chunks: AsyncIterable<string>, fileName: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('Cache-Control', 'no-store')
    .header('Content-Disposition', `attachment; filename="${fileName}"`)
    .send(Readable.from(chunks, { objectMode: false }));
}
