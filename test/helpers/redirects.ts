/** Return paths that must never leave the site, and how to check a Location header for it (unit and HTTP tests share them). */

const SITE = 'https://twofold.example';

/**
 * Forms that name (or, once normalised or decoded, name) another host. Some pass a check of the
 * raw string and only become "//evil.example" after URL normalisation: the outside test found
 * `GET /sign-in?return_to=%2F.%2F%2Fevil.example%2Fphish` answered `Location: //evil.example/phish`.
 */
export const MALICIOUS_RETURN_PATHS: readonly string[] = [
  // Normalised into "//host"
  '/.//evil.example/phish',
  '/x/..//evil.example/phish',
  '/%2e//evil.example/phish',
  '/%2E//evil.example/phish',
  '/..//evil.example/phish',
  '/./..//evil.example',
  '/a/b/../..//evil.example',
  '/%2e%2e//evil.example',
  '/.%2e//evil.example',
  '/././/evil.example',
  // Plainly another host
  '//evil.example/phish',
  '///evil.example',
  'https://evil.example/',
  'http:evil.example',
  'evil.example',
  '',
  // Backslashes, raw and encoded, and their normalised forms
  '/\\evil.example',
  '\\\\evil.example',
  '\\/evil.example',
  '/\\/evil.example',
  '/%5Cevil.example',
  '/%5cevil.example',
  '/.%5C%5Cevil.example',
  '/.\\\\evil.example',
  '/x/..\\evil.example',
  // Whitespace and control characters browsers strip or reinterpret
  '/\t/evil.example',
  '/\n/evil.example',
  '/\r\n/evil.example',
  '\t//evil.example',
  ' //evil.example',
  '/ /evil.example',
  '/\u0000/evil.example',
  '/\u000b/evil.example',
  '/\u200b/evil.example',
  '/\ufeff/evil.example',
  '/%09/evil.example',
  '/.%09//evil.example',
];

/**
 * Encoded slashes: a browser does not decode them when it follows a Location, so these are paths
 * on this site (a 404 at worst) and are kept as they are, like any other path.
 */
export const ENCODED_SLASH_PATHS: readonly string[] = ['/%2F%2Fevil.example', '/%2f/evil.example', '/%2e%2e%2f%2fevil.example', '/x/%2F%2F'];

/** True when a browser on SITE following `Location: location` stays on SITE with a plain path. */
export function isSameSitePath(location: string | null | undefined): boolean {
  if (typeof location !== 'string' || !location.startsWith('/') || location.startsWith('//') || location.startsWith('/\\')) return false;
  if (/[\\\s\p{Cc}]/u.test(location)) return false;
  return new URL(location, SITE).origin === SITE;
}
