/**
 * Shared steps for the authenticator-app (TOTP) suites: members, enrolment, the password
 * step, codes from the test clock, and reading rows back.
 *
 * A TOTP code is accepted once per user and only for a strictly newer time step, so every
 * helper that spends a code leaves the clock 30 s later: the next code is always fresh.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { totpCodeAt } from '../../src/core/totp.js';
import type { User } from '../../src/store/index.js';
import { TestClient } from './client.js';
import { TestClock } from './clock.js';
import type { TestServer } from './server.js';
import { startTestServer, startTwoNodes } from './server.js';

export const PASSWORD = 'correct horse battery staple 42';
export const STEP_MS = 30_000;
const SYSTEM = { userId: null, meta: null };

export interface Member {
  user: User;
  email: string;
  password: string;
}

export interface EnrolledMember extends Member {
  /** Signed in (password only, before the factor existed). */
  client: TestClient;
  factorId: string;
  secret: string;
  backupCodes: string[];
}

export function dbOf(server: TestServer) {
  return server.runtime.database.db;
}

export async function createMember(server: TestServer, email = `m-${randomUUID().slice(0, 8)}@example.com`): Promise<Member> {
  const org = await server.services.accounts.createOrganisation('Org', null, SYSTEM);
  const user = await server.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD }, SYSTEM);
  return { user, email, password: PASSWORD };
}

/** Signs a member without factors in with the password alone. */
export async function signedInClient(server: TestServer, email: string): Promise<TestClient> {
  const client = new TestClient(server.url);
  const res = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'signed_in');
  return client;
}

/** A member with one confirmed authenticator; the clock is left one step later. */
export async function enrolledMember(server: TestServer, clock: TestClock, email?: string): Promise<EnrolledMember> {
  const member = await createMember(server, email);
  const client = await signedInClient(server, member.email);
  const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(started.status, 201, started.text);
  const factorId = started.json?.id as string;
  const secret = started.json?.secret as string;
  const confirmed = await client.post(`/api/v1/factors/totp/${factorId}/confirm`, { code: totpCodeAt(secret, clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  clock.advance(STEP_MS);
  return { ...member, client, factorId, secret, backupCodes: confirmed.json?.backupCodes as string[] };
}

/** The current code, after moving the clock on one step so it has never been used. */
export function freshCode(secret: string, clock: TestClock): string {
  clock.advance(STEP_MS);
  return totpCodeAt(secret, clock.now());
}

/** `count` distinct 6-digit codes, none matching any step within ±2 of now. */
export function wrongCodes(secret: string, nowMs: number, count: number): string[] {
  const near = new Set([-2, -1, 0, 1, 2].map((k) => totpCodeAt(secret, nowMs + k * STEP_MS)));
  const out: string[] = [];
  // Spread over the code space (7919 is prime, so the walk visits every value once).
  for (let n = 0; out.length < count; n++) {
    const candidate = String((n * 7919 + 123_456) % 1_000_000).padStart(6, '0');
    if (!near.has(candidate)) out.push(candidate);
  }
  return out;
}

export function wrongCode(secret: string, nowMs: number): string {
  return wrongCodes(secret, nowMs, 1)[0]!;
}

/** Password step for a member with a factor: returns the challenge. */
export async function passwordStep(client: TestClient, email: string): Promise<string> {
  const res = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'second_factor_required', res.text);
  return res.json?.challenge as string;
}

export async function auditTypes(server: TestServer, userId: string): Promise<string[]> {
  const rows = await dbOf(server).selectFrom('audit_events').select('event_type').where('subject_user_id', '=', userId).orderBy('id').execute();
  return rows.map((r) => r.event_type);
}

export async function userRow(server: TestServer, userId: string) {
  return dbOf(server).selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
}

/** Counts of statuses, e.g. { 200: 1, 401: 49 }. */
export function tally(statuses: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const s of statuses) out[s] = (out[s] ?? 0) + 1;
  return out;
}

/** The usual starting point: a server on a test clock with one member who has an authenticator. */
export async function serverWithEnrolledMember(t: { after(fn: () => Promise<void>): void }): Promise<{ clock: TestClock; server: TestServer; member: EnrolledMember }> {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const member = await enrolledMember(server, clock);
  return { clock, server, member };
}

/** Two nodes over one database, and a member with an authenticator created through the first. */
export async function startTwoNodesWithMember(t: { after(fn: () => Promise<void>): void }): Promise<{ clock: TestClock; nodes: readonly [TestServer, TestServer]; member: EnrolledMember }> {
  const { clock, nodes } = await startTwoNodes(t);
  const member = await enrolledMember(nodes[0], clock);
  return { clock, nodes, member };
}
