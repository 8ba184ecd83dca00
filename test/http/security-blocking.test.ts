import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatInTimeZone } from '../../src/core/time-zone.js';
import { PASSWORD } from '../helpers/authenticator.js';
import type { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { SYSTEM, auditEvents, bindChannel, deliveryWorld, reauthenticate, smtpConfig, withSmtp } from '../helpers/delivery.js';
import { GEO_ENV, IP, UA, browserAt, mailsTo, signIn } from '../helpers/security.js';
import { hiddenFields, postForm } from '../helpers/forms.js';

/** An organisation whose email goes through a real SMTP server, and a member in Asia/Kolkata who signed in from a laptop in San Francisco. */
async function world(t: { after(fn: () => Promise<void>): void }) {
  const smtp = await withSmtp(t);
  const w = await deliveryWorld(t, { clock: new TestClock(), env: GEO_ENV });
  await bindChannel(w, 'email', smtpConfig(smtp));
  const email = `ada-${Date.now()}@example.com`;
  const member = await w.server.services.accounts.createUser({ orgId: w.orgId, email, password: PASSWORD, timeZone: 'Asia/Kolkata' }, SYSTEM);
  const at = (userAgent: string, ip: string) => browserAt(w.server.url, userAgent, ip);
  const laptop = at(UA.chromeMac, IP.sanFrancisco);
  assert.equal((await signIn(laptop, email)).status, 200);
  const notices = () => mailsTo(smtp, email);
  return { ...w, smtp, email, member, at, laptop, notices };
}

async function deviceIdOf(client: TestClient, label: string): Promise<string> {
  const devices = (await client.get('/api/v1/devices')).json?.devices as Array<{ id: string; label: string }>;
  const device = devices.find((d) => d.label === label);
  assert.ok(device, `a device "${label}" among ${JSON.stringify(devices)}`);
  return device.id;
}

async function locationIdOf(client: TestClient, key: string): Promise<string> {
  const locations = (await client.get('/api/v1/locations')).json?.locations as Array<{ id: string; key: string }>;
  const location = locations.find((l) => l.key === key);
  assert.ok(location, `a location "${key}" among ${JSON.stringify(locations)}`);
  return location.id;
}

test('new-device and new-location notices: not for the first, sent for a new one with time, device, IP, place and a link, and each can be turned off', async (t) => {
  const w = await world(t);
  assert.equal(w.notices().length, 0, 'the first device and place of an account are not news');

  const phone = w.at(UA.iphone, IP.london);
  assert.equal((await signIn(phone, w.email)).status, 200);
  const [notice] = w.notices();
  assert.ok(notice, 'a notice was sent through the SMTP server');
  assert.equal(notice.subject, 'Acme Widgets: New sign-in from a new device and location');
  assert.match(notice.text, new RegExp(`^Time: ${formatInTimeZone(w.clock.now(), 'Asia/Kolkata').replace(/[()+]/g, '\\$&')}$`, 'm'));
  assert.match(notice.text, /\(GMT\+5:30\)/);
  assert.match(notice.text, /^Device: Safari on iOS$/m);
  assert.match(notice.text, /^Location: London, England, United Kingdom$/m);
  assert.match(notice.text, /^IP address: 203\.0\.113\.5$/m);
  assert.ok(notice.text.includes(`${w.server.url}/account/security`), 'links to the security centre');

  // Known device and place: nothing.
  assert.equal((await signIn(phone, w.email)).status, 200);
  assert.equal(w.notices().length, 1);

  // A new device in a known place says only that.
  assert.equal((await signIn(w.at(UA.firefoxLinux, IP.losAngeles), w.email)).status, 200);
  assert.equal(w.notices().length, 2);
  assert.equal(w.notices()[1]?.subject, 'Acme Widgets: New sign-in from a new device');

  // New-device notices off: a new device in a new place tells only the place.
  const off = await w.laptop.request('PUT', '/api/v1/me/notifications', { newDevice: false });
  assert.equal(off.status, 200, off.text);
  assert.deepEqual(off.json, { newDevice: false, newLocation: true, blockedAttempts: true });
  assert.equal((await signIn(w.at(UA.edgeWindows, IP.newYork), w.email)).status, 200);
  assert.equal(w.notices().length, 3);
  assert.equal(w.notices()[2]?.subject, 'Acme Widgets: New sign-in from a new location');
  assert.match(w.notices()[2]?.text ?? '', /^Location: New York/m);

  // Both off: nothing at all.
  assert.equal((await w.laptop.request('PUT', '/api/v1/me/notifications', { newLocation: false })).status, 200);
  assert.equal((await signIn(w.at(UA.chromeMac, IP.berlin), w.email)).status, 200);
  assert.equal(w.notices().length, 3);
  assert.deepEqual((await w.laptop.get('/api/v1/me/notifications')).json, { newDevice: false, newLocation: false, blockedAttempts: true });
  assert.equal((await w.laptop.request('PUT', '/api/v1/me/notifications', {})).status, 400, 'an empty change is refused');
  assert.equal((await w.laptop.request('PUT', '/api/v1/me/notifications', { newDevice: 'no' })).status, 400);
  assert.ok((await auditEvents(w.server, 'notification_settings.changed', { subjectUserId: w.member.id })).length === 2);
});

test('blocking a device: its sessions end, its sign-ins are refused before the password with one neutral answer, audited and always told', async (t) => {
  const w = await world(t);
  const phone = w.at(UA.iphone, IP.london);
  assert.equal((await signIn(phone, w.email)).status, 200);
  const laptopId = await deviceIdOf(w.laptop, 'Chrome on macOS');
  const phoneId = await deviceIdOf(w.laptop, 'Safari on iOS');

  const self = await w.laptop.post(`/api/v1/devices/${laptopId}/block`);
  assert.equal(self.status, 409);
  assert.equal(self.json?.error?.code, 'device_in_use');

  const blocked = await w.laptop.post(`/api/v1/devices/${phoneId}/block`);
  assert.equal(blocked.status, 200, blocked.text);
  assert.equal(blocked.json?.endedSessions, 1);
  assert.equal((blocked.json?.device as { blocked: boolean }).blocked, true);
  assert.equal((await phone.get('/api/v1/session')).status, 401, 'the blocked device is signed out');

  // Notices for new devices switched off: blocked attempts are told regardless.
  assert.equal((await w.laptop.request('PUT', '/api/v1/me/notifications', { newDevice: false, newLocation: false })).status, 200);
  const before = w.notices().length;
  const failedBefore = (await auditEvents(w.server, 'sign_in.failed', { subjectUserId: w.member.id })).length;

  const right = await signIn(phone, w.email);
  const wrong = await signIn(phone, w.email, 'not the password at all 99');
  assert.equal(right.status, 403, right.text);
  assert.equal(right.json?.error?.code, 'sign_in_refused');
  assert.equal(wrong.status, right.status);
  assert.deepEqual(wrong.json, right.json, 'the right and a wrong password get the same answer');
  assert.doesNotMatch(right.json?.error?.message ?? '', /password|blocked/i, 'the answer is neutral: it names neither the password nor the block');
  assert.ok(!right.headers.getSetCookie().some((c) => c.startsWith('twofold_session=')), 'no session is issued');

  // The password was never looked at: no wrong-password record, two refusals on record.
  assert.equal((await auditEvents(w.server, 'sign_in.failed', { subjectUserId: w.member.id })).length, failedBefore);
  const refusals = await auditEvents(w.server, 'sign_in.blocked', { subjectUserId: w.member.id });
  assert.equal(refusals.length, 2);
  assert.equal(refusals[0]?.details.blockedBy, 'device');
  assert.equal(refusals[0]?.details.deviceId, phoneId);
  assert.equal(refusals[0]?.ip, IP.london);
  const blocks = await auditEvents(w.server, 'device.blocked', { subjectUserId: w.member.id });
  assert.equal(blocks.length, 1);
  assert.equal(blocks[0]?.details.endedSessions, 1);

  const told = w.notices().slice(before);
  assert.equal(told.length, 2, 'each attempt is told');
  assert.match(told[1]?.subject ?? '', /blocked device was refused/);
  assert.equal(told[0]?.subject, 'Acme Widgets: A sign-in from a blocked device was refused');
  assert.match(told[0]?.text ?? '', /^Device: Safari on iOS$/m);
  assert.match(told[0]?.text ?? '', /^Location: London, England, United Kingdom$/m);
  assert.match(told[0]?.text ?? '', /^IP address: 203\.0\.113\.5$/m);
  assert.match(told[0]?.text ?? '', /^Time: .*\(GMT\+5:30\)$/m);

  // The sign-in page gives the same neutral answer.
  const { hiddenFields, postForm } = await import('../helpers/forms.js');
  const form = await postForm(phone, '/sign-in', { ...(await hiddenFields(phone, '/sign-in')), email: w.email, password: PASSWORD });
  assert.equal(form.status, 401);
  assert.ok(form.text.includes(right.json?.error?.message ?? '-'), 'the page shows the same sentence');
  assert.equal((await auditEvents(w.server, 'sign_in.blocked', { subjectUserId: w.member.id })).length, 3);

  // The laptop is still fine, and another browser in London is not the blocked device.
  assert.equal((await w.laptop.get('/api/v1/session')).status, 200);
  assert.equal((await signIn(w.at(UA.firefoxLinux, IP.london), w.email)).status, 200);

  // Unblocking needs a fresh confirmation.
  w.clock.advance(w.server.config.reauthMinutes * 60_000 + 1_000);
  const stale = await w.laptop.post(`/api/v1/devices/${phoneId}/unblock`);
  assert.equal(stale.status, 403);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  await reauthenticate(w.laptop);
  const unblocked = await w.laptop.post(`/api/v1/devices/${phoneId}/unblock`);
  assert.equal(unblocked.status, 200, unblocked.text);
  assert.equal((unblocked.json?.device as { blocked: boolean }).blocked, false);
  assert.equal((await signIn(phone, w.email)).status, 200, 'the device may sign in again');
  assert.equal((await auditEvents(w.server, 'device.unblocked', { subjectUserId: w.member.id })).length, 1);
});

test('blocking a location: sessions from there end, any browser there is refused before the password, audited and told', async (t) => {
  const w = await world(t);
  const phone = w.at(UA.iphone, IP.london);
  const tablet = w.at(UA.firefoxLinux, IP.london);
  assert.equal((await signIn(phone, w.email)).status, 200);
  assert.equal((await signIn(tablet, w.email)).status, 200);
  const here = await locationIdOf(w.laptop, 'US/CA');
  const london = await locationIdOf(w.laptop, 'GB/ENG');

  const self = await w.laptop.post(`/api/v1/locations/${here}/block`);
  assert.equal(self.status, 409);
  assert.equal(self.json?.error?.code, 'location_in_use');

  // Blocking a whole place refuses the owner there too: a stale session cannot do it, and nothing changes.
  w.clock.advance(w.server.config.reauthMinutes * 60_000 + 1_000);
  const stale = await w.laptop.post(`/api/v1/locations/${london}/block`);
  assert.equal(stale.status, 403);
  assert.equal(stale.json?.error?.code, 'reauthentication_required');
  assert.equal((await phone.get('/api/v1/session')).status, 200);
  assert.equal((await auditEvents(w.server, 'location.blocked', { subjectUserId: w.member.id })).length, 0);
  await reauthenticate(w.laptop);

  const blocked = await w.laptop.post(`/api/v1/locations/${london}/block`);
  assert.equal(blocked.status, 200, blocked.text);
  assert.equal(blocked.json?.endedSessions, 2);
  assert.equal((blocked.json?.location as { label: string }).label, 'England, United Kingdom');
  assert.equal((await phone.get('/api/v1/session')).status, 401);
  assert.equal((await tablet.get('/api/v1/session')).status, 401);
  assert.equal((await w.laptop.get('/api/v1/session')).status, 200);

  const before = w.notices().length;
  const stranger = w.at(UA.edgeWindows, IP.london);
  const right = await signIn(stranger, w.email);
  const wrong = await signIn(stranger, w.email, 'guessing wildly 12345');
  assert.equal(right.status, 403);
  assert.deepEqual(wrong.json, right.json);
  assert.equal(right.json?.error?.code, 'sign_in_refused');
  const refusals = await auditEvents(w.server, 'sign_in.blocked', { subjectUserId: w.member.id });
  assert.deepEqual(refusals.map((r) => r.details.blockedBy), ['location', 'location']);
  assert.equal(refusals[0]?.details.location, 'GB/ENG');
  const record = await auditEvents(w.server, 'location.blocked', { subjectUserId: w.member.id });
  assert.equal(record[0]?.details.endedSessions, 2);
  const told = w.notices().slice(before);
  assert.equal(told.length, 2);
  assert.equal(told[0]?.subject, 'Acme Widgets: A sign-in from a blocked location was refused');
  assert.match(told[0]?.text ?? '', /^Device: Edge on Windows$/m);
  assert.match(told[0]?.text ?? '', /^Location: London, England, United Kingdom$/m);

  // Another region is fine; unblocking (after confirming) lets London in again.
  assert.equal((await signIn(w.at(UA.edgeWindows, IP.berlin), w.email)).status, 200);
  const unblocked = await w.laptop.post(`/api/v1/locations/${london}/unblock`);
  assert.equal(unblocked.status, 200, unblocked.text);
  assert.equal((await signIn(stranger, w.email)).status, 200);

  // Somebody else's device or location is not found, and ids are bounded.
  const other = await w.server.services.accounts.createUser({ orgId: w.orgId, email: `bob-${Date.now()}@example.com`, password: PASSWORD }, SYSTEM);
  const bob = browserAt(w.server.url, UA.chromeMac, IP.newYork);
  assert.equal((await signIn(bob, other.email)).status, 200);
  const missing = await bob.post(`/api/v1/locations/${london}/block`);
  assert.equal(missing.status, 404);
  assert.equal(missing.json?.error?.code, 'location_not_found');
  assert.equal((await bob.post(`/api/v1/devices/${await deviceIdOf(w.laptop, 'Chrome on macOS')}/block`)).status, 404);
  assert.equal((await bob.post(`/api/v1/devices/${'x'.repeat(65)}/block`)).status, 400);
  assert.equal((await browserAt(w.server.url, UA.chromeMac, IP.newYork).post(`/api/v1/devices/${london}/block`)).status, 401);
});

test('devices page: block and unblock by form, and the email settings form', async (t) => {
  const { hiddenFields, postForm } = await import('../helpers/forms.js');
  const w = await world(t);
  const phone = w.at(UA.iphone, IP.london);
  assert.equal((await signIn(phone, w.email)).status, 200);
  const phoneId = await deviceIdOf(w.laptop, 'Safari on iOS');

  const page = await w.laptop.get('/account/security/devices');
  assert.equal(page.status, 200);
  assert.match(page.text, /Chrome on macOS <span class="badge ok">This device<\/span>/);
  assert.match(page.text, /England, United Kingdom/);
  assert.match(page.text, /California, United States <span class="badge ok">You are here<\/span>/);
  assert.match(page.text, /aria-label="Block Safari on iOS"/);
  assert.doesNotMatch(page.text, /aria-label="Block Chrome on macOS"/, 'the device in use offers no block');

  const fields = await hiddenFields(w.laptop, '/account/security/devices');
  const blocked = await postForm(w.laptop, `/account/security/devices/${phoneId}/block`, fields);
  assert.equal(blocked.status, 200, blocked.text);
  assert.match(blocked.text, /Safari on iOS is blocked\. One session was signed out\./);
  assert.match(blocked.text, /<span class="badge danger">Blocked<\/span>/);
  assert.equal((await phone.get('/api/v1/session')).status, 401);

  // An unblock after the confirmation window sends the user to confirm first, and back here.
  w.clock.advance(w.server.config.reauthMinutes * 60_000 + 1_000);
  const stale = await postForm(w.laptop, `/account/security/devices/${phoneId}/unblock`, fields);
  assert.equal(stale.status, 303);
  assert.equal(stale.headers.get('location'), '/reauthenticate?next=%2Faccount%2Fsecurity%2Fdevices');
  await reauthenticate(w.laptop);
  const unblocked = await postForm(w.laptop, `/account/security/devices/${phoneId}/unblock`, fields);
  assert.match(unblocked.text, /Safari on iOS may sign in again/);

  const saved = await postForm(w.laptop, '/account/security/notifications', { ...fields, newLocation: '1' });
  assert.equal(saved.status, 200);
  assert.match(saved.text, /Your email settings are saved/);
  assert.match(saved.text, /<input type="checkbox" name="newDevice" value="1"\/>/);
  assert.match(saved.text, /<input type="checkbox" name="newLocation" value="1" checked\/>/);
  assert.deepEqual((await w.laptop.get('/api/v1/me/notifications')).json, { newDevice: false, newLocation: true, blockedAttempts: true });
});

test('blocking a place by its page: outside the re-authentication window the person proves it is them and comes back to the confirmation, which then blocks', async (t) => {
  const w = await world(t);
  assert.equal((await signIn(w.at(UA.iphone, IP.london), w.email)).status, 200);
  const london = await locationIdOf(w.laptop, 'GB/ENG');
  const confirmPath = `/account/security/locations/${london}/block`;
  w.clock.advance(w.server.config.reauthMinutes * 60_000 + 1_000);

  // Posting the block straight away changes nothing and asks for the proof, with the confirmation as the way back.
  const csrf = (await hiddenFields(w.laptop, '/account/security/devices'))._csrf!;
  const early = await postForm(w.laptop, confirmPath, { _csrf: csrf });
  assert.equal(early.status, 303);
  assert.equal(early.headers.get('location'), `/reauthenticate?next=${encodeURIComponent(confirmPath)}`);
  assert.deepEqual(await auditEvents(w.server, 'location.blocked'), []);

  const asked = await w.laptop.get(confirmPath);
  assert.equal(asked.status, 303);
  const fields = await hiddenFields(w.laptop, asked.headers.get('location')!);
  assert.equal(fields.next, confirmPath);
  const proved = await postForm(w.laptop, '/reauthenticate', { _csrf: fields._csrf!, next: fields.next!, password: PASSWORD });
  assert.equal(proved.headers.get('location'), confirmPath);

  const confirmation = await w.laptop.get(confirmPath);
  assert.equal(confirmation.status, 200);
  assert.match(confirmation.text, /will be refused, yours included when you are there/);
  const done = await postForm(w.laptop, confirmPath, (await hiddenFields(w.laptop, confirmPath)) as Record<string, string>);
  assert.equal(done.status, 200, done.text);
  assert.match(done.text, /are blocked/);
  assert.equal((await auditEvents(w.server, 'location.blocked')).length, 1);
});
