/**
 * The signals an operator alerts on, read from GET /metrics the way Prometheus reads them: each
 * test drives the server and checks that the counter moved by exactly what happened.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { recordAudit } from '../../src/services/audit-log.js';
import { freshCode, passwordStep, serverWithEnrolledMember, wrongCode } from '../helpers/authenticator.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { currentBackend, freshDatabaseLocation } from '../helpers/backend.js';
import { TestClient } from '../helpers/client.js';
import { bindChannel, deliveryWorld, memberWithPhone, passwordStepIn, twilioConfig, withTwilio } from '../helpers/delivery.js';
import { startTestServer } from '../helpers/server.js';
import { killServerProcess, startServerProcess } from '../helpers/server-process.js';

type Labels = Record<string, string>;

/** A sample's value from the exposition text; 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Labels = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return 0;
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

/** The change of each named sample between two scrapes. */
function delta(before: string, after: string, name: string, labels: Labels = {}): number {
  return sample(after, name, labels) - sample(before, name, labels);
}

test('sign-ins by result and method, second-factor failures and limit refusals are counted', async (t) => {
  const { clock, server, member } = await serverWithEnrolledMember(t);
  const before = await scrape(server.url);

  // A wrong password, then a wrong code, then a complete sign-in with the authenticator.
  const stranger = new TestClient(server.url);
  assert.equal((await stranger.post('/api/v1/auth/sign-in', { email: member.email, password: 'wrong password entirely' })).status, 401);
  const browser = new TestClient(server.url);
  const challenge = await passwordStep(browser, member.email);
  const wrong = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: wrongCode(member.secret, clock.now()) });
  assert.equal(wrong.status, 401, wrong.text);
  const ok = await browser.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: freshCode(member.secret, clock) });
  assert.equal(ok.status, 200, ok.text);

  const after = await scrape(server.url);
  assert.equal(delta(before, after, 'twofold_sign_ins_total', { result: 'failed', method: 'pwd' }), 1);
  assert.equal(delta(before, after, 'twofold_sign_ins_total', { result: 'succeeded', method: 'pwd+otp' }), 1, after.split('\n').filter((l) => l.startsWith('twofold_sign_ins_total')).join('\n'));
  assert.equal(delta(before, after, 'twofold_second_factor_failures_total', { method: 'totp', purpose: 'sign_in' }), 1);
  assert.equal(delta(before, after, 'twofold_rate_limit_refusals_total', { route: '/api/v1/auth/sign-in' }), 0);

  // The account's password limit (10 per 15 minutes): the 11th attempt is refused with 429.
  const limitedBefore = after;
  const statuses: number[] = [];
  for (let i = 0; i < 11; i++) statuses.push((await stranger.post('/api/v1/auth/sign-in', { email: member.email, password: `wrong ${i} password` })).status);
  assert.equal(statuses.filter((s) => s === 429).length, 2, `statuses: ${statuses.join(',')}`); // the successful sign-in gave its slot back
  const limitedAfter = await scrape(server.url);
  assert.equal(delta(limitedBefore, limitedAfter, 'twofold_rate_limit_refusals_total', { route: '/api/v1/auth/sign-in' }), 2);
  assert.equal(delta(limitedBefore, limitedAfter, 'twofold_sign_ins_total', { result: 'limited', method: 'pwd' }), 2);
  assert.equal(delta(limitedBefore, limitedAfter, 'twofold_sign_ins_total', { result: 'failed', method: 'pwd' }), 9);
});

test('an audit event counts only once its transaction commits: a rolled-back change counts nothing', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const db = server.runtime.database.db;
  const event = { type: 'deployment.refused' as const, details: { reason: 'test' } };
  const before = await scrape(server.url);

  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await recordAudit(trx, Date.now(), event);
      throw new Error('the change fails after its event was written');
    }),
    /the change fails/,
  );
  const afterRollback = await scrape(server.url);
  assert.equal(delta(before, afterRollback, 'twofold_deploys_total', { result: 'refused' }), 0, 'a rolled-back event is not counted');
  assert.equal(await db.selectFrom('audit_events').select('id').where('event_type', '=', 'deployment.refused').executeTakeFirst(), undefined);

  await db.transaction().execute(async (trx) => {
    await recordAudit(trx, Date.now(), event);
    await recordAudit(trx, Date.now(), event);
  });
  await recordAudit(db, Date.now(), event); // outside a transaction: committed when it returns
  const afterCommit = await scrape(server.url);
  assert.equal(delta(before, afterCommit, 'twofold_deploys_total', { result: 'refused' }), 3);
});

test('codes sent by channel and provider, with the time the provider took; a failed send by provider', async (t) => {
  const world = await deliveryWorld(t);
  let failNext = false;
  const twilio = await withTwilio(t, (_request, response) => {
    if (failNext) {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 21211, message: 'Invalid To number' }));
      return;
    }
    response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued' }));
  });
  await bindChannel(world, 'sms', twilioConfig(twilio));
  const before = await scrape(world.server.url);
  const member = await memberWithPhone(world, twilio, { country: 'US', number: '(415) 555-2671', e164: '+14155552671' });
  const { browser, challenge } = await passwordStepIn(world, member.email);
  const sent = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  assert.equal(sent.status, 200, sent.text);
  failNext = true;
  world.clock.advance(60_000);
  const refused = await browser.post('/api/v1/auth/second-factor/send', { challenge, method: 'sms' });
  const after = await scrape(world.server.url);

  assert.ok(refused.status >= 400, refused.text);
  // The enrolment's code and the sign-in's; the refused one is timed too.
  assert.equal(delta(before, after, 'twofold_codes_sent_total', { channel: 'sms', provider: 'twilio' }), 2);
  assert.equal(delta(before, after, 'twofold_code_delivery_seconds_count', { channel: 'sms', provider: 'twilio' }), 3);
  assert.equal(delta(before, after, 'twofold_codes_send_failed_total', { channel: 'sms', provider: 'twilio', transient: 'false' }), 1, after.split('\n').filter((l) => l.startsWith('twofold_codes_send_failed')).join('\n'));
});

test('the connection pool is visible on PostgreSQL; /metrics stays out of the API reference', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const text = await scrape(server.url);
  if (currentBackend() === 'postgres') {
    assert.equal(sample(text, 'twofold_database_pool_connections', { state: 'max' }), 10);
    assert.ok(sample(text, 'twofold_database_pool_connections', { state: 'total' }) >= 1);
  } else {
    assert.doesNotMatch(text, /twofold_database_pool_connections\{/, 'SQLite has no pool to report');
  }
  const openapi = (await (await fetch(`${server.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
  assert.equal(openapi.paths['/metrics'], undefined);
});

test('TWOFOLD_METRICS_TOKEN: /metrics answers 401 metrics_token_invalid without the bearer token, 200 with it', async (t) => {
  assert.throws(() => loadConfig({ TWOFOLD_METRICS_TOKEN: 'too-short' }), ConfigError);
  const token = 'metrics-token-0123456789abcdef';
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const server = await startServerProcess(location, { env: { TWOFOLD_METRICS_TOKEN: token } });
  t.after(() => killServerProcess(server));

  for (const authorization of [undefined, 'Bearer wrong-token-0123456789abcdef', `Basic ${token}`, `Bearer ${token}x`]) {
    const res = await fetch(`${server.url}/metrics`, { headers: authorization ? { authorization } : {} });
    assert.equal(res.status, 401, String(authorization));
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'metrics_token_invalid');
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="metrics"');
  }
  const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^# HELP twofold_sign_ins_total /m);
  // The probes stay open: a load balancer has no token.
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
});
