import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/index.js';
import type { PageKit } from '../page-kit.js';
import type { CookieSettings } from '../request-context.js';
import { apiClientRoutes } from '../routes/api-clients.js';
import { adminClientPageRoutes } from '../routes/pages-admin-clients.js';
import { oidcInteractionRoutes } from './interaction-routes.js';
import type { OidcProviderHandle } from './mount.js';
import { mountOidc } from './mount.js';

/** OpenID Connect: the provider's endpoints, our interaction pages, and client administration. */
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
  apiClientRoutes(app, services);
  adminClientPageRoutes(app, services, kit);
  return handle;
}
