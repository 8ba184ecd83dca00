/**
 * The lists a person or an admin pages through use an index on PostgreSQL: the admin user list
 * (plain, searched, "without 2FA"), the audit log over an organisation tree (plain and by type),
 * a person's own activity (filtered, deep pages, the CSV export's pages), their sessions, devices
 * and locations, and the session check. Each store function runs once against a small database
 * while its statement is captured, then that exact statement is EXPLAINed with
 * `enable_seqscan = off`. What this proves: an index exists that the planner can use for every
 * scan of users, sessions and audit_events in these statements (with sequential scans priced out,
 * PostgreSQL still picks one only when nothing else can answer). What it does not prove: which
 * plan PostgreSQL picks on a given large table with real statistics; bench/ measures that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import type { RootOperationNode } from 'kysely';
import type { Database, Executor } from '../../src/store/index.js';
import { PER_ORGANISATION_PAGES_UP_TO } from '../../src/store/users.js';
import { audit, knownDevices, knownLocations, organisations, sessionOrigins, sessions, users } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';

const T0 = 1_750_000_000_000;
const WATCHED = new Set(['users', 'sessions', 'audit_events', 'factors', 'known_devices', 'known_locations', 'session_origins']);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function seqScans(node: PlanNode, into: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name'] && WATCHED.has(node['Relation Name'])) into.push(node['Relation Name']);
  for (const child of node.Plans ?? []) seqScans(child, into);
  return into;
}

describe('query plans on PostgreSQL: no sequential scan of users, sessions, audit events, devices or locations', { skip: currentBackend() !== 'postgres' ? 'EXPLAIN plans are checked on PostgreSQL' : false }, () => {
  let location: TestDatabaseLocation;
  let database: Database;
  let rootOrgId: string;
  let bigRootId: string;
  let userId: string;
  const tokenHash = 'f'.repeat(64);

  before(async () => {
    location = await freshDatabaseLocation();
    database = await openTestDatabase(location);
    const db = database.db;
    rootOrgId = randomUUID();
    await organisations.insertOrganisation(db, { id: rootOrgId, name: 'Root', parent_id: null, created_at: T0 });
    const childOrgId = randomUUID();
    await organisations.insertOrganisation(db, { id: childOrgId, name: 'Child', parent_id: rootOrgId, created_at: T0 });
    for (let i = 0; i < 40; i++) {
      const id = randomUUID();
      if (i === 0) userId = id;
      const email = `person-${i}@example.com`;
      await users.insertUser(db, {
        id,
        org_id: i % 2 ? rootOrgId : childOrgId,
        email,
        email_normalized: email,
        display_name: `Person ${i}`,
        time_zone: 'UTC',
        password_hash: 'x',
        status: 'active',
        password_changed_at: T0,
        created_at: T0,
        totp_last_step: null,
        second_factor_locked_until: null,
      });
      await audit.appendAuditEvent(db, { occurred_at: T0 + i, event_type: i % 7 ? 'sign_in.succeeded' : 'factor.removed', actor_user_id: id, subject_user_id: id, org_id: i % 2 ? rootOrgId : childOrgId, ip: null, user_agent: null, details: {} });
    }
    await sessions.insertSession(db, {
      id: randomUUID(),
      token_hash: tokenHash,
      user_id: userId,
      created_at: T0,
      last_seen_at: T0,
      expires_at: T0 + 3_600_000,
      ip: '127.0.0.1',
      user_agent: 'plans',
      amr: ['pwd'],
      authenticated_at: T0,
      password_at: T0,
      second_factor_at: null,
      revoked_at: null,
    });
    // A tree of more organisations than the list reads one by one: its pages walk the email index instead.
    bigRootId = randomUUID();
    await organisations.insertOrganisation(db, { id: bigRootId, name: 'Agency', parent_id: null, created_at: T0 });
    for (let i = 0; i < PER_ORGANISATION_PAGES_UP_TO; i++) await organisations.insertOrganisation(db, { id: randomUUID(), name: `Client ${i}`, parent_id: bigRootId, created_at: T0 });
    await sql`analyze`.execute(db);
  });

  after(async () => {
    await database?.close();
    await location?.dispose();
  });

  /** Runs `use` with sequential scans priced out, captures its statements, and returns each one's plan. */
  async function plansOf(use: (db: Executor) => Promise<unknown>): Promise<Array<{ sql: string; scans: string[] }>> {
    return database.db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      const captured: RootOperationNode[] = [];
      const spy = trx.withPlugin({ transformQuery: ({ node }) => (captured.push(node), node), transformResult: async ({ result }) => result });
      await use(spy);
      const out: Array<{ sql: string; scans: string[] }> = [];
      for (const node of captured) {
        const compiled = trx.getExecutor().compileQuery(node, { queryId: randomUUID() } as never);
        const explained = await trx.executeQuery<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(CompiledQuery.raw(`explain (format json) ${compiled.sql}`, [...compiled.parameters]));
        const plan = explained.rows[0]?.['QUERY PLAN'][0]?.Plan;
        assert.ok(plan, 'a plan');
        out.push({ sql: compiled.sql, scans: seqScans(plan) });
      }
      return out;
    });
  }

  async function assertIndexed(name: string, use: (db: Executor) => Promise<unknown>) {
    const plans = await plansOf(use);
    assert.ok(plans.length > 0, `${name}: captured its statement`);
    for (const p of plans) assert.deepEqual(p.scans, [], `${name}: sequential scan of ${p.scans.join(', ')} in\n${p.sql}`);
  }

  test('the admin user list: plain, searched (trigram), without 2FA, deep page, over a small and a big tree', async () => {
    await assertIndexed('list', (db) => users.listUserStatusPage(db, { rootOrgId, limit: 50 }));
    await assertIndexed('search', (db) => users.listUserStatusPage(db, { rootOrgId, query: 'son-1', limit: 50 }));
    await assertIndexed('without 2FA', (db) => users.listUserStatusPage(db, { rootOrgId, withoutTwoFactor: true, limit: 50 }));
    await assertIndexed('deep page', (db) => users.listUserStatusPage(db, { rootOrgId, afterEmail: 'person-30@example.com', limit: 50 }));
    const big = { rootOrgId: bigRootId, limit: 50, dialect: 'postgres' as const };
    await assertIndexed('big tree', (db) => users.listUserStatusPage(db, big));
    await assertIndexed('big tree, without 2FA, deep page', (db) => users.listUserStatusPage(db, { ...big, withoutTwoFactor: true, afterEmail: 'person-30@example.com' }));
  });

  test('the audit log by type over an organisation tree, and a person\'s own activity', async () => {
    await assertIndexed('audit by type', (db) => audit.listAuditEvents(db, { scope: { kind: 'tree', rootOrgId }, eventTypes: ['factor.removed'], limit: 51 }));
    await assertIndexed('audit deep page', (db) => audit.listAuditEvents(db, { scope: { kind: 'tree', rootOrgId }, beforeId: 10, limit: 51 }));
    await assertIndexed('own activity', (db) => audit.listAuditEvents(db, { scope: { kind: 'user', userId }, limit: 51 }));
  });

  test('a person\'s own lists: activity filtered and deep, the CSV export\'s pages, sessions with their origins, devices, locations', async () => {
    const signIns = ['sign_in.succeeded', 'sign_in.failed'];
    await assertIndexed('own activity filtered', (db) => audit.listAuditEvents(db, { scope: { kind: 'user', userId }, eventTypes: signIns, limit: 26 }));
    await assertIndexed('own activity deep page (an export page)', (db) => audit.listAuditEvents(db, { scope: { kind: 'user', userId }, beforeId: 10, eventTypes: signIns, limit: 500 }));
    await assertIndexed('audit first page', (db) => audit.listAuditEvents(db, { scope: { kind: 'tree', rootOrgId }, limit: 51 }));
    await assertIndexed('sessions', (db) => sessions.listActiveSessions(db, userId, T0, T0 - 60_000));
    await assertIndexed('session origins', (db) => sessionOrigins.findSessionOrigins(db, [randomUUID(), randomUUID()]));
    await assertIndexed('devices', (db) => knownDevices.listKnownDevices(db, userId));
    await assertIndexed('locations', (db) => knownLocations.listKnownLocations(db, userId));
  });

  test('the session check', async () => {
    await assertIndexed('session lookup', (db) => sessions.findSessionLookup(db, tokenHash));
  });

  test('the check can fail: a search on a column without an index is caught', async () => {
    const plans = await plansOf((db) => db.selectFrom('users').select('id').where('time_zone', 'like', '%UT%').execute());
    assert.deepEqual(plans[0]?.scans, ['users']);
  });
});
