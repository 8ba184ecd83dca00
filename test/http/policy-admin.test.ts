import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, dbOf, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { REQUIRED_FOR_SUBS, SYSTEM, addMember, agencyTree, policyRows, putPolicy, requireForSubs } from '../helpers/policy.js';

const MINUTE = 60_000;

test('an admin sets a policy, reads it back with sources, and an audit event names them', async (t) => {
  const tree = await agencyTree(t);
  await requireForSubs(tree);
  const res = await tree.admin.get(`/api/v1/organisations/${tree.clientOrgId}/policy`);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.own, null);
  const effective = res.json?.effective as { mode: { value: string; sources: Array<{ kind: string; name: string }> } };
  assert.equal(effective.mode.value, 'required');
  assert.deepEqual(effective.mode.sources, [{ kind: 'organisation', name: 'Agency' }]);

  const events = await dbOf(tree.server).selectFrom('audit_events').selectAll().where('event_type', '=', 'policy.changed').execute();
  assert.equal(events.length, 1);
  assert.equal(events[0]!.org_id, tree.agencyId);
  assert.ok(events[0]!.actor_user_id);
  assert.deepEqual(JSON.parse(events[0]!.details).after, { ...REQUIRED_FOR_SUBS, requirePhishingResistant: false });
});

test('a sub-organisation cannot loosen what its parent requires', async (t) => {
  const tree = await agencyTree(t);
  await requireForSubs(tree);
  const subAdmin = await addMember(tree.server, tree.clientOrgId, ['admin']);
  const member = await addMember(tree.server, tree.clientOrgId);
  const loosen = await tree.admin.request('PUT', `/api/v1/organisations/${tree.clientOrgId}/policy`, { ...REQUIRED_FOR_SUBS, mode: 'off', trustBrowserDays: 365 });
  assert.equal(loosen.status, 200, loosen.text);
  const report = await tree.admin.get(`/api/v1/organisations/${tree.clientOrgId}/policy`);
  const effective = report.json?.effective as { mode: { value: string }; trustBrowserDays: { value: number } };
  assert.equal(effective.mode.value, 'required');
  assert.equal(effective.trustBrowserDays.value, 30);
  assert.equal((report.json?.own as { mode: string }).mode, 'off');
  const signIn = await new TestClient(tree.server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(signIn.json?.status, 'enrolment_required');
  assert.equal((await new TestClient(tree.server.url).post('/api/v1/auth/sign-in', { email: subAdmin.email, password: PASSWORD })).json?.status, 'enrolment_required');
});

test('GET /api/v1/me/policy shows the caller where each rule comes from', async (t) => {
  const tree = await agencyTree(t);
  const me = await tree.admin.get('/api/v1/me/policy');
  assert.equal(me.status, 200, me.text);
  assert.deepEqual((me.json?.policy as { mode: unknown }).mode, { value: 'optional', sources: [{ kind: 'default', name: 'default' }] });
  assert.equal((await new TestClient(tree.server.url).get('/api/v1/me/policy')).status, 401);
});

test('only admins of the organisation or an ancestor may read or change it', async (t) => {
  const tree = await agencyTree(t);
  const plain = await addMember(tree.server, tree.agencyId);
  const plainClient = await signedInClient(tree.server, plain.email);
  const refused = await putPolicy(plainClient, tree.agencyId, REQUIRED_FOR_SUBS);
  assert.equal(refused.status, 403);
  assert.equal(refused.json?.error?.code, 'not_admin');
  assert.equal((await plainClient.get(`/api/v1/organisations/${tree.agencyId}/policy`)).status, 403);

  // An admin of a sub-organisation cannot touch its parent or a sibling.
  const sibling = await tree.server.services.accounts.createOrganisation('Sibling', tree.agencyId, SYSTEM);
  const subAdmin = await addMember(tree.server, tree.clientOrgId, ['admin']);
  const subClient = await signedInClient(tree.server, subAdmin.email);
  for (const orgId of [tree.agencyId, sibling.id, 'no-such-org']) {
    const res = await putPolicy(subClient, orgId, REQUIRED_FOR_SUBS);
    assert.equal(res.status, 404, `${orgId}: ${res.text}`);
    assert.equal(res.json?.error?.code, 'organisation_not_found');
  }
  assert.equal((await subClient.get(`/api/v1/organisations/${sibling.id}/policy`)).status, 404);
  assert.equal((await putPolicy(subClient, tree.clientOrgId, REQUIRED_FOR_SUBS)).status, 200);
  assert.deepEqual((await policyRows(tree.server)).map((r) => r.org_id), [tree.clientOrgId]);
});

test('changing policy needs recent re-authentication', async (t) => {
  const tree = await agencyTree(t);
  tree.clock.advance(6 * MINUTE);
  const refused = await putPolicy(tree.admin, tree.agencyId, REQUIRED_FOR_SUBS);
  assert.equal(refused.status, 403);
  assert.equal(refused.json?.error?.code, 'reauthentication_required');
  assert.deepEqual(await policyRows(tree.server), []);
  assert.equal((await tree.admin.post('/api/v1/auth/reauthenticate', { password: PASSWORD })).status, 200);
  assert.equal((await putPolicy(tree.admin, tree.agencyId, REQUIRED_FOR_SUBS)).status, 200);
});

test('bad policy input is a 400 and writes nothing', async (t) => {
  const tree = await agencyTree(t);
  const bad: unknown[] = [
    { ...REQUIRED_FOR_SUBS, mode: 'mandatory' },
    { ...REQUIRED_FOR_SUBS, trustBrowserDays: 366 },
    { ...REQUIRED_FOR_SUBS, trustBrowserDays: -1 },
    { ...REQUIRED_FOR_SUBS, trustBrowserDays: 1.5 },
    { ...REQUIRED_FOR_SUBS, triggers: [] },
    { ...REQUIRED_FOR_SUBS, triggers: ['sometimes'] },
    { ...REQUIRED_FOR_SUBS, allowedMethods: ['carrier_pigeon'] },
    { ...REQUIRED_FOR_SUBS, appliesToSubOrganisations: 'yes' },
    { ...REQUIRED_FOR_SUBS, extra: 1 },
    { mode: 'required' },
  ];
  for (const body of bad) {
    const res = await putPolicy(tree.admin, tree.agencyId, body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(res.json?.error?.code, 'invalid_request');
  }
  assert.deepEqual(await policyRows(tree.server), []);
  const events = await dbOf(tree.server).selectFrom('audit_events').select('id').where('event_type', '=', 'policy.changed').execute();
  assert.equal(events.length, 0);
});
