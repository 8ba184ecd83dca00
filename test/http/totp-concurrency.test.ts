import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpStepAt } from '../../src/core/totp.js';
import { TestClient } from '../helpers/client.js';
import { auditTypes, dbOf, freshCode, passwordStep, tally, userRow, serverWithEnrolledMember } from '../helpers/authenticator.js';

const PARALLEL = 50;

test(`${PARALLEL} parallel second steps with one valid code: exactly one signs in`, async (t) => {
  const { clock, server, member } = await serverWithEnrolledMember(t);

  // Fifty separate sign-ins, each with its own challenge (successful password steps are not limited).
  const clients = Array.from({ length: PARALLEL }, () => new TestClient(server.url));
  // Password steps one after another: the per-account password limit reserves a slot for each
  // attempt in flight, so 50 at once would (rightly) be refused past 10.
  const challenges: string[] = [];
  for (const c of clients) challenges.push(await passwordStep(c, member.email));
  assert.equal(new Set(challenges).size, PARALLEL);
  const sessionsBefore = (await dbOf(server).selectFrom('sessions').select('id').where('user_id', '=', member.user.id).execute()).length;

  const code = freshCode(member.secret, clock);
  const results = await Promise.all(
    clients.map((c, i) => c.post('/api/v1/auth/second-factor', { challenge: challenges[i], method: 'totp', code })),
  );
  const statuses = results.map((r) => r.status);
  const counts = tally(statuses);
  assert.equal(counts[200], 1, JSON.stringify(counts));
  for (const r of results) {
    if (r.status === 200) continue;
    assert.ok(r.status === 401 || r.status === 429, `${r.status} ${r.text}`);
    assert.ok(['code_invalid', 'second_factor_locked', 'too_many_attempts'].includes(r.json?.error?.code ?? ''), r.text);
  }
  assert.equal(clients.filter((c) => c.cookies.has('twofold_session')).length, 1);
  // The losers carried the right code: replays, not guesses, so the owner is not locked out.
  const after = await userRow(server, member.user.id);
  assert.equal(Number(after.second_factor_failures), 0);
  assert.equal(after.second_factor_locked_until, null);

  const sessionsAfter = (await dbOf(server).selectFrom('sessions').select('id').where('user_id', '=', member.user.id).execute()).length;
  assert.equal(sessionsAfter - sessionsBefore, 1);
  assert.equal((await auditTypes(server, member.user.id)).filter((e) => e === 'sign_in.succeeded').length, 2, 'enrolment sign-in plus one');
  assert.equal(Number((await userRow(server, member.user.id)).totp_last_step), totpStepAt(clock.now()));
});
