import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestClient } from '../helpers/client.js';
import { auditTypes, passwordStep, tally, serverWithEnrolledMember } from '../helpers/authenticator.js';

const PARALLEL = 50;

test(`${PARALLEL} parallel sign-ins with one backup code: exactly one succeeds`, async (t) => {
  const { server, member } = await serverWithEnrolledMember(t);

  const clients = Array.from({ length: PARALLEL }, () => new TestClient(server.url));
  // Password steps one after another: the per-account password limit reserves a slot for each
  // attempt in flight, so 50 at once would (rightly) be refused past 10.
  const challenges: string[] = [];
  for (const c of clients) challenges.push(await passwordStep(c, member.email));
  const code = member.backupCodes[5]!;
  const results = await Promise.all(
    clients.map((c, i) => c.post('/api/v1/auth/second-factor', { challenge: challenges[i], method: 'backup_code', code })),
  );
  const counts = tally(results.map((r) => r.status));
  assert.equal(counts[200], 1, JSON.stringify(counts));
  for (const r of results) {
    if (r.status !== 200) assert.ok(r.status === 401 || r.status === 429, `${r.status} ${r.text}`);
  }
  assert.deepEqual((await member.client.get('/api/v1/backup-codes')).json, { remaining: 9, total: 10, low: false });
  assert.equal((await auditTypes(server, member.user.id)).filter((e) => e === 'backup_code.used').length, 1);
});
