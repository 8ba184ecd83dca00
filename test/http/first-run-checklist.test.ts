import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, signedInClient } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import { startTestServer } from '../helpers/server.js';
import { totpCodeAt } from '../../src/core/totp.js';

const SYSTEM = { userId: null, meta: null };
const items = (html: string) => [...html.matchAll(/<li data-done="(yes|no)">([\s\S]*?)<\/li>/g)].map((m) => `${m[1]}: ${m[2]!.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ').trim()}`);

test('the first admin sees what to do next on the account page; each step is ticked as it is done, and members never see the list (issue 15)', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const org = await server.services.accounts.createOrganisation('First Co', null, SYSTEM);
  await server.services.accounts.createUser({ orgId: org.id, email: 'first@first.test', password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const admin = await signedInClient(server, 'first@first.test');

  const before = await admin.get('/account');
  assert.equal(before.status, 200);
  assert.deepEqual(items(before.text), [
    'no: Turn on two-step verification for yourself',
    'no: Add the people who will sign in here',
    'no: Set up email, so codes and notices can be sent',
    'no: Require two-step verification for everyone',
  ]);

  const started = await admin.post('/api/v1/factors/totp', { label: 'Phone' });
  assert.equal((await admin.post(`/api/v1/factors/totp/${started.json?.id as string}/confirm`, { code: totpCodeAt(started.json?.secret as string, clock.now()) })).status, 200);
  await server.services.accounts.createUser({ orgId: org.id, email: 'member@first.test', password: PASSWORD }, SYSTEM);
  const after = await admin.get('/account');
  assert.deepEqual(items(after.text).slice(0, 2), ['yes: Done Turn on two-step verification for yourself', 'yes: Done Add the people who will sign in here']);

  const member = await signedInClient(server, 'member@first.test');
  assert.doesNotMatch((await member.get('/account')).text, /Getting started/);
});
