import { sha256 } from '../core/crypto.js';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import { placeLabel } from '../core/place.js';
import { locationKey } from '../core/risk.js';
import { isValidTimeZone } from '../core/time-zone.js';
import type { DeviceType } from '../core/user-agent.js';
import { deviceLabel, parseUserAgent } from '../core/user-agent.js';
import type { Executor, KnownDevice, KnownLocation } from '../store/index.js';
import { blocks, knownDevices, knownLocations, notificationSettings, sessionOrigins, sessions, users } from '../store/index.js';
import { recordAudit } from './audit-log.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { IpLocator } from './geoip.js';
import type { Principal, SessionPrincipal } from './principal.js';
import type { Actor } from './actor.js';
import { requireRecentReauth } from './step-up.js';

/** What a User-Agent says about the thing that signed in. */
export interface DeviceDescription {
  type: DeviceType | null;
  browser: string | null;
  os: string | null;
  /** "Chrome on macOS". */
  label: string;
}

export interface PlaceView {
  city: string | null;
  region: string | null;
  country: string;
  /** "San Francisco, California, United States". */
  label: string;
}

export interface SessionView {
  id: string;
  current: boolean;
  device: DeviceDescription;
  userAgent: string;
  ip: string;
  location: PlaceView | null;
  /** The known device and location the sign-in counted against; null for sessions opened otherwise. */
  deviceId: string | null;
  locationId: string | null;
  signedInAt: number;
  lastActiveAt: number;
  expiresAt: number;
  authenticatedAt: number;
  amr: string[];
}

export interface DeviceView {
  id: string;
  device: DeviceDescription;
  userAgent: string;
  firstSeenAt: number;
  lastSeenAt: number;
  lastIp: string;
  signInCount: number;
  blockedAt: number | null;
  /** The browser asking: it cannot block itself. */
  current: boolean;
}

export interface LocationView extends PlaceView {
  id: string;
  /** `city` is that of the latest sign-in from here; `label` names the region and country only. */
  /** "US/CA": what sign-ins are compared by. */
  key: string;
  firstSeenAt: number;
  lastSeenAt: number;
  lastIp: string;
  signInCount: number;
  blockedAt: number | null;
  /** Where the request asking comes from. */
  current: boolean;
}

export interface NotificationPreferences {
  newDevice: boolean;
  newLocation: boolean;
  /** Attempts from blocked devices and locations are always told; not a setting. */
  blockedAttempts: true;
}

export function describeDevice(userAgent: string): DeviceDescription {
  const parsed = parseUserAgent(userAgent);
  return { type: parsed.deviceType, browser: parsed.browser, os: parsed.system, label: deviceLabel(userAgent) };
}

/**
 * The user's own view and control of what touches the account: sessions, devices, locations,
 * blocks and sign-in notices. Everything reads and writes the shared database only, so a session
 * ended or a device blocked on one node holds on every node from the next request.
 */
