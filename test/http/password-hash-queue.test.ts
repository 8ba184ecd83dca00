/**
 * Password hashes run at most one per core and wait in a bounded line (services/passwords.ts):
 * past the line a sign-in is answered 503 server_busy at once, and since its password was never
 * looked at it is not an attempt: its rate-limit slots go back.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setPasswordHashLimits } from '../../src/services/passwords.js';
import { PASSWORD, tally } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { auditEvents } from '../helpers/delivery.js';
import { startTestServer } from '../helpers/server.js';

const SYSTEM = { userId: null, meta: null };
const PER_ACCOUNT = 10;

test('a full hash line answers 503 server_busy at once, and the refused sign-ins do not count against the account', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const org = await server.services.accounts.createOrganisation('Queue', null, SYSTEM);
  const email = 'queued@example.com';
  const user = await server.services.accounts.createUser({ orgId: org.id, email, password: PASSWORD }, SYSTEM);

  // One hash at a time and nobody waiting: all but the first of a burst find the line full.
  const restore = setPasswordHashLimits(1, 0);
  let burst;
  try {
    burst = await Promise.all(Array.from({ length: 8 }, (_, i) => new TestClient(server.url).post('/api/v1/auth/sign-in', { email, password: `wrong password ${i}` })));
  } finally {
    restore();
  }
  const counts = tally(burst.map((r) => r.status));
  assert.equal((counts[401] ?? 0) + (counts[503] ?? 0), burst.length, JSON.stringify(counts));
  assert.ok((counts[503] ?? 0) >= 1, `no request found the line full: ${JSON.stringify(counts)}`);
  for (const res of burst.filter((r) => r.status === 503)) {
    assert.equal((res.json as { error: { code: string } }).error.code, 'server_busy');
    assert.equal(res.headers.get('retry-after'), '1');
  }
  const judged = counts[401] ?? 0;
  assert.equal((await auditEvents(server, 'sign_in.failed', { subjectUserId: user.id })).length, judged);

  // Only the judged attempts used the account's slots: exactly the rest of the limit is left.
  const client = new TestClient(server.url);
  let left = 0;
  for (;;) {
    const res = await client.post('/api/v1/auth/sign-in', { email, password: 'still wrong 123' });
    if (res.status === 429) break;
    assert.equal(res.status, 401, res.text);
    left++;
    assert.ok(left <= PER_ACCOUNT, 'the account limit never closed');
  }
  assert.equal(left, PER_ACCOUNT - judged, `judged ${judged} in the burst, ${left} left afterwards`);
});
