import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInTimeZone, isValidTimeZone } from '../../src/core/time-zone.js';
import { isTwofoldError } from '../../src/core/errors.js';

test('valid and invalid zone names', () => {
  for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
    assert.equal(isValidTimeZone(tz), true, tz);
  }
  for (const tz of ['', 'Mars/Olympus_Mons', 'Europe/Berlinn', 'not a zone', 'GMT+25']) {
    assert.equal(isValidTimeZone(tz), false, tz);
  }
});

test('formatting in UTC, New York (with DST) and Kolkata (half-hour offset)', () => {
  const winter = Date.UTC(2026, 10, 25, 9, 0);
  const summer = Date.UTC(2026, 6, 1, 23, 45);
  assert.equal(formatInTimeZone(winter, 'UTC'), '2026-11-25 09:00 (UTC)');
  assert.equal(formatInTimeZone(winter, 'America/New_York'), '2026-11-25 04:00 (GMT-5)');
  assert.equal(formatInTimeZone(summer, 'America/New_York'), '2026-07-01 19:45 (GMT-4)');
  assert.equal(formatInTimeZone(winter, 'Asia/Kolkata'), '2026-11-25 14:30 (GMT+5:30)');
  // Crosses midnight into the next day, and midnight renders as 00 not 24.
  assert.equal(formatInTimeZone(summer, 'Asia/Kolkata'), '2026-07-02 05:15 (GMT+5:30)');
  assert.equal(formatInTimeZone(Date.UTC(2026, 0, 1, 0, 0), 'UTC'), '2026-01-01 00:00 (UTC)');
});

test('formatting with an unknown zone is an invalid_input error', () => {
  assert.throws(() => formatInTimeZone(0, 'Mars/Olympus_Mons'), (e: unknown) => isTwofoldError(e) && e.code === 'time_zone_invalid');
  assert.throws(() => formatInTimeZone(Number.NaN, 'UTC'), (e: unknown) => isTwofoldError(e) && e.kind === 'invalid_input');
});
