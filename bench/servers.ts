/**
 * The servers under test, in their own process so the load generator does not share their
 * event loop: a bare node:http server and a Twofold server (SQLite in a temp dir), both on
 * 127.0.0.1. Prepares the users each scenario needs, reports them to the parent over IPC,
 * and shuts everything down (temp dir included) when told to or when the parent goes away.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { randomToken, sha256 } from '../src/core/crypto.js';
import { offeredMethods } from '../src/core/sign-in-flow.js';
import { generateTotpSecret } from '../src/core/totp.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/services/bootstrap.js';
import type { Runtime } from '../src/services/bootstrap.js';
import { totpSecretContext } from '../src/services/secret-contexts.js';
import type { User } from '../src/store/index.js';
import { factors, signInFlows, users } from '../src/store/index.js';
import type { ChildMessage, Credentials, ParentMessage, PendingSecondFactor } from './protocol.js';

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

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** As `twofold serve` does it: config from env, runtime, app, listen on loopback. */
async function listenTwofold(dataDir: string): Promise<{ url: string; runtime: Runtime; close(): Promise<void> }> {
  const port = await freePort();
  const config = loadConfig({ TWOFOLD_DATA_DIR: dataDir, TWOFOLD_SECRET_KEY: 'b'.repeat(64), TWOFOLD_HOST: '127.0.0.1', TWOFOLD_PORT: String(port) });
  const runtime = await openRuntime(config);
  const app = await buildApp({ services: runtime.services, publicUrl: config.publicUrl, companyName: config.companyName, logger: false });
  await app.listen({ host: config.host, port: config.port });
  return {
    url: config.publicUrl,
    runtime,
    async close() {
      await app.close();
      await runtime.close();
    },
  };
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

/**
 * Users with one active authenticator and one pending sign-in flow each, written straight
 * through the store (the rows the enrolment and password services would write), so setup
 * pays no argon2 per user. All share the template user's password hash.
 */
async function prepareSecondFactorPool(runtime: Runtime, template: User, count: number): Promise<PendingSecondFactor[]> {
  const { database, services } = runtime;
  const now = services.clock();
  const pool: PendingSecondFactor[] = [];
  const methods = JSON.stringify(offeredMethods(['totp'], 0));
  await database.db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i++) {
      const userId = randomUUID();
      const email = `bench-2fa-${i}@example.com`;
      await users.insertUser(trx, {
        id: userId,
        org_id: template.org_id,
        email,
        email_normalized: email,
        display_name: `bench-2fa-${i}`,
        time_zone: 'UTC',
        password_hash: template.password_hash,
        status: 'active',
        password_changed_at: now,
        created_at: now,
        totp_last_step: null,
        second_factor_locked_until: null,
      });
      const factorId = randomUUID();
      const secret = generateTotpSecret();
      await factors.insertFactor(trx, {
        id: factorId,
        user_id: userId,
        type: 'totp',
        label: 'Authenticator app',
        secret_encrypted: runtime.box.encrypt(secret, totpSecretContext(factorId)),
        status: 'active',
        created_at: now,
        expires_at: null,
        confirmed_at: now,
        last_used_at: now,
      });
      const challenge = randomToken(32);
      await signInFlows.insertSignInFlow(trx, {
        id: randomUUID(),
        token_hash: sha256(challenge),
        user_id: userId,
        state: 'second_factor_required',
        methods,
        amr: JSON.stringify(['pwd']),
        created_at: now,
        expires_at: now + services.settings.signInFlowMs,
        ip: '127.0.0.1',
        user_agent: 'bench',
      });
      pool.push({ challenge, secret });
    }
  });
  return pool;
}

async function counts(runtime: Runtime): Promise<ChildMessage> {
  const db = runtime.database.db;
  const n = (row: { n: unknown }) => Number(row.n);
  const completedFlows = await db.selectFrom('sign_in_flows').select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'completed').executeTakeFirstOrThrow();
  const sessions = await db.selectFrom('sessions').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  const failed = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).where('event_type', '=', 'second_factor.failed').executeTakeFirstOrThrow();
  return { type: 'counts', completedFlows: n(completedFlows), sessions: n(sessions), failedSecondFactorEvents: n(failed) };
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

  send({ type: 'ready', bareUrl: bare.url, twofoldUrl: twofold.url, sessionToken, signInUsers, secondFactorPool, setupMs: Date.now() - started });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
