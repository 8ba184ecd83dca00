import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Runtime } from '../services/bootstrap.js';
import { LOG_REDACT, buildApp } from './app.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, runtime: Runtime, opts: { logger?: boolean } = {}): Promise<RunningServer> {
  const app = await buildApp({
    services: runtime.services,
    publicUrl: config.publicUrl,
    companyName: config.companyName,
    trustProxy: config.trustProxy,
    ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
    logger: opts.logger === false ? false : { level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' } },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  // Every serving node sweeps; on PostgreSQL one at a time (services/housekeeping.ts).
  const { housekeepingIntervalMs } = runtime.services.settings;
  const stopHousekeeping =
    housekeepingIntervalMs > 0 ? runtime.services.housekeeping.start(housekeepingIntervalMs, (error) => app.log.warn({ err: error }, 'housekeeping sweep failed; retried at the next interval')) : async () => {};
  return {
    app,
    url: address,
    close: async () => {
      await stopHousekeeping();
      await app.close();
    },
  };
}
