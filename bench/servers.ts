/**
 * The servers under test, away from the load generator's event loop: a bare node:http server
 * and the Fastify reference (framework-floor.ts) in this process, and `twofold serve` (from
 * dist/, SQLite in a temp dir or a PostgreSQL schema) in a process of its own, all on 127.0.0.1. This process prepares the people each scenario
 * needs, reports them to the parent over IPC, samples the server's RSS, and shuts everything
 * down (temp dir included) when told to or when the parent goes away.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { Config } from '../src/config.js';
import { openRuntime } from '../src/services/bootstrap.js';
import { pgDriver } from '../src/store/postgres/pg-module.js';
import type { Runtime } from '../src/services/bootstrap.js';
import type { User } from '../src/store/index.js';
import type { ChildMessage, Credentials, ParentMessage } from './protocol.js';
import { freePort } from './free-port.js';
import { listenFrameworkFloor } from './framework-floor.js';
import { prepareSecondFactorPool } from './second-factor-pool.js';

const PASSWORD = 'correct horse battery staple 42';
const SIGN_IN_USERS = 4;
const SECOND_FACTOR_USERS = Number(process.env.BENCH_TOTP_USERS || 12_000);

function send(message: ChildMessage): void {
  process.send?.(message);
}

async function listenBare(): Promise<{ url: string; close(): Promise<void> }> {
  const body = JSON.stringify({ ok: true });
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `--pg` (BENCH_PG=1): PostgreSQL at BENCH_DATABASE_URL, in a schema of its own that is dropped afterwards. */
const PG_URL = process.env.BENCH_PG === '1' ? process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test' : null;
/** The server writes its access log (into /dev/null) as `twofold serve` does; BENCH_LOG=0 turns it off. */
const LOGGING = process.env.BENCH_LOG !== '0';

async function pgQuery(text: string): Promise<void> {
  const client = new (pgDriver().Client)({ connectionString: PG_URL ?? '' });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The database both processes use: a temp dir for SQLite, a schema of its own on PostgreSQL. */
interface BenchDatabase {
  config: Config;
  schema: string | null;
  /** TWOFOLD_DATABASE_URL for the server process (the schema pinned in its options). */
  serverUrl: string | null;
}

async function benchDatabase(dataDir: string): Promise<BenchDatabase> {
  const schema = PG_URL ? `bench_${Date.now().toString(36)}` : null;
  if (schema) await pgQuery(`create schema ${schema}`);
  let serverUrl: string | null = null;
  if (PG_URL && schema) {
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    serverUrl = url.toString();
  }
  const config = loadConfig({
    TWOFOLD_DATA_DIR: dataDir,
    TWOFOLD_SECRET_KEY: 'b'.repeat(64),
    TWOFOLD_HOST: '127.0.0.1',
    TWOFOLD_PORT: String(await freePort()),
    ...(serverUrl ? { TWOFOLD_DATABASE_URL: serverUrl } : {}),
  });
  return { config, schema, serverUrl };
}

const DIST_CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

/**
 * `twofold serve` from dist/, as an operator runs it (`npm start`), in a process of its own, so
 * its memory is the server's alone and no TypeScript loader runs in it. Its access log goes to
 * /dev/null as `info` lines (BENCH_LOG=0: `silent`). It shares the database with this process,
 * which set the people up before it started.
 */
async function startServe(database: BenchDatabase): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  if (!existsSync(DIST_CLI)) throw new Error('bench: dist/cli.js is missing; run npm run build');
  const { config } = database;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TWOFOLD_DATA_DIR: config.dataDir,
    TWOFOLD_SECRET_KEY: 'b'.repeat(64),
    TWOFOLD_HOST: config.host,
    TWOFOLD_PORT: String(config.port),
    TWOFOLD_LOG_LEVEL: LOGGING ? 'info' : 'silent',
    ...(database.serverUrl ? { TWOFOLD_DATABASE_URL: database.serverUrl } : {}),
  };
  const devNull = openSync('/dev/null', 'w');
  // BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops (Chrome DevTools opens it).
  // BENCH_NODE_FLAGS: flags for the server's node (e.g. --max-semi-space-size=2), to measure a tuning.
  const profile = [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), ...(process.env.BENCH_NODE_FLAGS ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : [])];
  const child = spawn(process.execPath, [...profile, DIST_CLI, 'serve'], { env, stdio: ['ignore', devNull, 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`bench: twofold serve exited (${child.exitCode}): ${stderr}`);
    const ok = await fetch(`${config.publicUrl}/readyz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`bench: twofold serve did not answer /readyz in 60 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url: config.publicUrl,
    pid: child.pid as number,
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      closeSync(devNull);
    },
  };
}

