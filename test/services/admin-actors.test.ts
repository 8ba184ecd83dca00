/**
 * The admin use cases guard themselves. Each one is called here directly, with no route in
 * front of it, as a route that forgot its guard would call it: a stale admin session is asked to
 * re-authenticate, a member is refused, an admin of another organisation tree finds nothing, and
 * none of them changes a thing; only a freshly confirmed admin of the tree gets through.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { isTwofoldError } from '../../src/core/errors.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { describeError } from '../../src/http/errors.js';
import type { Actor } from '../../src/services/actor.js';
import { SYSTEM_ACTOR } from '../../src/services/actor.js';
import type { RequestMeta } from '../../src/services/index.js';
import { roles } from '../../src/store/index.js';
import { actorOf } from '../helpers/actors.js';
import { PASSWORD, STEP_MS, dbOf, signedInClient } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const SYSTEM = { userId: null, meta: null };
const meta: RequestMeta = { ip: '192.0.2.7', userAgent: 'node-test' };
/** TWOFOLD_REAUTH_MINUTES is 5 by default. */
const REAUTH_WINDOW_PASSED = 6 * 60_000;

/** Every table an admin use case could write, so "nothing changed" means exactly that. */
const WATCHED = [
  'audit_events',
  'users',
  'factors',
  'backup_codes',
  'trusted_browsers',
  'organisation_policies',
  'role_policies',
  'delivery_providers',
  'channel_entries',
  'api_keys',
  'oidc_clients',
  'deploy_targets',
  'organisations',
  'organisation_branding',
] as const;

async function snapshot(server: TestServer): Promise<Record<string, string[]>> {
  const db = dbOf(server);
  const out: Record<string, string[]> = {};
  for (const table of WATCHED) out[table] = (await db.selectFrom(table).selectAll().execute()).map((row) => JSON.stringify(row)).sort();
  // Sessions are read (and their last-seen time touched) by signing in; what matters is that none was ended.
  out.sessions = (await db.selectFrom('sessions').select(['id', 'revoked_at']).execute()).map((row) => JSON.stringify(row)).sort();
  return out;
}

/** The refusal a call ends in, with the HTTP status the API would give it. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; code: string; missing?: unknown }> {
  try {
    await call;
  } catch (error) {
    assert.ok(isTwofoldError(error), `expected a refusal, got ${String(error)}`);
    return { status: describeError(error).status, code: error.code, ...(error.details?.missing ? { missing: error.details.missing } : {}) };
  }
  assert.fail('the call went through');
}

async function newUser(server: TestServer, orgId: string, roleNames: string[] = []) {
  const email = `u-${randomUUID().slice(0, 8)}@example.com`;
  const user = await server.services.accounts.createUser({ orgId, email, password: PASSWORD, roles: roleNames }, SYSTEM);
  return { user, email };
}

/**
 * An agency with a client organisation below it, and an unrelated organisation. The agency's
 * admin has two sessions: one signed in before the re-authentication window passed (stale) and
 * one just now (fresh). A plain member of the agency and an admin of the other tree are signed
 * in too. The client organisation has a member with an authenticator and backup codes.
 */
