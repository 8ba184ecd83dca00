import type { ChallengeTrigger } from './policy.js';

/** Where an address is, as far as the GeoIP database knows. `country` is an ISO 3166-1 alpha-2 code. */
export interface GeoLocation {
  country: string;
  /** Subdivision name (state, province) when the database has one. */
  region: string | null;
  /** Subdivision code (the part of ISO 3166-2 after the dash, e.g. "CA") when the database has one. */
  regionCode: string | null;
  city: string | null;
}

/**
 * A user's "location" is a country and, where the data has it, a region: "US/CA", or "US" from a
 * country-only database. Cities are left out on purpose: mobile and home connections hop between
 * nearby cities, and a challenge on every hop would teach people to ignore the check. The region
 * code is preferred to its name because names differ between database vendors and releases.
 *
 * An unknown place (private or loopback address, no data for the address) has no key: see
 * {@link assessSignIn} for why it does not count as new.
 */
export function locationKey(location: Pick<GeoLocation, 'country' | 'region' | 'regionCode'> | null): string | null {
  if (!location) return null;
  const region = location.regionCode ?? location.region;
  return region ? `${location.country}/${region}` : location.country;
}

export type ChallengeReason = ChallengeTrigger;

export interface SignInRisk {
  /** Whether the cookie names a device this user has signed in from before. */
  knownDevice: boolean;
  /** Whether this location is in the user's list; null when the location is unknown. */
  knownLocation: boolean | null;
  /** The policy's triggers: when a second factor is asked for. */
  triggers: readonly ChallengeTrigger[];
}

export interface SignInAssessment {
  challengeDue: boolean;
  /** Every trigger that fired, in policy order: the audit log and notices say why. */
  reasons: ChallengeReason[];
}

/**
 * Whether this sign-in must show a second factor under the policy's triggers.
 *
 * An unknown location (`knownLocation: null`) never fires `new_location`. It is what every
 * sign-in from a private network looks like (an office LAN, a VPN, a proxy whose client address
 * is not forwarded), and treating it as new would turn `new_location` into `every_sign_in` for
 * those deployments while telling nobody anything. Organisations that want a code regardless
 * add `every_sign_in` or `new_device`.
 */
export function assessSignIn(risk: SignInRisk): SignInAssessment {
  const reasons: ChallengeReason[] = [];
  for (const trigger of risk.triggers) {
    if (reasons.includes(trigger)) continue;
    const fired =
      trigger === 'every_sign_in' ||
      (trigger === 'new_device' && !risk.knownDevice) ||
      (trigger === 'new_location' && risk.knownLocation === false);
    if (fired) reasons.push(trigger);
  }
  return { challengeDue: reasons.length > 0, reasons };
}
