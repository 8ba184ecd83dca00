import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { SYSTEM_ACTOR } from '../../src/services/actor.js';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import type { DeployWorld } from '../helpers/deploys.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

async function createKey(world: DeployWorld, orgId: string, name: string, scopes: string[]) {
  await world.sudo();
  const res = await world.admin.client.post(`/api/v1/organisations/${orgId}/api-keys`, { name, scopes });
  assert.equal(res.status, 201, res.text);
  const key = res.json?.key as string;
  return { key, id: (res.json?.apiKey as { id: string }).id, app: new TestClient(world.server.url, { authorization: `Bearer ${key}` }) };
}

test(`API keys are shown once, stored hashed, and scoped (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const writer = await createKey(world, world.agencyId, 'CI', ['changes:write']);
  assert.match(writer.key, /^tfk_[\w-]{40,}$/);

  // Shown once: the listing and the row carry only a hash and a short prefix.
  const listed = await world.admin.client.get(`/api/v1/organisations/${world.agencyId}/api-keys`);
  assert.equal(listed.status, 200, listed.text);
  assert.ok(!listed.text.includes(writer.key));
  const view = (listed.json?.apiKeys as Array<Record<string, unknown>>)[0]!;
  assert.deepEqual(Object.keys(view).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'orgId', 'prefix', 'revokedAt', 'scopes']);
  assert.ok(writer.key.startsWith(view.prefix as string) && (view.prefix as string).length < 16);
  const rows = await world.server.runtime.database.db.selectFrom('api_keys').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(writer.key), 'the raw table holds no key');
  assert.ok(!JSON.stringify(rows).includes(writer.key.slice(16)), 'not even its secret part');
  assert.equal(rows[0]?.key_hash, createHash('sha256').update(writer.key).digest('base64url'));

  // Bearer works for what the key may do...
  const change = await world.change(writer.app, target, 'agents/x', 'started', 'Agent X started');
  assert.equal(change.status, 201, change.text);
  assert.equal((await world.preview(world.admin.client, target)).changes[0]?.author, `api_key:${writer.id}`);

  // ...and not for what it may not.
  const preview = await writer.app.get(`/api/v1/deploy-targets/${target.id}/preview`);
  assert.equal(preview.status, 403, preview.text);
  assert.equal(preview.json?.error?.code, 'scope_missing');
  const reader = await createKey(world, world.agencyId, 'Dashboard', ['deployments:read']);
  const readerPreview = await reader.app.get(`/api/v1/deploy-targets/${target.id}/preview`);
  assert.equal(readerPreview.status, 200, readerPreview.text);
  const refusedChange = await world.change(reader.app, target, 'agents/x', 'stopped', 'Agent X stopped');
  assert.equal(refusedChange.status, 403, refusedChange.text);
  assert.equal(refusedChange.json?.error?.code, 'scope_missing');
  assert.deepEqual((await world.preview(world.admin.client, target)).changes.map((c) => c.summary), ['Agent X started']);

  // Deploying takes the deployments:write scope...
  const readerDeploy = await reader.app.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest: readerPreview.json?.digest });
  assert.equal(readerDeploy.status, 403, readerDeploy.text);
  assert.equal(readerDeploy.json?.error?.code, 'scope_missing');
  // ...and even with it, a protected target takes a person's code, never an app's say-so.
  const pipeline = await createKey(world, world.agencyId, 'Pipeline', ['deployments:write', 'deployments:read']);
  const appDeploy = await pipeline.app.post(`/api/v1/deploy-targets/${target.id}/deployments`, { digest: readerPreview.json?.digest, method: 'totp', code: '123456' });
  assert.equal(appDeploy.status, 403, appDeploy.text);
  assert.equal(appDeploy.json?.error?.code, 'person_required');
  assert.equal((await fetchBundle(target.bundleUrl)).status, 404);
  const refused = (await world.audit('deployment.refused')).map((r) => [r.actor, r.details.reason, r.details.apiKeyId]);
  assert.deepEqual(refused, [
    [null, 'scope_missing', reader.id],
    [null, 'person_required', pipeline.id],
  ]);

  // Revoked keys stop at once.
  await world.sudo();
  const revoked = await world.admin.client.delete(`/api/v1/api-keys/${writer.id}`);
  assert.equal(revoked.status, 204, revoked.text);
  const afterRevoke = await world.change(writer.app, target, 'agents/y', 'started', 'Agent Y started');
  assert.equal(afterRevoke.status, 401, afterRevoke.text);
  assert.equal(afterRevoke.json?.error?.code, 'api_key_invalid');
  assert.equal((await world.preview(world.admin.client, target)).changes.length, 1);
  const relisted = (await world.admin.client.get(`/api/v1/organisations/${world.agencyId}/api-keys`)).json?.apiKeys as Array<{ id: string; revokedAt: string | null }>;
  assert.ok(relisted.find((k) => k.id === writer.id)?.revokedAt);
  assert.deepEqual(
    (await world.audit('api_key.revoked')).map((r) => r.details.apiKeyId),
    [writer.id],
  );

  // Garbage in the header is 401, never a 500.
  for (const header of ['Bearer', 'Bearer tfk_nope', 'Bearer abc', `Basic ${writer.key}`, `Bearer ${'x'.repeat(500)}`]) {
    const res = await new TestClient(world.server.url, { authorization: header }).get(`/api/v1/deploy-targets/${target.id}`);
    assert.equal(res.status, 401, `${header.slice(0, 20)}: ${res.text}`);
  }
});

test(`a key with deployments:write deploys a target that needs no code (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const staging = await world.createTarget({ name: 'Staging', timing: 'manual' });
  const pipeline = await createKey(world, world.agencyId, 'Pipeline', ['changes:write', 'deployments:read', 'deployments:write']);
  await world.addChange(pipeline.app, staging, 'build', '2024.1', 'Build 2024.1');
  const preview = await world.preview(pipeline.app, staging);
  const deployed = await pipeline.app.post(`/api/v1/deploy-targets/${staging.id}/deployments`, { digest: preview.digest });
  assert.equal(deployed.status, 201, deployed.text);
  assert.equal(deployed.json?.approver, `api_key:${pipeline.id}`);
  assert.equal(deployed.json?.method, 'none');
  const served = await fetchBundle(staging.bundleUrl);
  assert.deepEqual(JSON.parse(served.text), { build: '2024.1' });
  assert.equal(served.deployment, deployed.json?.id);
  const history = await pipeline.app.get(`/api/v1/deploy-targets/${staging.id}/deployments`);
  assert.equal(history.status, 200, history.text);
  assert.equal((history.json?.deployments as unknown[]).length, 1);
});

