import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { Services } from '../services/index.js';
import { pageCsp } from './csp.js';
import { assertSameOrigin, requireFormToken } from './csrf.js';
import { errorBody, sendError } from './errors.js';
import { installMetrics } from './metrics.js';
import type { RequestObserver } from './metrics.js';
import { installPageKit } from './page-kit.js';
import { securityHeadersOf } from './security-headers.js';
import { COOKIE, cookieSettingsFor } from './request-context.js';
import { apiAccountRoutes } from './routes/api-account.js';
import { apiSecurityRoutes } from './routes/api-security.js';
import { securityCentrePageRoutes } from './routes/pages-security-centre.js';
import { apiAuthRoutes } from './routes/api-auth.js';
import { apiApprovalRoutes } from './routes/api-approvals.js';
import { apiCodeRoutes } from './routes/api-codes.js';
import { apiDeliveredFactorRoutes, apiFactorRoutes } from './routes/api-factors.js';
import { apiServicesRoutes } from './routes/api-services.js';
import { apiUserAdminRoutes } from './routes/api-users.js';
import { apiRoleRoutes } from './routes/api-roles.js';
import { apiDeployRoutes } from './routes/api-deploys.js';
import { apiPolicyRoutes } from './routes/api-policy.js';
import { healthRoutes } from './routes/health.js';
import { accountPageRoutes } from './routes/pages-account.js';
import { adminPolicyPageRoutes } from './routes/pages-admin-policy.js';
import { adminUserPageRoutes } from './routes/pages-admin-users.js';
import { adminRolePageRoutes } from './routes/pages-admin-roles.js';
import { adminServicesPageRoutes } from './routes/pages-admin-services.js';
import { deployPageRoutes } from './routes/pages-deploys.js';
import { authPageRoutes } from './routes/pages-auth.js';
import { passwordPageRoutes } from './routes/pages-password.js';
import { invitationPageRoutes } from './routes/pages-invitation.js';
import { reauthPageRoutes } from './routes/pages-reauth.js';
import { approvalPageRoutes } from './routes/pages-approvals.js';
import { registerOidc } from './oidc/index.js';
import { installPageErrorHandler } from './page-errors.js';
import { apiClientRoutes } from './routes/api-clients.js';
import { adminClientPageRoutes } from './routes/pages-admin-clients.js';
import { apiBrandingRoutes } from './routes/api-branding.js';
import { apiOrganisationSettingsRoutes } from './routes/api-organisation-settings.js';
import { apiOrganisationRoutes } from './routes/api-organisations.js';
import { adminBrandingPageRoutes } from './routes/pages-admin-branding.js';

