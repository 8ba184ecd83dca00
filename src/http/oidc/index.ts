import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { oidcInteractionRoutes } from './interaction-routes.js';
import type { OidcProviderHandle } from './mount.js';
import { mountOidc } from './mount.js';

/** OpenID Connect: the provider's endpoints and our interaction pages (client administration is with the API and the pages). */
export async function registerOidc(
  app: FastifyInstance,
  services: Services,
  cookies: CookieSettings,
  kit: PageKit,
  options: { trustProxy: boolean },
): Promise<OidcProviderHandle> {
  // The issuer is the configured public URL, the same on every node behind a load balancer.
  const handle = await mountOidc(app, services, kit, { publicUrl: services.settings.publicUrl, trustProxy: options.trustProxy });
  oidcInteractionRoutes(app, services, cookies, kit, handle);
  return handle;
}
