import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import { auditTypes, passwordStep, tally, userRow, wrongCodes, serverWithEnrolledMember } from '../helpers/authenticator.js';

const PARALLEL = 20;

test(`${PARALLEL} parallel wrong codes cannot exceed the 5 free attempts`, async (t) => {
  const { clock, server, member } = await serverWithEnrolledMember(t);

  const clients = Array.from({ length: PARALLEL }, () => new TestClient(server.url));
  // Password steps one after another: the per-account password limit reserves a slot for each
  // attempt in flight, so 50 at once would (rightly) be refused past 10.
  const challenges: string[] = [];
  for (const c of clients) challenges.push(await passwordStep(c, member.email));
  // Different wrong codes, as a guessing attacker would send.
  const codes = wrongCodes(member.secret, clock.now(), PARALLEL);
  const results = await Promise.all(clients.map((c, i) => c.post('/api/v1/auth/second-factor', { challenge: challenges[i], method: 'totp', code: codes[i] })));

  const counts = tally(results.map((r) => r.status));
  assert.equal((counts[401] ?? 0) + (counts[429] ?? 0), PARALLEL, JSON.stringify(counts));
  assert.ok((counts[401] ?? 0) <= 5, `at most 5 judged: ${JSON.stringify(counts)}`);
  assert.ok((counts[401] ?? 0) >= 1);
  for (const r of results) {
    assert.equal(r.json?.error?.code, r.status === 401 ? 'code_invalid' : 'second_factor_locked', r.text);
  }
  const row = await userRow(server, member.user.id);
  assert.equal(row.second_factor_failures, counts[401]);
  assert.ok(row.second_factor_locked_until !== null || (counts[401] ?? 0) < 5);
  const types = await auditTypes(server, member.user.id);
  assert.equal(types.filter((e) => e === 'second_factor.failed').length, counts[401]);
});
