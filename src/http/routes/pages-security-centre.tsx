import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionActor } from '../../services/actor.js';
import { isTwofoldError } from '../../core/errors.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import { ACTIVITY_CATEGORIES } from '../../services/activity-log.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import { ActivityPage } from '../../ui/pages/activity.js';
import type { ActivityView } from '../../ui/pages/activity.js';
import { ConfirmActionPage } from '../../ui/pages/confirm-action.js';
import { DevicesPage } from '../../ui/pages/devices.js';
import { SessionsPage } from '../../ui/pages/sessions.js';
import type { Stamp } from '../../ui/security-nav.js';
import type { PageKit } from '../page-kit.js';
import { COOKIE, requestMeta } from '../request-context.js';
import { idParams } from '../schemas.js';
import { exportFileName, sendCsvDownload } from '../api-kit.js';
import { pageStatus, userMessage } from '../pages/messages.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;
// Pages accept unknown query parameters (links get tracking tags appended); only these are read.
const activityQuery = {
  type: 'object',
  properties: { type: { type: 'string', maxLength: 64 }, cursor: { type: 'string', maxLength: 64 } },
} as const;

const DEVICE_TYPES: Record<string, string> = { desktop: 'Desktop', mobile: 'Mobile', tablet: 'Tablet', tv: 'TV', bot: 'Automated client' };
const PAGE_SIZE = 25;

/** A moment in the user's zone, with the exact UTC time for the hover title. */
export function stampIn(timeZone: string, ms: number): Stamp {
  const iso = new Date(ms).toISOString();
  return { local: formatInTimeZone(ms, timeZone), utc: `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`, iso };
}

