import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { KyselyPlugin, QueryId } from 'kysely';
import type { Database, Organisation, Session, User } from '../../src/store/index.js';
import { MIGRATIONS, audit, connectDatabase, migrateToLatest, organisations, policies, rateLimits, roles, sessions, users } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase, withSchemasStable } from '../helpers/backend.js';

const T0 = 1_700_000_000_000;

let location: TestDatabaseLocation;
let database: Database;

before(async () => {
  location = await freshDatabaseLocation();
  database = await openTestDatabase(location);
});

after(async () => {
  await database.close();
  await location.dispose();
});

async function newOrg(name: string, parentId: string | null = null): Promise<Organisation> {
  const org: Organisation = { id: randomUUID(), name, parent_id: parentId, created_at: T0 };
  await organisations.insertOrganisation(database.db, org);
  return org;
}

function userRow(orgId: string, email: string): User {
  return {
    id: randomUUID(),
    org_id: orgId,
    email,
    email_normalized: email.trim().toLowerCase(),
    display_name: email.split('@')[0] ?? email,
    time_zone: 'UTC',
    password_hash: 'not-a-real-hash',
    status: 'active',
    password_changed_at: T0,
    created_at: T0,
    totp_last_step: null,
    second_factor_failures: 0,
    second_factor_locked_until: null,
    set_up_again_since: null,
  };
}

async function newUser(orgId: string, email: string): Promise<User> {
  const user = userRow(orgId, email);
  await users.insertUser(database.db, user);
  return user;
}