export class SecurityCentre {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly locator: IpLocator,
  ) {}

  private get db() {
    return this.deps.database.db;
  }

  async sessions(user: Principal, currentSessionId: string): Promise<SessionView[]> {
    const now = this.deps.clock();
    const live = await sessions.listActiveSessions(this.db, user.id, now, now - this.deps.settings.sessionIdleMs);
    const origins = new Map((await sessionOrigins.findSessionOrigins(this.db, live.map((s) => s.id))).map((o) => [o.session_id, o]));
    return Promise.all(
      live.map(async (s) => {
        const origin = origins.get(s.id);
        return {
          id: s.id,
          current: s.id === currentSessionId,
          device: describeDevice(s.user_agent),
          userAgent: s.user_agent,
          ip: s.ip,
          location: await this.place(s.ip),
          deviceId: origin?.device_id ?? null,
          locationId: origin?.location_id ?? null,
          signedInAt: s.created_at,
          lastActiveAt: s.last_seen_at,
          expiresAt: s.expires_at,
          authenticatedAt: s.authenticated_at,
          amr: s.amr,
        };
      }),
    );
  }

  /** Signs out every session but the one asking; returns how many ended. */
  async endOtherSessions(user: Principal, current: SessionPrincipal, meta: RequestMeta): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.deps.clock();
      const ended = await sessions.revokeUserSessions(trx, user.id, now, current.id);
      await recordAudit(trx, now, { type: 'sessions.others_revoked', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { endedSessions: ended, keptSessionId: current.id } });
      return ended;
    });
  }

  async devices(user: Principal, meta: RequestMeta): Promise<DeviceView[]> {
    const current = await this.currentDevice(this.db, user, meta);
    return (await knownDevices.listKnownDevices(this.db, user.id)).map((d) => deviceView(d, current?.id === d.id));
  }

  async locations(user: Principal, meta: RequestMeta): Promise<LocationView[]> {
    const here = await this.currentLocationKey(meta);
    return (await knownLocations.listKnownLocations(this.db, user.id)).map((l) => locationView(l, here === l.location_key));
  }

  /** Blocks one of the user's devices and ends its sessions, in one transaction. */
  async blockDevice(user: Principal, deviceId: string, meta: RequestMeta): Promise<{ device: DeviceView; endedSessions: number }> {
    return this.db.transaction().execute(async (trx) => {
      const device = await blocks.findDevice(trx, user.id, deviceId);
      if (!device) throw notFound('device_not_found', 'No such device.');
      if ((await this.currentDevice(trx, user, meta))?.id === device.id) {
        throw conflict('device_in_use', 'This is the device you are using now. Block it from another device, or sign out here.');
      }
      const now = this.deps.clock();
      const blockedAt = device.blocked_at ?? now;
      if (device.blocked_at === null) await blocks.setDeviceBlocked(trx, user.id, device.id, blockedAt);
      // Sessions are ended even when the device was blocked already: one may have been opened in between on another node.
      const ended = await sessionOrigins.revokeSessionsFrom(trx, user.id, { deviceId: device.id }, now);
      if (device.blocked_at === null || ended.length > 0) {
        await recordAudit(trx, now, {
          type: 'device.blocked',
          actorUserId: user.id,
          subjectUserId: user.id,
          orgId: user.org_id,
          meta,
          details: { deviceId: device.id, label: device.label, endedSessions: ended.length, sessionIds: ended },
        });
      }
      return { device: deviceView({ ...device, blocked_at: blockedAt }, false), endedSessions: ended.length };
    });
  }

  /** Unblocking lets sign-ins through again: it needs a recent re-authentication, checked here. */
  async unblockDevice(actor: Actor, deviceId: string, meta: RequestMeta): Promise<DeviceView> {
    const user = requireRecentReauth(this.deps, actor);
    return this.db.transaction().execute(async (trx) => {
      const device = await blocks.findDevice(trx, user.id, deviceId);
      if (!device) throw notFound('device_not_found', 'No such device.');
      if (device.blocked_at !== null) {
        await blocks.setDeviceBlocked(trx, user.id, device.id, null);
        await recordAudit(trx, this.deps.clock(), { type: 'device.unblocked', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { deviceId: device.id, label: device.label } });
      }
      return deviceView({ ...device, blocked_at: null }, (await this.currentDevice(trx, user, meta))?.id === device.id);
    });
  }

  /**
   * Blocks one of the user's locations and ends the sessions signed in from it. It refuses the
   * owner too whenever they are there, so a stolen session must not be able to do it: it needs a
   * recent re-authentication, checked here.
   */
  async blockLocation(actor: Actor, locationId: string, meta: RequestMeta): Promise<{ location: LocationView; endedSessions: number }> {
    const user = requireRecentReauth(this.deps, actor);
    const here = await this.currentLocationKey(meta);
    return this.db.transaction().execute(async (trx) => {
      const location = await blocks.findLocation(trx, user.id, locationId);
      if (!location) throw notFound('location_not_found', 'No such location.');
      if (here === location.location_key) {
        throw conflict('location_in_use', 'You are signed in from this location now. Block it from somewhere else.');
      }
      const now = this.deps.clock();
      const blockedAt = location.blocked_at ?? now;
      if (location.blocked_at === null) await blocks.setLocationBlocked(trx, user.id, location.id, blockedAt);
      const ended = await sessionOrigins.revokeSessionsFrom(trx, user.id, { locationId: location.id }, now);
      if (location.blocked_at === null || ended.length > 0) {
        await recordAudit(trx, now, {
          type: 'location.blocked',
          actorUserId: user.id,
          subjectUserId: user.id,
          orgId: user.org_id,
          meta,
          details: { locationId: location.id, location: location.location_key, label: placeLabel({ country: location.country, region: location.region, city: null }), endedSessions: ended.length, sessionIds: ended },
        });
      }
      return { location: locationView({ ...location, blocked_at: blockedAt }, false), endedSessions: ended.length };
    });
  }

  /** Unblocking lets sign-ins through again: it needs a recent re-authentication, checked here. */
  async unblockLocation(actor: Actor, locationId: string, meta: RequestMeta): Promise<LocationView> {
    const user = requireRecentReauth(this.deps, actor);
    const here = await this.currentLocationKey(meta);
    return this.db.transaction().execute(async (trx) => {
      const location = await blocks.findLocation(trx, user.id, locationId);
      if (!location) throw notFound('location_not_found', 'No such location.');
      if (location.blocked_at !== null) {
        await blocks.setLocationBlocked(trx, user.id, location.id, null);
        await recordAudit(trx, this.deps.clock(), { type: 'location.unblocked', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { locationId: location.id, location: location.location_key, label: placeLabel({ country: location.country, region: location.region, city: null }) } });
      }
      return locationView({ ...location, blocked_at: null }, here === location.location_key);
    });
  }

  async notificationPreferences(userId: string, db: Executor = this.db): Promise<NotificationPreferences> {
    const row = await notificationSettings.findNotificationSettings(db, userId);
    return { newDevice: row?.newDevice ?? true, newLocation: row?.newLocation ?? true, blockedAttempts: true };
  }

  async setNotificationPreferences(user: Principal, change: { newDevice?: boolean | undefined; newLocation?: boolean | undefined }, meta: RequestMeta): Promise<NotificationPreferences> {
    return this.db.transaction().execute(async (trx) => {
      const before = await this.notificationPreferences(user.id, trx);
      const after: NotificationPreferences = { newDevice: change.newDevice ?? before.newDevice, newLocation: change.newLocation ?? before.newLocation, blockedAttempts: true };
      const now = this.deps.clock();
      await notificationSettings.saveNotificationSettings(trx, { userId: user.id, newDevice: after.newDevice, newLocation: after.newLocation, updatedAt: now });
      if (after.newDevice !== before.newDevice || after.newLocation !== before.newLocation) {
        await recordAudit(trx, now, {
          type: 'notification_settings.changed',
          actorUserId: user.id,
          subjectUserId: user.id,
          orgId: user.org_id,
          meta,
          details: { newDevice: after.newDevice, newLocation: after.newLocation },
        });
      }
      return after;
    });
  }

  /** The zone every time on the user's pages, notices and exports is shown in. */
  async setTimeZone(user: Principal, timeZone: string, meta: RequestMeta): Promise<void> {
    const zone = timeZone.trim();
    if (!isValidTimeZone(zone)) throw invalidInput('time_zone_invalid', `"${zone.slice(0, 64)}" is not a time zone we know. Pick one from the list, such as Europe/London.`);
    if (zone === user.time_zone) return;
    await this.db.transaction().execute(async (trx) => {
      await users.setTimeZone(trx, user.id, zone);
      await recordAudit(trx, this.deps.clock(), { type: 'time_zone.changed', actorUserId: user.id, subjectUserId: user.id, orgId: user.org_id, meta, details: { from: user.time_zone, to: zone } });
    });
  }

  /** City, region and country of an address, or null when unknown (or the GeoIP data cannot be read). */
  async place(ip: string): Promise<PlaceView | null> {
    let location;
    try {
      location = await this.locator.locate(ip);
    } catch {
      // A list of sessions is still worth showing without places.
      return null;
    }
    return location ? { city: location.city, region: location.region, country: location.country, label: placeLabel(location) } : null;
  }

  private async currentDevice(db: Executor, user: Principal, meta: RequestMeta): Promise<KnownDevice | null> {
    if (!meta.deviceToken || meta.deviceToken.length > 128) return null;
    return (await knownDevices.findKnownDevice(db, user.id, sha256(meta.deviceToken))) ?? null;
  }

  private async currentLocationKey(meta: RequestMeta): Promise<string | null> {
    try {
      return locationKey(await this.locator.locate(meta.ip));
    } catch {
      return null;
    }
  }
}

function deviceView(d: KnownDevice, current: boolean): DeviceView {
  return {
    id: d.id,
    device: { ...describeDevice(d.user_agent), label: d.label },
    userAgent: d.user_agent,
    firstSeenAt: Number(d.first_seen_at),
    lastSeenAt: Number(d.last_seen_at),
    lastIp: d.last_ip,
    signInCount: Number(d.sign_in_count),
    blockedAt: d.blocked_at === null ? null : Number(d.blocked_at),
    current,
  };
}

function locationView(l: KnownLocation, current: boolean): LocationView {
  return {
    id: l.id,
    key: l.location_key,
    city: l.city,
    region: l.region,
    country: l.country,
    // What is compared (and blocked) is the region, not the city of the latest sign-in.
    label: placeLabel({ country: l.country, region: l.region, city: null }),
    firstSeenAt: Number(l.first_seen_at),
    lastSeenAt: Number(l.last_seen_at),
    lastIp: l.last_ip,
    signInCount: Number(l.sign_in_count),
    blockedAt: l.blocked_at === null ? null : Number(l.blocked_at),
    current,
  };
}
