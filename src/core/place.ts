import type { GeoLocation } from './risk.js';

let regionNames: Intl.DisplayNames | null | undefined;

/** "United States" for "US"; the code itself where ICU has no name for it. */
export function countryName(code: string): string {
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(['en'], { type: 'region' });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(code) ?? code;
  } catch {
    return code;
  }
}

/** "San Francisco, California, United States": what the data knows, most precise first. */
export function placeLabel(place: Pick<GeoLocation, 'country' | 'region' | 'city'>): string {
  const parts = [place.city, place.region, countryName(place.country)].filter((p): p is string => Boolean(p));
  // Some databases repeat the city as the region (city states): say it once.
  return parts.filter((p, i) => parts.indexOf(p) === i).join(', ');
}