describe(`store repositories (${currentBackend()})`, () => {
  test('organisation subtree covers three levels and nothing beside it', async () => {
    const agency = await newOrg('Agency');
    const client = await newOrg('Client', agency.id);
    const team = await newOrg('Team', client.id);
    const sibling = await newOrg('Sibling');
    await newOrg('Sibling child', sibling.id);

    assert.deepEqual((await organisations.subtreeIds(database.db, agency.id)).sort(), [agency.id, client.id, team.id].sort());
    assert.deepEqual((await organisations.subtreeIds(database.db, client.id)).sort(), [client.id, team.id].sort());
    assert.deepEqual(await organisations.subtreeIds(database.db, team.id), [team.id]);
    assert.deepEqual(await organisations.subtreeIds(database.db, randomUUID()), []);
    assert.equal((await organisations.findOrganisation(database.db, team.id))?.parent_id, client.id);
  });

  test('policy chains for several organisations in one statement: each root first, with its own policies, the same as one by one', async () => {
    const root = await newOrg('Chains root');
    const middle = await newOrg('Chains middle', root.id);
    const leaf = await newOrg('Chains leaf', middle.id);
    const other = await newOrg('Chains other root');
    const policy = { mode: 'required' as const, appliesToSubOrganisations: true, triggers: ['every_sign_in' as const], allowedMethods: ['totp'], trustBrowserDays: 30, requirePhishingResistant: false, updatedAt: T0, updatedBy: null };
    await policies.upsertOrganisationPolicy(database.db, { ...policy, orgId: middle.id });
    await policies.upsertOrganisationPolicy(database.db, { ...policy, orgId: other.id, mode: 'optional' });

    const chains = await policies.policyChains(database.db, [leaf.id, other.id, middle.id, leaf.id, 'no-such-organisation']);
    assert.deepEqual([...chains.keys()].sort(), [leaf.id, middle.id, other.id].sort(), 'one chain per known organisation');
    assert.deepEqual(chains.get(leaf.id)?.map((l) => l.orgName), ['Chains root', 'Chains middle', 'Chains leaf']);
    assert.deepEqual(chains.get(leaf.id)?.map((l) => l.policy?.mode ?? null), [null, 'required', null]);
    assert.deepEqual(chains.get(other.id)?.map((l) => l.policy?.mode ?? null), ['optional']);
    for (const id of [leaf.id, middle.id, other.id]) assert.deepEqual(chains.get(id), await policies.policyChain(database.db, id));
    assert.equal((await policies.policyChains(database.db, [])).size, 0);
  });

  test('users are found by normalised email', async () => {
    const org = await newOrg('Users');
    const user = await newUser(org.id, 'Mixed.Case@Example.COM');
    const found = await users.findUserByEmail(database.db, 'mixed.case@example.com');
    assert.equal(found?.id, user.id);
    assert.equal(found?.email, 'Mixed.Case@Example.COM');
    assert.equal(found?.second_factor_failures, 0);
    assert.equal(await users.findUserByEmail(database.db, 'Mixed.Case@Example.COM'), undefined);
    assert.equal((await users.findUser(database.db, user.id))?.email_normalized, 'mixed.case@example.com');
  });

  test('the database refuses a second user with the same email in another case', async () => {
    const org = await newOrg('Unique');
    await newUser(org.id, 'dup@example.com');
    const before = await users.countUsers(database.db);
    await assert.rejects(users.insertUser(database.db, userRow(org.id, 'DUP@Example.com')), /unique|duplicate/i);
    assert.equal(await users.countUsers(database.db), before);
  });

  test('effective roles combine direct and group grants without duplicates', async () => {
    const org = await newOrg('Roles');
    const user = await newUser(org.id, 'roles@example.com');
    const other = await newUser(org.id, 'other-roles@example.com');
    const role = (name: string) => ({ id: randomUUID(), org_id: org.id, name, created_at: T0 });
    const [admin, deployer, auditor] = [role('admin'), role('deployer'), role('auditor')];
    for (const r of [admin, deployer, auditor]) await roles.insertRole(database.db, r);
    const group = { id: randomUUID(), org_id: org.id, name: 'ops', created_at: T0 };
    await roles.insertGroup(database.db, group);

    await roles.grantRoleToUser(database.db, user.id, deployer.id);
    await roles.grantRoleToUser(database.db, user.id, deployer.id); // idempotent
    await roles.addGroupMember(database.db, group.id, user.id);
    await roles.grantRoleToGroup(database.db, group.id, deployer.id); // also via group
    await roles.grantRoleToGroup(database.db, group.id, admin.id);

    assert.deepEqual(await roles.effectiveRoleNames(database.db, user.id), ['admin', 'deployer']);
    assert.deepEqual(await roles.effectiveRoleNames(database.db, other.id), []);
    assert.equal((await roles.findRoleByName(database.db, org.id, 'auditor'))?.id, auditor.id);
    assert.equal((await roles.findGroupByName(database.db, org.id, 'ops'))?.id, group.id);
  });

  test('sessions are stored, found by token hash and revoked once', async () => {
    const org = await newOrg('Sessions');
    const user = await newUser(org.id, 'sessions@example.com');
    const session: Session = {
      id: randomUUID(),
      token_hash: `hash-${randomUUID()}`,
      user_id: user.id,
      created_at: T0,
      last_seen_at: T0,
      expires_at: T0 + 3_600_000,
      ip: '192.0.2.1',
      user_agent: 'test',
      amr: ['pwd'],
      authenticated_at: T0,
      password_at: T0,
      second_factor_at: null,
      revoked_at: null,
    };
    await sessions.insertSession(database.db, session);
    assert.deepEqual(await sessions.findSessionByTokenHash(database.db, session.token_hash), session);
    assert.equal(await sessions.findSessionByTokenHash(database.db, 'nope'), undefined);
    assert.equal((await sessions.listActiveSessions(database.db, user.id, T0 + 1, T0 - 1)).length, 1);

    assert.equal(await sessions.revokeSession(database.db, session.id, T0 + 10), true);
    assert.equal(await sessions.revokeSession(database.db, session.id, T0 + 20), false);
    assert.equal((await sessions.findSessionByTokenHash(database.db, session.token_hash))?.revoked_at, T0 + 10);
    assert.equal((await sessions.listActiveSessions(database.db, user.id, T0 + 30, T0 - 1)).length, 0);
  });

  test('rate-limit counter counts within a window and restarts after it', async () => {
    const key = `k:${randomUUID()}`;
    assert.deepEqual(await rateLimits.hitCounter(database.db, key, 1000, T0), { count: 1, resetAt: T0 + 1000 });
    assert.deepEqual(await rateLimits.hitCounter(database.db, key, 1000, T0 + 500), { count: 2, resetAt: T0 + 1000 });
    assert.deepEqual(await rateLimits.readCounter(database.db, key, T0 + 999), { count: 2, resetAt: T0 + 1000 });
    assert.equal(await rateLimits.readCounter(database.db, key, T0 + 1000), undefined);
    assert.deepEqual(await rateLimits.hitCounter(database.db, key, 1000, T0 + 1000), { count: 1, resetAt: T0 + 2000 });
    await rateLimits.clearCounter(database.db, key);
    assert.equal(await rateLimits.readCounter(database.db, key, T0 + 1001), undefined);
  });

  test('a counter statement has one SQL text whatever the time, so it is prepared once', async () => {
    // A value inlined into the text (the window's end once was) makes every call a new
    // statement: SQLite prepares it anew and the statement cache fills and empties.
    const texts = new Set<string>();
    const capture: KyselyPlugin = {
      transformQuery: ({ node }) => {
        texts.add(database.db.getExecutor().compileQuery(node, { queryId: 'capture' } as QueryId).sql);
        return node;
      },
      transformResult: async ({ result }) => result,
    };
    const db = database.db.withPlugin(capture);
    const key = `text:${randomUUID()}`;
    for (const now of [T0, T0 + 1234, T0 + 99_999]) await rateLimits.hitCounter(db, key, 1000, now);
    assert.equal(texts.size, 1, [...texts].join('\n'));
    texts.clear();
    for (const now of [T0, T0 + 1234, T0 + 99_999]) await rateLimits.takeSlot(db, key, 5, 1000, now);
    assert.equal(texts.size, 1, [...texts].join('\n'));
  });

  test('20 concurrent hits on one counter are all counted', async () => {
    const key = `race:${randomUUID()}`;
    const results = await Promise.all(Array.from({ length: 20 }, () => rateLimits.hitCounter(database.db, key, 60_000, T0)));
    assert.deepEqual(results.map((r) => r.count).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal((await rateLimits.readCounter(database.db, key, T0))?.count, 20);
  });

  test('audit events page by cursor and stay within their scope', async () => {
    const orgA = await newOrg('Audit A');
    const orgB = await newOrg('Audit B');
    const alice = await newUser(orgA.id, 'audit-alice@example.com');
    const event = (type: string, orgId: string, subject: string | null) => ({
      occurred_at: T0,
      event_type: type,
      actor_user_id: null,
      subject_user_id: subject,
      org_id: orgId,
      ip: null,
      user_agent: null,
      details: {},
    });
    for (let i = 0; i < 7; i++) await audit.appendAuditEvent(database.db, event(i % 2 ? 'sign_in.failed' : 'sign_in.succeeded', orgA.id, alice.id));
    await audit.appendAuditEvent(database.db, event('organisation.created', orgA.id, null));
    await audit.appendAuditEvent(database.db, event('sign_in.succeeded', orgB.id, null));

    const seen: number[] = [];
    let beforeId: number | undefined;
    for (;;) {
      const page = await audit.listAuditEvents(database.db, { scope: { kind: 'organisations', orgIds: [orgA.id] }, beforeId, limit: 3 });
      if (page.length === 0) break;
      seen.push(...page.map((e) => Number(e.id)));
      beforeId = Number(page[page.length - 1]!.id);
    }
    assert.equal(seen.length, 8);
    assert.equal(new Set(seen).size, 8);
    assert.deepEqual(seen, [...seen].sort((a, b) => b - a), 'newest first');

    const own = await audit.listAuditEvents(database.db, { scope: { kind: 'user', userId: alice.id }, limit: 100 });
    assert.equal(own.length, 7);
    const failed = await audit.listAuditEvents(database.db, { scope: { kind: 'user', userId: alice.id }, eventTypes: ['sign_in.failed'], limit: 100 });
    assert.equal(failed.length, 3);
    const bOnly = await audit.listAuditEvents(database.db, { scope: { kind: 'organisations', orgIds: [orgB.id] }, limit: 100 });
    assert.deepEqual(bOnly.map((e) => e.org_id), [orgB.id]);
    assert.deepEqual(await audit.listAuditEvents(database.db, { scope: { kind: 'organisations', orgIds: [] }, limit: 100 }), []);
  });

  test('a TOTP step is claimed once, even by 20 concurrent claims', async () => {
    const org = await newOrg('Totp');
    const user = await newUser(org.id, 'totp@example.com');
    const claims = await Promise.all(Array.from({ length: 20 }, () => users.claimTotpStep(database.db, user.id, 1000)));
    assert.equal(claims.filter(Boolean).length, 1);
    assert.equal(await users.claimTotpStep(database.db, user.id, 999), false, 'an older step is refused');
    assert.equal(await users.claimTotpStep(database.db, user.id, 1001), true);
    assert.equal((await users.findUser(database.db, user.id))?.totp_last_step, 1001);
  });

  test('migrations are idempotent', async () => {
    // Under the shared schema lock, as every migration in the suites: Kysely's migrator reads every
    // schema, and one dropped meanwhile by a parallel test would fail it (test/helpers/backend.ts).
    assert.deepEqual(await withSchemasStable(location, () => migrateToLatest(database)), { applied: [] });
    assert.deepEqual(await withSchemasStable(location, () => migrateToLatest(database)), { applied: [] });
    assert.ok((await users.countUsers(database.db)) > 0, 'data survives re-running migrations');
  });

  test('a fresh database applies every migration once', async () => {
    const fresh = await freshDatabaseLocation();
    const db = connectDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir, ...(fresh.postgresSchema ? { postgresSchema: fresh.postgresSchema } : {}) });
    try {
      assert.deepEqual((await withSchemasStable(fresh, () => migrateToLatest(db))).applied, MIGRATIONS.map((m) => m.name));
      assert.deepEqual((await withSchemasStable(fresh, () => migrateToLatest(db))).applied, []);
    } finally {
      await db.close();
      await fresh.dispose();
    }
  });

  test('migrating looks only at its own schema, so what others do to theirs cannot fail it', { skip: currentBackend() !== 'postgres' && 'PostgreSQL only' }, async () => {
    // Kysely's own introspector read every schema and looked each column up again by name: a
    // table dropped elsewhere in between (a restore, another deployment, a parallel test) failed
    // our migration with the other schema's error ('column "org_id" of relation "users" does not exist').
    const fresh = await freshDatabaseLocation();
    const other = await freshDatabaseLocation();
    const admin = new pg.Client({ connectionString: fresh.databaseUrl });
    await admin.connect();
    const db = connectDatabase({ databaseUrl: fresh.databaseUrl, dataDir: fresh.dataDir, postgresSchema: fresh.postgresSchema! });
    try {
      await admin.query(`create table ${other.postgresSchema}.users (id text primary key, org_id text)`);
      assert.equal((await withSchemasStable(fresh, () => migrateToLatest(db))).applied.length, MIGRATIONS.length);
      const tables = await db.db.introspection.getTables();
      assert.ok(tables.some((t) => t.name === 'users' && t.columns.some((c) => c.name === 'org_id')), 'our own tables are listed, with their columns');
      assert.deepEqual([...new Set(tables.map((t) => t.schema))], [fresh.postgresSchema], 'and nothing of any other schema');
    } finally {
      await admin.end();
      await db.close();
      await fresh.dispose();
      await other.dispose();
    }
  });
});
