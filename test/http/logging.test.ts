import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { sha256 } from '../../src/core/crypto.js';
import { LOG_REDACT, buildApp, redactUrl } from '../../src/http/app.js';
import type { Runtime } from '../../src/services/bootstrap.js';
import { openRuntime } from '../../src/services/bootstrap.js';
import { passwordResets } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { freshDatabaseLocation, withSchemasStable } from '../helpers/backend.js';

const PASSWORD = 'correct horse battery staple 42';
let location: TestDatabaseLocation;
let runtime: Runtime;
let userId: string;
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
  userId = (await runtime.services.accounts.createUser({ orgId: org.id, email: 'logger@example.com', password: PASSWORD }, actor)).id;
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
  assert.ok(lines.length >= 3, 'requests were logged (one access line each)');
  assert.ok(lines.some((l) => l.includes('"statusCode":200') && l.includes('"url":"/api/v1/session"') && l.includes('"responseTime"')), 'the access line has method, path, status and time');
  assert.ok(all.includes('"msg":"request completed"'), 'logs are pino JSON');
  for (const secret of [PASSWORD, 'wrong but secret 99', token, 'secret-api-key-value']) {
    assert.equal(all.includes(secret), false, `log leaked ${secret.slice(0, 6)}…`);
  }
});

/** A secret as the server mints them (base64url), unique so a leak cannot be a coincidence. */
const secret = (bytes = 32) => randomBytes(bytes).toString('base64url');

test('secrets in URLs (reset and setup links, bundle keys, any query value) stay out of the log; the paths stay in', async () => {
  const captured: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      captured.push(chunk.toString('utf8'));
      done();
    },
  });
  // As the server is started (server.ts), and once with no redaction options at all: buildApp adds them.
  for (const logger of [
    { level: 'trace', stream, redact: { paths: LOG_REDACT, censor: '[redacted]' } },
    { level: 'trace', stream },
  ]) {
    const app = await buildApp({ services: runtime.services, publicUrl: 'http://127.0.0.1:8080', companyName: 'Twofold', logger });
    // A real, valid reset link, so the page answers as it does for the person who got the email.
    const resetToken = secret();
    const now = Date.now();
    await passwordResets.insertResetToken(runtime.database.db, { token_hash: sha256(resetToken), user_id: userId, created_at: now, expires_at: now + 600_000, used_at: null });
    const secrets = { resetToken, setupToken: secret(), bundleKey: secret(18), generic: secret(), other: secret(), notFound: secret(), apiNotFound: secret(), bare: secret(), inMessage: secret(), inError: secret() };

    const visits: Array<{ url: string; path: string; status?: number }> = [
      { url: `/reset-password?token=${secrets.resetToken}`, path: '/reset-password?token=[redacted]', status: 200 },
      { url: `/setup?token=${secrets.setupToken}`, path: '/setup?token=[redacted]' },
      { url: `/deploy/${secrets.bundleKey}/bundle`, path: '/deploy/[redacted]/bundle', status: 404 },
      { url: `/sign-in?token=${secrets.generic}&return_to=${secrets.other}`, path: '/sign-in?token=[redacted]&return_to=[redacted]' },
      { url: `/no-such-page?token=${secrets.notFound}`, path: '/no-such-page?token=[redacted]', status: 404 },
      { url: `/api/v1/no-such-route?token=${secrets.apiNotFound}`, path: '/api/v1/no-such-route?token=[redacted]', status: 404 },
      { url: `/account?${secrets.bare}`, path: '/account?[redacted]' },
    ];
    for (const visit of visits) {
      const res = await app.inject({ method: 'GET', url: visit.url });
      if (visit.status !== undefined) assert.equal(res.statusCode, visit.status, `${visit.path}: ${res.body.slice(0, 200)}`);
    }
    // URLs inside messages and errors (fastify's "Reply was already sent … in \"<url>\"", a provider's error) are scrubbed too.
    app.log.warn(`Reply was already sent, did you forget to "return reply" in the "/reset-password?token=${secrets.inMessage}" (GET) route?`);
    app.log.error({ err: new Error(`fetching /deploy/${secrets.inError}/bundle failed`) }, 'oidc provider error');
    await app.close();

    const all = captured.join('\n');
    assert.ok(all.includes('"msg":"request completed"'), 'requests were logged');
    for (const [name, value] of Object.entries(secrets)) assert.equal(all.includes(value), false, `log leaked ${name}`);
    for (const visit of visits) assert.ok(all.includes(`"url":${JSON.stringify(visit.path)}`), `log keeps the path ${visit.path}`);
    assert.ok(all.includes('"/reset-password?token=[redacted]\\" (GET) route?'), 'the message keeps its path');
    assert.ok(all.includes('fetching /deploy/[redacted]/bundle failed'), 'the error keeps its path');
    for (const line of captured) assert.doesNotThrow(() => JSON.parse(line), 'every line is still JSON');
    captured.length = 0;
  }
});

test('redactUrl: paths without a query or bundle key are untouched; query values and bundle keys are replaced', () => {
  const same = ['/', '/account', '/deploy', '/deploy/targets/abc/deploy', '/api/v1/deploy-targets/abc', '/oidc/interaction/uid-123'];
  for (const url of same) assert.equal(redactUrl(url), url);
  assert.equal(redactUrl('/x?'), '/x?');
  assert.equal(redactUrl('/reset-password?token=abc'), '/reset-password?token=[redacted]');
  assert.equal(redactUrl('/x?a=1&&b=2&'), '/x?a=[redacted]&&b=[redacted]&');
  assert.equal(redactUrl('/x?justasecret'), '/x?[redacted]');
  assert.equal(redactUrl(`/x?${'n'.repeat(40)}=v`), '/x?[redacted]');
  assert.equal(redactUrl('/deploy/KEY/bundle?token=t'), '/deploy/[redacted]/bundle?token=[redacted]');
  assert.equal(redactUrl('/deploy/KEY'), '/deploy/[redacted]');
});
