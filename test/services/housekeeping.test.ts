import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { SWEEP_BATCH } from '../../src/services/housekeeping.js';
import { audit, housekeeping, passwordResets, sessions } from '../../src/store/index.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const META = { ip: '127.0.0.1', userAgent: 'housekeeping test' };
const SYSTEM = { userId: null, meta: null };
const DAY = 86_400_000;

describe('housekeeping sweeps dead rows only, in bounded batches', () => {
  let server: TestServer;
  const clock = new TestClock();
  let userId: string;
  let orgId: string;

  before(async () => {
    server = await startTestServer({ clock, env: { TWOFOLD_AUDIT_RETENTION_DAYS: '30', TWOFOLD_HOUSEKEEPING_INTERVAL_SECONDS: '0' } });
    const org = await server.services.accounts.createOrganisation('Sweep Co', null, SYSTEM);
    orgId = org.id;
    userId = (await server.services.accounts.createUser({ orgId, email: 'sweep@example.com', password: 'correct horse battery staple 42' }, SYSTEM)).id;
  });

  after(async () => {
    await server?.close();
  });

  test('expired and idle sessions, ended rate-limit windows, expired reset links and old audit events go; live ones stay', async () => {
    const { services } = server;
    const db = server.runtime.database.db;
    const settings = services.settings;
    const start = clock.now();

    // Sessions: one that will be idle, one kept alive (touched), one past its absolute expiry.
    const idle = await services.sessions.issue(db, userId, ['pwd'], META);
    const live = await services.sessions.issue(db, userId, ['pwd'], META);
    await sessions.insertSession(db, { ...idle.session, id: randomUUID(), token_hash: 'e'.repeat(64), expires_at: start - 1 });
    // Rate limits: many ended windows (more than one batch) and one current.
    const ended = SWEEP_BATCH * 2 + 7;
    for (let i = 0; i < ended; i += 200) {
      await db.insertInto('rate_limits').values(Array.from({ length: Math.min(200, ended - i) }, (_, j) => ({ key: `old:${i + j}`, count: 1, reset_at: start - 1000 }))).execute();
    }
    await db.insertInto('rate_limits').values({ key: 'current', count: 1, reset_at: start + 2 * 3600_000 }).execute();
    // Reset links: one expired, one still good.
    await passwordResets.insertResetToken(db, { token_hash: 'a'.repeat(64), user_id: userId, created_at: start - 7200_000, expires_at: start - 3600_000, used_at: null });
    await passwordResets.insertResetToken(db, { token_hash: 'b'.repeat(64), user_id: userId, created_at: start, expires_at: start + 3600_000, used_at: null });
    // Audit: two events past the 30-day retention, one recent (plus whatever setup wrote now).
    for (const at of [start - 40 * DAY, start - 31 * DAY, start - DAY]) {
      await audit.appendAuditEvent(db, { occurred_at: at, event_type: 'sign_in.succeeded', actor_user_id: userId, subject_user_id: userId, org_id: orgId, ip: null, user_agent: null, details: { at } });
    }

    clock.advance(settings.sessionIdleMs - 60_000);
    assert.ok(await services.sessions.authenticate(live.token), 'touch the live session');
    clock.advance(120_000);

    const reported = new Map<string, number>();
    const stop = services.signals.onSwept((table, rows) => reported.set(table, (reported.get(table) ?? 0) + rows));
    const result = await services.housekeeping.sweepOnce();
    stop();

    assert.equal(result.skipped, false);
    const sessionIds = (await db.selectFrom('sessions').select('id').execute()).map((r) => r.id);
    assert.ok(sessionIds.includes(live.session.id), 'the live session stays');
    assert.ok(!sessionIds.includes(idle.session.id), 'the idle session goes');
    assert.equal(result.sessions, 2, 'the idle one and the expired one');
    assert.equal(result.rate_limits, ended, 'every ended window, across several batches');
    assert.deepEqual((await db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key), ['current']);
    assert.equal(result.password_reset_tokens, 1);
    assert.deepEqual((await db.selectFrom('password_reset_tokens').select('token_hash').execute()).map((r) => r.token_hash), ['b'.repeat(64)]);
    const details = (await db.selectFrom('audit_events').select('details').execute()).map((r) => String(r.details));
    assert.ok(!details.some((d) => d.includes(String(start - 40 * DAY)) || d.includes(String(start - 31 * DAY))), 'events past retention are gone');
    assert.ok(details.some((d) => d.includes(String(start - DAY))), 'a recent event stays');
    assert.equal(result.audit_events, 2);
    assert.equal(reported.get('rate_limits'), ended, 'the metric hook heard every batch');
    assert.equal(reported.get('sessions'), 2);

    const again = await services.housekeeping.sweepOnce();
    assert.equal(Object.entries(again).filter(([k, v]) => k !== 'skipped' && v !== 0).length, 0, 'a second pass finds nothing');
  });

  test('on PostgreSQL a node that finds the sweep lock taken skips its batch', { skip: currentBackend() !== 'postgres' ? 'advisory locks are PostgreSQL' : false }, async () => {
    const db = server.runtime.database.db;
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.transaction().execute(async (trx) => {
      assert.equal(await housekeeping.trySweepLock(trx, 'postgres'), true);
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await isLocked;
    const result = await server.services.housekeeping.sweepOnce();
    release();
    await holder;
    assert.equal(result.skipped, true);
    assert.equal(await db.transaction().execute((trx) => housekeeping.trySweepLock(trx, 'postgres')), true, 'free again once the other node is done');
    await sql`select 1`.execute(db);
  });
});
