/**
 * Shared steps for the deploy suites: an agency with a client organisation, an admin who holds
 * an authenticator (and re-authenticates before admin actions), enrolled deployers, targets,
 * and reading the public bundle the way a site would.
 *
 * Every helper that spends a TOTP code moves the clock one step first, so codes are always fresh.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { totpCodeAt } from '../../src/core/totp.js';
import type { User } from '../../src/store/index.js';
import { PASSWORD, STEP_MS, signedInClient } from './authenticator.js';
import type { TestClient, TestResponse } from './client.js';
import { TestClock } from './clock.js';
import type { TestServer } from './server.js';
import { startTestServer } from './server.js';

const SYSTEM = { userId: null, meta: null };

export interface Person {
  user: User;
  email: string;
  /** Signed in; for people with an authenticator, the session predates it (password only). */
  client: TestClient;
  /** Base32 TOTP secret, empty for someone who never enrolled. */
  secret: string;
  factorId: string;
  backupCodes: string[];
}

export interface Target {
  id: string;
  orgId: string;
  name: string;
  timing: 'automatic' | 'manual';
  requireTwoFactor: boolean;
  bundleUrl: string;
  deployers: Array<{ id: string; email: string; enrolled: boolean }>;
  currentDeployment: { id: string; digest: string; summary: string[]; approver: string; method: string; approval: string; rollbackOf: string | null; createdAt: string } | null;
  pendingChanges: number;
}

export interface Preview {
  changes: Array<{ id: number; key: string; summary: string; author: string; createdAt: string }>;
  digest: string;
  pendingVersion: number;
  unchanged: boolean;
}

export interface ServedBundle {
  status: number;
  etag: string | null;
  approval: string | null;
  deployment: string | null;
  text: string;
}

export class DeployWorld {
  constructor(
    readonly clock: TestClock,
    readonly server: TestServer,
    readonly agencyId: string,
    readonly clientOrgId: string,
    readonly admin: Person,
  ) {}

  /** The current code of `secret`, one step after the last one handed out. */
  code(secret: string): string {
    this.clock.advance(STEP_MS);
    return totpCodeAt(secret, this.clock.now());
  }

  /** Admin sudo: password and a current code (admin areas want both when the admin has a factor). */
  async sudo(): Promise<void> {
    const res = await this.admin.client.post('/api/v1/auth/reauthenticate', { password: PASSWORD, method: 'totp', code: this.code(this.admin.secret) });
    assert.equal(res.status, 200, res.text);
  }

  async createTarget(body: { name: string; timing: 'automatic' | 'manual'; requireTwoFactor?: boolean }, orgId = this.agencyId): Promise<Target> {
    await this.sudo();
    const res = await this.admin.client.post(`/api/v1/organisations/${orgId}/deploy-targets`, body);
    assert.equal(res.status, 201, res.text);
    return res.json as unknown as Target;
  }

  /** A person in `orgId` with one confirmed authenticator, signed in. */
  async person(orgId = this.agencyId, options: { roles?: string[]; enrol?: boolean; timeZone?: string } = {}): Promise<Person> {
    const email = `d-${randomUUID().slice(0, 8)}@example.com`;
    const user = await this.server.services.accounts.createUser({ orgId, email, password: PASSWORD, roles: options.roles ?? [], ...(options.timeZone ? { timeZone: options.timeZone } : {}) }, SYSTEM);
    const client = await signedInClient(this.server, email);
    if (options.enrol === false) return { user, email, client, secret: '', factorId: '', backupCodes: [] };
    return { user, email, client, ...(await enrolTotp(client, this.clock)) };
  }

  /** Protected targets: the admin proves a code from their own device to save the list. */
  async authorise(target: Target, people: Person[]): Promise<Target> {
    await this.sudo();
    const body = { userIds: people.map((p) => p.user.id), ...(target.requireTwoFactor ? { method: 'totp', code: this.code(this.admin.secret) } : {}) };
    const res = await this.admin.client.request('PUT', `/api/v1/deploy-targets/${target.id}/deployers`, body);
    assert.equal(res.status, 200, res.text);
    return res.json as unknown as Target;
  }

  async change(client: TestClient, target: Target, key: string, value: unknown, summary: string): Promise<TestResponse> {
    return client.post(`/api/v1/deploy-targets/${target.id}/changes`, { key, value, summary });
  }

