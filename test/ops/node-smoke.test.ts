/**
 * The smoke test scripts/node-smoke.sh runs on each supported Node line (22, 24, 26) after
 * rebuilding the native modules for it; in `npm test` it runs on the Node at hand. It starts
 * `twofold serve` on this Node, checks health, signs a person in with an authenticator code, and
 * checks that a supported LTS prints no runtime warning.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { totpCodeAt } from '../../src/core/totp.js';
import { openRuntime } from '../../src/services/bootstrap.js';
import { PASSWORD, STEP_MS } from '../helpers/authenticator.js';
import { freshDatabaseLocation, withSchemasStable } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { killServerProcess, startServerProcess } from '../helpers/server-process.js';

const SYSTEM = { userId: null, meta: null };
const MAJOR = Number(process.versions.node.split('.')[0]);

/** What oidc-provider (and we) call supported: an LTS release of Node 22 ("Jod") or later. */
function isSupportedLts(): boolean {
  const lts = process.release.lts;
  return MAJOR >= 22 && typeof lts === 'string' && lts.charCodeAt(0) >= 'J'.charCodeAt(0);
}

test(`Node ${process.versions.node}: serve starts, is healthy, and signs a person in with an authenticator code`, async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const env: Record<string, string> = { TWOFOLD_DATA_DIR: location.dataDir, TWOFOLD_SECRET_KEY: 'a'.repeat(64) };
  if (location.databaseUrl) env.TWOFOLD_DATABASE_URL = location.databaseUrl;
  const runtime = await withSchemasStable(location, () => openRuntime(loadConfig(env), location.postgresSchema ? { postgresSchema: location.postgresSchema } : {}));
  const email = 'smoke@example.test';
  try {
    const org = await runtime.services.accounts.createOrganisation('Smoke', null, SYSTEM);
    await runtime.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD }, SYSTEM);
  } finally {
    await runtime.close();
  }

  const server = await startServerProcess(location);
  t.after(() => killServerProcess(server));
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);

  // Enrol an authenticator (password sign-in, then confirm with the current code).
  const client = new TestClient(server.url);
  const first = await client.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(first.json?.status, 'signed_in', first.text);
  const started = await client.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal(started.status, 201, started.text);
  const secret = started.json?.secret as string;
  const now = Date.now();
  const confirmed = await client.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(secret, now) });
  assert.equal(confirmed.status, 200, confirmed.text);

  // Sign in again with the password and the next step's code (within the ±1 step window, and newer than the one spent).
  const browser = new TestClient(server.url);
  const password = await browser.post('/api/v1/auth/sign-in', { email, password: PASSWORD });
  assert.equal(password.json?.status, 'second_factor_required', password.text);
  const signedIn = await browser.post('/api/v1/auth/second-factor', { challenge: password.json?.challenge, method: 'totp', code: totpCodeAt(secret, now + STEP_MS) });
  assert.equal(signedIn.status, 200, signedIn.text);
  const session = await browser.get('/api/v1/session');
  assert.equal(session.status, 200, session.text);

  if (isSupportedLts()) assert.doesNotMatch(server.output(), /Unsupported runtime|ExperimentalWarning|DeprecationWarning/, `Node ${process.versions.node} (${String(process.release.lts)}) printed a warning`);
  else t.diagnostic(`Node ${process.versions.node} is not a supported LTS (${String(process.release.lts)}): oidc-provider warns at start`);
});
