/**
 * The one Content-Security-Policy of Twofold's pages: the app's helmet config and the OIDC mount
 * both build theirs from these directives.
 */
const BASE_DIRECTIVES = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
} as const;

type Directives = Record<string, string[]>;

function copy(directives: Record<string, readonly string[]>): Directives {
  return Object.fromEntries(Object.entries(directives).map(([name, values]) => [name, [...values]]));
}

/** Every page the app renders: forms post only to this site. */
export function pageCsp(): { useDefaults: false; directives: Directives } {
  return { useDefaults: false, directives: copy({ ...BASE_DIRECTIVES, formAction: ["'self'"] }) };
}

/**
 * The OIDC provider's own pages (logout, errors, form_post) may end in a redirect to an app after
 * a form submission, which `form-action 'self'` would stop in Chrome; the rest of the policy stays.
 */
export function oidcCsp(): { useDefaults: false; directives: Directives } {
  return { useDefaults: false, directives: copy(BASE_DIRECTIVES) };
}
