import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TestClient } from '../helpers/client.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { startTestServer } from '../helpers/server.js';

const PASSWORD = 'correct horse battery staple 42';
const NEW_PASSWORD = 'a brand new passphrase for 2027';
const SYSTEM = { userId: null, meta: null };

test('the account page changes the password: wrong or weak input changes nothing, success ends other sessions', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const org = await server.services.accounts.createOrganisation('Acme', null, SYSTEM);
  const user = await server.services.accounts.createUser({ orgId: org.id, email: 'pat@example.com', password: PASSWORD }, SYSTEM);
  const here = new TestClient(server.url);
  const elsewhere = new TestClient(server.url);
  for (const c of [here, elsewhere]) assert.equal((await c.post('/api/v1/auth/sign-in', { email: 'pat@example.com', password: PASSWORD })).status, 200);
  const { _csrf } = await hiddenFields(here, '/account');
  assert.ok(_csrf);

  const wrong = await postForm(here, '/account/password', { _csrf, currentPassword: 'not my password', newPassword: NEW_PASSWORD });
  assert.equal(wrong.status, 400);
  assert.match(wrong.text, /current password is not correct/);
  const weak = await postForm(here, '/account/password', { _csrf, currentPassword: PASSWORD, newPassword: 'password1' });
  assert.equal(weak.status, 400);
  assert.match(weak.text, /too easy to guess/);
  assert.equal((await elsewhere.get('/api/v1/session')).status, 200, 'refusals end no session');

  const forged = await postForm(here, '/account/password', { _csrf: 'x'.repeat(43), currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
  assert.equal(forged.status, 403);

  const ok = await postForm(here, '/account/password', { _csrf, currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
  assert.equal(ok.status, 200, ok.text);
  assert.match(ok.text, /Your password was changed/);
  assert.equal((await here.get('/api/v1/session')).status, 200, 'this session stays');
  assert.equal((await elsewhere.get('/api/v1/session')).status, 401, 'other sessions end');

  const fresh = new TestClient(server.url);
  assert.equal((await fresh.post('/api/v1/auth/sign-in', { email: 'pat@example.com', password: PASSWORD })).status, 401);
  assert.equal((await fresh.post('/api/v1/auth/sign-in', { email: 'pat@example.com', password: NEW_PASSWORD })).status, 200);

  const events = await server.runtime.database.db.selectFrom('audit_events').select('event_type').where('subject_user_id', '=', user.id).where('event_type', '=', 'password.changed').execute();
  assert.equal(events.length, 1, 'exactly one change recorded');
});
