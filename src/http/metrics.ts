import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { unauthenticated } from '../core/errors.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Signals } from '../services/index.js';
import { watchAuditEvents } from './metrics-audit.js';

/** Counts a finished request (its route, status and time): called once per request when its reply is done. */
export type RequestObserver = (request: FastifyRequest, reply: FastifyReply) => void;

/**
 * One registry per app instance, so several servers in one process (tests) do not collide.
 *
 * What happened to people (sign-ins, second factors, codes, step-ups, deploys) is counted from
 * the audit events once they commit (`metrics-audit.ts`): every use case that writes an event is
 * covered by that one hook, and a rolled-back change counts nothing. What happened to requests
 * (routes, statuses, limit refusals, an unreachable database) is counted here, per response.
 */
export function installMetrics(app: FastifyInstance, signals: Signals, token?: string): RequestObserver {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'twofold_' });
  const requests = new Counter({
    name: 'twofold_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'twofold_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'twofold_rate_limit_refusals_total',
    help: 'Requests refused with 429 by a limit (sign-in, second factor, code sends, resets), by route',
    labelNames: ['route'] as const,
    registers: [registry],
  });
  const databaseUnavailable = new Counter({
    name: 'twofold_database_unavailable_total',
    help: 'Requests answered 503 database_unavailable because the database could not be reached',
    registers: [registry],
  });
  new Gauge({
    name: 'twofold_database_pool_connections',
    help: 'PostgreSQL connection pool: open (total), idle, requests waiting for a connection, and the maximum',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const use = signals.poolUse();
      if (!use) return;
      this.set({ state: 'total' }, use.total);
      this.set({ state: 'idle' }, use.idle);
      this.set({ state: 'waiting' }, use.waiting);
      this.set({ state: 'max' }, use.max);
    },
  });
  const stopWatching = watchAuditEvents(registry, signals);
  app.addHook('onClose', async () => stopWatching());
  const swept = new Counter({
    name: 'twofold_housekeeping_rows_swept_total',
    help: 'Rows the housekeeping sweep deleted (expired sessions, flows, codes, links, rate-limit windows; audit events past retention), by table',
    labelNames: ['table'] as const,
    registers: [registry],
  });
  const stopSwept = signals.onSwept((table, rows) => swept.inc({ table }, rows));
  app.addHook('onClose', async () => stopSwept());

  app.addHook('onError', async (_request, _reply, error) => {
    if ((error as { code?: unknown }).code === 'database_unavailable') databaseUnavailable.inc();
  });
  const observeRequest: RequestObserver = (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    if (reply.statusCode === 429) refusals.inc({ route });
  };
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (token !== undefined && !bearerMatches(request.headers.authorization, token)) {
      reply.header('WWW-Authenticate', 'Bearer realm="metrics"');
      throw unauthenticated('metrics_token_invalid', 'GET /metrics needs Authorization: Bearer <TWOFOLD_METRICS_TOKEN>.');
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
  return observeRequest;
}

/** Compares in constant time, so the token cannot be guessed a character at a time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (\S+)$/i.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
