import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD, auditTypes } from '../helpers/authenticator.js';
import { TestClock } from '../helpers/clock.js';
import { hiddenFields, postForm } from '../helpers/forms.js';
import { SYSTEM } from '../helpers/policy.js';
import { GEO_ENV, IP, UA, browserAt, sameBrowserOn, signIn } from '../helpers/security.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

/** Two nodes over one database (on PostgreSQL when TWOFOLD_TEST_DATABASE_URL is set), both placing addresses with the fixture. */
async function twoNodes(t: { after(fn: () => Promise<void>): void }) {
  const clock = new TestClock();
  const started: TestServer[] = [];
  t.after(async () => {
    for (const server of started.reverse()) await server.close();
  });
  const first = await startTestServer({ clock, env: GEO_ENV });
  started.push(first);
  const second = await startTestServer({ clock, env: GEO_ENV, location: first.location });
  started.push(second);
  const org = await first.services.accounts.createOrganisation('Org', null, SYSTEM);
  const member = await first.services.accounts.createUser({ orgId: org.id, email: `ada-${Date.now()}@example.com`, password: PASSWORD }, SYSTEM);
  return { clock, first, second, member, orgId: org.id };
}

interface SessionJson {
  id: string;
  current: boolean;
  ip: string;
  device: { type: string | null; browser: string | null; os: string | null; label: string };
  location: { city: string | null; region: string | null; country: string; label: string } | null;
  createdAt: string;
  lastSeenAt: string;
}

test('sessions: listed with device, browser, OS, IP and location on any node; one ended on one node is refused on the other', async (t) => {
  const { clock, first, second, member } = await twoNodes(t);
  const laptop = browserAt(first.url, UA.chromeMac, IP.sanFrancisco);
  const phone = browserAt(second.url, UA.iphone, IP.london);
  assert.equal((await signIn(laptop, member.email)).status, 200);
  clock.advance(5_000);
  assert.equal((await signIn(phone, member.email)).status, 200);

  // Listed by the other node than the one the laptop signed in on.
  const listed = await phone.get('/api/v1/sessions');
  assert.equal(listed.status, 200, listed.text);
  const sessions = listed.json?.sessions as SessionJson[];
  assert.equal(sessions.length, 2);
  const mine = sessions.find((s) => s.current);
  const other = sessions.find((s) => !s.current);
  assert.ok(mine && other);
  assert.deepEqual(mine.device, { type: 'mobile', browser: 'Safari', os: 'iOS', label: 'Safari on iOS' });
  assert.equal(mine.ip, IP.london);
  assert.deepEqual(mine.location, { city: 'London', region: 'England', country: 'GB', label: 'London, England, United Kingdom' });
  assert.deepEqual(other.device, { type: 'desktop', browser: 'Chrome', os: 'macOS', label: 'Chrome on macOS' });
  assert.equal(other.ip, IP.sanFrancisco);
  assert.equal(other.location?.label, 'San Francisco, California, United States');
  assert.ok(Date.parse(other.createdAt) < Date.parse(mine.createdAt), 'sign-in times are the real ones');

  // The laptop ends the phone's session on the first node...
  const ended = await laptop.delete(`/api/v1/sessions/${mine.id}`);
  assert.equal(ended.status, 204, ended.text);
  // ...and the phone's next request, on the second node, is refused.
  const refused = await phone.get('/api/v1/session');
  assert.equal(refused.status, 401, refused.text);
  assert.equal(refused.json?.error?.code, 'not_signed_in');
  assert.equal((await phone.get('/api/v1/sessions')).status, 401);
  // The laptop, on either node, goes on.
  assert.equal((await sameBrowserOn(laptop, second.url, UA.chromeMac, IP.sanFrancisco).get('/api/v1/session')).status, 200);
  const left = (await laptop.get('/api/v1/sessions')).json?.sessions as SessionJson[];
  assert.deepEqual(left.map((s) => s.current), [true]);

  // Ending it again, or a session that is not there, is a 404 and changes nothing.
  assert.equal((await laptop.delete(`/api/v1/sessions/${mine.id}`)).status, 404);
  assert.ok((await auditTypes(first, member.id)).includes('session.revoked'));
});