  async addChange(client: TestClient, target: Target, key: string, value: unknown, summary: string): Promise<{ digest: string; pendingVersion: number }> {
    const res = await this.change(client, target, key, value, summary);
    assert.equal(res.status, 201, res.text);
    return res.json as unknown as { digest: string; pendingVersion: number };
  }

  async preview(client: TestClient, target: Target): Promise<Preview> {
    const res = await client.get(`/api/v1/deploy-targets/${target.id}/preview`);
    assert.equal(res.status, 200, res.text);
    return res.json as unknown as Preview;
  }

  deploy(person: Person, target: Target, body: { digest: string; method?: string; code?: string; rollbackTo?: string }): Promise<TestResponse> {
    return person.client.post(`/api/v1/deploy-targets/${target.id}/deployments`, body);
  }

  /** Preview, then deploy what was previewed with a fresh code; asserts it went live. */
  async deployNow(person: Person, target: Target): Promise<{ id: string; digest: string; approval: string; createdAt: string; summary: string[] }> {
    const preview = await this.preview(person.client, target);
    const res = await this.deploy(person, target, { digest: preview.digest, method: 'totp', code: this.code(person.secret) });
    assert.equal(res.status, 201, res.text);
    return res.json as unknown as { id: string; digest: string; approval: string; createdAt: string; summary: string[] };
  }

  async history(person: Person, target: Target): Promise<Array<{ id: string; digest: string; summary: string[]; approver: string; method: string; rollbackOf: string | null; createdAt: string }>> {
    const res = await person.client.get(`/api/v1/deploy-targets/${target.id}/deployments`);
    assert.equal(res.status, 200, res.text);
    return res.json?.deployments as Array<{ id: string; digest: string; summary: string[]; approver: string; method: string; rollbackOf: string | null; createdAt: string }>;
  }

  async target(id: string, client: TestClient = this.admin.client): Promise<Target> {
    const res = await client.get(`/api/v1/deploy-targets/${id}`);
    assert.equal(res.status, 200, res.text);
    return res.json as unknown as Target;
  }

  /** Audit rows of one type, details parsed, oldest first. */
  async audit(type: string): Promise<Array<{ actor: string | null; orgId: string | null; details: Record<string, unknown> }>> {
    const rows = await this.server.runtime.database.db.selectFrom('audit_events').selectAll().where('event_type', '=', type).orderBy('id').execute();
    return rows.map((r) => ({ actor: r.actor_user_id, orgId: r.org_id, details: JSON.parse(r.details) as Record<string, unknown> }));
  }
}

export async function enrolTotp(client: TestClient, clock: TestClock): Promise<{ secret: string; factorId: string; backupCodes: string[] }> {
  const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(started.status, 201, started.text);
  const secret = started.json?.secret as string;
  clock.advance(STEP_MS);
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  return { secret, factorId: started.json?.id as string, backupCodes: (confirmed.json?.backupCodes as string[] | undefined) ?? [] };
}

/** `publicHost`: e.g. 'localhost', which WebAuthn in a browser wants as the relying party id. */
export async function deployWorld(t: { after(fn: () => Promise<void>): void }, options: { publicHost?: string } = {}): Promise<DeployWorld> {
  const clock = new TestClock();
  const server = await startTestServer({ clock, ...options });
  t.after(() => server.close());
  const agency = await server.services.accounts.createOrganisation('Agency', null, SYSTEM);
  const clientOrg = await server.services.accounts.createOrganisation('Client', agency.id, SYSTEM);
  const email = `admin-${randomUUID().slice(0, 8)}@example.com`;
  const user = await server.services.accounts.createUser({ orgId: agency.id, email, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const client = await signedInClient(server, email);
  const admin: Person = { user, email, client, ...(await enrolTotp(client, clock)) };
  return new DeployWorld(clock, server, agency.id, clientOrg.id, admin);
}

/** What a site loading the bundle sees: the body and the headers that vouch for it. */
export async function fetchBundle(url: string, headers: Record<string, string> = {}): Promise<ServedBundle> {
  const res = await fetch(url, { headers });
  return { status: res.status, etag: res.headers.get('etag'), approval: res.headers.get('x-twofold-approval'), deployment: res.headers.get('x-twofold-deployment'), text: await res.text() };
}
