import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { SecretBox, sha256 } from '../../src/core/crypto.js';
import { assessSignIn } from '../../src/core/risk.js';
import { settingsFrom } from '../../src/services/bootstrap.js';
import type { RequestMeta } from '../../src/services/context.js';
import { DeviceRecognition } from '../../src/services/devices.js';
import { GeoIpLocator } from '../../src/services/geoip.js';
import type { Database, User } from '../../src/store/index.js';
import { organisations, users } from '../../src/store/index.js';
import { FIXTURE_DIR } from '../../scripts/make-geoip-fixture.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';

const T0 = 1_750_000_000_000;
const CHROME_MAC = (version: number) => `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version}.0.0.0 Safari/537.36`;
const FIREFOX_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0';
// Fixture places (test/fixtures/geoip/city.mmdb): 192.0.2.0/25 San Francisco and .128/25 Los Angeles (both US/CA), 203.0.113.0/24 London.
const SAN_FRANCISCO = '192.0.2.10';
const LOS_ANGELES = '192.0.2.200';
const LONDON = '203.0.113.9';

let location: TestDatabaseLocation;
let database: Database;
let now = T0;
let recognition: DeviceRecognition;

before(async () => {
  location = await freshDatabaseLocation();
  database = await openTestDatabase(location);
  const settings = settingsFrom(loadConfig({ TWOFOLD_DATA_DIR: location.dataDir, TWOFOLD_GEOIP_DB: join(FIXTURE_DIR, 'city.mmdb') }));
  const deps = { database, box: new SecretBox(Buffer.alloc(32, 7)), settings, clock: () => now };
  recognition = new DeviceRecognition(deps, new GeoIpLocator(settings.geoIp));
});

after(async () => {
  await database.close();
  await location.dispose();
});

async function newUser(): Promise<User> {
  const orgId = randomUUID();
  await organisations.insertOrganisation(database.db, { id: orgId, name: `Org ${orgId.slice(0, 6)}`, parent_id: null, created_at: T0 });
  const email = `u-${randomUUID().slice(0, 8)}@example.com`;
  const id = randomUUID();
  await users.insertUser(database.db, {
    id,
    org_id: orgId,
    email,
    email_normalized: email,
    display_name: 'U',
    time_zone: 'UTC',
    password_hash: 'not-a-real-hash',
    status: 'active',
    password_changed_at: T0,
    created_at: T0,
    totp_last_step: null,
    second_factor_locked_until: null,
  });
  const user = await users.findUser(database.db, id);
  assert.ok(user);
  return user;
}

const meta = (ip: string, userAgent = CHROME_MAC(126)): RequestMeta => ({ ip, userAgent });

/** A successful sign-in as sign-in will do it: remember inside a transaction. */
async function signIn(user: User, token: string | undefined, m: RequestMeta) {
  now += 60_000;
  return database.db.transaction().execute((trx) => recognition.remember(trx, user, token, m));
}

