import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csvField, csvRow, toCsv } from '../../src/core/csv.js';
import { placeLabel } from '../../src/core/place.js';
import { noticesDue } from '../../src/core/sign-in-notices.js';
import { formatInTimeZone } from '../../src/core/time-zone.js';
import { parseUserAgent } from '../../src/core/user-agent.js';
import { isTwofoldError } from '../../src/core/errors.js';
import { activityTypes, describeActivity } from '../../src/services/activity-log.js';
import { stampIn } from '../../src/http/routes/pages-security-centre.js';
import { parseCsv } from '../helpers/csv.js';

describe('CSV export', () => {
  test('plain fields stay as they are; empty and null are empty', () => {
    assert.equal(csvField('Signed in'), 'Signed in');
    assert.equal(csvField(null), '');
    assert.equal(csvField(undefined), '');
    assert.equal(csvField(42), '42');
  });

  test('commas, quotes and line breaks are quoted, quotes doubled', () => {
    assert.equal(csvField('San Francisco, California'), '"San Francisco, California"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField('cr\rhere'), '"cr\rhere"');
  });

  test('formula-leading characters are neutralised with an apostrophe', () => {
    assert.equal(csvField('=1+1'), "'=1+1");
    assert.equal(csvField('+33 1 23'), "'+33 1 23");
    assert.equal(csvField('-2'), "'-2");
    assert.equal(csvField('@SUM(A1)'), "'@SUM(A1)");
    assert.equal(csvField('\t=cmd'), "'\t=cmd");
    assert.equal(csvField('\r=cmd'), '"\'\r=cmd"');
    // Quoting and neutralising together: the apostrophe goes inside the quotes.
    assert.equal(csvField('=HYPERLINK("http://evil.test","click")'), '"\'=HYPERLINK(""http://evil.test"",""click"")"');
    // Only a leading character counts.
    assert.equal(csvField('a=b'), 'a=b');
  });

  test('a document reads back field for field, with CRLF row ends', () => {
    const rows = [
      ['time', 'what'],
      ['2026-01-01', '=cmd|" /C calc"!A0, "x"'],
      ['x,y', 'line\nbreak'],
    ];
    const text = toCsv(rows);
    assert.ok(text.endsWith('\r\n'));
    assert.equal(csvRow(['a', 'b,c']), 'a,"b,c"');
    assert.deepEqual(parseCsv(text), [
      ['time', 'what'],
      ['2026-01-01', '\'=cmd|" /C calc"!A0, "x"'],
      ['x,y', 'line\nbreak'],
    ]);
  });
});

describe('times in the user’s zone, exact UTC on hover', () => {
  const winter = Date.UTC(2026, 10, 25, 9, 0, 7);
  const cases: Array<[string, string]> = [
    ['UTC', '2026-11-25 09:00 (UTC)'],
    ['America/New_York', '2026-11-25 04:00 (GMT-5)'],
    ['Asia/Kolkata', '2026-11-25 14:30 (GMT+5:30)'],
    ['Australia/Adelaide', '2026-11-25 19:30 (GMT+10:30)'],
    ['Asia/Kathmandu', '2026-11-25 14:45 (GMT+5:45)'],
  ];
  for (const [zone, local] of cases) {
    test(zone, () => {
      const stamp = stampIn(zone, winter);
      assert.equal(stamp.local, local);
      assert.equal(stamp.utc, '2026-11-25 09:00:07 UTC');
      assert.equal(stamp.iso, '2026-11-25T09:00:07.000Z');
      assert.equal(formatInTimeZone(winter, zone), local);
    });
  }
});

describe('sign-in notices', () => {
  const on = { newDevice: true, newLocation: true };
  test('a new device or location is told, the very first one is not', () => {
    assert.deepEqual(noticesDue({ newDevice: true, newLocation: false, firstDevice: false, firstLocation: false }, on), { newDevice: true, newLocation: false });
    assert.deepEqual(noticesDue({ newDevice: true, newLocation: true, firstDevice: true, firstLocation: true }, on), { newDevice: false, newLocation: false });
    assert.deepEqual(noticesDue({ newDevice: false, newLocation: true, firstDevice: false, firstLocation: false }, on), { newDevice: false, newLocation: true });
  });
  test('each can be turned off on its own', () => {
    const novelty = { newDevice: true, newLocation: true, firstDevice: false, firstLocation: false };
    assert.deepEqual(noticesDue(novelty, { newDevice: false, newLocation: true }), { newDevice: false, newLocation: true });
    assert.deepEqual(noticesDue(novelty, { newDevice: true, newLocation: false }), { newDevice: true, newLocation: false });
  });
});

describe('device and place descriptions', () => {
  test('device type, browser and OS from a maintained parser', () => {
    const iphone = parseUserAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');
    assert.deepEqual(iphone, { browser: 'Safari', majorVersion: '17', system: 'iOS', deviceType: 'mobile' });
    const ipad = parseUserAgent('Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');
    assert.equal(ipad.deviceType, 'tablet');
    const edge = parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0');
    assert.deepEqual(edge, { browser: 'Edge', majorVersion: '126', system: 'Windows', deviceType: 'desktop' });
    assert.deepEqual(parseUserAgent(''), { browser: null, majorVersion: null, system: null, deviceType: null });
  });
  test('a place reads most precise first, with the country named', () => {
    assert.equal(placeLabel({ country: 'US', region: 'California', city: 'San Francisco' }), 'San Francisco, California, United States');
    assert.equal(placeLabel({ country: 'GB', region: null, city: null }), 'United Kingdom');
    assert.equal(placeLabel({ country: 'SG', region: 'Singapore', city: 'Singapore' }), 'Singapore');
  });
});

describe('activity filter', () => {
  test('categories stand for their event types; exact types work too', () => {
    assert.ok(activityTypes(['blocks']).includes('device.blocked'));
    assert.deepEqual(activityTypes(['sign_out']), ['sign_out']);
    assert.deepEqual(activityTypes(['device.unblocked']), ['device.unblocked']);
    assert.ok(activityTypes(undefined).includes('sign_in.succeeded'));
    assert.ok(!activityTypes(undefined).includes('code.sent'), 'delivery plumbing is not the user’s activity');
  });
  test('an unknown name is refused', () => {
    assert.throws(() => activityTypes(['nope']), (e: unknown) => isTwofoldError(e) && e.code === 'activity_type_invalid');
    assert.throws(() => activityTypes(['provider.created']), (e: unknown) => isTwofoldError(e) && e.code === 'activity_type_invalid');
  });
  test('summaries say what happened', () => {
    assert.equal(describeActivity('sign_in.failed', { reason: 'wrong_password' }), 'Sign-in failed (wrong password)');
    assert.equal(describeActivity('sign_in.blocked', { blockedBy: 'location' }), 'Sign-in refused: blocked location');
    assert.equal(describeActivity('factor.removed', { type: 'totp', label: 'Phone' }), 'Removed authenticator app “Phone”');
    assert.equal(describeActivity('device.blocked', { label: 'Chrome on macOS', endedSessions: 2 }), 'Blocked device Chrome on macOS (2 sessions ended)');
  });
});
