import type { Config } from '../../src/config.js';
import { loadConfig } from '../../src/config.js';
import { buildApp } from '../../src/http/app.js';
import type { Runtime } from '../../src/services/bootstrap.js';
import { openRuntime } from '../../src/services/bootstrap.js';
import type { Services } from '../../src/services/index.js';
import type { TestDatabaseLocation } from './backend.js';
import { freshDatabaseLocation, withSchemasStable } from './backend.js';
import { TestClock } from './clock.js';
import { installReplyCheck } from './reply-check.js';

export interface TestServer {
  url: string;
  config: Config;
  runtime: Runtime;
  services: Services;
  location: TestDatabaseLocation;
  close(): Promise<void>;
}

export interface TestServerOptions {
  clock?: TestClock;
  env?: Record<string, string>;
  /** Share another server's database (two nodes, one database). */
  location?: TestDatabaseLocation;
  /** The host name in the public URL (still listening on 127.0.0.1): WebAuthn in a browser needs a domain, e.g. `localhost`. */
  publicHost?: string;
}

/** A real listening server on 127.0.0.1 with its own empty database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownsLocation = !options.location;
  const location = options.location ?? (await freshDatabaseLocation());
  // The public URL must name the real port (links in messages, bundle URLs): find a free one first.
  const probe = await import('node:net').then(
    (net) =>
      new Promise<number>((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
          const address = srv.address();
          const port = typeof address === 'object' && address ? address.port : 0;
          srv.close(() => resolve(port));
        });
      }),
  );
  const url = `http://${options.publicHost ?? '127.0.0.1'}:${probe}`;
  const env: Record<string, string> = {
    TWOFOLD_DATA_DIR: location.dataDir,
    TWOFOLD_SECRET_KEY: 'a'.repeat(64),
    TWOFOLD_PORT: String(probe),
    TWOFOLD_PUBLIC_URL: url,
    // The test peers (SMTP, Twilio, webhook receivers) listen on 127.0.0.1; a test that wants the
    // production rule (public addresses only) passes TWOFOLD_DELIVERY_ALLOW_PRIVATE: 'false'.
    TWOFOLD_DELIVERY_ALLOW_PRIVATE: 'true',
    // The suites written before the admin window had its own setting expect admin sudo to lapse
    // with the person's (5 minutes); a test of the admin window passes its own value.
    TWOFOLD_ADMIN_REAUTH_MINUTES: '5',
    ...(location.databaseUrl ? { TWOFOLD_DATABASE_URL: location.databaseUrl } : {}),
    ...options.env,
  };
  const config = loadConfig(env);
  const runtime = await withSchemasStable(location, () =>
    openRuntime(config, {
      ...(options.clock ? { clock: options.clock.now } : {}),
      ...(location.postgresSchema ? { postgresSchema: location.postgresSchema } : {}),
    }),
  );
  // Every reply is checked against its route's response schemas; close() fails if one did not fit.
  const replyProblems: string[] = [];
  const app = await buildApp({
    services: runtime.services,
    publicUrl: url,
    companyName: config.companyName,
    logger: false,
    trustProxy: config.trustProxy,
    instrument: (instance) => installReplyCheck(instance, replyProblems),
  });
  await app.listen({ host: '127.0.0.1', port: probe });
  return {
    url,
    config,
    runtime,
    services: runtime.services,
    location,
    async close() {
      await app.close();
      await runtime.close();
      if (ownsLocation) await location.dispose();
      if (replyProblems.length > 0) {
        throw new Error(`Replies that do not fit their response schema (src/http/response-schemas.ts):\n${[...new Set(replyProblems)].join('\n')}`);
      }
    },
  };
}

/**
 * Two nodes (two runtimes, two connection pools) over one database, closed newest first (the
 * first owns the database). Registered before starting, so a failed start still cleans up.
 */
export async function startTwoNodes(t: { after(fn: () => Promise<void>): void }, clock: TestClock = new TestClock()) {
  const started: TestServer[] = [];
  t.after(async () => {
    for (const server of started.reverse()) await server.close();
  });
  const first = await startTestServer({ clock });
  started.push(first);
  const second = await startTestServer({ clock, location: first.location });
  started.push(second);
  return { clock, nodes: [first, second] as const };
}