export interface AppOptions {
  services: Services;
  publicUrl: string;
  companyName: string;
  trustProxy?: boolean;
  /** pino options, or false to stay quiet (tests, benchmarks). */
  logger?: FastifyServerOptions['logger'];
  /** Called before any route is added: tests hook in here to check every reply against its schema. */
  instrument?: (app: FastifyInstance) => void;
  /** When set, GET /metrics needs `Authorization: Bearer <token>` (TWOFOLD_METRICS_TOKEN). */
  metricsToken?: string;
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

const REDACTED = '[redacted]';

type LoggerOptions = Exclude<NonNullable<AppOptions['logger']>, boolean>;

/**
 * A request URL fit for the log: secrets travel in URLs (a password-reset or setup link's
 * `?token=`, a deploy target's bundle key in `/deploy/<key>/bundle`), so every query value and
 * the bundle key are replaced; the path and the parameter names stay. The common case, a path
 * with neither a query nor `/deploy/`, is returned as it is without parsing anything.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1 && url.indexOf('/deploy/') === -1) return url;
  const path = q === -1 ? url : url.slice(0, q);
  const safePath = path.indexOf('/deploy/') === -1 ? path : path.replace(DEPLOY_KEY_IN_PATH, `/deploy/${REDACTED}`);
  return q === -1 ? safePath : `${safePath}?${redactQuery(url.slice(q + 1))}`;
}

/** `/deploy/<key>…`: every segment after /deploy/ is a key except the pages' own (`/deploy/targets/…`). */
const DEPLOY_KEY_IN_PATH = /\/deploy\/(?!targets(?:\/|$))[^/]+/g;
/** A parameter name worth keeping; anything else (a bare value, an odd name) is replaced whole. */
const PARAM_NAME = /^[\w.\-[\]%]{1,32}$/;

function redactQuery(query: string): string {
  return query
    .split('&')
    .map((part) => {
      if (part === '') return part;
      const eq = part.indexOf('=');
      return eq > 0 && PARAM_NAME.test(part.slice(0, eq)) ? `${part.slice(0, eq + 1)}${REDACTED}` : REDACTED;
    })
    .join('&');
}

/** What a request contributes to a log line (fastify's own fields), with the URL redacted. */
function serializeRequest(req: FastifyRequest) {
  const version = req.headers?.['accept-version'];
  return {
    method: req.method,
    url: redactUrl(req.url),
    version: Array.isArray(version) ? version.join(', ') : version,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

// The safety net for URLs inside text (error messages and stacks, "Route … not found", "Reply was
// already sent … in \"<url>\""): query values and bundle keys in the finished JSON line.
const QUERY_VALUE_IN_TEXT = /([?&][^\s"\\=&#?]{1,64}=)(?!\[redacted\](?:[\s"\\&#]|$))[^\s"\\&#]+/g;
const DEPLOY_KEY_IN_TEXT = /\/deploy\/(?!targets(?:[/\s"\\?#]|$)|\[redacted\])[^/\s"\\?#]+/g;

/** Scrubs one serialised log line; a line without `?` or `/deploy/` (nearly all) is returned as it is. */
export function scrubLogLine(line: string): string {
  const hasQuery = line.indexOf('?') !== -1;
  const hasDeploy = line.indexOf('/deploy/') !== -1;
  if (!hasQuery && !hasDeploy) return line;
  let out = hasQuery ? line.replace(QUERY_VALUE_IN_TEXT, `$1${REDACTED}`) : line;
  if (hasDeploy) out = out.replace(DEPLOY_KEY_IN_TEXT, `/deploy/${REDACTED}`);
  return out;
}

/**
 * The logger options every app runs with, whatever the caller passed: headers, bodies and
 * tokens redacted (LOG_REDACT), request URLs redacted (redactUrl) and any URL left in a message
 * scrubbed (scrubLogLine). `false` (or nothing) stays quiet.
 */
export function safeLoggerOptions(logger: AppOptions['logger']): AppOptions['logger'] {
  if (!logger) return false;
  const given: LoggerOptions = logger === true ? {} : logger;
  const redact =
    given.redact === undefined
      ? { paths: LOG_REDACT, censor: REDACTED }
      : Array.isArray(given.redact)
        ? { paths: [...new Set([...given.redact, ...LOG_REDACT])], censor: REDACTED }
        : { ...given.redact, paths: [...new Set([...given.redact.paths, ...LOG_REDACT])] };
  const theirWrite = given.hooks?.streamWrite;
  return {
    ...given,
    redact,
    serializers: { ...given.serializers, req: serializeRequest },
    hooks: { ...given.hooks, streamWrite: theirWrite ? (line: string) => theirWrite(scrubLogLine(line)) : scrubLogLine },
  };
}

/**
 * What happens once per request when its reply is done: the request metrics, and the access log
 * line. Fastify's own per-request lines are off (its "incoming request", its 404 and
 * error-handler lines: our error handler logs what matters); in their place one access line
 * with the method, the URL as serializeRequest redacts it, the status and the time. The line
 * holds only these fields, so pino's path redaction has nothing to find in it, and it cost two
 * thirds of the line (bench/README.md): its child logger skips it, every other log line keeps
 * it, and every line is still scrubbed. A LogController is how Fastify 5 turns its own lines off
 * (the `disableRequestLogging` option is deprecated); the metrics are counted here too, so one
 * place sees every finished request. (Measured: no faster than onResponse hooks, bench/README.md.)
 */
class RequestCompletion extends LogController {
  accessLog: FastifyBaseLogger | null = null;
  observe: RequestObserver | null = null;

  constructor() {
    super({ disableRequestLogging: true });
  }

  override requestCompleted(_error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    this.observe?.(request, reply);
    this.accessLog?.info({ reqId: request.id, req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { services } = options;
  // Fastify calls RequestCompletion only when it has a logger, so a quiet app gets a silent one.
  const logger = safeLoggerOptions(options.logger) || { level: 'silent' };
  const completion = new RequestCompletion();
  const app = Fastify({
    logger,
    logController: completion,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    // Wrong types are refused, not coerced: "123" is not a boolean and {} is not a string.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  const cookies = cookieSettingsFor(options.publicUrl);
  const publicOrigin = new URL(options.publicUrl).origin;

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES });
  const helmetOptions = {
    contentSecurityPolicy: pageCsp(),
    strictTransportSecurity: cookies.secure ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'no-referrer' as const },
  };
  // The plugin serves only routes with helmet options of their own (the OIDC mount's CSP); every
  // other reply gets the same headers from a constant worked out once (security-headers.ts).
  await app.register(helmet, { ...helmetOptions, global: false });
  const securityHeaders = await securityHeadersOf(helmetOptions);
  app.addHook('onRequest', (request, reply, done) => {
    // @fastify/helmet keeps a route's own options in its config (untyped there).
    if ((request.routeOptions.config as { helmet?: unknown }).helmet === undefined) reply.headers(securityHeaders);
    done();
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Twofold API', version: '1' },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: COOKIE.session } } },
      security: [{ session: [] }],
    },
  });

  options.instrument?.(app);
  completion.accessLog = app.log.child({}, { redact: { paths: [] } });
  app.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  app.decorateRequest('auth', null);
  // Only requests that carry our cookies can be forged cross-site; then the session, if any.
  const authenticate = async (request: FastifyRequest) => {
    if (request.cookies[COOKIE.session] || request.cookies[COOKIE.csrf] || request.cookies[COOKIE.flow]) {
      assertSameOrigin(request, publicOrigin);
    }
    request.auth = await services.sessions.authenticate(request.cookies[COOKIE.session]);
  };

  // At the root: health, metrics, static assets and the OpenAPI document.
  completion.observe = installMetrics(app, services.signals, options.metricsToken);
  healthRoutes(app, services.readiness);
  const kit = installPageKit(app, options.companyName, cookies, async (user) => ({ admin: await services.accounts.isAdmin(user.id), companyName: await services.branding.companyNameFor(user.org_id) }));
  app.get('/api/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // The JSON API: JSON errors, JSON bodies only, never cached.
  await app.register(async (api) => {
    api.setErrorHandler((error, request, reply) => sendError(request, reply, error));
    // One hook for what every API request needs before its route: a hook run costs every request.
    api.addHook('onRequest', async (request, reply) => {
      // Never cached, errors included. The bundle and the JWKS (outside /api/) set their own caching.
      if (request.url.startsWith('/api/')) reply.header('Cache-Control', 'no-store');
      // The API speaks JSON only: a form or text/plain body (what a cross-site form can send
      // without a preflight) is refused before any parser sees it.
      if (carriesBody(request.headers) && !isJson(request.headers['content-type'])) {
        return reply.code(415).type('application/json; charset=utf-8').send(errorBody('unsupported_media_type', 'Send the body as application/json.'));
      }
      await authenticate(request);
    });
    apiAuthRoutes(api, services, cookies);
    apiAccountRoutes(api, services);
    apiSecurityRoutes(api, services);
    apiFactorRoutes(api, services, cookies);
    apiDeliveredFactorRoutes(api, services, cookies);
    apiCodeRoutes(api, services, cookies);
    apiServicesRoutes(api, services);
    apiUserAdminRoutes(api, services);
    apiRoleRoutes(api, services);
    apiDeployRoutes(api, services);
    apiPolicyRoutes(api, services);
    apiClientRoutes(api, services);
    apiBrandingRoutes(api, services);
    apiOrganisationSettingsRoutes(api, services);
    apiOrganisationRoutes(api, services);
    apiApprovalRoutes(api, services);
  });

  // The HTML pages and the OIDC mount: an HTML error page for a browser, never JSON.
  await app.register(async (pages) => {
    installPageErrorHandler(pages, kit, publicOrigin);
    pages.addHook('preHandler', requireFormToken);
    pages.addHook('onRequest', authenticate);
    pages.addHook('onRequest', kit.resolveViewer);
    authPageRoutes(pages, services, cookies, kit);
    accountPageRoutes(pages, services, cookies, kit);
    securityCentrePageRoutes(pages, services, kit);
    adminUserPageRoutes(pages, services, kit);
    adminRolePageRoutes(pages, services, kit);
    adminPolicyPageRoutes(pages, services, kit);
    passwordPageRoutes(pages, services, kit);
    invitationPageRoutes(pages, services, kit);
    reauthPageRoutes(pages, services, cookies, kit);
    approvalPageRoutes(pages, services, kit, options.companyName);
    adminServicesPageRoutes(pages, services, kit);
    deployPageRoutes(pages, services, kit);
    adminClientPageRoutes(pages, services, kit);
    adminBrandingPageRoutes(pages, services, kit);
    await registerOidc(pages, services, cookies, kit, { trustProxy: options.trustProxy ?? false });
  });
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
