/**
 * A database holding one of every kind of sealed value (TOTP secret, backup codes, a provider
 * configuration, a signing key, an OIDC record, the derivation root), and the checks that every
 * one still opens: what backup and key-rotation tests populate and then prove.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { providerConfigContext } from '../../src/services/secret-contexts.js';
import { deliveryProviders } from '../../src/store/index.js';
import type { EnrolledMember } from './authenticator.js';
import { enrolledMember, freshCode, passwordStep } from './authenticator.js';
import { TestClient } from './client.js';
import type { TestClock } from './clock.js';
import type { RegisteredClient } from './oidc.js';
import { registerClient } from './oidc.js';
import type { TestServer } from './server.js';

export const OLD_KEY = 'a'.repeat(64);
export const NEW_KEY = 'c'.repeat(64);

export interface SealedWorld {
  member: EnrolledMember;
  providerId: string;
  signingKid: string;
  client: RegisteredClient;
  oidcRecordId: string;
}

const replayed = () => new Error('replayed');

export async function populate(server: TestServer, clock: TestClock): Promise<SealedWorld> {
  const member = await enrolledMember(server, clock);
  const org = await server.runtime.database.db.selectFrom('users').select('org_id').where('id', '=', member.user.id).executeTakeFirstOrThrow();
  const providerId = randomUUID();
  const now = clock.now();
  await deliveryProviders.insertProvider(server.runtime.database.db, {
    id: providerId,
    org_id: org.org_id,
    name: 'Outbox',
    kind: 'file',
    config_encrypted: server.runtime.box.encrypt(JSON.stringify({ kind: 'file' }), providerConfigContext(providerId)),
    created_at: now,
    updated_at: now,
    updated_by: null,
  });
  const signingKid = (await server.services.signingKeys.activeKey()).kid;
  const client = await registerClient(server);
  const oidcRecordId = `session-${randomUUID()}`;
  const storage = server.services.oidcSetup.storage(replayed);
  await storage.forModel('Session').upsert(oidcRecordId, { accountId: member.user.id, kind: 'Session' }, 3600);
  // A few more records over two models, so walks in key order (model, id) cross a model boundary.
  for (let i = 0; i < 3; i++) {
    await storage.forModel('Session').upsert(`session-extra-${i}`, { accountId: member.user.id, kind: 'Session' }, 3600);
    await storage.forModel('Interaction').upsert(`interaction-extra-${i}`, { kind: 'Interaction' }, 3600);
  }
  return { member, providerId, signingKid, client, oidcRecordId };
}

/** Signs the member in with a TOTP code and a backup code, and opens every other sealed value. */
export async function assertEverythingOpens(server: TestServer, clock: TestClock, world: SealedWorld): Promise<void> {
  const { member } = world;
  const totp = new TestClient(server.url);
  const challenge = await passwordStep(totp, member.email);
  const signedIn = await totp.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(signedIn.status, 200, signedIn.text);
  assert.equal(signedIn.json?.status, 'signed_in');

  const usedBefore = (await server.services.backupCodes.reveal(member.user.id)).filter((c) => c.used).length;
  const backup = new TestClient(server.url);
  const code = member.backupCodes.pop()!;
  const viaBackup = await backup.post('/api/v1/auth/second-factor', { challenge: await passwordStep(backup, member.email), method: 'backup_code', code });
  assert.equal(viaBackup.status, 200, viaBackup.text);
  // An admin can still be shown the set (the sealed copies open).
  const shown = await server.services.backupCodes.reveal(member.user.id);
  assert.equal(shown.filter((c) => c.used).length, usedBefore + 1);

  const row = await server.runtime.database.db.selectFrom('delivery_providers').selectAll().where('id', '=', world.providerId).executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(server.runtime.box.decrypt(row.config_encrypted, providerConfigContext(world.providerId))), { kind: 'file' });

  assert.equal((await server.services.signingKeys.activeKey()).kid, world.signingKid);
  assert.ok((await server.services.signingKeys.privateJwks()).some((k) => k.kid === world.signingKid && typeof k.d === 'string'));
  assert.match(await server.services.signingKeys.sign({ sub: 'check' }, 'JWT'), /^[\w-]+\.[\w-]+\.[\w-]+$/);

  assert.equal(await server.services.oidcClients.verifySecret(world.client.clientId, world.client.secret!), true);
  const record = await server.services.oidcSetup.storage(replayed).forModel('Session').find(world.oidcRecordId);
  assert.equal((record as { accountId?: string } | undefined)?.accountId, member.user.id);
}
