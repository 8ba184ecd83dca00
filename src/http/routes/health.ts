import type { FastifyInstance } from 'fastify';
import type { Database } from '../../store/index.js';

export function healthRoutes(app: FastifyInstance, database: Database): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await database.ping();
      return { status: 'ready', database: database.dialect };
    } catch (error) {
      request.log.warn({ err: error }, 'database not reachable');
      return reply.code(503).send({ error: { code: 'database_unavailable', message: 'The database is not reachable.' } });
    }
  });
}
