import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Services } from '../services/index.js';
import { assertSameOrigin } from './csrf.js';
import { errorBody, sendError } from './errors.js';
import { installMetrics } from './metrics.js';
import { installPageKit } from './page-kit.js';
import { COOKIE, cookieSettingsFor } from './request-context.js';
import { apiAccountRoutes } from './routes/api-account.js';
import { apiSecurityRoutes } from './routes/api-security.js';
import { securityCentrePageRoutes } from './routes/pages-security-centre.js';
import { apiAuthRoutes } from './routes/api-auth.js';
import { apiCodeRoutes } from './routes/api-codes.js';
import { apiDeliveredFactorRoutes, apiFactorRoutes } from './routes/api-factors.js';
import { apiServicesRoutes } from './routes/api-services.js';
import { apiUserAdminRoutes } from './routes/api-users.js';
import { apiDeployRoutes } from './routes/api-deploys.js';
import { apiPolicyRoutes } from './routes/api-policy.js';
import { healthRoutes } from './routes/health.js';
import { accountPageRoutes } from './routes/pages-account.js';
import { adminPolicyPageRoutes } from './routes/pages-admin-policy.js';
import { adminUserPageRoutes } from './routes/pages-admin-users.js';
import { adminServicesPageRoutes } from './routes/pages-admin-services.js';
import { deployPageRoutes } from './routes/pages-deploys.js';
import { authPageRoutes } from './routes/pages-auth.js';
import { passwordPageRoutes } from './routes/pages-password.js';
import { reauthPageRoutes } from './routes/pages-reauth.js';
import { registerOidc } from './oidc/index.js';

export interface AppOptions {
  services: Services;
  publicUrl: string;
  companyName: string;
  trustProxy?: boolean;
  /** pino options, or false to stay quiet (tests, benchmarks). */
  logger?: FastifyServerOptions['logger'];
}

export const BODY_LIMIT_BYTES = 64 * 1024;

/** Log redaction: nothing that authenticates anyone reaches the logs. */
export const LOG_REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.code',
  '*.token',
  '*.challenge',
  '*.secret',
];

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { services } = options;
  const app = Fastify({
    logger: options.logger ?? false,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Wrong types are refused, not coerced: "123" is not a boolean and {} is not a string.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const cookies = cookieSettingsFor(options.publicUrl);
  const publicOrigin = new URL(options.publicUrl).origin;

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    strictTransportSecurity: cookies.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Twofold API', version: '1' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: COOKIE.session } } },
      security: [{ session: [] }],
    },
  });

  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request, reply) => {
    // The API speaks JSON only: a form or text/plain body (what a cross-site form can send
    // without a preflight) is refused before any parser sees it.
    if (request.url.startsWith('/api/') && carriesBody(request.headers) && !isJson(request.headers['content-type'])) {
      return reply.code(415).type('application/json; charset=utf-8').send(errorBody('unsupported_media_type', 'Send the body as application/json.'));
    }
  });
  app.addHook('onRequest', async (request) => {
    // Only requests that carry our cookies can be forged cross-site.
    if (request.cookies[COOKIE.session] || request.cookies[COOKIE.csrf] || request.cookies[COOKIE.flow]) {
      assertSameOrigin(request, publicOrigin);
    }
    request.auth = await services.sessions.authenticate(request.cookies[COOKIE.session]);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
    return payload;
  });

  installMetrics(app);
  healthRoutes(app, services.deps.database);
  const kit = installPageKit(app, options.companyName, cookies);
  apiAuthRoutes(app, services, cookies);
  apiAccountRoutes(app, services);
  apiSecurityRoutes(app, services);
  apiFactorRoutes(app, services);
  apiDeliveredFactorRoutes(app, services);
  apiCodeRoutes(app, services, cookies);
  apiServicesRoutes(app, services);
  apiUserAdminRoutes(app, services);
  apiDeployRoutes(app, services);
  apiPolicyRoutes(app, services);
  authPageRoutes(app, services, cookies, kit);
  accountPageRoutes(app, services, cookies, kit);
  securityCentrePageRoutes(app, services, kit);
  adminUserPageRoutes(app, services, kit);
  adminPolicyPageRoutes(app, services, kit);
  passwordPageRoutes(app, services, kit);
  reauthPageRoutes(app, services, cookies, kit);
  adminServicesPageRoutes(app, services, kit);
  deployPageRoutes(app, services, kit);
  await registerOidc(app, services, cookies, kit, { trustProxy: options.trustProxy ?? false });
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return app;
}

function carriesBody(headers: FastifyRequest['headers']): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^application\/json\s*(?:;|$)/i.test(contentType);
}
