import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { PASSWORD, enrolledMember, freshCode, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { SYSTEM } from '../helpers/policy.js';
import { startTestServer } from '../helpers/server.js';

const CITY_DB = join(import.meta.dirname, '../fixtures/geoip/city.mmdb');
const CHROME_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0';
// From the fixture (scripts/make-geoip-fixture.ts): San Francisco and Los Angeles are both US/CA, London is GB.
const SAN_FRANCISCO = '192.0.2.10';
const LOS_ANGELES = '192.0.2.200';
const LONDON = '203.0.113.5';

async function world(t: { after(fn: () => Promise<void>): void }, triggers: string[]) {
  const clock = new TestClock();
  const server = await startTestServer({ clock, env: { TWOFOLD_TRUST_PROXY: 'true', TWOFOLD_GEOIP_DB: CITY_DB } });
  t.after(() => server.close());
  const member = await enrolledMember(server, clock);
  await server.services.accounts.createUser({ orgId: member.user.org_id, email: `boss-${member.user.id.slice(0, 6)}@example.com`, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const admin = await signedInClient(server, `boss-${member.user.id.slice(0, 6)}@example.com`);
  const policy = await admin.request('PUT', `/api/v1/organisations/${member.user.org_id}/policy`, { mode: 'optional', appliesToSubOrganisations: false, triggers, allowedMethods: ['totp'], trustBrowserDays: 30 });
  assert.equal(policy.status, 200, policy.text);

  const browser = (userAgent: string) => new TestClient(server.url, { 'user-agent': userAgent });
  const signIn = async (client: TestClient, ip: string) => {
    const res = await client.post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD }, { 'x-forwarded-for': ip });
    assert.equal(res.status, 200, res.text);
    return res;
  };
  const completeWithCode = async (client: TestClient, ip: string) => {
    const first = await signIn(client, ip);
    assert.equal(first.json?.status, 'second_factor_required');
    const done = await client.post('/api/v1/auth/second-factor', { challenge: first.json?.challenge, method: 'totp', code: freshCode(member.secret, clock) }, { 'x-forwarded-for': ip });
    assert.equal(done.status, 200, done.text);
  };
  return { server, member, browser, signIn, completeWithCode };
}

test('new_device: a browser that completed a sign-in is recognised by its device cookie; another browser is challenged', async (t) => {
  const w = await world(t, ['new_device']);
  const laptop = w.browser(CHROME_MAC);
  await w.completeWithCode(laptop, SAN_FRANCISCO);
  assert.ok(laptop.cookies.get('twofold_device'), 'a device cookie is set');
  assert.equal((await w.signIn(laptop, LONDON)).json?.status, 'signed_in', 'known device: no code, wherever it is');

  const other = w.browser(FIREFOX_LINUX);
  assert.equal((await w.signIn(other, SAN_FRANCISCO)).json?.status, 'second_factor_required');

  // A copied cookie in a different browser is not the same device.
  const copied = w.browser(FIREFOX_LINUX);
  copied.cookies.set('twofold_device', laptop.cookies.get('twofold_device') ?? '');
  assert.equal((await w.signIn(copied, SAN_FRANCISCO)).json?.status, 'second_factor_required');

  // A password alone teaches nothing: the challenged browser is still new next time.
  assert.equal((await w.signIn(other, SAN_FRANCISCO)).json?.status, 'second_factor_required');
  const devices = await w.server.services.devices.listDevices(w.member.user.id);
  assert.equal(devices.length, 2, 'the enrolment browser and the laptop');
});

test('new_location: a new region is challenged, the same region and unknown places are not', async (t) => {
  const w = await world(t, ['new_location']);
  const laptop = w.browser(CHROME_MAC);
  await w.completeWithCode(laptop, SAN_FRANCISCO);
  const phone = w.browser(FIREFOX_LINUX);
  assert.equal((await w.signIn(phone, LOS_ANGELES)).json?.status, 'signed_in', 'same region (US/CA), new device: not a trigger here');
  assert.equal((await w.signIn(laptop, LONDON)).json?.status, 'second_factor_required', 'GB is new');
  await w.completeWithCode(laptop, LONDON);
  assert.equal((await w.signIn(phone, LONDON)).json?.status, 'signed_in', 'GB is known now');
  const locations = (await w.server.services.devices.listLocations(w.member.user.id)).map((l) => l.location_key).sort();
  assert.deepEqual(locations, ['GB/ENG', 'US/CA'], 'the enrolment from 127.0.0.1 is an unknown place and is not listed');
});

test('every_sign_in still challenges a known device in a known place', async (t) => {
  const w = await world(t, ['every_sign_in']);
  const laptop = w.browser(CHROME_MAC);
  await w.completeWithCode(laptop, SAN_FRANCISCO);
  assert.equal((await w.signIn(laptop, SAN_FRANCISCO)).json?.status, 'second_factor_required');
});
