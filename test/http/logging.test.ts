import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { LOG_REDACT, buildApp } from '../../src/http/app.js';
import type { Runtime } from '../../src/services/bootstrap.js';
import { openRuntime } from '../../src/services/bootstrap.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { freshDatabaseLocation, withSchemasStable } from '../helpers/backend.js';

const PASSWORD = 'correct horse battery staple 42';
let location: TestDatabaseLocation;
let runtime: Runtime;
const lines: string[] = [];

before(async () => {
  location = await freshDatabaseLocation();
  const config = loadConfig({
    TWOFOLD_DATA_DIR: location.dataDir,
    TWOFOLD_SECRET_KEY: 'b'.repeat(64),
    ...(location.databaseUrl ? { TWOFOLD_DATABASE_URL: location.databaseUrl } : {}),
  });
  runtime = await withSchemasStable(location, () => openRuntime(config, location.postgresSchema ? { postgresSchema: location.postgresSchema } : {}));
  const actor = { userId: null, meta: null };
  const org = await runtime.services.accounts.createOrganisation('Logs Ltd', null, actor);
  await runtime.services.accounts.createUser({ orgId: org.id, email: 'logger@example.com', password: PASSWORD }, actor);
});

after(async () => {
  await runtime.close();
  await location.dispose();
});

test('JSON logs never contain passwords, cookies or session tokens', async () => {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await buildApp({
    services: runtime.services,
    publicUrl: 'http://127.0.0.1:8080',
    companyName: 'Twofold',
    logger: { level: 'trace', stream, redact: { paths: LOG_REDACT, censor: '[redacted]' } },
  });
  const signIn = await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: 'logger@example.com', password: PASSWORD } });
  assert.equal(signIn.statusCode, 200);
  const token = signIn.cookies.find((c) => c.name === 'twofold_session')?.value;
  assert.ok(token, 'a session cookie was issued');
  const session = await app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie: `twofold_session=${token}`, authorization: 'Bearer secret-api-key-value' } });
  assert.equal(session.statusCode, 200);
  // A request that fails inside a handler is logged with its error; the body must still stay out.
  await app.inject({ method: 'POST', url: '/api/v1/auth/sign-in', payload: { email: 'logger@example.com', password: 'wrong but secret 99' } });
  await app.close();

  const all = lines.join('\n');
  assert.ok(lines.length >= 6, 'requests were logged');
  assert.ok(all.includes('"msg":"incoming request"'), 'logs are pino JSON');
  for (const secret of [PASSWORD, 'wrong but secret 99', token, 'secret-api-key-value']) {
    assert.equal(all.includes(secret), false, `log leaked ${secret.slice(0, 6)}…`);
  }
});