test('sessions: "sign out all others" on one node ends every other session on every node, and only the user’s own', async (t) => {
  const { first, second, member, orgId } = await twoNodes(t);
  const laptop = browserAt(first.url, UA.chromeMac, IP.sanFrancisco);
  const phone = browserAt(second.url, UA.iphone, IP.london);
  const desktop = browserAt(first.url, UA.edgeWindows, IP.newYork);
  for (const b of [laptop, phone, desktop]) assert.equal((await signIn(b, member.email)).status, 200);

  // Someone else's session is not the member's to end, and not in the member's list.
  const stranger = await first.services.accounts.createUser({ orgId, email: `bob-${Date.now()}@example.com`, password: PASSWORD }, SYSTEM);
  const bob = browserAt(second.url, UA.firefoxLinux, IP.berlin);
  assert.equal((await signIn(bob, stranger.email)).status, 200);
  const bobSession = ((await bob.get('/api/v1/sessions')).json?.sessions as SessionJson[])[0]!;
  assert.equal(bobSession.location?.label, 'Berlin, Germany');
  const notYours = await laptop.delete(`/api/v1/sessions/${bobSession.id}`);
  assert.equal(notYours.status, 404);
  assert.equal(notYours.json?.error?.code, 'session_not_found');
  assert.equal(((await laptop.get('/api/v1/sessions')).json?.sessions as SessionJson[]).length, 3);

  const laptopOnSecond = sameBrowserOn(laptop, second.url, UA.chromeMac, IP.sanFrancisco);
  const out = await laptopOnSecond.post('/api/v1/sessions/sign-out-others');
  assert.equal(out.status, 200, out.text);
  assert.equal(out.json?.endedSessions, 2);
  assert.equal((await phone.get('/api/v1/session')).status, 401);
  assert.equal((await desktop.get('/api/v1/session')).status, 401);
  assert.equal((await laptop.get('/api/v1/session')).status, 200);
  assert.equal((await bob.get('/api/v1/session')).status, 200, 'another user is untouched');
  assert.ok((await auditTypes(first, member.id)).includes('sessions.others_revoked'));
});

test('sessions page: lists sessions in the user’s zone and its form ends another session, refused on the other node next time', async (t) => {
  const { first, second, member } = await twoNodes(t);
  await first.services.securityCentre.setTimeZone(member, 'Asia/Kolkata', { ip: '127.0.0.1', userAgent: 'test' });
  const laptop = browserAt(first.url, UA.chromeMac, IP.sanFrancisco);
  const phone = browserAt(second.url, UA.iphone, IP.london);
  assert.equal((await signIn(laptop, member.email)).status, 200);
  assert.equal((await signIn(phone, member.email)).status, 200);

  const page = await laptop.get('/account/security/sessions');
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Chrome on macOS <span class="badge ok">This session<\/span>/);
  assert.match(page.text, /Safari on iOS/);
  assert.match(page.text, /Mobile · <span data-ip="true">203\.0\.113\.5<\/span> · <span data-location="true">London, England, United Kingdom<\/span>/);
  assert.match(page.text, /<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">\d{4}-\d\d-\d\d \d\d:\d\d \(GMT\+5:30\)<\/time>/);

  const phoneId = /<li data-session-id="([^"]+)">/.exec(page.text)?.[1];
  assert.ok(phoneId, 'the other session has a sign-out form');
  const fields = await hiddenFields(laptop, '/account/security/sessions');
  const posted = await postForm(laptop, `/account/security/sessions/${phoneId}/revoke`, fields);
  assert.equal(posted.status, 200, posted.text);
  assert.match(posted.text, /That session is signed out/);
  assert.doesNotMatch(posted.text, /Safari on iOS/);
  assert.equal((await phone.get('/account/security/sessions')).status, 303, 'the phone is sent to sign in');
  assert.equal((await phone.get('/api/v1/session')).status, 401);
});
