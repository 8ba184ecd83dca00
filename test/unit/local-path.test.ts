import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { safeLocalPath } from '../../src/core/local-path.js';
import { ENCODED_SLASH_PATHS, MALICIOUS_RETURN_PATHS, isSameSitePath } from '../helpers/redirects.js';

describe('safeLocalPath', () => {
  for (const value of MALICIOUS_RETURN_PATHS) {
    test(`refuses ${JSON.stringify(value)}`, () => {
      assert.equal(safeLocalPath(value), null);
    });
  }

  test('keeps encoded slashes as the same-site paths they are to a browser', () => {
    for (const value of ENCODED_SLASH_PATHS) {
      assert.equal(safeLocalPath(value), value);
      assert.ok(isSameSitePath(value), value);
    }
  });

  test('whatever it returns is a same-site path, never "//" or "/\\"', () => {
    for (const value of [...MALICIOUS_RETURN_PATHS, ...ENCODED_SLASH_PATHS]) {
      const out = safeLocalPath(value);
      if (out !== null) assert.ok(isSameSitePath(out), `${JSON.stringify(value)} gave ${out}`);
    }
  });

  test('keeps ordinary paths, with their query and fragment', () => {
    assert.equal(safeLocalPath('/account'), '/account');
    assert.equal(safeLocalPath('/oidc/interaction/Abc_123-x?back=1'), '/oidc/interaction/Abc_123-x?back=1');
    assert.equal(safeLocalPath('/admin/users?q=a%40b.example&filter=no_2fa'), '/admin/users?q=a%40b.example&filter=no_2fa');
    assert.equal(safeLocalPath('/account/security#sessions'), '/account/security#sessions');
    assert.equal(safeLocalPath('/'), '/');
  });

  test('normalises harmless dot segments, and the result is still checked', () => {
    assert.equal(safeLocalPath('/a/./b/../c'), '/a/c');
    assert.equal(safeLocalPath('/../account'), '/account');
    assert.equal(safeLocalPath('/x/%2e%2e/account'), '/account');
  });

  test('refuses non-strings and overlong values', () => {
    for (const value of [undefined, null, 42, ['/account'], { path: '/account' }]) assert.equal(safeLocalPath(value), null);
    assert.equal(safeLocalPath(`/${'a'.repeat(1024)}`), null);
  });
});
