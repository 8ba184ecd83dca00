import type { FastifyInstance } from 'fastify';
import { sessionActor } from '../../services/actor.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import type { ActivityEntry } from '../../services/activity-log.js';
import type { Services } from '../../services/index.js';
import type { DeviceView, LocationView, NotificationPreferences, SessionView } from '../../services/security-centre.js';
import { requestMeta, requireAuth } from '../request-context.js';
import { exportFileName, sendCsvDownload } from '../api-kit.js';
import { idParams, str } from '../schemas.js';
import { SIGNED_IN, activityCsv, activityReply, deviceBlockedReply, deviceReply, devicesReply, endedSessionsReply, errorReplies, locationBlockedReply, locationReply, locationsReply, noContent, notificationPreferences, sessionsReply, timeZoneReply } from '../response-schemas.js';
import type { Principal } from '../../services/principal.js';

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export function sessionJson(s: SessionView) {
  return {
    id: s.id,
    current: s.current,
    device: s.device,
    ip: s.ip,
    location: s.location,
    deviceId: s.deviceId,
    locationId: s.locationId,
    userAgent: s.userAgent,
    createdAt: iso(s.signedInAt),
    lastSeenAt: iso(s.lastActiveAt),
    expiresAt: iso(s.expiresAt),
    authenticatedAt: iso(s.authenticatedAt),
    amr: s.amr,
  };
}

export function deviceJson(d: DeviceView) {
  return {
    id: d.id,
    label: d.device.label,
    type: d.device.type,
    browser: d.device.browser,
    os: d.device.os,
    userAgent: d.userAgent,
    firstSeenAt: iso(d.firstSeenAt),
    lastSeenAt: iso(d.lastSeenAt),
    lastIp: d.lastIp,
    signInCount: d.signInCount,
    blocked: d.blockedAt !== null,
    blockedAt: isoOrNull(d.blockedAt),
    current: d.current,
  };
}

export function locationJson(l: LocationView) {
  return {
    id: l.id,
    key: l.key,
    label: l.label,
    country: l.country,
    region: l.region,
    lastCity: l.city,
    firstSeenAt: iso(l.firstSeenAt),
    lastSeenAt: iso(l.lastSeenAt),
    lastIp: l.lastIp,
    signInCount: l.signInCount,
    blocked: l.blockedAt !== null,
    blockedAt: isoOrNull(l.blockedAt),
    current: l.current,
  };
}

export function activityJson(e: ActivityEntry, user: Principal) {
  return {
    id: e.id,
    type: e.type,
    category: e.category,
    summary: e.summary,
    occurredAt: iso(e.occurredAt),
    occurredAtLocal: formatInTimeZone(e.occurredAt, user.time_zone),
    ip: e.ip,
    device: e.device,
    userAgent: e.userAgent,
    details: e.details,
  };
}

const preferencesJson = (p: NotificationPreferences) => ({ newDevice: p.newDevice, newLocation: p.newLocation, blockedAttempts: p.blockedAttempts });

const activityQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    type: str(512),
    cursor: str(64),
    limit: { type: 'string', pattern: '^(?:[1-9]|[1-9][0-9]|1[0-9][0-9]|200)$' },
  },
} as const;

/** Splits "sign_in,blocks" into names; the service refuses names it does not know. */
export const filterFrom = (type: string | undefined) => (type ? type.split(',') : undefined);

