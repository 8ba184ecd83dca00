import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import maxmind from 'maxmind';
import { ConfigError, loadConfig } from '../../src/config.js';
import { isTwofoldError } from '../../src/core/errors.js';
import { settingsFrom } from '../../src/services/bootstrap.js';
import { GeoIpLocator, geoIpFilesFrom, locationFromRecord, placeableAddress } from '../../src/services/geoip.js';
import { FIXTURE_DIR, buildGeoIpFixtures } from '../../scripts/make-geoip-fixture.js';

const CITY = join(FIXTURE_DIR, 'city.mmdb');
const COUNTRY_V4 = join(FIXTURE_DIR, 'country-ipv4.mmdb');
const COUNTRY_V6 = join(FIXTURE_DIR, 'country-ipv6.mmdb');

const pair = () => new GeoIpLocator({ ipv4Database: COUNTRY_V4, ipv6Database: COUNTRY_V6 });

test('the committed fixtures are what scripts/make-geoip-fixture.ts writes', () => {
  for (const [name, contents] of buildGeoIpFixtures()) {
    assert.ok(readFileSync(join(FIXTURE_DIR, name)).equals(contents), `${name} is stale: run node --import tsx scripts/make-geoip-fixture.ts`);
  }
});

describe('address family decides the database', () => {
  test('an IPv6 address asked of an IPv4 database gets an unrelated network’s answer', async () => {
    const v4 = await maxmind.open(COUNTRY_V4);
    // 2001:db8:: walked through a 32-bit tree is 32.1.13.184: the fixture says BR there.
    assert.deepEqual(v4.get('2001:db8::1'), { country_code: 'BR' });
    assert.deepEqual(await pair().locate('2001:db8::1'), { country: 'JP', region: null, regionCode: null, city: null });
  });

  test('an IPv4 address asked of an IPv6-only database gets nothing', async () => {
    const v6 = await maxmind.open(COUNTRY_V6);
    assert.equal(v6.get('192.0.2.1'), null);
    assert.equal((await pair().locate('192.0.2.1'))?.country, 'NL');
  });

  test('an IPv4-mapped IPv6 address is looked up as IPv4, in either spelling', async () => {
    const locator = pair();
    assert.equal((await locator.locate('::ffff:192.0.2.7'))?.country, 'NL');
    assert.equal((await locator.locate('::FFFF:c000:0207'))?.country, 'NL');
    assert.equal((await locator.locate('0:0:0:0:0:ffff:192.0.2.7'))?.country, 'NL');
    assert.deepEqual(placeableAddress('::ffff:c000:207'), { family: 4, text: '192.0.2.7' });
  });

  test('a single IPv4-only database gives no answer for IPv6 rather than a wrong one', async () => {
    const locator = new GeoIpLocator({ database: COUNTRY_V4 });
    assert.equal(await locator.locate('2001:db8::1'), null);
    assert.equal((await locator.locate('192.0.2.1'))?.country, 'NL');
  });

  test('a single database with both families (city shape) answers both', async () => {
    const locator = new GeoIpLocator({ database: CITY });
    assert.deepEqual(await locator.locate('192.0.2.10'), { country: 'US', region: 'California', regionCode: 'CA', city: 'San Francisco' });
    assert.deepEqual(await locator.locate('::ffff:192.0.2.200'), { country: 'US', region: 'California', regionCode: 'CA', city: 'Los Angeles' });
    assert.deepEqual(await locator.locate('203.0.113.9'), { country: 'GB', region: 'England', regionCode: 'ENG', city: 'London' });
    assert.deepEqual(await locator.locate('2001:db8:1::5'), { country: 'DE', region: 'Berlin', regionCode: 'BE', city: 'Berlin' });
    assert.deepEqual(await locator.locate('2001:db8:2::5'), { country: 'FR', region: null, regionCode: null, city: null });
    assert.equal(await locator.locate('2001:db8:3::5'), null, 'no data: unknown');
  });
});

describe('addresses that name no place', () => {
  const nowhere = ['10.1.2.3', '127.0.0.1', '::1', '::', 'fe80::1', 'fe80::1%eth0', 'fd12:3456::1', '192.168.1.20', '172.16.5.4', '100.64.0.9', '169.254.1.1', '::ffff:10.0.0.1', '::ffff:127.0.0.1', '0.0.0.0', '255.255.255.255', 'not an address', '', '192.0.2.300'];
  for (const ip of nowhere) {
    test(`"${ip}" is an unknown location`, async () => {
      assert.equal(await pair().locate(ip), null);
    });
  }

  test('the database is not even asked: the fixture has data for 10/8, 127/8, fc00::/7 and fe80::/10', async () => {
    const v4 = await maxmind.open(COUNTRY_V4);
    const v6 = await maxmind.open(COUNTRY_V6);
    assert.deepEqual(v4.get('10.1.2.3'), { country_code: 'AQ' });
    assert.deepEqual(v4.get('127.0.0.1'), { country_code: 'AQ' });
    assert.deepEqual(v6.get('fd12:3456::1'), { country_code: 'AQ' });
    assert.deepEqual(v6.get('fe80::1'), { country_code: 'AQ' });
  });

  test('a bracketed IPv6 address is accepted', () => assert.deepEqual(placeableAddress('[2001:db8::1]'), { family: 6, text: '2001:db8:0:0:0:0:0:1' }));
});

