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
    logger: opts.logger === false ? false : { level: config.logLevel, redact: { paths: LOG_REDACT, censor: '[redacted]' } },
  });
  const address = await app.listen({ host: config.host, port: config.port });
  return { app, url: address, close: () => app.close() };
}
