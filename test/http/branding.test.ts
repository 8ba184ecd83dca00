/**
 * The company name as an organisation setting: the API and the admin page, inheritance down the
 * tree, and where people meet it (page header, authenticator issuer).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld } from '../helpers/deploys.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

const backend = currentBackend();
const SYSTEM = { userId: null, meta: null };

test(`admins set the company name per organisation; organisations below inherit it unless they set their own (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const admin = world.admin.client;
  await world.sudo();

  const fresh = await admin.get(`/api/v1/organisations/${world.clientOrgId}/branding`);
  assert.equal(fresh.status, 200, fresh.text);
  assert.deepEqual(fresh.json, { orgId: world.clientOrgId, companyName: null, effectiveCompanyName: 'Twofold', inheritedFrom: null });

  const agency = await admin.request('PUT', `/api/v1/organisations/${world.agencyId}/branding`, { companyName: '  Agency Ltd ' });
  assert.equal(agency.status, 200, agency.text);
  assert.deepEqual(agency.json, { orgId: world.agencyId, companyName: 'Agency Ltd', effectiveCompanyName: 'Agency Ltd', inheritedFrom: world.agencyId });
  const inherited = await admin.get(`/api/v1/organisations/${world.clientOrgId}/branding`);
  assert.deepEqual(inherited.json, { orgId: world.clientOrgId, companyName: null, effectiveCompanyName: 'Agency Ltd', inheritedFrom: world.agencyId });

  const own = await admin.request('PUT', `/api/v1/organisations/${world.clientOrgId}/branding`, { companyName: 'Client Co' });
  assert.equal(own.json?.effectiveCompanyName, 'Client Co');
  const events = await world.audit('organisation.branding_changed');
  assert.deepEqual(events.map((e) => [e.orgId, e.details.before, e.details.after]), [
    [world.agencyId, null, 'Agency Ltd'],
    [world.clientOrgId, null, 'Client Co'],
  ]);

  // People meet it: the page header and the issuer of a new authenticator.
  const member = await world.person(world.clientOrgId, { enrol: false });
  const account = await member.client.get('/account');
  assert.match(account.text, /<a class="brand" href="\/">Client Co<\/a>/);
  const totp = await member.client.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(totp.status, 201, totp.text);
  assert.match(totp.json?.uri as string, /^otpauth:\/\/totp\/Client%20Co:.*issuer=Client(%20|\+)Co/);
  const agencyMember = await world.person(world.agencyId, { enrol: false });
  assert.match((await agencyMember.client.get('/account')).text, /<a class="brand" href="\/">Agency Ltd<\/a>/);

  // null goes back to the inherited name.
  const back = await admin.request('PUT', `/api/v1/organisations/${world.clientOrgId}/branding`, { companyName: null });
  assert.equal(back.status, 200, back.text);
  assert.equal(back.json?.effectiveCompanyName, 'Agency Ltd');
});

test(`branding: bad input writes nothing; plain users 403, stale admins 403, other trees 404 (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const admin = world.admin.client;
  await world.sudo();
  const path = `/api/v1/organisations/${world.agencyId}/branding`;
  for (const body of [{ companyName: '' }, { companyName: '   ' }, { companyName: 'a\nb' }, { companyName: 'x'.repeat(81) }, { companyName: 'Acme: Inc' }, {}, { companyName: 42 }]) {
    const res = await admin.request('PUT', path, body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
  }
  assert.equal((await admin.request('PUT', path, { companyName: '' })).json?.error?.code, 'company_name_invalid');
  assert.equal((await world.audit('organisation.branding_changed')).length, 0);
  assert.equal((await admin.get(path)).json?.companyName, null);

  const member = await world.person(world.agencyId, { enrol: false });
  const plain = await member.client.request('PUT', path, { companyName: 'Mine' });
  assert.equal(plain.status, 403, plain.text);
  assert.equal(plain.json?.error?.code, 'not_admin');

  const elsewhere = await world.server.services.accounts.createOrganisation('Elsewhere', null, SYSTEM);
  const foreignEmail = `foreign-${Date.now()}@example.com`;
  await world.server.services.accounts.createUser({ orgId: elsewhere.id, email: foreignEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const foreign = await signedInClient(world.server, foreignEmail);
  assert.equal((await foreign.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
  const other = await foreign.request('PUT', path, { companyName: 'Taken over' });
  assert.equal(other.status, 404, other.text);
  assert.equal(other.json?.error?.code, 'organisation_not_found');
  assert.equal((await foreign.get(path)).status, 404);

  world.clock.advance(10 * 60_000);
  const stale = await admin.request('PUT', path, { companyName: 'Late' });
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  assert.equal((await world.audit('organisation.branding_changed')).length, 0);
});

test(`the branding page sets the name with a form (${backend})`, async (t) => {
  const world = await deployWorld(t);
  await world.sudo();
  const page = `/admin/branding?org=${world.clientOrgId}`;
  const fields = await hiddenFields(world.admin.client, page);
  const bad = await postForm(world.admin.client, '/admin/branding', { ...fields, companyName: 'Acme: Inc' });
  assert.equal(bad.status, 400, bad.text);
  const saved = await postForm(world.admin.client, '/admin/branding', { ...fields, companyName: 'Client Co' });
  assert.equal(saved.status, 200, saved.text);
  assert.match(saved.text, /data-testid="effective-company-name">Client Co</);
  assert.match(saved.text, /href="\/admin\/organisations" aria-current="page">Organisations/);
});

test(`admins add organisations below their own, from the API and the page; other trees, members, stale admins and bad names are refused (${backend})`, async (t) => {
  const world = await deployWorld(t);
  await world.sudo();
  const admin = world.admin.client;
  const created = await admin.post(`/api/v1/organisations/${world.clientOrgId}/organisations`, { name: ' Client EU ' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json?.name, 'Client EU');
  assert.equal(created.json?.parentId, world.clientOrgId);
  const tree = await admin.get('/api/v1/organisations');
  assert.deepEqual((tree.json?.organisations as Array<{ name: string; depth: number }>).map((o) => `${o.depth}:${o.name}`), ['0:Agency', '1:Client', '2:Client EU']);
  assert.equal((await world.audit('organisation.created')).at(-1)?.details.parentId, world.clientOrgId);

  const byAdmin = async () => (await world.audit('organisation.created')).filter((e) => e.actor === world.admin.user.id).length;
  const before = await byAdmin();
  for (const body of [{ name: '' }, { name: '   ' }, { name: 'a\nb' }, {}, { name: 'x'.repeat(201) }]) {
    const res = await admin.post(`/api/v1/organisations/${world.agencyId}/organisations`, body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
  }
  const member = await world.person(world.agencyId, { enrol: false });
  assert.equal((await member.client.post(`/api/v1/organisations/${world.agencyId}/organisations`, { name: 'Mine' })).status, 403);
  const elsewhere = await world.server.services.accounts.createOrganisation('Elsewhere', null, SYSTEM);
  const foreign = await admin.post(`/api/v1/organisations/${elsewhere.id}/organisations`, { name: 'Inside' });
  assert.equal(foreign.status, 404, foreign.text);
  world.clock.advance(10 * 60_000);
  const stale = await admin.post(`/api/v1/organisations/${world.agencyId}/organisations`, { name: 'Late' });
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  assert.equal(await byAdmin(), before);

  // The page: add one below the agency, and it is listed.
  await world.sudo();
  const fields = await hiddenFields(admin, `/admin/organisations?org=${world.agencyId}`);
  const added = await postForm(admin, '/admin/organisations', { ...fields, name: 'Second client' });
  assert.equal(added.status, 201, added.text);
  assert.match(added.text, /Added Second client\./);
  assert.match(added.text, /<a class="name" href="\/admin\/organisations\?org=[^"]+">Second client<\/a>/);
});
