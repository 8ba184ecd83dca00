import { test } from 'node:test';
import assert from 'node:assert/strict';
import { totpCodeAt } from '../../src/core/totp.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { startTestServer } from '../helpers/server.js';
import { STEP_MS, enrolledMember, passwordStep } from '../helpers/authenticator.js';

/**
 * Clock drift: the code of the previous or next 30-second step is accepted, two steps away
 * is not. Each edge gets its own server and member, because a member's codes must move
 * forward in time: after step+1 is used, step-1 would be a replay, not drift.
 */
async function driftSetup(t: { after(fn: () => Promise<void>): void }) {
  // Start mid-step so "one step earlier/later" is unambiguous.
  const clock = new TestClock(Math.floor(Date.now() / STEP_MS) * STEP_MS + 15_000);
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const member = await enrolledMember(server, clock);
  clock.advance(5 * STEP_MS); // well past the step claimed at enrolment
  /** A fresh sign-in whose second step uses the code of now + offset steps. */
  const attempt = async (offsetSteps: number) => {
    const client = new TestClient(server.url);
    const challenge = await passwordStep(client, member.email);
    return client.post('/api/v1/auth/second-factor', { challenge, method: 'totp', code: totpCodeAt(member.secret, clock.now() + offsetSteps * STEP_MS) });
  };
  return { attempt };
}

for (const offset of [-1, +1]) {
  test(`the code of step ${offset > 0 ? '+' : ''}${offset} is accepted`, async (t) => {
    const { attempt } = await driftSetup(t);
    const res = await attempt(offset);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json?.status, 'signed_in');
  });
}

for (const offset of [-2, +2]) {
  test(`the code of step ${offset > 0 ? '+' : ''}${offset} is refused`, async (t) => {
    const { attempt } = await driftSetup(t);
    const res = await attempt(offset);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json?.error?.code, 'code_invalid');
    // The refusal claimed nothing: the current code still works.
    const now = await attempt(0);
    assert.equal(now.status, 200, now.text);
  });
}

test('after step +1 was used, the current step and step -1 are replays', async (t) => {
  const { attempt } = await driftSetup(t);
  assert.equal((await attempt(+1)).status, 200);
  for (const offset of [0, -1]) {
    const res = await attempt(offset);
    assert.equal(res.status, 401, res.text);
    assert.equal(res.json?.error?.code, 'code_invalid') // a replay reads like a wrong code;
  }
});