/** Resident set size of the server process (VmRSS), sampled every 50 ms: the peak is what a machine must have. */
let peakRss = 0;
/** Peak since the last 'peak' message: the scenario that just ran. */
let scenarioPeakRss = 0;
function sampleRss(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0; // the server has already stopped
  }
  const kib = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  peakRss = Math.max(peakRss, kib * 1024);
  scenarioPeakRss = Math.max(scenarioPeakRss, kib * 1024);
  return kib * 1024;
}

/**
 * CPU time (user + system) the server process has used, from /proc/<pid>/stat (fields 14 and 15,
 * in clock ticks of 10 ms): divided by the responses of a scenario, it is the server's own cost
 * of a request, independent of the client's speed and of the bare floor (bench/README.md).
 */
function serverCpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}
let cpuMarkMs = 0;

/** Signs in over HTTP like a client would and returns the session cookie's value. */
async function sessionTokenFor(url: string, who: Credentials): Promise<string> {
  const res = await fetch(`${url}/api/v1/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(who),
  });
  const token = /twofold_session=([^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  if (res.status !== 200 || !token) throw new Error(`bench setup: sign-in for the session scenario gave ${res.status}`);
  return token;
}

async function counts(runtime: Runtime): Promise<ChildMessage> {
  const db = runtime.database.db;
  const n = (row: { n: unknown }) => Number(row.n);
  const completedFlows = await db.selectFrom('sign_in_flows').select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'completed').executeTakeFirstOrThrow();
  const sessions = await db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  const failed = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('event_type', '=', 'second_factor.failed').executeTakeFirstOrThrow();
  return { type: 'counts', completedFlows: n(completedFlows), sessions: n(sessions), failedSecondFactorEvents: n(failed), peakRssBytes: peakRss };
}

async function main(): Promise<void> {
  const started = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-bench-'));
  const bare = await listenBare();
  const floor = await listenFrameworkFloor();
  const database = await benchDatabase(dataDir);
  // This process sets the people up through the services (and migrates); the server under test
  // starts afterwards on the same database.
  const runtime = await openRuntime(database.config, database.schema ? { postgresSchema: database.schema } : {});
  const serving: { twofold?: Awaited<ReturnType<typeof startServe>>; sampler?: NodeJS.Timeout } = {};

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      clearInterval(serving.sampler);
      await bare.close();
      await floor.close();
      await serving.twofold?.close();
      await runtime.close();
      if (database.schema) await pgQuery(`drop schema if exists ${database.schema} cascade`);
      rmSync(dataDir, { recursive: true, force: true });
    })());
  // If the load generator dies, do not outlive it.
  process.on('disconnect', () => void shutdown().then(() => process.exit(0)));
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    if (message.type === 'count') void counts(runtime).then(send);
    const pid = serving.twofold?.pid;
    if (message.type === 'mark' && pid) {
      cpuMarkMs = serverCpuMs(pid);
      send({ type: 'marked' });
    }
    if (message.type === 'peak' && pid) {
      send({ type: 'peak', peakRssBytes: scenarioPeakRss, cpuMs: serverCpuMs(pid) - cpuMarkMs });
      scenarioPeakRss = 0;
    }
    if (message.type === 'stop') void shutdown().then(() => send({ type: 'stopped' }));
  });

  const { services } = runtime;
  const actor = { userId: null, meta: null };
  const org = await services.accounts.createOrganisation('Bench', null, actor);
  const signInUsers: Credentials[] = Array.from({ length: SIGN_IN_USERS }, (_, i) => ({ email: `bench-pwd-${i}@example.com`, password: PASSWORD }));
  const created = await Promise.all(signInUsers.map((u) => services.accounts.createUser({ orgId: org.id, email: u.email, password: u.password }, actor)));
  const secondFactorPool = await prepareSecondFactorPool(runtime, created[0] as User, SECOND_FACTOR_USERS);
  const server = await startServe(database);
  serving.twofold = server;
  const sessionToken = await sessionTokenFor(server.url, signInUsers[0] as Credentials);

  // Idle: started, one sign-in served, a second to settle, nothing in flight. Peak: sampled from here to the end of the run.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const idleRssBytes = sampleRss(server.pid);
  serving.sampler = setInterval(() => sampleRss(server.pid), 50);
  serving.sampler.unref();
  send({
    type: 'ready',
    bareUrl: bare.url,
    floorUrl: floor.url,
    twofoldUrl: server.url,
    sessionToken,
    signInUsers,
    secondFactorPool,
    setupMs: Date.now() - started,
    backend: PG_URL ? 'postgres' : 'sqlite',
    logging: LOGGING,
    idleRssBytes,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
