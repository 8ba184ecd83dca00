const SITE = 'http://twofold.invalid';
/** A second, unrelated origin: a local path resolves to it as well; anything naming a host does not. */
const ELSEWHERE = 'https://elsewhere.invalid:8443';
/** Backslashes (browsers read them as slashes), whitespace and control or format characters (stripped or reinterpreted). */
const UNSAFE = /[\\\s\p{Cc}\p{Cf}]/u;
const MAX_PATH = 2048;

/**
 * A path on this site, or null. "//host" and "/\host" are other sites to a browser, and
 * normalising can produce them from harmless-looking input ("/.//host", "/x/..//host",
 * "/%2e//host"), so the value is checked again after normalising: what is returned is what
 * was checked. Anything unusual is refused rather than repaired.
 */
export function safeLocalPath(next: unknown): string | null {
  if (typeof next !== 'string' || next.length > 1024 || next[0] !== '/' || UNSAFE.test(next)) return null;
  let url: URL;
  try {
    url = new URL(next, SITE);
  } catch {
    return null;
  }
  if (url.origin !== SITE || url.username !== '' || url.password !== '') return null;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return isLocalPath(path, url.pathname) ? path : null;
}

/** The check on the output: a Location or link made of `path` stays on this site, from any page of it. */
function isLocalPath(path: string, pathname: string): boolean {
  if (path.length > MAX_PATH || path[0] !== '/' || path[1] === '/' || path[1] === '\\' || UNSAFE.test(path)) return false;
  // Resolved again against another origin it must stay there: nothing in it names a host.
  if (!staysOn(path, ELSEWHERE)) return false;
  // Percent-encoding is not decoded by a browser resolving a Location, so "/%2F%2Fhost" is a
  // path here (and stays one); but a backslash or control character has no business in a path
  // even encoded ("/%5Chost"), and a proxy or framework that decodes could act on it: refused.
  if (!pathname.includes('%')) return true;
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  return !/[\\\p{Cc}]/u.test(decoded);
}

function staysOn(path: string, base: string): boolean {
  try {
    return new URL(path, base).origin === base;
  } catch {
    return false;
  }
}
