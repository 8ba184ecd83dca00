/**
 * Deploy targets from the console: the deployer picker (API), Deploy Now's old and new values,
 * and the admin pages that create a target, change it and choose its deployers.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld } from '../helpers/deploys.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const backend = currentBackend();
const SYSTEM = { userId: null, meta: null };

test(`the deployer picker offers active people with 2FA who can see the target, to admins of its tree only (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Client prod', timing: 'manual', requireTwoFactor: true }, world.clientOrgId);
  const agencyPerson = await world.person(world.agencyId);
  const clientPerson = await world.person(world.clientOrgId);
  const unenrolled = await world.person(world.clientOrgId, { enrol: false });
  const sibling = await world.server.services.accounts.createOrganisation('Other client', world.agencyId, SYSTEM);
  const siblingPerson = await world.person(sibling.id);

  await world.sudo();
  const res = await world.admin.client.get(`/api/v1/deploy-targets/${target.id}/deployer-candidates`);
  assert.equal(res.status, 200, res.text);
  const ids = (res.json?.candidates as Array<{ id: string; email: string; displayName: string }>).map((c) => c.id).sort();
  assert.deepEqual(ids, [world.admin.user.id, agencyPerson.user.id, clientPerson.user.id].sort());
  assert.ok(!ids.includes(unenrolled.user.id) && !ids.includes(siblingPerson.user.id));

  // A plain member: 403. An admin of another tree: the target does not exist for them.
  const member = await clientPerson.client.get(`/api/v1/deploy-targets/${target.id}/deployer-candidates`);
  assert.equal(member.status, 403, member.text);
  assert.equal(member.json?.error?.code, 'not_admin');
  const elsewhere = await world.server.services.accounts.createOrganisation('Elsewhere', null, SYSTEM);
  const foreignEmail = `foreign-admin-${Date.now()}@example.com`;
  await world.server.services.accounts.createUser({ orgId: elsewhere.id, email: foreignEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const foreign = await signedInClient(world.server, foreignEmail);
  assert.equal((await foreign.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
  const other = await foreign.get(`/api/v1/deploy-targets/${target.id}/deployer-candidates`);
  assert.equal(other.status, 404, other.text);
  assert.equal(other.json?.error?.code, 'deploy_target_not_found');

  // Without a fresh re-authentication the admin is refused too.
  world.clock.advance(10 * 60_000);
  const stale = await world.admin.client.get(`/api/v1/deploy-targets/${target.id}/deployer-candidates`);
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  // A malformed id is bad input, not a lookup.
  await world.sudo();
  const bad = await world.admin.client.get(`/api/v1/deploy-targets/${'x'.repeat(70)}/deployer-candidates`);
  assert.equal(bad.status, 400, bad.text);
});

test(`the preview shows each pending change's old and new value, starting from what is live (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  await world.authorise(target, [world.admin]);
  await world.addChange(world.admin.client, target, 'flags/beta', true, 'Beta on');
  await world.addChange(world.admin.client, target, 'copy/title', { text: 'Hello' }, 'Title');
  await world.deployNow(world.admin, target);

  await world.addChange(world.admin.client, target, 'copy/title', { text: '<b>Hi</b>' }, 'New title');
  await world.addChange(world.admin.client, target, 'copy/title', { text: 'Hey' }, 'Title again');
  await world.change(world.admin.client, target, 'flags/beta', null, 'Beta off');
  await world.addChange(world.admin.client, target, 'limits/max', 5, 'Limit');
  const res = await world.admin.client.get(`/api/v1/deploy-targets/${target.id}/preview`);
  assert.equal(res.status, 200, res.text);
  const changes = (res.json?.changes as Array<{ key: string; oldValue: string | null; newValue: string | null }>).map((c) => [c.key, c.oldValue, c.newValue]);
  assert.deepEqual(changes, [
    ['copy/title', '{"text":"Hello"}', '{"text":"<b>Hi</b>"}'],
    ['copy/title', '{"text":"<b>Hi</b>"}', '{"text":"Hey"}'],
    ['flags/beta', 'true', null],
    ['limits/max', null, '5'],
  ]);

  // Deploy Now shows them, escaped, and folds a long value.
  await world.addChange(world.admin.client, target, 'copy/long', 'x'.repeat(300), 'Long');
  const page = await world.admin.client.get(`/deploy/targets/${target.id}/deploy`);
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /\{&quot;text&quot;:&quot;&lt;b>Hi&lt;\/b>&quot;\}|\{&quot;text&quot;:&quot;&lt;b&gt;Hi&lt;\/b&gt;&quot;\}/);
  assert.ok(!page.text.includes('<b>Hi</b>'), 'a value is text, never markup');
  assert.match(page.text, /<details class="json-fold"/);
});

test(`admin pages create a target, switch 2FA on but never off, and save deployers with the admin's own code (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const deployer = await world.person(world.agencyId);
  const member = world.admin.client;
  await world.sudo();

  // Bad input: no name. Nothing is written.
  let fields = await hiddenFields(member, '/deploy/new');
  const empty = await postForm(member, '/deploy/new', { ...fields, org: world.agencyId, name: '   ', timing: 'manual' });
  assert.equal(empty.status, 400, empty.text);
  const auto2fa = await postForm(member, '/deploy/new', { ...fields, org: world.agencyId, name: 'Fast', timing: 'automatic', requireTwoFactor: 'on' });
  assert.equal(auto2fa.status, 400, auto2fa.text);
  assert.equal((await world.audit('deploy_target.created')).length, 0);

  const created = await postForm(member, '/deploy/new', { ...fields, org: world.agencyId, name: 'Staging', timing: 'manual' });
  assert.equal(created.status, 303, created.text);
  const settingsPath = (created.headers.get('location') ?? '').replace(/\?.*$/, '');
  const targetId = /\/deploy\/targets\/([^/]+)\/settings$/.exec(settingsPath)?.[1] ?? '';
  assert.ok(targetId !== '', settingsPath);

  // Rename and switch 2FA on.
  fields = await hiddenFields(member, settingsPath);
  const on = await postForm(member, `/deploy/targets/${targetId}/settings`, { ...fields, name: 'Production', timing: 'manual', requireTwoFactor: 'on' });
  assert.equal(on.status, 200, on.text);
  let target = await world.target(targetId);
  assert.equal(target.name, 'Production');
  assert.equal(target.requireTwoFactor, true);
  assert.match(on.text, /can never be switched off/);
  assert.match(on.text, /href="\/deploy\/new">create a new target/);

  // No form can switch it off: an unticked box leaves it on, automatic timing is refused.
  await postForm(member, `/deploy/targets/${targetId}/settings`, { ...fields, name: 'Production', timing: 'manual' });
  assert.equal((await world.target(targetId)).requireTwoFactor, true);
  const weaken = await postForm(member, `/deploy/targets/${targetId}/settings`, { ...fields, name: 'Production', timing: 'automatic' });
  assert.equal(weaken.status, 409, weaken.text);
  assert.equal((await world.target(targetId)).timing, 'manual');

  // Deployers: without a code nothing changes; with the admin's current code the list is saved.
  const noCode = await postForm(member, `/deploy/targets/${targetId}/deployers`, { ...fields, [`user:${deployer.user.id}`]: 'on', method: 'totp', code: '' });
  assert.equal(noCode.status, 403, noCode.text);
  assert.deepEqual((await world.target(targetId)).deployers, []);
  const saved = await postForm(member, `/deploy/targets/${targetId}/deployers`, { ...fields, [`user:${deployer.user.id}`]: 'on', method: 'totp', code: world.code(world.admin.secret) });
  assert.equal(saved.status, 200, saved.text);
  target = await world.target(targetId);
  assert.deepEqual(target.deployers.map((d) => d.id), [deployer.user.id]);

  // A plain member is refused the admin pages; an admin of another tree finds no such target.
  const plain = await deployer.client.get('/deploy/new');
  assert.equal(plain.status, 403);
  const elsewhere = await world.server.services.accounts.createOrganisation('Elsewhere', null, SYSTEM);
  const foreignEmail = `foreign-${Date.now()}@example.com`;
  await world.server.services.accounts.createUser({ orgId: elsewhere.id, email: foreignEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const foreign = await signedInClient(world.server, foreignEmail);
  assert.equal((await foreign.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
  assert.equal((await foreign.get(settingsPath)).status, 404);
});

test(`admins create and revoke API keys on the deploy pages; the key is shown once and works (${backend})`, async (t) => {
  const world = await deployWorld(t);
  await world.sudo();
  const admin = world.admin.client;
  const fields = await hiddenFields(admin, `/deploy/api-keys?org=${world.agencyId}`);
  // Bad input writes nothing: no scope, no name.
  for (const bad of [{ name: 'CI' }, { name: '  ', 'scope:changes:write': 'on' }] as Array<Record<string, string>>) {
    const res = await postForm(admin, '/deploy/api-keys', { ...fields, ...bad });
    assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.text}`);
  }
  assert.equal((await world.audit('api_key.created')).length, 0);

  const created = await postForm(admin, '/deploy/api-keys', { ...fields, name: 'CI', 'scope:deployments:read': 'on' });
  assert.equal(created.status, 201, created.text);
  const key = /data-testid="api-key">([^<]+)</.exec(created.text)?.[1] ?? '';
  assert.ok(key.length > 20, created.text);
  const listed = await fetch(`${world.server.url}/api/v1/deploy-targets?org=${world.agencyId}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(listed.status, 200);
  const page = await admin.get(`/deploy/api-keys?org=${world.agencyId}`);
  assert.ok(!page.text.includes(key), 'the key is shown once only');
  const id = /data-api-key="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const revoked = await postForm(admin, `/deploy/api-keys/${id}/revoke`, { ...fields });
  assert.equal(revoked.status, 200, revoked.text);
  const refused = await fetch(`${world.server.url}/api/v1/deploy-targets?org=${world.agencyId}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(refused.status, 401);

  const member = await world.person(world.agencyId, { enrol: false });
  assert.equal((await member.client.get('/deploy/api-keys')).status, 403);
});