/** The security centre as JSON, for apps that embed it: sessions, devices, locations, notices, activity. */
export function apiSecurityRoutes(app: FastifyInstance, services: Services): void {
  const centre = services.securityCentre;

  app.get('/api/v1/sessions', { schema: { tags: ['security'], summary: 'Where you are signed in: every active session with device, IP and location', response: { 200: sessionsReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { sessions: (await centre.sessions(auth.user, auth.session.id)).map(sessionJson) };
  });

  app.delete<{ Params: { id: string } }>('/api/v1/sessions/:id', { schema: { tags: ['security'], summary: 'End one of your sessions', response: { 204: noContent, ...errorReplies(SIGNED_IN, 'session_not_found') }, params: idParams } }, async (request, reply) => {
    const auth = requireAuth(request);
    await services.signOut.revokeSession(auth.user, request.params.id, requestMeta(request));
    return reply.code(204).send();
  });

  app.post('/api/v1/sessions/sign-out-others', { schema: { tags: ['security'], summary: 'End every session but this one', response: { 200: endedSessionsReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { endedSessions: await centre.endOtherSessions(auth.user, auth.session, requestMeta(request)) };
  });

  app.get('/api/v1/devices', { schema: { tags: ['security'], summary: 'Every device you signed in from', response: { 200: devicesReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { devices: (await centre.devices(auth.user, requestMeta(request))).map(deviceJson) };
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/devices/:id/block',
    { schema: { tags: ['security'], summary: 'Block a device: its sessions end and its sign-ins are refused', response: { 200: deviceBlockedReply, ...errorReplies(SIGNED_IN, 'device_not_found', 'device_in_use') }, params: idParams } },
    async (request) => {
      const auth = requireAuth(request);
      const result = await centre.blockDevice(auth.user, request.params.id, requestMeta(request));
      return { device: deviceJson(result.device), endedSessions: result.endedSessions };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/devices/:id/unblock',
    { schema: { tags: ['security'], summary: 'Unblock a device (needs a recent re-authentication)', response: { 200: deviceReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'device_not_found') }, params: idParams } },
    async (request) => {
      const auth = requireAuth(request);
      return { device: deviceJson(await centre.unblockDevice(sessionActor(auth), request.params.id, requestMeta(request))) };
    },
  );

  app.get('/api/v1/locations', { schema: { tags: ['security'], summary: 'Every location you signed in from', response: { 200: locationsReply, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return { locations: (await centre.locations(auth.user, requestMeta(request))).map(locationJson) };
  });

  app.post<{ Params: { id: string } }>(
    '/api/v1/locations/:id/block',
    { schema: { tags: ['security'], summary: 'Block a location (needs a recent re-authentication): sessions from it end and sign-ins from it are refused', response: { 200: locationBlockedReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'location_not_found', 'location_in_use') }, params: idParams } },
    async (request) => {
      const auth = requireAuth(request);
      const result = await centre.blockLocation(sessionActor(auth), request.params.id, requestMeta(request));
      return { location: locationJson(result.location), endedSessions: result.endedSessions };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/locations/:id/unblock',
    { schema: { tags: ['security'], summary: 'Unblock a location (needs a recent re-authentication)', response: { 200: locationReply, ...errorReplies(SIGNED_IN, 'reauthentication_required', 'location_not_found') }, params: idParams } },
    async (request) => {
      const auth = requireAuth(request);
      return { location: locationJson(await centre.unblockLocation(sessionActor(auth), request.params.id, requestMeta(request))) };
    },
  );

  app.get('/api/v1/me/notifications', { schema: { tags: ['security'], summary: 'Which sign-in notices you get by email', response: { 200: notificationPreferences, ...errorReplies(SIGNED_IN) } } }, async (request) => {
    const auth = requireAuth(request);
    return preferencesJson(await centre.notificationPreferences(auth.user.id));
  });

  app.put<{ Body: { newDevice?: boolean; newLocation?: boolean } }>(
    '/api/v1/me/notifications',
    {
      schema: {
        tags: ['security'],
        summary: 'Turn new-device and new-location notices on or off (blocked attempts are always told)', response: { 200: notificationPreferences, ...errorReplies(SIGNED_IN) },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { newDevice: { type: 'boolean' }, newLocation: { type: 'boolean' } } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      return preferencesJson(await centre.setNotificationPreferences(auth.user, request.body, requestMeta(request)));
    },
  );

  app.put<{ Body: { timeZone: string } }>(
    '/api/v1/me/time-zone',
    {
      schema: {
        tags: ['account'],
        summary: 'Set the time zone your pages, notices and exports use (an IANA name such as Asia/Kolkata)', response: { 200: timeZoneReply, ...errorReplies(SIGNED_IN, 'time_zone_invalid') },
        body: { type: 'object', required: ['timeZone'], additionalProperties: false, properties: { timeZone: str(64) } },
      },
    },
    async (request) => {
      const auth = requireAuth(request);
      await centre.setTimeZone(auth.user, request.body.timeZone, requestMeta(request));
      return { timeZone: request.body.timeZone.trim() };
    },
  );

  app.get<{ Querystring: { type?: string; cursor?: string; limit?: string } }>(
    '/api/v1/activity',
    { schema: { tags: ['security'], summary: 'Your security activity, newest first; filter by category or event type', response: { 200: activityReply, ...errorReplies(SIGNED_IN, 'activity_type_invalid', 'cursor_invalid', 'limit_invalid') }, querystring: activityQuery } },
    async (request) => {
      const auth = requireAuth(request);
      const q = request.query;
      const page = await services.activity.page(auth.user, { cursor: q.cursor, limit: q.limit === undefined ? undefined : Number(q.limit), filter: filterFrom(q.type) });
      return { timeZone: auth.user.time_zone, events: page.entries.map((e) => activityJson(e, auth.user)), nextCursor: page.nextCursor };
    },
  );

  app.get<{ Querystring: { type?: string } }>(
    '/api/v1/activity/export',
    {
      schema: {
        tags: ['security'],
        summary: 'Your security activity as a CSV file', response: { 200: activityCsv, ...errorReplies(SIGNED_IN, 'activity_type_invalid') },
        querystring: { type: 'object', additionalProperties: false, properties: { type: str(512) } },
      },
    },
    async (request, reply) => {
      const auth = requireAuth(request);
      const chunks = services.activity.exportCsv(auth.user, filterFrom(request.query.type));
      return sendCsvDownload(reply, chunks, exportFileName(services.clock(), auth.user.time_zone));
    },
  );
}
