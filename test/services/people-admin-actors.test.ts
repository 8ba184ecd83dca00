/**
 * The people, roles and groups use cases guard themselves, like every admin use case
 * (admin-actors.test.ts): called directly with no route in front, a stale admin session is asked to
 * re-authenticate, a member is refused, an admin of another tree finds nothing, none of them
 * changes a thing, and a freshly confirmed admin of the tree gets through.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { isTwofoldError } from '../../src/core/errors.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { describeError } from '../../src/http/errors.js';
import type { Actor } from '../../src/services/actor.js';
import type { RequestMeta } from '../../src/services/index.js';
import { actorOf } from '../helpers/actors.js';
import { PASSWORD, STEP_MS, dbOf, signedInClient } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

const SYSTEM = { userId: null, meta: null };
const meta: RequestMeta = { ip: '192.0.2.8', userAgent: 'node-test' };
const REAUTH_WINDOW_PASSED = 6 * 60_000;

const WATCHED = ['audit_events', 'users', 'factors', 'backup_codes', 'invitations', 'roles', 'groups', 'group_members', 'group_roles', 'user_roles', 'role_policies'] as const;

async function snapshot(server: TestServer): Promise<Record<string, string[]>> {
  const db = dbOf(server);
  const out: Record<string, string[]> = {};
  for (const table of WATCHED) out[table] = (await db.selectFrom(table).selectAll().execute()).map((row) => JSON.stringify(row)).sort();
  out.sessions = (await db.selectFrom('sessions').select(['id', 'revoked_at']).execute()).map((row) => JSON.stringify(row)).sort();
  return out;
}

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
  return { user: await server.services.accounts.createUser({ orgId, email, password: PASSWORD, roles: roleNames }, SYSTEM), email };
}

async function world(t: { after(fn: () => Promise<void>): void }) {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const { accounts } = server.services;
  const agency = await accounts.createOrganisation('Agency', null, SYSTEM);
  const org = (await accounts.createOrganisation('Client', agency.id, SYSTEM)).id;
  const other = await accounts.createOrganisation('Other', null, SYSTEM);
  const admin = await newUser(server, agency.id, ['admin']);
  const member = await newUser(server, agency.id);
  const foreignAdmin = await newUser(server, other.id, ['admin']);
  const subject = await newUser(server, org);
  const leaver = await newUser(server, org);

  const browser = await signedInClient(server, subject.email);
  const started = await browser.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal((await browser.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(started.json?.secret as string, clock.now()) })).status, 200);
  clock.advance(STEP_MS);

  const staleBrowser = await signedInClient(server, admin.email);
  clock.advance(REAUTH_WINDOW_PASSED);
  const actors = {
    staleAdmin: await actorOf(server, staleBrowser),
    freshAdmin: await actorOf(server, await signedInClient(server, admin.email)),
    member: await actorOf(server, await signedInClient(server, member.email)),
    foreignAdmin: await actorOf(server, await signedInClient(server, foreignAdmin.email)),
  };
  const { services } = server;
  const invited = await services.invitations.invite(actors.freshAdmin, org, { email: 'invitee@example.com' }, meta);
  const role = await services.rolesAdmin.createRole(actors.freshAdmin, org, 'editor', meta);
  const spareRole = await services.rolesAdmin.createRole(actors.freshAdmin, org, 'spare', meta);
  const group = await services.rolesAdmin.createGroup(actors.freshAdmin, org, 'Editors', meta);
  const spareGroup = await services.rolesAdmin.createGroup(actors.freshAdmin, org, 'Spare', meta);
  return { server, org, subject, leaver, factorId: started.json?.id as string, inviteeId: invited.userId, role, spareRole, group, spareGroup, actors };
}

type World = Awaited<ReturnType<typeof world>>;

function cases(w: World): Array<{ name: string; call: (a: Actor) => Promise<unknown>; notFound: string; works: (r: unknown) => Promise<void> | void }> {
  const { services } = w.server;
  const db = dbOf(w.server);
  const NO_ORG = 'organisation_not_found';
  const row = (id: string) => db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return [
    { name: 'invitations.invite', call: (a) => services.invitations.invite(a, w.org, { email: 'another@example.com' }, meta), notFound: NO_ORG, works: (r) => assert.equal((r as { email: string }).email, 'another@example.com') },
    {
      name: 'invitations.resend',
      call: (a) => services.invitations.resend(a, w.inviteeId, meta),
      notFound: 'user_not_found',
      works: async () => assert.equal((await db.selectFrom('invitations').select('token_hash').where('user_id', '=', w.inviteeId).execute()).length, 2),
    },
    { name: 'userAdmin.update', call: (a) => services.userAdmin.update(a, w.subject.user.id, { displayName: 'Edited', roleIds: [w.role.id] }, meta), notFound: 'user_not_found', works: async () => assert.equal((await row(w.subject.user.id))?.display_name, 'Edited') },
    {
      name: 'userAdmin.removeFactor',
      call: (a) => services.userAdmin.removeFactor(a, w.subject.user.id, w.factorId, meta),
      notFound: 'user_not_found',
      works: async () => assert.equal((await db.selectFrom('factors').select('id').where('user_id', '=', w.subject.user.id).execute()).length, 0),
    },
    { name: 'rolesAdmin.overview', call: (a) => services.rolesAdmin.overview(a, w.org), notFound: NO_ORG, works: (r) => assert.ok((r as { roles: Array<{ name: string }> }).roles.some((x) => x.name === 'editor')) },
    { name: 'rolesAdmin.createRole', call: (a) => services.rolesAdmin.createRole(a, w.org, 'auditor', meta), notFound: NO_ORG, works: (r) => assert.equal((r as { name: string }).name, 'auditor') },
    { name: 'rolesAdmin.renameRole', call: (a) => services.rolesAdmin.renameRole(a, w.spareRole.id, 'spare-2', meta), notFound: 'role_not_found', works: (r) => assert.equal((r as { name: string }).name, 'spare-2') },
    { name: 'rolesAdmin.createGroup', call: (a) => services.rolesAdmin.createGroup(a, w.org, 'Auditors', meta), notFound: NO_ORG, works: (r) => assert.equal((r as { name: string }).name, 'Auditors') },
    { name: 'rolesAdmin.renameGroup', call: (a) => services.rolesAdmin.renameGroup(a, w.spareGroup.id, 'Spare 2', meta), notFound: 'group_not_found', works: (r) => assert.equal((r as { name: string }).name, 'Spare 2') },
    {
      name: 'rolesAdmin.setGroupRole',
      call: (a) => services.rolesAdmin.setGroupRole(a, w.group.id, w.role.id, true, meta),
      notFound: 'group_not_found',
      works: async () => assert.equal((await db.selectFrom('group_roles').select('role_id').where('group_id', '=', w.group.id).execute()).length, 1),
    },
    {
      name: 'rolesAdmin.setGroupMember',
      call: (a) => services.rolesAdmin.setGroupMember(a, w.group.id, w.leaver.user.id, true, meta),
      notFound: 'group_not_found',
      works: async () => assert.equal((await db.selectFrom('group_members').select('user_id').where('group_id', '=', w.group.id).execute()).length, 1),
    },
    { name: 'rolesAdmin.requirementPreview', call: (a) => services.rolesAdmin.requirementPreview(a, w.role.id), notFound: 'role_not_found', works: (r) => assert.deepEqual(r, { roleId: w.role.id, role: 'editor', requireTwoFactor: false, holders: 2, forcedToEnrol: 2 }) },
    { name: 'rolesAdmin.deleteRole', call: (a) => services.rolesAdmin.deleteRole(a, w.spareRole.id, meta), notFound: 'role_not_found', works: async () => assert.equal(await db.selectFrom('roles').select('id').where('id', '=', w.spareRole.id).executeTakeFirst(), undefined) },
    { name: 'rolesAdmin.deleteGroup', call: (a) => services.rolesAdmin.deleteGroup(a, w.spareGroup.id, meta), notFound: 'group_not_found', works: async () => assert.equal(await db.selectFrom('groups').select('id').where('id', '=', w.spareGroup.id).executeTakeFirst(), undefined) },
    { name: 'invitations.revoke', call: (a) => services.invitations.revoke(a, w.inviteeId, meta), notFound: 'user_not_found', works: async () => assert.equal(await row(w.inviteeId), undefined) },
    { name: 'userAdmin.delete', call: (a) => services.userAdmin.delete(a, w.leaver.user.id, meta), notFound: 'user_not_found', works: async () => assert.equal(await row(w.leaver.user.id), undefined) },
  ];
}

test('every people, roles and groups use case refuses a stale admin, a member and a foreign admin by itself, changing nothing, and serves a fresh admin', async (t) => {
  const w = await world(t);
  const { staleAdmin, freshAdmin, member, foreignAdmin } = w.actors;
  for (const c of cases(w)) {
    await t.test(c.name, async () => {
      const before = await snapshot(w.server);
      assert.deepEqual(await refusal(c.call(staleAdmin)), { status: 403, code: 'reauthentication_required', missing: ['password'] });
      assert.deepEqual(await snapshot(w.server), before, 'the stale admin changed nothing');
      assert.deepEqual(await refusal(c.call(member)), { status: 403, code: 'not_admin' });
      assert.deepEqual(await snapshot(w.server), before, 'the member changed nothing');
      assert.deepEqual(await refusal(c.call(foreignAdmin)), { status: 404, code: c.notFound });
      assert.deepEqual(await snapshot(w.server), before, 'the foreign admin changed nothing');
      await c.works(await c.call(freshAdmin));
    });
  }
});
