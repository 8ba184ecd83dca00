import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTwofoldError } from '../../src/core/errors.js';
import type { RequestMeta } from '../../src/services/index.js';
import { startTwoNodes } from '../helpers/server.js';
import { PASSWORD, enrolledMember, userRow, wrongCodes } from '../helpers/authenticator.js';

const PARALLEL = 20;

test(`${PARALLEL} wrong codes spread over two nodes in parallel: at most 5 are judged`, async (t) => {
  const { clock, nodes } = await startTwoNodes(t);
  const [first, second] = nodes;
  const member = await enrolledMember(first, clock);
  // Each attempt from its own address, so only the per-account lock can stop them.
  const metaFor = (i: number): RequestMeta => ({ ip: `198.51.100.${i + 1}`, userAgent: 'node-test' });

  // Password steps one after another: the per-account limit reserves a slot per attempt in flight.
  const challenges: string[] = [];
  for (let i = 0; i < PARALLEL; i++) {
    const r = await nodes[i % 2]!.services.signIn.withPassword({ email: member.email, password: PASSWORD }, metaFor(i));
    assert.equal(r.status, 'second_factor_required');
    challenges.push(r.status === 'second_factor_required' ? r.challenge : '');
  }
  const codes = wrongCodes(member.secret, clock.now(), PARALLEL);
  const settled = await Promise.allSettled(
    challenges.map((challenge, i) => nodes[i % 2]!.services.signIn.withSecondFactor({ challenge, method: 'totp', code: codes[i]! }, metaFor(i))),
  );

  let judged = 0;
  for (const s of settled) {
    assert.equal(s.status, 'rejected');
    const error: unknown = s.status === 'rejected' ? s.reason : null;
    assert.ok(isTwofoldError(error), String(error));
    if (error.code === 'code_invalid') judged++;
    else assert.equal(error.code, 'second_factor_locked');
  }
  assert.ok(judged >= 1 && judged <= 5, `judged ${judged}`);
  assert.equal((await userRow(second, member.user.id)).second_factor_failures, judged);
});