describe('record shapes', () => {
  test('ip-location-db country records', () => assert.deepEqual(locationFromRecord({ country_code: 'se' }), { country: 'SE', region: null, regionCode: null, city: null }));
  test('ip-location-db city records', () =>
    assert.deepEqual(locationFromRecord({ country_code: 'US', state1: 'California', city: 'San Jose' }), { country: 'US', region: 'California', regionCode: null, city: 'San Jose' }));
  test('DB-IP city records (names, no subdivision code)', () =>
    assert.deepEqual(locationFromRecord({ country: { iso_code: 'FR', names: { en: 'France' } }, subdivisions: [{ names: { en: 'Île-de-France' } }], city: { names: { en: 'Paris' } } }), {
      country: 'FR',
      region: 'Île-de-France',
      regionCode: null,
      city: 'Paris',
    }));
  test('a record with only the registered country', () => assert.equal(locationFromRecord({ registered_country: { iso_code: 'NL' } })?.country, 'NL'));
  test('no country, or the unknown country ZZ, is no place', () => {
    assert.equal(locationFromRecord({ city: { names: { en: 'Nowhere' } } }), null);
    assert.equal(locationFromRecord({ country_code: 'ZZ' }), null);
    assert.equal(locationFromRecord({ country_code: 'USA' }), null);
    assert.equal(locationFromRecord(null), null);
  });
});

describe('the bundled public-domain data', () => {
  const files = geoIpFilesFrom({ geoipDatabase: undefined, geoipIpv4Database: undefined, geoipIpv6Database: undefined });

  test('is used when nothing is configured, one file per family', () => {
    assert.ok('ipv4Database' in files);
    assert.match(files.ipv4Database, /iptoasn-country-ipv4\.mmdb$/);
    assert.match(files.ipv6Database, /iptoasn-country-ipv6\.mmdb$/);
  });

  test('places well-known public resolvers by family', async () => {
    const locator = new GeoIpLocator(files);
    assert.equal((await locator.locate('8.8.8.8'))?.country, 'US');
    assert.equal((await locator.locate('::ffff:8.8.8.8'))?.country, 'US');
    assert.equal((await locator.locate('2001:4860:4860::8888'))?.country, 'US');
    // RIPE NCC's own network, in Amsterdam.
    assert.equal((await locator.locate('193.0.6.139'))?.country, 'NL');
    assert.equal((await locator.locate('2001:67c:2e8:22::c100:68b'))?.country, 'NL');
  });

  test('the real IPv4 file answers an IPv6 question wrongly; the locator does not ask it', async () => {
    assert.ok('ipv4Database' in files);
    const v4 = await maxmind.open(files.ipv4Database);
    const wrong = locationFromRecord(v4.get('2001:67c:2e8:22::c100:68b'));
    assert.notEqual(wrong?.country, 'NL');
  });
});

describe('configuration', () => {
  const dir = FIXTURE_DIR;
  test('one database for both families', () => {
    const config = loadConfig({ TWOFOLD_GEOIP_DB: CITY });
    assert.deepEqual(settingsFrom(config).geoIp, { database: CITY });
  });
  test('a pair of per-family databases', () => {
    const config = loadConfig({ TWOFOLD_GEOIP_IPV4_DB: COUNTRY_V4, TWOFOLD_GEOIP_IPV6_DB: COUNTRY_V6 });
    assert.deepEqual(settingsFrom(config).geoIp, { ipv4Database: COUNTRY_V4, ipv6Database: COUNTRY_V6 });
  });
  test('half a pair, both kinds at once, or a missing file is refused at start', () => {
    assert.throws(() => loadConfig({ TWOFOLD_GEOIP_IPV4_DB: COUNTRY_V4 }), ConfigError);
    assert.throws(() => loadConfig({ TWOFOLD_GEOIP_IPV6_DB: COUNTRY_V6 }), ConfigError);
    assert.throws(() => loadConfig({ TWOFOLD_GEOIP_DB: CITY, TWOFOLD_GEOIP_IPV4_DB: COUNTRY_V4, TWOFOLD_GEOIP_IPV6_DB: COUNTRY_V6 }), ConfigError);
    assert.throws(() => loadConfig({ TWOFOLD_GEOIP_DB: join(dir, 'missing.mmdb') }), /TWOFOLD_GEOIP_DB names a file that does not exist/);
  });
});

describe('a database that cannot be read', () => {
  test('fails with location_unavailable, and a file put right later is picked up', async (t) => {
    const tmp = mkdtempSync(join(tmpdir(), 'twofold-geoip-'));
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const path = join(tmp, 'city.mmdb');
    const locator = new GeoIpLocator({ database: path });
    await assert.rejects(locator.locate('192.0.2.1'), (error: unknown) => isTwofoldError(error) && error.code === 'location_unavailable' && error.kind === 'unavailable');
    await assert.rejects(locator.ready(), (error: unknown) => isTwofoldError(error) && error.code === 'location_unavailable');
    copyFileSync(CITY, path);
    assert.equal((await locator.locate('192.0.2.1'))?.city, 'San Francisco');
  });

  test('an IPv4-only file given as the IPv6 database is refused, not misread', async () => {
    const swapped = new GeoIpLocator({ ipv4Database: COUNTRY_V6, ipv6Database: COUNTRY_V4 });
    await assert.rejects(swapped.locate('2001:db8::1'), (error: unknown) => isTwofoldError(error) && error.code === 'location_unavailable');
  });

  test('a file that is not a MaxMind database fails the same way', async () => {
    const locator = new GeoIpLocator({ database: join(FIXTURE_DIR, '..', '..', 'unit', 'risk.test.ts') });
    await assert.rejects(locator.locate('192.0.2.1'), (error: unknown) => isTwofoldError(error) && error.code === 'location_unavailable');
  });
});