async function adminWorld(t: { after(fn: () => Promise<void>): void }) {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const { accounts } = server.services;
  const agency = await accounts.createOrganisation('Agency', null, SYSTEM);
  const clientOrg = await accounts.createOrganisation('Client', agency.id, SYSTEM);
  const otherOrg = await accounts.createOrganisation('Other', null, SYSTEM);
  const admin = await newUser(server, agency.id, ['admin']);
  const member = await newUser(server, agency.id);
  const foreignAdmin = await newUser(server, otherOrg.id, ['admin']);
  const subject = await newUser(server, clientOrg.id, ['editor']);

  const subjectBrowser = await signedInClient(server, subject.email);
  const started = await subjectBrowser.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(started.status, 201, started.text);
  const confirmed = await subjectBrowser.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(started.json?.secret as string, clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  clock.advance(STEP_MS);

  const staleBrowser = await signedInClient(server, admin.email);
  clock.advance(REAUTH_WINDOW_PASSED);
  const actors = {
    staleAdmin: await actorOf(server, staleBrowser),
    freshAdmin: await actorOf(server, await signedInClient(server, admin.email)),
    member: await actorOf(server, await signedInClient(server, member.email)),
    foreignAdmin: await actorOf(server, await signedInClient(server, foreignAdmin.email)),
  };
  const role = await roles.findRoleByName(dbOf(server), clientOrg.id, 'editor');
  assert.ok(role);
  return { clock, server, agencyId: agency.id, clientOrgId: clientOrg.id, otherOrgId: otherOrg.id, admin, subject, roleId: role.id, actors };
}

type World = Awaited<ReturnType<typeof adminWorld>>;

interface AdminCase {
  name: string;
  call: (actor: Actor) => Promise<unknown>;
  /** What the foreign admin is told: the organisation or the object does not exist. */
  notFound: string;
  /** Checks what the fresh admin's call returned or did. */
  works: (result: unknown) => Promise<void> | void;
}

/** The objects the cases act on, all in the client organisation (inside the agency's tree). */
async function fixtures(world: World) {
  const { services } = world.server;
  const fresh = world.actors.freshAdmin;
  const provider = await services.providers.create(fresh, world.clientOrgId, { name: 'Outbox', config: { kind: 'file' } }, meta);
  const spareProvider = await services.providers.create(fresh, world.clientOrgId, { name: 'Spare outbox', config: { kind: 'file' } }, meta);
  const apiKey = (await services.apiKeys.create(SYSTEM_ACTOR, world.clientOrgId, { name: 'Pipeline', scopes: ['changes:write'] }, null)).apiKey;
  const app = { name: 'Portal', redirectUris: ['https://portal.example/callback'] };
  const oidcClient = (await services.oidcClients.create(SYSTEM_ACTOR, world.clientOrgId, app, null)).client;
  const spareClient = (await services.oidcClients.create(SYSTEM_ACTOR, world.clientOrgId, { ...app, name: 'Old portal' }, null)).client;
  const target = await services.deploys.createTarget(fresh, world.clientOrgId, { name: 'Staging', timing: 'manual' }, meta);
  return { provider, spareProvider, apiKey, oidcClient, spareClient, target };
}

function adminCases(world: World, f: Awaited<ReturnType<typeof fixtures>>): AdminCase[] {
  const { services } = world.server;
  const db = dbOf(world.server);
  const org = world.clientOrgId;
  const subjectId = world.subject.user.id;
  const NO_ORG = 'organisation_not_found';
  const policy = { mode: 'required' as const, appliesToSubOrganisations: false, triggers: ['every_sign_in' as const], allowedMethods: ['totp'], trustBrowserDays: 7 };
  const subjectRow = () => db.selectFrom('users').selectAll().where('id', '=', subjectId).executeTakeFirstOrThrow();
  const liveFactors = async () => (await db.selectFrom('factors').select('id').where('user_id', '=', subjectId).where('status', '=', 'active').execute()).length;
  return [
    // UserAdminService
    // First, while the subject still holds an authenticator (a later case resets it).
    {
      name: 'deploys.deployerCandidates',
      call: (a) => services.deploys.deployerCandidates(a, f.target.id),
      notFound: 'deploy_target_not_found',
      works: (r) => assert.ok((r as Array<{ id: string }>).some((c) => c.id === subjectId)),
    },
    { name: 'userAdmin.list', call: (a) => services.userAdmin.list(a, { orgId: org }), notFound: NO_ORG, works: (r) => assert.ok((r as { users: Array<{ id: string }> }).users.some((u) => u.id === subjectId)) },
    { name: 'userAdmin.get', call: (a) => services.userAdmin.get(a, subjectId), notFound: 'user_not_found', works: (r) => assert.equal((r as { factors: unknown[] }).factors.length, 1) },
    { name: 'userAdmin.viewBackupCodes', call: (a) => services.userAdmin.viewBackupCodes(a, subjectId, meta), notFound: 'user_not_found', works: (r) => assert.equal((r as unknown[]).length, 10) },
    { name: 'userAdmin.regenerateBackupCodes', call: (a) => services.userAdmin.regenerateBackupCodes(a, subjectId, meta), notFound: 'user_not_found', works: (r) => assert.equal((r as { codes: unknown[] }).codes.length, 10) },
    {
      name: 'userAdmin.setDisabled',
      call: (a) => services.userAdmin.setDisabled(a, subjectId, true, meta),
      notFound: 'user_not_found',
      works: async () => assert.equal((await subjectRow()).status, 'disabled'),
    },
    { name: 'userAdmin.resetFactors', call: (a) => services.userAdmin.resetFactors(a, subjectId, meta), notFound: 'user_not_found', works: async () => assert.equal(await liveFactors(), 0) },
    // PolicyService
    { name: 'policy.organisationPolicy', call: (a) => services.policy.organisationPolicy(a, org), notFound: NO_ORG, works: (r) => assert.equal((r as { organisation: { id: string } }).organisation.id, org) },
    {
      name: 'policy.setOrganisationPolicy',
      call: (a) => services.policy.setOrganisationPolicy(a, org, policy, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('organisation_policies').select('mode').where('org_id', '=', org).executeTakeFirst())?.mode, 'required'),
    },
    {
      name: 'policy.setRoleRequirement',
      call: (a) => services.policy.setRoleRequirement(a, world.roleId, true, meta),
      notFound: 'role_not_found',
      works: async () => assert.equal(Number((await db.selectFrom('role_policies').select('require_two_factor').where('role_id', '=', world.roleId).executeTakeFirst())?.require_two_factor), 1),
    },
    // ProviderAdminService
    { name: 'providers.list', call: (a) => services.providers.list(a, org), notFound: NO_ORG, works: (r) => assert.equal((r as { providers: unknown[] }).providers.length, 2) },
    { name: 'providers.get', call: (a) => services.providers.get(a, f.provider.id), notFound: 'provider_not_found', works: (r) => assert.equal((r as { name: string }).name, 'Outbox') },
    {
      name: 'providers.create',
      call: (a) => services.providers.create(a, org, { name: 'Third outbox', config: { kind: 'file' } }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('delivery_providers').select('id').where('org_id', '=', org).execute()).length, 3),
    },
    {
      name: 'providers.update',
      call: (a) => services.providers.update(a, f.provider.id, { name: 'Renamed outbox' }, meta),
      notFound: 'provider_not_found',
      works: async () => assert.equal((await db.selectFrom('delivery_providers').select('name').where('id', '=', f.provider.id).executeTakeFirst())?.name, 'Renamed outbox'),
    },
    {
      name: 'providers.test',
      call: (a) => services.providers.test(a, f.provider.id, { channel: 'email', to: 'ops@example.com' }, meta),
      notFound: 'provider_not_found',
      works: (r) => assert.equal((r as { ok: boolean }).ok, true),
    },
    {
      name: 'providers.setChannel',
      call: (a) => services.providers.setChannel(a, org, 'email', { providerId: f.provider.id, title: 'Email', allowed: true }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('channel_entries').select('provider_id').where('org_id', '=', org).where('channel', '=', 'email').executeTakeFirst())?.provider_id, f.provider.id),
    },
    {
      name: 'providers.remove',
      call: (a) => services.providers.remove(a, f.spareProvider.id, meta),
      notFound: 'provider_not_found',
      works: async () => assert.equal(await db.selectFrom('delivery_providers').select('id').where('id', '=', f.spareProvider.id).executeTakeFirst(), undefined),
    },
    // ApiKeyService
    { name: 'apiKeys.list', call: (a) => services.apiKeys.list(a, org), notFound: NO_ORG, works: (r) => assert.deepEqual((r as Array<{ id: string }>).map((k) => k.id), [f.apiKey.id]) },
    {
      name: 'apiKeys.create',
      call: (a) => services.apiKeys.create(a, org, { name: 'Deployer', scopes: ['deployments:read'] }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('api_keys').select('id').where('org_id', '=', org).execute()).length, 2),
    },
    {
      name: 'apiKeys.revoke',
      call: (a) => services.apiKeys.revoke(a, f.apiKey.id, meta),
      notFound: 'api_key_not_found',
      works: async () => assert.notEqual((await db.selectFrom('api_keys').select('revoked_at').where('id', '=', f.apiKey.id).executeTakeFirstOrThrow()).revoked_at, null),
    },
    // OidcClientService
    { name: 'oidcClients.list', call: (a) => services.oidcClients.list(a, org), notFound: NO_ORG, works: (r) => assert.equal((r as unknown[]).length, 2) },
    { name: 'oidcClients.get', call: (a) => services.oidcClients.get(a, f.oidcClient.id), notFound: 'client_not_found', works: (r) => assert.equal((r as { name: string }).name, 'Portal') },
    {
      name: 'oidcClients.create',
      call: (a) => services.oidcClients.create(a, org, { name: 'Wiki', redirectUris: ['https://wiki.example/callback'] }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('oidc_clients').select('id').where('org_id', '=', org).execute()).length, 3),
    },
    {
      name: 'oidcClients.update',
      call: (a) => services.oidcClients.update(a, f.oidcClient.id, { name: 'Client portal' }, meta),
      notFound: 'client_not_found',
      works: async () => assert.equal((await db.selectFrom('oidc_clients').select('name').where('id', '=', f.oidcClient.id).executeTakeFirst())?.name, 'Client portal'),
    },
    {
      name: 'oidcClients.rotateSecret',
      call: (a) => services.oidcClients.rotateSecret(a, f.oidcClient.id, meta),
      notFound: 'client_not_found',
      works: async (r) => assert.equal(await services.oidcClients.verifySecret(f.oidcClient.id, (r as { secret: string }).secret), true),
    },
    {
      name: 'oidcClients.remove',
      call: (a) => services.oidcClients.remove(a, f.spareClient.id, meta),
      notFound: 'client_not_found',
      works: async () => assert.equal(await db.selectFrom('oidc_clients').select('id').where('id', '=', f.spareClient.id).executeTakeFirst(), undefined),
    },
    // DeployService: target settings
    {
      name: 'deploys.createTarget',
      call: (a) => services.deploys.createTarget(a, org, { name: 'Production', timing: 'manual', requireTwoFactor: true }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('deploy_targets').select('id').where('org_id', '=', org).execute()).length, 2),
    },
    {
      name: 'deploys.updateTarget',
      call: (a) => services.deploys.updateTarget(a, f.target.id, { name: 'Staging EU' }, meta),
      notFound: 'deploy_target_not_found',
      works: async () => assert.equal((await db.selectFrom('deploy_targets').select('name').where('id', '=', f.target.id).executeTakeFirstOrThrow()).name, 'Staging EU'),
    },
    // Organisation settings: branding and sub-organisations
    { name: 'branding.get', call: (a) => services.branding.get(a, org), notFound: NO_ORG, works: (r) => assert.equal((r as { companyName: string | null }).companyName, null) },
    {
      name: 'branding.set',
      call: (a) => services.branding.set(a, org, { companyName: 'Client Co' }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal(await services.branding.companyNameFor(org), 'Client Co'),
    },
    {
      name: 'organisations.createBelow',
      call: (a) => services.organisations.createBelow(a, org, { name: 'Client EU' }, meta),
      notFound: NO_ORG,
      works: async () => assert.equal((await db.selectFrom('organisations').select('id').where('parent_id', '=', org).execute()).length, 1),
    },
  ];
}

