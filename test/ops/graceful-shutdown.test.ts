/**
 * SIGTERM during a burst: the server stops accepting, answers every request it already had,
 * closes the database and exits 0; a request that never finishes is cut off at
 * TWOFOLD_SHUTDOWN_TIMEOUT_MS and the exit code says so.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';
import { killServerProcess, startServerProcess } from '../helpers/server-process.js';

const BURST = 30;

/** A request on a connection of its own (no pooled keep-alive socket), resolving to its status or the error. */
function freshConnectionGet(port: number, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}


async function waitFor(poll: () => Promise<void>, condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (await poll(); !condition(); await poll()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('SIGTERM mid-burst: every request already received gets its full answer, then the process exits 0', async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const server = await startServerProcess(location);
  t.after(() => killServerProcess(server));
  // Each sign-in reserves its rate-limit slot before the password work: the per-IP counter says
  // how many requests of the burst the server has received and is working on.
  const database = await openTestDatabase(location);
  t.after(() => database.close());
  let received = 0;
  const countReceived = async () => {
    const row = await database.db.selectFrom('rate_limits').select('count').where('key', '=', 'signin:ip:127.0.0.1').executeTakeFirst();
    received = row?.count ?? 0;
  };

  // Each sign-in runs argon2 (an unknown email costs the same work), so the burst takes a while.
  let answered = 0;
  const burst = Array.from({ length: BURST }, (_, i) =>
    fetch(`${server.url}/api/v1/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: `nobody-${i}@example.com`, password: 'not the password at all' }),
    }).then(
      async (res) => {
        answered++;
        return { status: res.status, body: (await res.json()) as { error?: { code: string } } };
      },
      (error: Error) => ({ status: 0, body: { error: { code: `network: ${String(error.cause ?? error.message)}` } } }),
    ),
  );
  // Signal once the server has received every request of the burst, and before it has answered them all.
  await waitFor(countReceived, () => received >= BURST, 20_000, 'the burst to arrive');
  const answeredAtSignal = answered;
  server.child.kill('SIGTERM');
  const results = await Promise.all(burst);
  const exit = await server.exited;

  assert.ok(answeredAtSignal < BURST, `the signal came after the burst was answered (${answeredAtSignal}/${BURST}); the test proved nothing`);
  assert.deepEqual(
    results.map((r) => `${r.status} ${r.body.error?.code}`),
    Array.from({ length: BURST }, () => '401 invalid_credentials'),
  );
  assert.deepEqual(exit, { code: 0, signal: null }, server.output());
  assert.match(server.output(), /"msg":"shutting down/);
  assert.match(server.output(), /"clean":true,"msg":"stopped"/);
  // Gone: nothing listens on the port any more.
  assert.equal(await freshConnectionGet(server.port, '/healthz'), 'ECONNREFUSED');
});

test('a request that never finishes is cut off at TWOFOLD_SHUTDOWN_TIMEOUT_MS; new connections are refused while draining; exit 1', async (t) => {
  const location = await freshDatabaseLocation();
  t.after(() => location.dispose());
  const server = await startServerProcess(location, { env: { TWOFOLD_SHUTDOWN_TIMEOUT_MS: '1500' } });
  t.after(() => killServerProcess(server));

  // Headers sent, body promised but never sent: the server holds this request open.
  const stuck = connect(server.port, '127.0.0.1');
  await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
  stuck.on('error', () => {});
  stuck.write('POST /api/v1/auth/sign-in HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":');
  // Its bytes went out before this second connection was opened: once this is answered, the
  // server has read the stuck request's headers too (and is waiting for its body).
  assert.equal(await freshConnectionGet(server.port, '/healthz'), 200);

  const signalledAt = Date.now();
  server.child.kill('SIGTERM');
  await waitFor(async () => {}, () => /shutting down/.test(server.output()), 5_000, 'the shutdown to start');
  // Refused, or (when it raced the listener's close) accepted and closed unanswered: never served.
  assert.match(String(await freshConnectionGet(server.port, '/healthz')), /^(ECONNREFUSED|ECONNRESET)$/, 'a new connection while draining');
  assert.equal(server.child.exitCode, null, 'still draining: the stuck request has time until the deadline');

  const exit = await server.exited;
  const tookMs = Date.now() - signalledAt;
  assert.deepEqual(exit, { code: 1, signal: null }, server.output());
  assert.ok(tookMs >= 1_400 && tookMs < 6_000, `exited ${tookMs} ms after SIGTERM (deadline 1500 ms)`);
  assert.match(server.output(), /shutdown deadline passed/);
  assert.match(server.output(), /"clean":false,"msg":"stopped"/);
});
