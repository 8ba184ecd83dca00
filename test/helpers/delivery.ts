/**
 * Shared steps for the text-message and email suites: an organisation with an admin, a real
 * SMTP server or a Twilio-speaking HTTP server bound as its provider, and codes read back out
 * of what those servers received.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { totpCodeAt } from '../../src/core/totp.js';
import type { ProviderConfig } from '../../src/delivery/index.js';
import type { HttpPeer, SmtpPeer } from '../delivery/peers.js';
import { json, parseMail, startHttpPeer, startSmtpPeer } from '../delivery/peers.js';
import { PASSWORD, signedInClient } from './authenticator.js';
import { TestClient } from './client.js';
import { TestClock } from './clock.js';
import type { TestServer, TestServerOptions } from './server.js';
import { startTestServer } from './server.js';

export const SYSTEM = { userId: null, meta: null };
export const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
export const TWILIO_TOKEN = 'twilio-auth-token-0123456789';

export interface DeliveryWorld {
  clock: TestClock;
  server: TestServer;
  orgId: string;
  adminId: string;
  /** Signed in and re-authenticated just now. */
  admin: TestClient;
}

/** A server, an organisation and its admin, signed in with sudo. */
export async function deliveryWorld(t: { after(fn: () => Promise<void>): void }, options: TestServerOptions = {}): Promise<DeliveryWorld> {
  const clock = options.clock ?? new TestClock();
  const server = await startTestServer({ ...options, clock, env: { TWOFOLD_COMPANY_NAME: 'Acme Widgets', ...options.env } });
  t.after(() => server.close());
  const org = await server.services.accounts.createOrganisation('Acme', null, SYSTEM);
  const adminEmail = `admin-${randomUUID().slice(0, 8)}@example.com`;
  const admin = await server.services.accounts.createUser({ orgId: org.id, email: adminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const client = await signedInClient(server, adminEmail);
  return { clock, server, orgId: org.id, adminId: admin.id, admin: client };
}

/** Adds a provider and binds the channel to it, allowed, through the admin API. Returns the provider id. */
export async function bindChannel(world: DeliveryWorld, channel: 'sms' | 'email', config: ProviderConfig | Record<string, unknown>, options: { allowed?: boolean; orgId?: string } = {}): Promise<string> {
  const orgId = options.orgId ?? world.orgId;
  const created = await world.admin.post(`/api/v1/organisations/${orgId}/providers`, { name: `${channel} provider`, config });
  assert.equal(created.status, 201, created.text);
  const id = created.json?.id as string;
  const bound = await world.admin.request('PUT', `/api/v1/organisations/${orgId}/channels/${channel}`, { providerId: id, title: channel === 'sms' ? 'Text message' : 'Email', allowed: options.allowed ?? true });
  assert.equal(bound.status, 200, bound.text);
  return id;
}

export async function withSmtp(t: { after(fn: () => Promise<void>): void }): Promise<SmtpPeer> {
  const smtp = await startSmtpPeer();
  t.after(() => smtp.close());
  return smtp;
}

export function smtpConfig(smtp: SmtpPeer): Record<string, unknown> {
  return { kind: 'smtp', host: '127.0.0.1', port: smtp.port, tlsMode: 'none', from: 'Acme Widgets <security@acme.test>' };
}

/** A local HTTP server answering like Twilio's Messages API (201 with a message sid). */
export async function withTwilio(t: { after(fn: () => Promise<void>): void }, ...handlers: Parameters<typeof startHttpPeer>): Promise<HttpPeer> {
  const peer = await startHttpPeer(...(handlers.length > 0 ? handlers : [json(201, { sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued' })]));
  t.after(() => peer.close());
  return peer;
}

export function twilioConfig(peer: HttpPeer): Record<string, unknown> {
  return { kind: 'twilio', accountSid: TWILIO_SID, authToken: TWILIO_TOKEN, from: '+15005550006', baseUrl: peer.url, timeoutMs: 2000 };
}

/** The six-digit code in the latest mail to `to`. */
export function codeFromMail(smtp: SmtpPeer, to: string): { code: string; subject: string; text: string } {
  const mail = [...smtp.received].reverse().find((m) => m.rcptTo.includes(to));
  assert.ok(mail, `no mail to ${to}`);
  const parsed = parseMail(mail.raw);
  const text = parsed.text ?? '';
  const match = /\b(\d{6})\b/.exec(text);
  assert.ok(match, `no code in: ${text}`);
  return { code: match[1] as string, subject: parsed.headers.get('subject') ?? '', text };
}

/** The six-digit code in the latest text message Twilio was asked to send to `to`. */
export function codeFromTwilio(peer: HttpPeer, to: string): { code: string; body: string } {
  const request = [...peer.requests].reverse().find((r) => new URLSearchParams(r.body).get('To') === to);
  assert.ok(request, `no text to ${to}`);
  const body = new URLSearchParams(request.body).get('Body') ?? '';
  const match = /\b(\d{6})\b/.exec(body);
  assert.ok(match, `no code in: ${body}`);
  return { code: match[1] as string, body };
}

export async function reauthenticate(client: TestClient): Promise<void> {
  const res = await client.post('/api/v1/auth/reauthenticate', { password: PASSWORD });
  assert.equal(res.status, 200, res.text);
}

// ---- Members with text or email factors, sign-in by code, and rows read back (issue 4 suites) ----

export interface DeliveredMember {
  userId: string;
  email: string;
  /** Signed in with the password before the factor existed. */
  client: TestClient;
  factorId: string;
  backupCodes: string[];
}

/** A member of `orgId` (default: the world's organisation) with no factor yet, signed in. */
export async function newMember(world: DeliveryWorld, orgId: string = world.orgId, email = `m-${randomUUID().slice(0, 8)}@example.com`): Promise<{ userId: string; email: string; client: TestClient }> {
  const user = await world.server.services.accounts.createUser({ orgId, email, password: PASSWORD }, SYSTEM);
  return { userId: user.id, email, client: await signedInClient(world.server, email) };
}

/** A member who enrolled and confirmed a phone through the Twilio peer. Leaves the clock past the resend wait. */
export async function memberWithPhone(world: DeliveryWorld, twilio: HttpPeer, phone: { country: string; number: string; e164: string }, orgId?: string): Promise<DeliveredMember> {
  const member = await newMember(world, orgId);
  const started = await member.client.post('/api/v1/factors/sms', { country: phone.country, number: phone.number });
  assert.equal(started.status, 201, started.text);
  const factorId = started.json?.id as string;
  const confirmed = await member.client.post(`/api/v1/factors/sms/${factorId}/confirm`, { code: codeFromTwilio(twilio, phone.e164).code });
  assert.equal(confirmed.status, 200, confirmed.text);
  world.clock.advance(world.server.config.codeResendSeconds * 1000 + 1000);
  return { ...member, factorId, backupCodes: (confirmed.json?.backupCodes as string[] | undefined) ?? [] };
}

/** The password step in a fresh browser (or `client`); returns the browser and the challenge. */
export async function passwordStepIn(world: DeliveryWorld, email: string, client: TestClient = new TestClient(world.server.url)): Promise<{ browser: TestClient; challenge: string; body: Record<string, unknown> }> {
  const res = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json?.status, 'second_factor_required', res.text);
  return { browser: client, challenge: res.json?.challenge as string, body: res.json ?? {} };
}

/** Rows of one_time_codes for a user, oldest first. */
export async function codeRows(server: TestServer, userId: string) {
  return server.runtime.database.db.selectFrom('one_time_codes').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

export async function factorRows(server: TestServer, userId: string) {
  return server.runtime.database.db.selectFrom('factors').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
}

/** Audit records of one type, newest last, with their details parsed. */
export async function auditEvents(server: TestServer, type: string, where: { subjectUserId?: string; orgId?: string } = {}) {
  let query = server.runtime.database.db.selectFrom('audit_events').selectAll().where('event_type', '=', type);
  if (where.subjectUserId) query = query.where('subject_user_id', '=', where.subjectUserId);
  if (where.orgId) query = query.where('org_id', '=', where.orgId);
  const rows = await query.orderBy('id').execute();
  return rows.map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
}

/** Polls until `check` returns a value (mail is sent after the HTTP answer in some flows). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A different six-digit code than `code`. */
export function otherCode(code: string): string {
  return String((Number(code) + 1) % 1_000_000).padStart(6, '0');
}

/** Enrols and confirms an authenticator for a signed-in client; leaves the clock one step later. */
export async function enrolTotp(world: DeliveryWorld, client: TestClient): Promise<{ factorId: string; secret: string; backupCodes: string[] }> {
  const started = await client.post('/api/v1/factors/totp', {});
  assert.equal(started.status, 201, started.text);
  const secret = started.json?.secret as string;
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id}/confirm`, { code: totpCodeAt(secret, world.clock.now()) });
  assert.equal(confirmed.status, 200, confirmed.text);
  world.clock.advance(30_000);
  return { factorId: started.json?.id as string, secret, backupCodes: (confirmed.json?.backupCodes as string[] | undefined) ?? [] };
}