test('every admin use case refuses a stale admin, a member and a foreign admin by itself, changing nothing, and serves a fresh admin', async (t) => {
  const world = await adminWorld(t);
  const f = await fixtures(world);
  const { staleAdmin, freshAdmin, member, foreignAdmin } = world.actors;
  for (const c of adminCases(world, f)) {
    await t.test(c.name, async () => {
      const before = await snapshot(world.server);

      assert.deepEqual(await refusal(c.call(staleAdmin)), { status: 403, code: 'reauthentication_required', missing: ['password'] }, 'a stale admin session re-authenticates first');
      assert.deepEqual(await snapshot(world.server), before, 'the stale admin changed nothing');

      assert.deepEqual(await refusal(c.call(member)), { status: 403, code: 'not_admin' }, 'a member is refused');
      assert.deepEqual(await snapshot(world.server), before, 'the member changed nothing');

      assert.deepEqual(await refusal(c.call(foreignAdmin)), { status: 404, code: c.notFound }, 'an admin of another tree finds nothing');
      assert.deepEqual(await snapshot(world.server), before, 'the foreign admin changed nothing');

      await c.works(await c.call(freshAdmin));
    });
  }
});

test('the command line may create keys and apps for any organisation, recorded as nobody; it manages nothing else, and a sign-in still enrolling is no admin', async (t) => {
  const world = await adminWorld(t);
  const { services } = world.server;
  const db = dbOf(world.server);

  const created = await services.apiKeys.create(SYSTEM_ACTOR, world.otherOrgId, { name: 'Operator key', scopes: ['deployments:read'] }, null);
  const app = await services.oidcClients.create(SYSTEM_ACTOR, world.otherOrgId, { name: 'Operator app', redirectUris: ['https://ops.example/callback'] }, null);
  const events = await db.selectFrom('audit_events').select(['event_type', 'actor_user_id']).where('event_type', 'in', ['api_key.created', 'oidc_client.created']).execute();
  assert.deepEqual(events.map((e) => e.actor_user_id), [null, null]);
  assert.equal((await db.selectFrom('api_keys').select('created_by').where('id', '=', created.apiKey.id).executeTakeFirstOrThrow()).created_by, null);
  assert.equal((await db.selectFrom('oidc_clients').select('created_by').where('id', '=', app.client.id).executeTakeFirstOrThrow()).created_by, null);
  assert.deepEqual(await refusal(services.apiKeys.create(SYSTEM_ACTOR, 'no-such-org', { name: 'x', scopes: ['deployments:read'] }, null)), { status: 404, code: 'organisation_not_found' });

  const before = await snapshot(world.server);
  const enrolling: Actor = { via: 'enrolment_flow', user: world.admin.user };
  for (const actor of [SYSTEM_ACTOR, enrolling]) {
    for (const call of [
      () => services.apiKeys.list(actor, world.otherOrgId),
      () => services.apiKeys.revoke(actor, created.apiKey.id, meta),
      () => services.oidcClients.list(actor, world.otherOrgId),
      () => services.oidcClients.remove(actor, app.client.id, meta),
      () => services.userAdmin.list(actor, { orgId: world.clientOrgId }),
      () => services.policy.setOrganisationPolicy(actor, world.clientOrgId, { mode: 'off', appliesToSubOrganisations: false, triggers: ['every_sign_in'], allowedMethods: ['totp'], trustBrowserDays: 0 }, meta),
      () => services.providers.list(actor, world.clientOrgId),
    ]) {
      assert.deepEqual(await refusal(call()), { status: 403, code: 'not_admin' });
    }
  }
  assert.deepEqual(await refusal(services.apiKeys.create(enrolling, world.agencyId, { name: 'x', scopes: ['deployments:read'] }, meta)), { status: 403, code: 'not_admin' });
  assert.deepEqual(await snapshot(world.server), before);
});

