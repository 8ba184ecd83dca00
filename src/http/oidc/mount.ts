import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../../services/index.js';
import { oidcCsp } from '../csp.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import type { BuiltProvider } from './provider.js';
import { OIDC_PATHS, buildProvider, requestContexts } from './provider.js';

/** How often a node looks for a signing key another node (or the CLI) rotated in. */
const KEY_CHECK_MS = 5 * 60_000;

/**
 * The provider in use, rebuilt when the published signing keys change: a key rotated anywhere
 * signs here within KEY_CHECK_MS, and every node publishes the same keys.
 */
export class OidcProviderHandle {
  private built: Promise<BuiltProvider> | undefined;
  private checkedAt = 0;

  constructor(
    private readonly services: Services,
    private readonly build: () => Promise<BuiltProvider>,
  ) {}

  /**
   * Built at the first OIDC request, not at start: the provider and its libraries hold about
   * 15 MiB that a server whose people use no OIDC app never needs.
   */
  async current(): Promise<BuiltProvider> {
    this.built ??= this.start();
    const now = this.services.clock();
    if (now - this.checkedAt >= KEY_CHECK_MS) {
      this.checkedAt = now;
      const [built, kids] = await Promise.all([this.built.catch(() => null), this.services.signingKeys.publishedKeyIds()]);
      const same = (a: readonly string[], b: readonly string[]) => [...a].sort().join(' ') === [...b].sort().join(' ');
      if (!built || !same(kids, built.keyIds)) this.built = this.start();
    }
    return this.built;
  }

  private start(): Promise<BuiltProvider> {
    this.checkedAt = this.services.clock();
    const building = this.build();
    // A failed build (the database away at start) is retried by the next request.
    building.catch(() => {
      if (this.built === building) this.checkedAt = Number.NEGATIVE_INFINITY;
    });
    return building;
  }
}

export interface OidcMountOptions {
  publicUrl: string;
  trustProxy: boolean;
}

/**
 * Serves the provider's endpoints from Fastify: discovery at the root (the issuer is the public
 * URL), everything else under /oidc. Those routes hand the raw request to the provider, which
 * reads the body itself, so they live in a scope with no body parsers. The interaction pages
 * under /oidc/interaction are ordinary routes (see interaction-routes.tsx).
 */
export async function mountOidc(app: FastifyInstance, services: Services, kit: PageKit, options: OidcMountOptions): Promise<OidcProviderHandle> {
  const handle = new OidcProviderHandle(services, () => buildProvider(services, { publicUrl: options.publicUrl, onError: (error) => app.log.error({ err: error }, 'oidc provider error') }));
  const scheme = new URL(options.publicUrl).protocol.replace(':', '');

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { handle: serve } = await handle.current();
    const raw = request.raw;
    const path = request.url.split('?')[0] ?? '';
    if (request.method === 'POST' && (path === OIDC_PATHS.token || path === OIDC_PATHS.revocation)) {
      hashBasicSecret(raw.headers, (secret) => services.oidcClients.secretDigest(secret));
    }
    raw.headers['x-forwarded-proto'] = scheme;
    if (!options.trustProxy) {
      delete raw.headers['x-forwarded-for'];
      delete raw.headers['x-forwarded-host'];
    }
    requestContexts.set(raw, {
      auth: request.auth,
      meta: requestMeta(request),
      chrome: (title) => ({ ...kit.chrome(request, reply, title), userName: undefined, csrf: '' }),
    });
    reply.hijack();
    await serve(raw, reply.raw);
  };

  // The provider's own pages may redirect to an app after a form post: see oidcCsp.
  const helmet = { contentSecurityPolicy: oidcCsp() };

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    for (const url of [`/oidc/*`, '/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
      // The provider checks its own writes (client authentication, PKCE, its logout form's xsrf).
      scope.route({ method: ['GET', 'POST', 'OPTIONS'], url, schema: { hide: true }, config: { formToken: false }, helmet, handler });
    }
  });
  return handle;
}

/**
 * Confidential clients authenticate with client_secret_basic, and the provider compares the
 * secret with the stored HMAC: so the secret in the Authorization header is replaced by its HMAC
 * here. Parsing mirrors the provider's (RFC 6749 form-encoding inside Basic); a header it cannot
 * parse is left alone for the provider to refuse.
 */
export function hashBasicSecret(headers: IncomingHttpHeaders, digest: (secret: string) => string): void {
  const header = headers.authorization;
  if (typeof header !== 'string') return;
  const parts = header.split(' ');
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'basic' || !/^[A-Za-z0-9+/]*={0,2}$/.test(parts[1] ?? '')) return;
  const basic = Buffer.from(parts[1] ?? '', 'base64').toString('utf8');
  const colon = basic.indexOf(':');
  if (colon === -1) return;
  const decode = (value: string) => decodeURIComponent(value.replace(/\+/g, '%20'));
  let clientId: string;
  let secret: string;
  try {
    clientId = decode(basic.slice(0, colon));
    secret = decode(basic.slice(colon + 1));
  } catch {
    return;
  }
  if (secret === '') return;
  headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(digest(secret))}`).toString('base64')}`;
}
