/**
 * Crash safety: `twofold serve` runs under load from several clients (enrolments, sign-ins that
 * spend backup codes, deploys) and is killed with SIGKILL at random moments. After each restart
 * the database must be whole (crash-invariants.ts): what a transaction wrote is all there or not
 * at all, audit events included.
 *
 * `npm test` kills 3 times; `npm run test:chaos` sets TWOFOLD_CHAOS_KILLS=20.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JSONWebKeySet } from 'jose';
import { loadConfig } from '../../src/config.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { openRuntime } from '../../src/services/bootstrap.js';
import { PASSWORD } from '../helpers/authenticator.js';
import { freshDatabaseLocation, openTestDatabase, withSchemasStable } from '../helpers/backend.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { freePort } from '../helpers/ports.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { killServerProcess, startServerProcess } from '../helpers/server-process.js';
import { brokenInvariants } from './crash-invariants.js';

const KILLS = Number(process.env.TWOFOLD_CHAOS_KILLS ?? 3);
const MEMBERS = 16;
const SYSTEM = { userId: null, meta: null };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** TWOFOLD_CHAOS_DEBUG=1 shows why requests of the load were refused. */
const debug = (...what: unknown[]): void => {
  if (process.env.TWOFOLD_CHAOS_DEBUG) console.error(...what);
};

interface Member {
  email: string;
  /** Known once an enrolment's answer arrived; an answer lost to a kill leaves it unknown. */
  backupCodes: string[];
  enrolling: boolean;
  enrolled: boolean;
}

/** An organisation, an admin without a factor (password sudo is enough for an unprotected target), and members. */
async function seed(location: TestDatabaseLocation): Promise<{ orgId: string; adminEmail: string; members: Member[] }> {
  const env: Record<string, string> = { TWOFOLD_DATA_DIR: location.dataDir, TWOFOLD_SECRET_KEY: 'a'.repeat(64) };
  if (location.databaseUrl) env.TWOFOLD_DATABASE_URL = location.databaseUrl;
  const runtime = await withSchemasStable(location, () => openRuntime(loadConfig(env), location.postgresSchema ? { postgresSchema: location.postgresSchema } : {}));
  try {
    const org = await runtime.services.accounts.createOrganisation('Chaos', null, SYSTEM);
    const adminEmail = 'admin@chaos.test';
    await runtime.services.accounts.createUser({ orgId: org.id, email: adminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
    const members: Member[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const email = `m${i}@chaos.test`;
      await runtime.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD }, SYSTEM);
      members.push({ email, backupCodes: [], enrolling: false, enrolled: false });
    }
    return { orgId: org.id, adminEmail, members };
  } finally {
    await runtime.close();
  }
}

