import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SYSTEM, addMember, agencyTree, putPolicy } from '../helpers/policy.js';

interface Row {
  id: string;
  email: string;
  methods: string[];
  mustEnrol: boolean;
}

test('GET /api/v1/users?limit=2 pages through the tree by cursor, each person once; a limit out of range is 400', async (t) => {
  const tree = await agencyTree(t);
  const members = [];
  for (let i = 0; i < 5; i++) members.push(await addMember(tree.server, tree.clientOrgId));

  const seen: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 10; page++) {
    const res = await tree.admin.get(`/api/v1/users?org=${tree.clientOrgId}&limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    assert.equal(res.status, 200, res.text);
    const users = res.json?.users as Row[];
    assert.ok(users.length <= 2, 'never more than the limit');
    seen.push(...users.map((u) => u.email));
    after = res.json?.next as string | null;
    if (after === null) break;
  }
  assert.deepEqual(seen, members.map((m) => m.email).sort(), 'every member once, in email order');

  for (const bad of ['0', '201', 'two', '-1', '2.5']) {
    const res = await tree.admin.get(`/api/v1/users?limit=${bad}`);
    assert.equal(res.status, 400, `limit=${bad}: ${res.text}`);
  }
});

test('the list says who must enrol: from the organisation policy (resolved per organisation) and from a role held through a group; the no_2fa filter pages too', async (t) => {
  const tree = await agencyTree(t);
  const { accounts } = tree.server.services;
  const inAgency = await addMember(tree.server, tree.agencyId);
  const inClient = await addMember(tree.server, tree.clientOrgId);
  const viaGroup = await addMember(tree.server, tree.agencyId);

  const before = await tree.admin.get(`/api/v1/users?org=${tree.agencyId}&limit=200`);
  assert.equal(before.status, 200, before.text);
  const mustBefore = new Map((before.json?.users as Row[]).map((u) => [u.id, u.mustEnrol]));
  assert.equal(mustBefore.get(inClient.user.id), false);
  assert.equal(mustBefore.get(viaGroup.user.id), false);

  // The client organisation requires 2FA (for itself only); a group role requires it in the agency.
  const policy = await putPolicy(tree.admin, tree.clientOrgId, { mode: 'required', appliesToSubOrganisations: false, triggers: ['every_sign_in'], allowedMethods: ['totp'], trustBrowserDays: 30 });
  assert.equal(policy.status, 200, policy.text);
  await accounts.createGroup(tree.agencyId, 'Finance team', SYSTEM);
  await accounts.grantRoleToGroup(tree.agencyId, 'Finance team', 'finance', SYSTEM);
  await accounts.addGroupMember(tree.agencyId, 'Finance team', viaGroup.email, SYSTEM);
  const role = await tree.server.runtime.database.db.selectFrom('roles').select('id').where('org_id', '=', tree.agencyId).where('name', '=', 'finance').executeTakeFirstOrThrow();
  assert.equal((await tree.admin.request('PUT', `/api/v1/roles/${role.id}/policy`, { requireTwoFactor: true })).status, 200);

  const after = await tree.admin.get(`/api/v1/users?org=${tree.agencyId}&limit=200`);
  const must = new Map((after.json?.users as Row[]).map((u) => [u.id, u.mustEnrol]));
  assert.equal(must.get(inClient.user.id), true, 'the client organisation requires it');
  assert.equal(must.get(viaGroup.user.id), true, 'a role held through a group requires it');
  assert.equal(must.get(inAgency.user.id), false, 'the agency itself requires nothing of a plain member');

  // Everyone here lacks a factor: filter=no_2fa with limit=1 pages through all of them.
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 20; page++) {
    const res = await tree.admin.get(`/api/v1/users?org=${tree.agencyId}&filter=no_2fa&limit=1${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, res.text);
    const users = res.json?.users as Row[];
    assert.ok(users.every((u) => u.methods.length === 0));
    ids.push(...users.map((u) => u.id));
    cursor = res.json?.next as string | null;
    if (cursor === null) break;
  }
  for (const m of [inAgency, inClient, viaGroup]) assert.ok(ids.includes(m.user.id));
  assert.equal(new Set(ids).size, ids.length, 'nobody twice');
});

test('the top admin of the only top-level organisation lists everyone with no organisation filter; once another top-level organisation exists its people stay out of every list', async (t) => {
  const tree = await agencyTree(t);
  const { accounts } = tree.server.services;
  const inClient = await addMember(tree.server, tree.clientOrgId);
  const emailsOf = async (query: string) => {
    const res = await tree.admin.get(`/api/v1/users?limit=200${query}`);
    assert.equal(res.status, 200, res.text);
    return (res.json?.users as Row[]).map((u) => u.email);
  };
  // The agency is the sole root here: everyone is in its tree.
  assert.ok((await emailsOf('')).includes(inClient.email));

  const other = await accounts.createOrganisation('Another company', null, SYSTEM);
  const outsider = await addMember(tree.server, other.id);
  const outsiderChild = await addMember(tree.server, (await accounts.createOrganisation('Its branch', other.id, SYSTEM)).id);
  for (const query of ['', '&filter=no_2fa', `&q=${encodeURIComponent(outsider.email.slice(0, 6))}`, `&org=${tree.agencyId}`]) {
    const emails = await emailsOf(query);
    assert.ok(!emails.includes(outsider.email) && !emails.includes(outsiderChild.email), `another company's people are not listed (${query || 'plain list'})`);
  }
  assert.ok((await emailsOf('')).includes(inClient.email), 'the agency still lists its own tree');
  assert.ok((await emailsOf(`&q=${encodeURIComponent(inClient.email.slice(0, 10))}`)).includes(inClient.email), 'and finds its own people by search');
});