test("the audit page: anyone reads their own events without sudo; an admin's organisation view needs it", async (t) => {
  const world = await adminWorld(t);
  const { audit } = world.server.services;
  const { staleAdmin, freshAdmin, member } = world.actors;
  const subjectId = world.subject.user.id;
  const touches = (events: Array<{ actorUserId: string | null; subjectUserId: string | null }>, userId: string) => events.some((e) => e.actorUserId === userId || e.subjectUserId === userId);

  const own = await audit.page(member, {});
  assert.ok(own.events.length > 0);
  assert.ok(own.events.every((e) => e.actorUserId === member.user.id || e.subjectUserId === member.user.id), 'a member sees only their own events');

  assert.deepEqual(await refusal(audit.page(staleAdmin, {})), { status: 403, code: 'reauthentication_required', missing: ['password'] });
  assert.deepEqual(await refusal(audit.page(staleAdmin, { scope: 'organisation' })), { status: 403, code: 'reauthentication_required', missing: ['password'] });
  const selfOnly = await audit.page(staleAdmin, { scope: 'self' });
  assert.ok(selfOnly.events.length > 0 && !touches(selfOnly.events, subjectId), "a stale admin still reads their own events, and nobody else's");

  const organisation = await audit.page(freshAdmin, {});
  assert.ok(touches(organisation.events, subjectId), 'a fresh admin sees the events of people in the tree');
  assert.ok(!touches(organisation.events, world.actors.foreignAdmin.user.id), 'but not of another tree');

  assert.deepEqual(await refusal(audit.page(SYSTEM_ACTOR, {})), { status: 403, code: 'person_required' });
});
