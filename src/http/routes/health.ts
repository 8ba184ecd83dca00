import type { FastifyInstance } from 'fastify';
import type { Readiness } from '../../services/index.js';
import { errorReplies, healthReply, readyReply } from '../response-schemas.js';

/** Longest /readyz waits for the database before it says "not ready". */
const READY_TIMEOUT_MS = 5_000;

/**
 * Probes answer about the node and its database, never about the caller: they live at the root,
 * outside the api and pages plugins, so no session lookup runs for them (a browser's cookie must
 * not turn /healthz into a database query, or /readyz into a 500).
 */
export function healthRoutes(app: FastifyInstance, database: Readiness): void {
  app.get('/healthz', { schema: { hide: true, response: { 200: healthReply } } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true, response: { 200: readyReply, ...errorReplies('database_unavailable') } } }, async (request, reply) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        database.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
        }),
      ]);
      return { status: 'ready', database: database.dialect };
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply
        .code(503)
        .header('Retry-After', '5')
        .send({ error: { code: 'database_unavailable', message: 'The database is not reachable.' } });
    } finally {
      clearTimeout(timer);
    }
  });
}