describe(`device and location recognition (${currentBackend()})`, () => {
  test('first sign-in: nothing known; remembering makes the device and the place known', async () => {
    const user = await newUser();
    const before = await recognition.recognise(database.db, user, undefined, meta(SAN_FRANCISCO));
    assert.equal(before.device, null);
    assert.deepEqual(before.location, { key: 'US/CA', country: 'US', region: 'California', regionCode: 'CA', city: 'San Francisco' });
    assert.equal(before.knownLocation, false);
    assert.deepEqual(assessSignIn({ knownDevice: before.device !== null, knownLocation: before.knownLocation, triggers: ['new_device', 'new_location'] }).reasons, ['new_device', 'new_location']);

    const first = await signIn(user, undefined, meta(SAN_FRANCISCO));
    assert.equal(first.newDevice, true);
    assert.equal(first.newLocation, true);
    assert.equal(first.firstDevice, true);
    assert.equal(first.firstLocation, true);
    assert.match(first.deviceToken, /^[A-Za-z0-9_-]{43}$/);

    const [device] = await recognition.listDevices(user.id);
    assert.ok(device);
    assert.equal(device.token_hash, sha256(first.deviceToken), 'only the hash is stored');
    assert.notEqual(device.token_hash, first.deviceToken);
    assert.equal(device.label, 'Chrome on macOS');
    assert.equal(device.sign_in_count, 1);
    assert.equal(device.blocked_at, null);

    const again = await recognition.recognise(database.db, user, first.deviceToken, meta(SAN_FRANCISCO));
    assert.equal(again.device?.id, first.deviceId);
    assert.equal(again.knownLocation, true);
    assert.equal(assessSignIn({ knownDevice: true, knownLocation: again.knownLocation, triggers: ['new_device', 'new_location'] }).challengeDue, false);
  });

  test('the same cookie again counts sign-ins, follows browser updates and keeps the token', async () => {
    const user = await newUser();
    const first = await signIn(user, undefined, meta(SAN_FRANCISCO, CHROME_MAC(126)));
    const firstSeen = now;
    const second = await signIn(user, first.deviceToken, meta(LOS_ANGELES, CHROME_MAC(127)));
    const third = await signIn(user, second.deviceToken, meta(LOS_ANGELES, CHROME_MAC(127)));
    assert.equal(second.deviceToken, first.deviceToken);
    assert.equal(third.deviceId, first.deviceId);
    assert.equal(second.newDevice, false);
    assert.equal(second.firstDevice, false);
    assert.equal(second.newLocation, false, 'Los Angeles is another city in the same region');

    const devices = await recognition.listDevices(user.id);
    assert.equal(devices.length, 1);
    const [device] = devices;
    assert.equal(device?.sign_in_count, 3);
    assert.equal(device?.first_seen_at, firstSeen);
    assert.equal(device?.last_seen_at, now);
    assert.equal(device?.last_ip, LOS_ANGELES);
    assert.equal(device?.user_agent, CHROME_MAC(127));

    const locations = await recognition.listLocations(user.id);
    assert.equal(locations.length, 1);
    assert.equal(locations[0]?.location_key, 'US/CA');
    assert.equal(locations[0]?.sign_in_count, 3);
    assert.equal(locations[0]?.city, 'Los Angeles', 'the city of the latest sign-in');
    assert.equal(locations[0]?.first_seen_at, firstSeen);
  });

  test('another user’s cookie is not recognised, and remembering issues that user their own', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const aliceFirst = await signIn(alice, undefined, meta(SAN_FRANCISCO));
    await signIn(bob, undefined, meta(LONDON));

    const seen = await recognition.recognise(database.db, bob, aliceFirst.deviceToken, meta(SAN_FRANCISCO));
    assert.equal(seen.device, null);
    const bobs = await signIn(bob, aliceFirst.deviceToken, meta(SAN_FRANCISCO));
    assert.equal(bobs.newDevice, true);
    assert.notEqual(bobs.deviceToken, aliceFirst.deviceToken);
    assert.equal((await recognition.listDevices(bob.id)).length, 2);

    const [aliceDevice] = await recognition.listDevices(alice.id);
    assert.equal(aliceDevice?.sign_in_count, 1, 'Alice’s device is untouched');
    assert.equal((await recognition.recognise(database.db, alice, aliceFirst.deviceToken, meta(SAN_FRANCISCO))).device?.id, aliceFirst.deviceId);
  });

  test('the cookie in another browser family is a new device; the original stays known', async () => {
    const user = await newUser();
    const chrome = await signIn(user, undefined, meta(SAN_FRANCISCO, CHROME_MAC(126)));
    const copied = await recognition.recognise(database.db, user, chrome.deviceToken, meta(SAN_FRANCISCO, FIREFOX_WINDOWS));
    assert.equal(copied.device, null);

    const firefox = await signIn(user, chrome.deviceToken, meta(SAN_FRANCISCO, FIREFOX_WINDOWS));
    assert.equal(firefox.newDevice, true);
    assert.notEqual(firefox.deviceToken, chrome.deviceToken);
    const labels = (await recognition.listDevices(user.id)).map((d) => d.label).sort();
    assert.deepEqual(labels, ['Chrome on macOS', 'Firefox on Windows']);
    assert.equal((await recognition.recognise(database.db, user, chrome.deviceToken, meta(SAN_FRANCISCO, CHROME_MAC(128)))).device?.id, chrome.deviceId);
  });

  test('the location list grows only for new keys', async () => {
    const user = await newUser();
    const sf = await signIn(user, undefined, meta(SAN_FRANCISCO));
    const la = await signIn(user, sf.deviceToken, meta(LOS_ANGELES));
    const london = await signIn(user, sf.deviceToken, meta(LONDON));
    const backHome = await signIn(user, sf.deviceToken, meta(SAN_FRANCISCO));
    assert.deepEqual(
      [sf, la, london, backHome].map((r) => r.newLocation),
      [true, false, true, false],
    );
    assert.equal(london.firstLocation, false);
    assert.equal(backHome.locationId, sf.locationId);
    const locations = await recognition.listLocations(user.id);
    assert.deepEqual(locations.map((l) => [l.location_key, l.country, l.region, l.sign_in_count]).sort(), [
      ['GB/ENG', 'GB', 'England', 1],
      ['US/CA', 'US', 'California', 3],
    ]);
  });

  test('an unknown place (private address) is neither new nor listed', async () => {
    const user = await newUser();
    const sf = await signIn(user, undefined, meta(SAN_FRANCISCO));
    const office = await recognition.recognise(database.db, user, sf.deviceToken, meta('10.0.0.8'));
    assert.equal(office.location, null);
    assert.equal(office.knownLocation, null);
    assert.equal(assessSignIn({ knownDevice: true, knownLocation: office.knownLocation, triggers: ['new_location'] }).challengeDue, false);

    const remembered = await signIn(user, sf.deviceToken, meta('10.0.0.8'));
    assert.equal(remembered.locationId, null);
    assert.equal(remembered.newLocation, false);
    assert.equal((await recognition.listLocations(user.id)).length, 1);
    assert.equal((await recognition.listDevices(user.id))[0]?.last_ip, '10.0.0.8');
  });

  test('a token that is not ours (too long, unknown) is simply not recognised', async () => {
    const user = await newUser();
    await signIn(user, undefined, meta(SAN_FRANCISCO));
    for (const token of ['x'.repeat(5000), 'never-issued', '']) {
      assert.equal((await recognition.recognise(database.db, user, token, meta(SAN_FRANCISCO))).device, null);
    }
  });

  test('parallel sign-ins from a new place make one row and one "new location"', async () => {
    const user = await newUser();
    const sf = await signIn(user, undefined, meta(SAN_FRANCISCO));
    const results = await Promise.all(
      Array.from({ length: 6 }, () => database.db.transaction().execute((trx) => recognition.remember(trx, user, sf.deviceToken, meta(LONDON)))),
    );
    assert.equal(results.filter((r) => r.newLocation).length, 1);
    const london = (await recognition.listLocations(user.id)).find((l) => l.location_key === 'GB/ENG');
    assert.equal(london?.sign_in_count, 6);
    assert.equal((await recognition.listDevices(user.id))[0]?.sign_in_count, 7);
  });
});
