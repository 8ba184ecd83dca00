import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { currentBackend } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';

const backend = currentBackend();

test(`staging stays automatic: each change goes live at once, with no code (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const staging = await world.createTarget({ name: 'Staging', timing: 'automatic' });
  const production = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  assert.equal(staging.requireTwoFactor, false);
  await world.sudo();
  const created = await world.admin.client.post(`/api/v1/organisations/${world.agencyId}/api-keys`, { name: 'CI', scopes: ['changes:write'] });
  const app = new TestClient(world.server.url, { authorization: `Bearer ${created.json?.key as string}` });

  const first = await world.change(app, staging, 'agents/x', { state: 'started' }, 'Agent X started');
  assert.equal(first.status, 201, first.text);
  const deployment = first.json?.deployment as { id: string; digest: string; method: string; approver: string; summary: string[] } | null;
  assert.ok(deployment, 'the answer names the deployment it made');
  assert.equal(deployment.method, 'none');
  assert.equal(deployment.approver, `api_key:${(created.json?.apiKey as { id: string }).id}`);
  assert.deepEqual(deployment.summary, ['Agent X started']);

  let served = await fetchBundle(staging.bundleUrl);
  assert.equal(served.status, 200);
  assert.deepEqual(JSON.parse(served.text), { 'agents/x': { state: 'started' } });
  assert.equal(served.etag, `"${first.json?.digest as string}"`);
  assert.equal(served.deployment, deployment.id);

  // Removing an entry (null) goes live just the same.
  await world.addChange(app, staging, 'goals/y', 3, 'Goal Y set');
  await world.addChange(app, staging, 'agents/x', null, 'Agent X removed');
  served = await fetchBundle(staging.bundleUrl);
  assert.deepEqual(JSON.parse(served.text), { 'goals/y': 3 });
  assert.equal((await world.preview(world.admin.client, staging)).changes.length, 0, 'nothing stays pending');
  assert.equal((await world.history(world.admin, staging)).length, 3);

  // Even automatic deployments carry a verifiable approval that says no code was given.
  const jwks = (await (await fetch(`${world.server.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  const { payload } = await jwtVerify(served.approval ?? '', createLocalJWKSet(jwks), { typ: 'twofold-deploy-approval+jwt', currentDate: new Date(world.clock.now()) });
  assert.equal(payload.method, 'none');
  assert.equal(payload.digest, served.etag?.slice(1, -1));

  // The same key on the protected target only queues the change.
  await world.addChange(app, production, 'agents/x', { state: 'started' }, 'Agent X started');
  assert.equal((await fetchBundle(production.bundleUrl)).status, 404);
  assert.equal((await world.preview(world.admin.client, production)).changes.length, 1);
});

test(`changes arriving together on an automatic target all go live, none is lost or refused (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const staging = await world.createTarget({ name: 'Staging', timing: 'automatic' });
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => world.change(world.admin.client, staging, `k${i}`, i, `Set k${i}`)));
  assert.deepEqual(
    results.map((r) => r.status),
    Array(6).fill(201),
    results.map((r) => r.text).join('\n'),
  );
  const served = await fetchBundle(staging.bundleUrl);
  assert.deepEqual(JSON.parse(served.text), { k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5 });
  assert.equal((await world.preview(world.admin.client, staging)).changes.length, 0);
  const history = await world.history(world.admin, staging);
  assert.equal(history.length, 6);
  assert.deepEqual(history.flatMap((d) => d.summary).sort(), ['Set k0', 'Set k1', 'Set k2', 'Set k3', 'Set k4', 'Set k5']);
});

test(`bad changes are 400 and change nothing (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const staging = await world.createTarget({ name: 'Staging', timing: 'automatic' });
  const member = await world.person();
  const notDeployer = await world.change(member.client, staging, 'a', 1, 'Sneaky');
  assert.equal(notDeployer.status, 403, notDeployer.text);
  for (const body of [
    { key: '', summary: 'Empty key' },
    { key: '../etc', value: 1, summary: 'Traversal' },
    { key: 'a', value: 1, summary: '' },
    { key: 'a', value: 1, summary: 'two\nlines' },
    { key: 'a', value: 1 },
    { key: 'a', value: 'x'.repeat(70_000), summary: 'Too big for a request' },
    { key: 'a', value: 1, summary: 'Extra', extra: true },
  ]) {
    const res = await world.admin.client.post(`/api/v1/deploy-targets/${staging.id}/changes`, body);
    assert.ok(res.status >= 400 && res.status < 500, `${JSON.stringify(body).slice(0, 60)}: ${res.status} ${res.text}`);
    assert.ok(res.json?.error?.code, res.text);
  }
  assert.equal((await fetchBundle(staging.bundleUrl)).status, 404);
  assert.equal((await world.history(world.admin, staging)).length, 0);
});