/** The security centre's pages: sessions, devices and locations (with blocks and sign-in emails), and the activity log. */
export function securityCentrePageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  const centre = services.securityCentre;

  const signedIn = (request: FastifyRequest, reply: FastifyReply): AuthenticatedSession | null => {
    if (request.auth) return request.auth;
    void reply.redirect('/sign-in', 303);
    return null;
  };

  interface Message {
    notice?: string | undefined;
    error?: string | undefined;
  }

  const renderSessions = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, message: Message = {}) => {
    const tz = auth.user.time_zone;
    const rows = (await centre.sessions(auth.user, auth.session.id)).map((s) => ({
      id: s.id,
      current: s.current,
      device: s.device.label,
      deviceType: s.device.type ? (DEVICE_TYPES[s.device.type] ?? null) : null,
      userAgent: s.userAgent,
      ip: s.ip,
      location: s.location?.label ?? null,
      signedInAt: stampIn(tz, s.signedInAt),
      lastActiveAt: stampIn(tz, s.lastActiveAt),
    }));
    return kit.html(reply, <SessionsPage chrome={kit.chrome(request, reply, 'Where you’re signed in')} sessions={rows} timeZone={tz} notice={message.notice} error={message.error} />);
  };

  const renderDevices = async (request: FastifyRequest, reply: FastifyReply, auth: AuthenticatedSession, message: Message = {}) => {
    const tz = auth.user.time_zone;
    const meta = requestMeta(request);
    const [devices, locations, notifications] = await Promise.all([centre.devices(auth.user, meta), centre.locations(auth.user, meta), centre.notificationPreferences(auth.user.id)]);
    const view = {
      devices: devices.map((d) => ({
        id: d.id,
        label: d.device.label,
        deviceType: d.device.type ? (DEVICE_TYPES[d.device.type] ?? null) : null,
        userAgent: d.userAgent,
        firstSeenAt: stampIn(tz, d.firstSeenAt),
        lastSeenAt: stampIn(tz, d.lastSeenAt),
        lastIp: d.lastIp,
        signInCount: d.signInCount,
        blockedAt: d.blockedAt === null ? null : stampIn(tz, d.blockedAt),
        current: d.current,
      })),
      locations: locations.map((l) => ({
        id: l.id,
        label: l.label,
        lastCity: l.city,
        firstSeenAt: stampIn(tz, l.firstSeenAt),
        lastSeenAt: stampIn(tz, l.lastSeenAt),
        lastIp: l.lastIp,
        signInCount: l.signInCount,
        blockedAt: l.blockedAt === null ? null : stampIn(tz, l.blockedAt),
        current: l.current,
      })),
      notifications,
      timeZone: tz,
    };
    return kit.html(reply, <DevicesPage chrome={kit.chrome(request, reply, 'Devices and locations')} view={view} notice={message.notice} error={message.error} />);
  };

  type Render = typeof renderSessions;

  /** A form action; a refusal re-renders the page with the reason, and a stale confirmation sends the user to confirm first. */
  const action =
    (render: Render, back: string | ((request: FastifyRequest<{ Body: Form; Params: { id: string } }>) => string), run: (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, auth: AuthenticatedSession) => Promise<string>) =>
    async (request: FastifyRequest<{ Body: Form; Params: { id: string } }>, reply: FastifyReply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      let notice: string;
      try {
        notice = await run(request, auth);
      } catch (error) {
        if (isTwofoldError(error) && error.code === 'reauthentication_required') {
          return reply.redirect(`/reauthenticate?next=${encodeURIComponent(typeof back === 'string' ? back : back(request))}`, 303);
        }
        return render(request, reply.code(pageStatus(error)), auth, { error: userMessage(error) });
      }
      // The session that asked may itself have ended (it signed itself out): then there is no page to show.
      const still = await services.sessions.authenticate(request.cookies[COOKIE.session]);
      if (!still) return reply.redirect('/sign-in', 303);
      return render(request, reply, still, { notice });
    };

  app.get('/account/security/sessions', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    return renderSessions(request, reply, auth);
  });

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/sessions/:id/revoke',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(renderSessions, '/account/security/sessions', async (request, auth) => {
      await services.signOut.revokeSession(auth.user, request.params.id, requestMeta(request));
      return 'That session is signed out. Its next request will be refused.';
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/sessions/sign-out-others',
    { schema: { hide: true, body: formBody } },
    action(renderSessions, '/account/security/sessions', async (request, auth) => {
      const ended = await centre.endOtherSessions(auth.user, auth.session, requestMeta(request));
      return ended === 1 ? 'One other session was signed out.' : `${ended} other sessions were signed out.`;
    }),
  );

  app.get('/account/security/devices', { schema: { hide: true } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    return renderDevices(request, reply, auth);
  });

  const ended = (n: number) => (n === 0 ? '' : n === 1 ? ' One session was signed out.' : ` ${n} sessions were signed out.`);

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/devices/:id/block',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(renderDevices, '/account/security/devices', async (request, auth) => {
      const result = await centre.blockDevice(auth.user, request.params.id, requestMeta(request));
      return `${result.device.device.label} is blocked.${ended(result.endedSessions)}`;
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/devices/:id/unblock',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(renderDevices, '/account/security/devices', async (request, auth) => {
      const device = await centre.unblockDevice(sessionActor(auth), request.params.id, requestMeta(request));
      return `${device.device.label} may sign in again.`;
    }),
  );

  // Blocking a place shuts out everyone signing in from it, the owner too when they travel: a
  // step of its own that says so before the form that does it.
  app.get<{ Params: { id: string } }>('/account/security/locations/:id/block', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    // Shutting a whole place out (the owner too) is asked of a person who proved it is them just now: outside the window, first that, then back here.
    const confirmPath = `/account/security/locations/${encodeURIComponent(request.params.id)}/block`;
    try {
      services.reauth.requireRecentReauth(auth.session);
    } catch {
      return reply.redirect(`/reauthenticate?next=${encodeURIComponent(confirmPath)}`, 303);
    }
    const place = (await centre.locations(auth.user, requestMeta(request))).find((l) => l.id === request.params.id);
    if (!place) return renderDevices(request, reply.code(404), auth, { error: 'That location is no longer on your list.' });
    if (place.blockedAt !== null) return reply.redirect('/account/security/devices', 303);
    const view = {
      heading: `Block sign-ins from ${place.label}?`,
      lines: [
        `Every sign-in to your account from ${place.label} will be refused, yours included when you are there, until you unblock it. Attempts are emailed to you.`,
        ...(place.current ? [] : ['Sessions signed in from there are signed out now.']),
      ],
      action: `/account/security/locations/${encodeURIComponent(place.id)}/block`,
      submitLabel: `Block ${place.label}`,
      destructive: true,
      cancelHref: '/account/security/devices',
    };
    return kit.html(reply, <ConfirmActionPage chrome={kit.chrome(request, reply, view.heading)} view={view} />);
  });

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/locations/:id/block',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(renderDevices, (request) => `/account/security/locations/${encodeURIComponent(request.params.id)}/block`, async (request, auth) => {
      const result = await centre.blockLocation(sessionActor(auth), request.params.id, requestMeta(request));
      return `Sign-ins from ${result.location.label} are blocked.${ended(result.endedSessions)}`;
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/locations/:id/unblock',
    { schema: { hide: true, body: formBody, params: idParams } },
    action(renderDevices, '/account/security/devices', async (request, auth) => {
      const location = await centre.unblockLocation(sessionActor(auth), request.params.id, requestMeta(request));
      return `Sign-ins from ${location.label} are allowed again.`;
    }),
  );

  app.post<{ Body: Form; Params: { id: string } }>(
    '/account/security/notifications',
    { schema: { hide: true, body: formBody } },
    action(renderDevices, '/account/security/devices', async (request, auth) => {
      // An unticked box is simply absent from the form.
      await centre.setNotificationPreferences(auth.user, { newDevice: request.body.newDevice === '1', newLocation: request.body.newLocation === '1' }, requestMeta(request));
      return 'Your email settings are saved.';
    }),
  );

  app.get<{ Querystring: { type?: string; cursor?: string } }>('/account/activity', { schema: { hide: true, querystring: activityQuery } }, async (request, reply) => {
    const auth = signedIn(request, reply);
    if (!auth) return reply;
    const tz = auth.user.time_zone;
    const selected = request.query.type ?? '';
    const typeParam = selected ? `type=${encodeURIComponent(selected)}` : '';
    const view: ActivityView = {
      rows: [],
      categories: ACTIVITY_CATEGORIES.map((c) => ({ key: c.key, label: c.label })),
      selected,
      timeZone: tz,
      newestHref: request.query.cursor ? `/account/activity${typeParam ? `?${typeParam}` : ''}` : null,
      olderHref: null,
      exportHref: `/account/activity.csv${typeParam ? `?${typeParam}` : ''}`,
    };
    try {
      const page = await services.activity.page(auth.user, { cursor: request.query.cursor, limit: PAGE_SIZE, filter: selected ? [selected] : undefined });
      view.rows = page.entries.map((e) => ({ id: e.id, type: e.type, summary: e.summary, at: stampIn(tz, e.occurredAt), device: e.device, userAgent: e.userAgent, ip: e.ip }));
      view.olderHref = page.nextCursor ? `/account/activity?${typeParam ? `${typeParam}&` : ''}cursor=${encodeURIComponent(page.nextCursor)}` : null;
    } catch (error) {
      return kit.html(reply.code(pageStatus(error)), <ActivityPage chrome={kit.chrome(request, reply, 'Security activity')} view={{ ...view, selected: '' }} error={userMessage(error)} />);
    }
    return kit.html(reply, <ActivityPage chrome={kit.chrome(request, reply, 'Security activity')} view={view} />);
  });

  app.get<{ Querystring: { type?: string } }>(
    '/account/activity.csv',
    { schema: { hide: true, querystring: { type: 'object', properties: { type: { type: 'string', maxLength: 64 } } } } },
    async (request, reply) => {
      const auth = signedIn(request, reply);
      if (!auth) return reply;
      const chunks = services.activity.exportCsv(auth.user, request.query.type ? [request.query.type] : undefined);
      return sendCsvDownload(reply, chunks, exportFileName(services.clock(), auth.user.time_zone));
    },
  );
}
