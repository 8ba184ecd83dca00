import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClient } from '../helpers/client.js';
import { startTestServer } from '../helpers/server.js';

const SYSTEM = { userId: null, meta: null };
const SAMPLES = 11;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

test('an unknown email costs about as much time as a wrong password (argon2 runs either way)', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const org = await server.services.accounts.createOrganisation('Timing', null, SYSTEM);
  const emails: string[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const email = `known-${i}@example.com`;
    await server.services.accounts.createUser({ orgId: org.id, email, password: 'correct horse battery staple 42' }, SYSTEM);
    emails.push(email);
  }
  const client = new TestClient(server.url);
  const time = async (email: string) => {
    const start = performance.now();
    const res = await client.post('/api/v1/auth/sign-in', { email, password: 'a wrong password 123' });
    assert.equal(res.status, 401);
    return performance.now() - start;
  };
  await time('warm-up@example.com');
  const known: number[] = [];
  const unknown: number[] = [];
  // Interleaved so that load on the machine affects both series alike.
  for (let i = 0; i < SAMPLES; i++) {
    known.push(await time(emails[i]!));
    unknown.push(await time(`nobody-${i}@example.com`));
  }
  const ratio = median(unknown) / median(known);
  assert.ok(ratio > 0.5 && ratio < 2, `unknown ${median(unknown).toFixed(1)} ms vs wrong password ${median(known).toFixed(1)} ms`);
  // Without the dummy hash an unknown email would answer in well under a millisecond of work.
  assert.ok(median(unknown) > 5, `unknown email answered in ${median(unknown).toFixed(1)} ms: no argon2 work was done`);
});