test(`SIGKILL at ${KILLS} random moments under load: after every restart the database is whole`, { timeout: 120_000 + KILLS * 30_000 }, async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const { orgId, adminEmail, members } = await seed(location);
  const port = await freePort();
  let server: ServerProcess = await startServerProcess(location, { port, env: { TWOFOLD_LOG_LEVEL: 'warn' } });
  t.after(() => killServerProcess(server));
  const base = server.url;

  const done = { enrolments: 0, signIns: 0, deploys: 0, providerEdits: 0, failures: 0 };
  let running = true;
  /** Runs `step` until the test ends; a dead server (refused, reset) is waited out. */
  const worker = async (step: () => Promise<unknown>) => {
    while (running) {
      try {
        await step();
      } catch (error) {
        debug(step.name, error);
        done.failures++;
        await sleep(150);
      }
    }
  };

  const enrol = async () => {
    const member = members.find((m) => !m.enrolled && !m.enrolling);
    if (!member) return sleep(200);
    member.enrolling = true;
    try {
      const client = new TestClient(base);
      const signedIn = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
      if (signedIn.json?.status !== 'signed_in') {
        member.enrolled = true; // a factor from an enrolment whose answer was lost: leave this one be
        return;
      }
      const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
      if (started.status !== 201) return;
      const secret = started.json?.secret as string;
      const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(secret, Date.now()) });
      if (confirmed.status === 200) {
        member.backupCodes = (confirmed.json?.backupCodes as string[] | undefined) ?? [];
        member.enrolled = true;
        done.enrolments++;
      }
    } finally {
      member.enrolling = false;
    }
  };

  const signIn = async () => {
    const member = members.filter((m) => m.backupCodes.length > 0)[Math.floor(Math.random() * MEMBERS)] ?? members.find((m) => m.backupCodes.length > 0);
    if (!member) return sleep(100);
    const code = member.backupCodes.pop()!; // spent or lost either way: never offered twice
    const client = new TestClient(base);
    const first = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
    if (first.json?.status !== 'second_factor_required') return;
    const second = await client.post('/api/v1/auth/second-factor', { challenge: first.json.challenge, method: 'backup_code', code });
    if (second.status === 200) done.signIns++;
  };

  const admin = new TestClient(base);
  let targetId: string | undefined;
  let change = 0;
  const deploy = async () => {
    if (!targetId) {
      const signedIn = await admin.post('/api/v1/auth/sign-in', { email: adminEmail, password: PASSWORD });
      assert.equal(signedIn.status, 200, signedIn.text);
      assert.equal((await admin.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
      const created = await admin.post(`/api/v1/organisations/${orgId}/deploy-targets`, { name: 'Site', timing: 'manual', requireTwoFactor: false });
      assert.equal(created.status, 201, created.text);
      targetId = created.json?.id as string;
    }
    change++;
    const added = await admin.post(`/api/v1/deploy-targets/${targetId}/changes`, { key: `setting${change % 5}`, value: change, summary: `change ${change}` });
    if (added.status !== 201) return debug('change', added.text);
    const preview = await admin.get(`/api/v1/deploy-targets/${targetId}/preview`);
    if (preview.status !== 200) return debug('preview', preview.text);
    const deployed = await admin.post(`/api/v1/deploy-targets/${targetId}/deployments`, { digest: preview.json?.digest });
    if (deployed.status === 201) done.deploys++;
    else debug('deploy', deployed.text);
  };

  // Provider edits: a rename and a freshly sealed configuration, with its audit event, in one transaction.
  const providerAdmin = new TestClient(base);
  let providerId: string | undefined;
  let edits = 0;
  const editProvider = async () => {
    if (!providerId) {
      const signedIn = await providerAdmin.post('/api/v1/auth/sign-in', { email: adminEmail, password: PASSWORD });
      assert.equal(signedIn.status, 200, signedIn.text);
      assert.equal((await providerAdmin.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
      const created = await providerAdmin.post(`/api/v1/organisations/${orgId}/providers`, { name: 'Outbox', config: { kind: 'console' } });
      assert.equal(created.status, 201, created.text);
      providerId = created.json?.id as string;
    }
    edits++;
    const changed = await providerAdmin.request('PATCH', `/api/v1/providers/${providerId}`, { name: `Outbox ${edits}`, config: { kind: 'console' } });
    if (changed.status === 200) done.providerEdits++;
    else debug('provider', changed.text);
  };

  const workers = [worker(enrol), worker(enrol), worker(signIn), worker(signIn), worker(signIn), worker(deploy), worker(editProvider)];
  try {
    for (let kill = 1; kill <= KILLS; kill++) {
      await sleep(600 + Math.random() * 2_000);
      server.child.kill('SIGKILL');
      const exit = await server.exited;
      assert.equal(exit.signal, 'SIGKILL', `kill ${kill}: the server had already stopped: ${server.output().slice(-2000)}`);
      server = await startServerProcess(location, { port, env: { TWOFOLD_LOG_LEVEL: 'warn' } });
      const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as JSONWebKeySet;
      const database = await openTestDatabase(location);
      try {
        const problems = await brokenInvariants(database, jwks);
        assert.deepEqual(problems, [], `after kill ${kill}`);
      } finally {
        await database.close();
      }
    }
  } finally {
    running = false;
    await Promise.all(workers);
  }
  t.diagnostic(`${KILLS} kills; ${done.enrolments} enrolments, ${done.signIns} backup-code sign-ins, ${done.deploys} deploys, ${done.providerEdits} provider edits answered; ${done.failures} requests cut off or refused`);
  // The load was real: each kind of write happened (a killed answer still counts in the database).
  const database = await openTestDatabase(location);
  try {
    const count = async (table: 'factors' | 'sessions' | 'deployments' | 'delivery_providers') => Number((await database.db.selectFrom(table).select(database.db.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    assert.ok((await count('factors')) >= 1, 'some enrolments went through');
    assert.ok((await count('deployments')) >= 1, 'some deploys went through');
    assert.ok((await count('sessions')) >= 2, 'some sign-ins went through');
    assert.ok((await count('delivery_providers')) >= 1, 'a provider was created and edited');
  } finally {
    await database.close();
  }
});

test('the invariant checks catch torn writes: a session without its sign-in event, an active factor never confirmed, a provider without its history', async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  await seed(location);
  const database = await openTestDatabase(location);
  t.after(() => database.close());
  assert.deepEqual(await brokenInvariants(database, { keys: [] }), []);
  const user = await database.db.selectFrom('users').select('id').executeTakeFirstOrThrow();
  const now = Date.now();
  await database.db
    .insertInto('sessions')
    .values({ id: 'torn-session', token_hash: 'x'.repeat(64), user_id: user.id, created_at: now, last_seen_at: now, expires_at: now + 60_000, ip: '127.0.0.1', user_agent: 'test', amr: '["pwd"]', authenticated_at: now, password_at: now, second_factor_at: null, revoked_at: null })
    .execute();
  await database.db
    .insertInto('factors')
    .values({ id: 'torn-factor', user_id: user.id, type: 'totp', label: 'Phone', secret_encrypted: 'sealed', destination_masked: null, replaces_factor_id: null, status: 'active', created_at: now, expires_at: null, confirmed_at: null, last_used_at: null })
    .execute();
  const org = await database.db.selectFrom('organisations').select('id').executeTakeFirstOrThrow();
  await database.db
    .insertInto('delivery_providers')
    .values({ id: 'torn-provider', org_id: org.id, name: 'Renamed', kind: 'console', config_encrypted: 'sealed', created_at: now, updated_at: now, updated_by: null })
    .execute();
  const problems = await brokenInvariants(database, { keys: [] });
  assert.deepEqual(problems.sort(), [
    'factor torn-factor is active but was never confirmed',
    'factor torn-factor is active without its factor.confirmed event',
    'provider torn-provider has no provider.created event',
    'session torn-session has no sign_in.succeeded event',
    `user ${user.id} has an active factor but no backup codes`,
  ]);
});