test(`a key works across its organisation's tree and nowhere else (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const agencyTarget = await world.createTarget({ name: 'Agency prod', timing: 'manual' });
  const clientTarget = await world.createTarget({ name: 'Client prod', timing: 'manual' }, world.clientOrgId);
  const agencyKey = await createKey(world, world.agencyId, 'Agency CI', ['changes:write', 'deployments:read']);
  const clientKey = await createKey(world, world.clientOrgId, 'Client CI', ['changes:write', 'deployments:read']);

  assert.equal((await world.change(agencyKey.app, clientTarget, 'a', 1, 'From above')).status, 201, 'a parent key reaches a child target');
  const crossing = await world.change(clientKey.app, agencyTarget, 'a', 1, 'From below');
  assert.equal(crossing.status, 404, crossing.text);
  assert.equal(crossing.json?.error?.code, 'deploy_target_not_found');
  assert.equal((await clientKey.app.get(`/api/v1/deploy-targets/${agencyTarget.id}/preview`)).status, 404);
  assert.equal((await world.preview(world.admin.client, agencyTarget)).changes.length, 0);

  const listedByClientKey = await clientKey.app.get('/api/v1/deploy-targets');
  assert.equal(listedByClientKey.status, 200, listedByClientKey.text);
  assert.deepEqual((listedByClientKey.json?.targets as Array<{ id: string }>).map((x) => x.id), [clientTarget.id]);

  // A key of an unrelated organisation sees nothing.
  const elsewhere = await world.server.services.accounts.createOrganisation('Elsewhere', null, { userId: null, meta: null });
  const created = await world.server.services.apiKeys.create(SYSTEM_ACTOR, elsewhere.id, { name: 'Stranger', scopes: ['changes:write', 'deployments:read'] }, null);
  const stranger = new TestClient(world.server.url, { authorization: `Bearer ${created.key}` });
  for (const target of [agencyTarget, clientTarget]) {
    const res = await world.change(stranger, target, 'a', 2, 'Stranger');
    assert.equal(res.status, 404, res.text);
    assert.equal((await stranger.get(`/api/v1/deploy-targets/${target.id}`)).status, 404);
  }
});

test(`only admins, freshly re-authenticated, create keys; bad requests change nothing (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const member = await world.person();
  const byMember = await member.client.post(`/api/v1/organisations/${world.agencyId}/api-keys`, { name: 'Mine', scopes: ['changes:write'] });
  assert.equal(byMember.status, 403, byMember.text);

  world.clock.advance(10 * 60_000);
  const stale = await world.admin.client.post(`/api/v1/organisations/${world.agencyId}/api-keys`, { name: 'CI', scopes: ['changes:write'] });
  assert.equal(stale.status, 403, stale.text);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');

  await world.sudo();
  for (const body of [{ name: 'CI', scopes: [] }, { name: 'CI', scopes: ['deploy:everything'] }, { name: '   ', scopes: ['changes:write'] }, { name: 'CI' }, { name: 'CI', scopes: 'changes:write' }]) {
    const res = await world.admin.client.post(`/api/v1/organisations/${world.agencyId}/api-keys`, body);
    assert.equal(res.status, 400, `${JSON.stringify(body)}: ${res.text}`);
  }
  const elsewhere = await world.server.services.accounts.createOrganisation('Elsewhere', null, { userId: null, meta: null });
  const foreign = await world.admin.client.post(`/api/v1/organisations/${elsewhere.id}/api-keys`, { name: 'CI', scopes: ['changes:write'] });
  assert.equal(foreign.status, 404, foreign.text);
  assert.equal((await world.server.runtime.database.db.selectFrom('api_keys').selectAll().execute()).length, 0);
});
