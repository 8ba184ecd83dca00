/**
 * The servers under test, in their own process so the load generator does not share their
 * event loop: a bare node:http server and a Twofold server (SQLite in a temp dir), both on
 * 127.0.0.1. Prepares the users each scenario needs, reports them to the parent over IPC,
 * and shuts everything down (temp dir included) when told to or when the parent goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { LOG_REDACT, buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/services/bootstrap.js';
import { pgDriver } from '../src/store/postgres/pg-module.js';
import type { Runtime } from '../src/services/bootstrap.js';
import type { User } from '../src/store/index.js';
import type { ChildMessage, Credentials, ParentMessage } from './protocol.js';
import { freePort } from './free-port.js';
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
/** The access log as `twofold serve` writes it (same options, redaction included), into /dev/null; BENCH_LOG=0 turns it off. */
const LOGGER = process.env.BENCH_LOG === '0' ? false : { level: 'info', file: '/dev/null', redact: { paths: LOG_REDACT, censor: '[redacted]' } };

async function pgQuery(text: string): Promise<void> {
  const client = new (pgDriver().Client)({ connectionString: PG_URL ?? '' });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** As `twofold serve` does it: config from env, runtime, app, listen on loopback. */
async function listenTwofold(dataDir: string): Promise<{ url: string; runtime: Runtime; close(): Promise<void> }> {
  const port = await freePort();
  const schema = PG_URL ? `bench_${Date.now().toString(36)}` : null;
  if (schema) await pgQuery(`create schema ${schema}`);
  const config = loadConfig({
    TWOFOLD_DATA_DIR: dataDir,
    TWOFOLD_SECRET_KEY: 'b'.repeat(64),
    TWOFOLD_HOST: '127.0.0.1',
    TWOFOLD_PORT: String(port),
    ...(PG_URL ? { TWOFOLD_DATABASE_URL: PG_URL } : {}),
  });
  const runtime = await openRuntime(config, schema ? { postgresSchema: schema } : {});
  const app = await buildApp({ services: runtime.services, publicUrl: config.publicUrl, companyName: config.companyName, logger: LOGGER });
  await app.listen({ host: config.host, port: config.port });
  return {
    url: config.publicUrl,
    runtime,
    async close() {
      await app.close();
      await runtime.close();
      if (schema) await pgQuery(`drop schema if exists ${schema} cascade`);
    },
  };
}

/** Resident set size of this process (the servers), sampled every 50 ms: the peak is what a machine must have. */
let peakRss = 0;
function sampleRss(): number {
  const rss = process.memoryUsage.rss();
  peakRss = Math.max(peakRss, rss);
  return rss;
}

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
  const twofold = await listenTwofold(dataDir);

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      await bare.close();
      await twofold.close();
      rmSync(dataDir, { recursive: true, force: true });
    })());
  // If the load generator dies, do not outlive it.
  process.on('disconnect', () => void shutdown().then(() => process.exit(0)));
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    if (message.type === 'count') void counts(twofold.runtime).then(send);
    if (message.type === 'stop') void shutdown().then(() => send({ type: 'stopped' }));
  });

  const { services } = twofold.runtime;
  const actor = { userId: null, meta: null };
  const org = await services.accounts.createOrganisation('Bench', null, actor);
  const signInUsers: Credentials[] = Array.from({ length: SIGN_IN_USERS }, (_, i) => ({ email: `bench-pwd-${i}@example.com`, password: PASSWORD }));
  const created = await Promise.all(signInUsers.map((u) => services.accounts.createUser({ orgId: org.id, email: u.email, password: u.password }, actor)));
  const sessionToken = await sessionTokenFor(twofold.url, signInUsers[0] as Credentials);
  const secondFactorPool = await prepareSecondFactorPool(twofold.runtime, created[0] as User, SECOND_FACTOR_USERS);

  // Idle: set up, warm, nothing in flight. Peak: sampled from here to the end of the run.
  global.gc?.();
  const idleRssBytes = sampleRss();
  setInterval(sampleRss, 50).unref();
  send({
    type: 'ready',
    bareUrl: bare.url,
    twofoldUrl: twofold.url,
    sessionToken,
    signInUsers,
    secondFactorPool,
    setupMs: Date.now() - started,
    backend: PG_URL ? 'postgres' : 'sqlite',
    logging: LOGGER !== false,
    idleRssBytes,
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
