import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor } from '../../src/core/cursor.js';
import { isTwofoldError } from '../../src/core/errors.js';

function assertInvalid(cursor: string): void {
  assert.throws(
    () => decodeCursor(cursor),
    (err: unknown) => isTwofoldError(err) && err.code === 'cursor_invalid' && err.kind === 'invalid_input',
    JSON.stringify(cursor),
  );
}

test('a cursor round-trips and is URL-safe and versioned', () => {
  for (const id of [1, 9, 10, 12345, 999_999_999_999_999]) {
    const cursor = encodeCursor(id);
    assert.match(cursor, /^[A-Za-z0-9_-]+$/);
    assert.equal(encodeURIComponent(cursor), cursor);
    assert.equal(Buffer.from(cursor, 'base64url').toString('utf8'), `v1:${id}`);
    assert.equal(decodeCursor(cursor), id);
  }
});

test('the older unversioned cursors still decode', () => {
  assert.equal(decodeCursor(Buffer.from('a:42').toString('base64url')), 42);
});

test('anything else is cursor_invalid', () => {
  const b64 = (s: string): string => Buffer.from(s).toString('base64url');
  for (const bad of [
    '',
    'garbage',
    'not-a-cursor',
    b64('a:-1'),
    b64('b:10'),
    b64('v1:'),
    b64('v1:0'),
    b64('v1:007'),
    b64('v1:-3'),
    b64('v1:1.5'),
    b64('v2:10'),
    b64('v1:1234567890123456'),
    b64('v1:10 '),
    Buffer.from('v1:10').toString('base64'), // padded base64 is not the canonical spelling
    `${encodeCursor(10)}=`,
    `${encodeCursor(10)}.`,
    'x'.repeat(65),
  ]) {
    assertInvalid(bad);
  }
  // A non-canonical spelling of a valid cursor (trailing bits changed) is refused too.
  const good = encodeCursor(10);
  const last = good.charAt(good.length - 1);
  const twin = good.slice(0, -1) + (last === 'A' ? 'B' : String.fromCharCode(last.charCodeAt(0) + 1));
  if (Buffer.from(twin, 'base64url').toString('utf8') === 'v1:10') assertInvalid(twin);
});

test('only positive safe integers are encoded', () => {
  for (const id of [0, -1, 1.5, Number.NaN, 2 ** 60]) assert.throws(() => encodeCursor(id), RangeError);
});
