import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTwofoldError } from '../../src/core/errors.js';
import type { RequestMeta } from '../../src/services/index.js';
import type { TestServer } from '../helpers/server.js';
import { startTwoNodes as twoNodes } from '../helpers/server.js';
import { PASSWORD, auditTypes, enrolledMember, freshCode } from '../helpers/authenticator.js';

/**
 * Two nodes (two runtimes, two connection pools) over one database: the once-only rules must
 * hold in the database, not in a process. Half the attempts go to each node.
 */
const PARALLEL = 50;
const meta: RequestMeta = { ip: '192.0.2.10', userAgent: 'node-test' };

async function challengesFor(nodes: readonly TestServer[], email: string): Promise<string[]> {
  // One after another: the per-account password limit reserves a slot per attempt in flight.
  const challenges: string[] = [];
  for (let i = 0; i < PARALLEL; i++) {
    const result = await nodes[i % 2]!.services.signIn.withPassword({ email, password: PASSWORD }, meta);
    assert.equal(result.status, 'second_factor_required');
    challenges.push(result.status === 'second_factor_required' ? result.challenge : '');
  }
  return challenges;
}

/** Settles every attempt; returns how many signed in, after checking each refusal is a clean 401/429. */
function countWins(settled: PromiseSettledResult<unknown>[]): number {
  let wins = 0;
  for (const s of settled) {
    if (s.status === 'fulfilled') {
      wins++;
      continue;
    }
    const error: unknown = s.reason;
    assert.ok(isTwofoldError(error), `unexpected failure: ${String(error)}`);
    assert.ok(error.kind === 'unauthenticated' || error.kind === 'rate_limited', `${error.kind}/${error.code}`);
  }
  return wins;
}

test('one TOTP code sent to two nodes fifty times in parallel signs in exactly once', async (t) => {
  const { clock, nodes } = await twoNodes(t);
  const member = await enrolledMember(nodes[0], clock);
  const challenges = await challengesFor(nodes, member.email);
  const code = freshCode(member.secret, clock);

  const settled = await Promise.allSettled(
    challenges.map((challenge, i) => nodes[i % 2]!.services.signIn.withSecondFactor({ challenge, method: 'totp', code }, meta)),
  );
  assert.equal(countWins(settled), 1);
  assert.equal((await auditTypes(nodes[1], member.user.id)).filter((e) => e === 'second_factor.succeeded').length, 1);
});

test('one backup code sent to two nodes fifty times in parallel is spent exactly once', async (t) => {
  const { clock, nodes } = await twoNodes(t);
  const member = await enrolledMember(nodes[0], clock);
  const challenges = await challengesFor(nodes, member.email);
  const code = member.backupCodes[3]!;

  const settled = await Promise.allSettled(
    challenges.map((challenge, i) => nodes[i % 2]!.services.signIn.withSecondFactor({ challenge, method: 'backup_code', code }, meta)),
  );
  assert.equal(countWins(settled), 1);
  const status = await nodes[1].services.backupCodes.status(member.user.id);
  assert.deepEqual(status, { remaining: 9, total: 10, low: false });
  assert.equal((await auditTypes(nodes[0], member.user.id)).filter((e) => e === 'backup_code.used').length, 1);
});
