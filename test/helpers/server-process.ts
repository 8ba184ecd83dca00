import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDatabaseLocation } from './backend.js';
import { withSchemasStable } from './backend.js';
import { freePort } from './ports.js';
import { cliArgs } from './cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote so far (the log is JSON lines on stdout). */
  output(): string;
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface ServerProcessOptions {
  env?: Record<string, string>;
  /** Reuse a port (a restart after a crash keeps the same public URL). */
  port?: number;
  /** How long to wait for /readyz to say 200. */
  readyTimeoutMs?: number;
  /** The Node binary to run (the Node-version smoke passes another one). */
  nodePath?: string;
}

/** The environment `twofold serve` gets for a test database (PostgreSQL: its schema on the search path). */
export function serverEnv(location: TestDatabaseLocation, port: number): Record<string, string> {
  const env: Record<string, string> = {
    TWOFOLD_DATA_DIR: location.dataDir,
    TWOFOLD_SECRET_KEY: 'a'.repeat(64),
    TWOFOLD_HOST: '127.0.0.1',
    TWOFOLD_PORT: String(port),
    TWOFOLD_PUBLIC_URL: `http://127.0.0.1:${port}`,
    TWOFOLD_LOG_LEVEL: 'info',
  };
  if (location.databaseUrl) {
    const url = new URL(location.databaseUrl);
    if (location.postgresSchema) url.searchParams.set('options', `-c search_path=${location.postgresSchema}`);
    env.TWOFOLD_DATABASE_URL = url.toString();
  }
  return env;
}

/**
 * `twofold serve` as an operator runs it: a separate process (so a test can signal or SIGKILL
 * it), ready once /readyz answers 200.
 */
export function startServerProcess(location: TestDatabaseLocation, options: ServerProcessOptions = {}): Promise<ServerProcess> {
  // It migrates on start, so it starts under the shared schema lock like every other migration.
  return withSchemasStable(location, () => start(location, options));
}

async function start(location: TestDatabaseLocation, options: ServerProcessOptions): Promise<ServerProcess> {
  const port = options.port ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, ...serverEnv(location, port), ...options.env };
  delete env.NODE_OPTIONS; // the test runner's flags are not the server's
  const child = spawn(options.nodePath ?? process.execPath, cliArgs('serve'), { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (;;) {
    if (gone) throw new Error(`twofold serve exited before it was ready:\n${text}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`twofold serve was not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, port, child, output: () => text, exited };
}

/** Stops a server process if it still runs (for t.after). */
export async function killServerProcess(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGKILL');
  await server.exited;
}
