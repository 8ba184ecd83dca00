import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../core/crypto.js';
import type { GeoLocation } from '../core/risk.js';
import { locationKey } from '../core/risk.js';
import { deviceLabel, userAgentFamily } from '../core/user-agent.js';
import type { Executor, KnownDevice, KnownLocation } from '../store/index.js';
import { knownDevices, knownLocations } from '../store/index.js';
import type { RequestMeta, ServiceDeps } from './context.js';
import type { IpLocator } from './geoip.js';
import type { Principal } from './principal.js';

export interface PlacedLocation extends GeoLocation {
  key: string;
}

export interface Recognition {
  /** This user's device for the cookie, when the browser family matches too. */
  device: KnownDevice | null;
  /** Where the request comes from; null when unknown (private address, no data). */
  location: PlacedLocation | null;
  /** The user's row for that location, if any (the security centre's blocking reads it). */
  knownLocationRecord: KnownLocation | null;
  /** Null when the location is unknown: an unknown place is never "new" (see core/risk.ts). */
  knownLocation: boolean | null;
}

export interface Remembered {
  /** The cookie value to (re)set: the same token for a known device, a new one otherwise. */
  deviceToken: string;
  deviceId: string;
  locationId: string | null;
  newDevice: boolean;
  newLocation: boolean;
  /** The user had no device before this one: a "new device" notice would say nothing useful. */
  firstDevice: boolean;
  /** The user had no location before this one. */
  firstLocation: boolean;
}

/** Longer than any token we issue (43 characters): anything else is not ours and is not hashed. */
const MAX_TOKEN_LENGTH = 128;

/**
 * New-device and new-location recognition. A device is a long-lived random cookie (only its
 * hash is stored) that counts only for the user it was issued to and only with the same browser
 * family (browser and operating system, versions ignored): the same cookie arriving from another
 * browser or system was copied, and that is treated as a new device. A location is the country
 * and region of the address.
 *
 * `recognise` only reads (before the second-factor decision); `remember` writes, inside the
 * transaction that completes the sign-in, so only successful sign-ins grow the lists.
 */
export class DeviceRecognition {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly locator: IpLocator,
  ) {}

  async recognise(db: Executor, user: Principal, deviceToken: string | undefined, meta: RequestMeta): Promise<Recognition> {
    const device = await this.knownDevice(db, user, deviceToken, meta);
    const location = await this.place(meta.ip);
    const knownLocationRecord = location ? ((await knownLocations.findKnownLocation(db, user.id, location.key)) ?? null) : null;
    return { device, location, knownLocationRecord, knownLocation: location ? knownLocationRecord !== null : null };
  }

  async remember(trx: Executor, user: Principal, deviceToken: string | undefined, meta: RequestMeta): Promise<Remembered> {
    const now = this.deps.clock();
    const userAgent = meta.userAgent.slice(0, 512);
    const label = deviceLabel(userAgent);

    const firstDevice = !(await knownDevices.hasKnownDevices(trx, user.id));
    const known = firstDevice ? null : await this.knownDevice(trx, user, deviceToken, meta);
    let token: string;
    let deviceId: string;
    if (known && deviceToken) {
      await knownDevices.recordDeviceSignIn(trx, known.id, { nowMs: now, ip: meta.ip, userAgent, label });
      token = deviceToken;
      deviceId = known.id;
    } else {
      // A fresh token also for a cookie that is not this user's: reusing a value we did not
      // issue to this user would let whoever planted it pass as this user's known device.
      token = randomToken(32);
      deviceId = randomUUID();
      await knownDevices.insertKnownDevice(trx, {
        id: deviceId,
        user_id: user.id,
        token_hash: sha256(token),
        user_agent: userAgent,
        label,
        first_seen_at: now,
        last_seen_at: now,
        last_ip: meta.ip,
        sign_in_count: 1,
        blocked_at: null,
      });
    }

    const location = await this.place(meta.ip);
    let locationId: string | null = null;
    let newLocation = false;
    let firstLocation = false;
    if (location) {
      firstLocation = !(await knownLocations.hasKnownLocations(trx, user.id));
      const row = await knownLocations.recordLocationSignIn(trx, {
        id: randomUUID(),
        user_id: user.id,
        location_key: location.key,
        country: location.country,
        region: location.region,
        city: location.city,
        first_seen_at: now,
        last_seen_at: now,
        last_ip: meta.ip,
        sign_in_count: 1,
        blocked_at: null,
      });
      locationId = row.id;
      newLocation = Number(row.sign_in_count) === 1;
    }

    return { deviceToken: token, deviceId, locationId, newDevice: !known, newLocation, firstDevice, firstLocation };
  }

  async listDevices(userId: string): Promise<KnownDevice[]> {
    return knownDevices.listKnownDevices(this.deps.database.db, userId);
  }

  async listLocations(userId: string): Promise<KnownLocation[]> {
    return knownLocations.listKnownLocations(this.deps.database.db, userId);
  }

  private async knownDevice(db: Executor, user: Principal, deviceToken: string | undefined, meta: RequestMeta): Promise<KnownDevice | null> {
    if (!deviceToken || deviceToken.length > MAX_TOKEN_LENGTH) return null;
    const device = await knownDevices.findKnownDevice(db, user.id, sha256(deviceToken));
    if (!device) return null;
    return userAgentFamily(device.user_agent) === userAgentFamily(meta.userAgent.slice(0, 512)) ? device : null;
  }

  private async place(ip: string): Promise<PlacedLocation | null> {
    const location = await this.locator.locate(ip);
    const key = locationKey(location);
    return location && key ? { ...location, key } : null;
  }
}
