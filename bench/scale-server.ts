/**
 * The server side of `npm run bench:scale`, in a process of its own so the load generator does
 * not share its event loop: makes a fresh database (a PostgreSQL schema, or SQLite in a temp dir),
 * loads it (bench/scale-load.ts), adds the bench's own people through the services, then serves
 * it the way `twofold serve` does and reports what the measuring side needs over IPC.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { encodeCursor } from '../src/core/cursor.js';
import { buildApp } from '../src/http/app.js';
import { openRuntime } from '../src/services/bootstrap.js';
import { hashPassword } from '../src/services/passwords.js';
import { users } from '../src/store/index.js';
import { ROOT_ORG, generatedEmail, loadOwnActivity, loadSyntheticData } from './scale-load.js';
import { freePort } from './free-port.js';
import { prepareSecondFactorPool } from './second-factor-pool.js';
import type { ScaleChildMessage, ScaleReady, ScaleServerArgs } from './scale-protocol.js';
import { OWN_EVENTS, PASSWORD } from './scale-protocol.js';

const ADMIN_EMAIL = 'bench-admin@example.com';
const SYSTEM = { userId: null, meta: null };

async function pgQuery(url: string, text: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rowCount ?? 0;
  } finally {
    await client.end();
  }
}

async function main(args: ScaleServerArgs): Promise<void> {
  const started = Date.now();
  const pgUrl = args.databaseUrl;
  const dataDir = pgUrl ? mkdtempSync(join(tmpdir(), 'twofold-scale-')) : join(tmpdir(), `twofold-${args.schema}`);
  if (pgUrl) await pgQuery(pgUrl, `create schema if not exists ${args.schema}`);
  const port = await freePort();
  const env = (extra: Record<string, string>) =>
    loadConfig({
      TWOFOLD_DATA_DIR: dataDir,
      TWOFOLD_SECRET_KEY: 'c'.repeat(64),
      TWOFOLD_HOST: '127.0.0.1',
      TWOFOLD_PORT: String(port),
      TWOFOLD_ADMIN_REAUTH_MINUTES: '240',
      // The sweeper would delete the expired sessions mid-run; the figures are of the requests alone.
      TWOFOLD_HOUSEKEEPING_INTERVAL_SECONDS: '0',
      ...(pgUrl ? { TWOFOLD_DATABASE_URL: pgUrl } : {}),
      ...extra,
    });
  const schemaOption = pgUrl ? { postgresSchema: args.schema } : {};

  // Load with no statement timeout (a 10-million-row insert runs for minutes), then serve with the defaults.
  const loader = await openRuntime(env({ TWOFOLD_DATABASE_STATEMENT_TIMEOUT_MS: '0' }), schemaOption);
  const db = loader.database.db;
  const now = loader.services.clock();
  let admin = await users.findUserByEmail(db, ADMIN_EMAIL);
  const reused = admin !== undefined;
  let loadSteps: Array<[string, number]> = [];
  if (!admin) {
    const passwordHash = await hashPassword(PASSWORD);
    loadSteps = await loadSyntheticData(db, loader.database.dialect, { sizes: args.sizes, nowMs: now, passwordHash });
    admin = await loader.services.accounts.createUser({ orgId: ROOT_ORG, email: ADMIN_EMAIL, password: PASSWORD, roles: ['admin'] }, SYSTEM);
    await loadOwnActivity(db, loader.database.dialect, admin.id, ROOT_ORG, OWN_EVENTS, now);
  }
  const loadMs = Date.now() - started;
  const template = await users.findUser(db, 'u-5');
  if (!template) throw new Error('bench:scale: the generated people are missing (a half-loaded schema? run without --keep once)');
  const pool = await prepareSecondFactorPool(loader, template, args.secondFactorPool, `bench-2fa-${Date.now().toString(36)}`);

  const ids = await db.selectFrom('audit_events').select((eb) => [eb.fn.min('id').as('low'), eb.fn.max('id').as('high')]).executeTakeFirstOrThrow();
  const low = Number(ids.low);
  const auditDeepId = Math.max(low + 1, Math.floor(low + (Number(ids.high) - low) / 10));
  const ownOldest = await db.selectFrom('audit_events').select('id').where('subject_user_id', '=', admin.id).orderBy('id').limit(1).offset(100).executeTakeFirstOrThrow();
  await loader.close();

  const runtime = await openRuntime(env({}), schemaOption);
  const app = await buildApp({ services: runtime.services, publicUrl: `http://127.0.0.1:${port}`, companyName: 'Bench', logger: false });
  await app.listen({ host: '127.0.0.1', port });
  // People u with u % 10 >= 3 have no factor; none is in an organisation that requires one.
  const signInEmails = [5, 6, 7, 8].map(generatedEmail);

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    (closing ??= (async () => {
      await app.close();
      await runtime.close();
      if (!args.keep) {
        if (pgUrl) await pgQuery(pgUrl, `drop schema if exists ${args.schema} cascade`);
        rmSync(dataDir, { recursive: true, force: true });
      } else if (pgUrl) rmSync(dataDir, { recursive: true, force: true });
    })());
  process.on('disconnect', () => void shutdown().then(() => process.exit(0)));
  process.on('message', (raw) => {
    if ((raw as { type?: string }).type === 'stop') void shutdown().then(() => process.send?.({ type: 'stopped' } satisfies ScaleChildMessage));
  });
  const ready: ScaleReady = {
    type: 'ready',
    url: `http://127.0.0.1:${port}`,
    admin: { email: ADMIN_EMAIL, password: PASSWORD },
    signInEmails,
    password: PASSWORD,
    pool,
    usersDeepAfter: generatedEmail(Math.floor(args.sizes.users * 0.9)),
    auditDeepCursor: encodeCursor(auditDeepId),
    activityDeepCursor: encodeCursor(Number(ownOldest.id)),
    loadSteps,
    loadMs,
    reused,
  };
  process.send?.(ready);
}

main(JSON.parse(process.argv[2] ?? '{}') as ScaleServerArgs).catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
