/**
 * Shared steps for the policy suites: an agency with a client sub-organisation, an agency
 * admin signed in, members without factors, and policy bodies.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PASSWORD, signedInClient } from './authenticator.js';
import type { TestClient } from './client.js';
import { TestClock } from './clock.js';
import type { TestServer } from './server.js';
import { startTestServer } from './server.js';

export const SYSTEM = { userId: null, meta: null };

export const REQUIRED_FOR_SUBS = {
  mode: 'required',
  appliesToSubOrganisations: true,
  triggers: ['every_sign_in'],
  allowedMethods: ['totp'],
  trustBrowserDays: 30,
};

export interface AgencyTree {
  clock: TestClock;
  server: TestServer;
  agencyId: string;
  clientOrgId: string;
  admin: TestClient;
}

export async function agencyTree(t: { after(fn: () => Promise<void>): void }): Promise<AgencyTree> {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const agency = await server.services.accounts.createOrganisation('Agency', null, SYSTEM);
  const clientOrg = await server.services.accounts.createOrganisation('Client', agency.id, SYSTEM);
  const adminEmail = `admin-${randomUUID().slice(0, 8)}@example.com`;
  await server.services.accounts.createUser({ orgId: agency.id, email: adminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  return { clock, server, agencyId: agency.id, clientOrgId: clientOrg.id, admin: await signedInClient(server, adminEmail) };
}

export async function addMember(server: TestServer, orgId: string, roles: string[] = []) {
  const email = `m-${randomUUID().slice(0, 8)}@example.com`;
  const user = await server.services.accounts.createUser({ orgId, email, password: PASSWORD, roles }, SYSTEM);
  return { user, email };
}

export async function putPolicy(admin: TestClient, orgId: string, body: unknown) {
  return admin.request('PUT', `/api/v1/organisations/${orgId}/policy`, body);
}

export async function requireForSubs(tree: AgencyTree): Promise<void> {
  const res = await putPolicy(tree.admin, tree.agencyId, REQUIRED_FOR_SUBS);
  assert.equal(res.status, 200, res.text);
}

export async function policyRows(server: TestServer) {
  return server.runtime.database.db.selectFrom('organisation_policies').selectAll().orderBy('org_id').execute();
}
