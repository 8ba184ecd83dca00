import { createHash } from 'node:crypto';

/**
 * A deploy bundle is a JSON object of entries (key → value). Changes set or remove one entry;
 * the digest is SHA-256 over a canonical serialisation (keys sorted at every level), so the
 * same content always has the same digest whichever order changes arrived in.
 */
export type BundleValue = null | boolean | number | string | BundleValue[] | { [key: string]: BundleValue };
export type Bundle = Record<string, BundleValue>;

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** "sha256:<hex>" of the canonical form. */
export function bundleDigest(bundle: Bundle): string {
  return `sha256:${createHash('sha256').update(canonicalJson(bundle)).digest('hex')}`;
}

/** A new bundle with one entry set, or removed when `value` is null. */
export function applyChange(bundle: Bundle, key: string, value: BundleValue): Bundle {
  const next: Bundle = { ...bundle };
  if (value === null) delete next[key];
  else next[key] = value;
  return next;
}

export const ENTRY_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;
export const MAX_BUNDLE_BYTES = 1024 * 1024;
