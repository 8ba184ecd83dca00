import { setFlagsFromString } from 'node:v8';
import type { Config } from '../config.js';
import { startServer } from '../http/server.js';
import { openRuntime } from '../services/bootstrap.js';

/** pino's flush (the logger Fastify builds is pino; its base type does not declare it). */
function flushLog(log: object): void {
  (log as { flush?: () => void }).flush?.();
}

/**
 * `twofold serve`: start, print the setup link on an empty database, and stop gracefully.
 *
 * On SIGTERM or SIGINT the server stops accepting connections, lets the requests already in
 * flight finish (at most `shutdownTimeoutMs`; whatever is still running then is cut off),
 * flushes its log and closes the database. It exits 0 after a clean drain and 1 when the
 * deadline cut requests off, so a supervisor can tell the two apart. A second signal while
 * draining exits at once (1).
 */
export async function serve(config: Config): Promise<void> {
  // V8 grows its heap freely under load (a server of ~120 MiB reached ~230 MiB in `npm run bench`);
  // favouring size kept the peak near 170 MiB with the same throughput, measured in the same runs
  // (bench/README.md). It is a heap-policy flag V8 reads as it goes, so setting it here takes effect.
  setFlagsFromString('--optimize-for-size');
  const runtime = await openRuntime(config);
  const server = await startServer(config, runtime);
  const link = await runtime.services.setup.issueSetupLink();
  if (link) process.stdout.write(`\nNo users yet. Create the first admin here (link works once, for 24 hours):\n  ${link}\n\n`);

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    const log = server.app.log;
    if (stopping) {
      log.warn({ signal }, 'second signal while draining: exiting now');
      flushLog(log);
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down: no new connections, finishing requests in flight');
    let cutOff = false;
    const deadline = setTimeout(() => {
      cutOff = true;
      log.warn({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown deadline passed: closing the connections still open');
      server.app.server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    // A handler stuck on something that never answers must not keep the process alive either.
    setTimeout(() => {
      log.error('still not stopped 5 s after the shutdown deadline: exiting');
      flushLog(log);
      process.exit(1);
    }, config.shutdownTimeoutMs + 5_000).unref();
    // A keep-alive connection whose request finished after the close began is idle now but
    // stays open (Node closes only the connections idle at the moment close() is called), and
    // close() waits for it: sweep the idle ones until every connection is gone.
    const sweep = setInterval(() => server.app.server.closeIdleConnections(), 50);
    try {
      await server.close();
    } catch (error) {
      log.error({ err: error }, 'error while closing the server');
      cutOff = true;
    }
    clearTimeout(deadline);
    clearInterval(sweep);
    try {
      await runtime.close();
    } catch (error) {
      log.error({ err: error }, 'error while closing the database');
      cutOff = true;
    }
    log.info({ clean: !cutOff }, 'stopped');
    flushLog(log);
    process.exit(cutOff ? 1 : 0);
  };
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGTERM', (signal) => void stop(signal));
}
