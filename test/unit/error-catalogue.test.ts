import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorCode, ErrorKind } from '../../src/core/errors.js';
import {
  ERROR_CATALOGUE,
  ERROR_CODES,
  STATUS_BY_KIND,
  TwofoldError,
  codesWithStatus,
  gone,
  invalidInput,
  isErrorCode,
  kindOf,
  notFound,
  statusOf,
  unauthenticated,
} from '../../src/core/errors.js';
import { describeError, errorBody } from '../../src/http/errors.js';

const KINDS = Object.keys(STATUS_BY_KIND) as ErrorKind[];

test('every code has exactly one kind, and every kind one error status', () => {
  assert.ok(ERROR_CODES.length > 100, `the catalogue lists every code (${ERROR_CODES.length})`);
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
  for (const code of ERROR_CODES) {
    assert.match(code, /^[a-z][a-z0-9_]*$/, code);
    const kind = ERROR_CATALOGUE[code];
    assert.ok(KINDS.includes(kind), `${code}: unknown kind ${kind}`);
    assert.equal(kindOf(code), kind);
    assert.equal(statusOf(code), STATUS_BY_KIND[kind]);
    assert.ok(isErrorCode(code));
    // The code is in exactly one status group.
    const groups = [...new Set(Object.values(STATUS_BY_KIND))].filter((status) => codesWithStatus(status).includes(code));
    assert.deepEqual(groups, [statusOf(code)], code);
  }
  const statuses = Object.values(STATUS_BY_KIND);
  assert.equal(new Set(statuses).size, statuses.length, 'two kinds never share a status');
  for (const status of statuses) assert.ok(status >= 400 && status <= 599, `${status} is an error status`);
  assert.equal(isErrorCode('no_such_code'), false);
  assert.equal(isErrorCode('toString'), false);
});

test('the HTTP mapping answers each code with its catalogue status, whatever raised it', () => {
  for (const code of ERROR_CODES) {
    const kind = ERROR_CATALOGUE[code];
    // The constructor pairs kind and code at compile time; the loop walks every pair of the table.
    const error = new TwofoldError(...([kind, code, `about ${code}`] as ConstructorParameters<typeof TwofoldError>));
    const described = describeError(error);
    assert.equal(described.status, statusOf(code), code);
    assert.deepEqual(described.body, errorBody(code, `about ${code}`));
  }
});

test('a reset link that does not work is 410 reset_link_invalid, whether spent, expired or never issued', () => {
  assert.equal(kindOf('reset_link_invalid'), 'gone');
  assert.equal(describeError(gone('reset_link_invalid', 'm')).status, 410);
});

test("the codes made in the HTTP layer (Fastify's failures, 404, 500) come from the catalogue too", () => {
  const fastifyError = (code: string, statusCode: number, extra: Record<string, unknown> = {}) => Object.assign(new Error('x'), { code, statusCode, ...extra });
  const cases: Array<[unknown, ErrorCode]> = [
    [fastifyError('FST_ERR_VALIDATION', 400, { validation: [{}] }), 'invalid_request'],
    [fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400), 'invalid_json'],
    [fastifyError('FST_ERR_CTP_EMPTY_JSON_BODY', 400), 'invalid_json'],
    [fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'body_too_large'],
    [fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 'unsupported_media_type'],
    [fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 'invalid_request'],
    [fastifyError('FST_ERR_CTP_SOMETHING_NEW', 400), 'invalid_json'],
    [new SyntaxError('Unexpected token'), 'invalid_json'],
    [fastifyError('FST_ERR_NOT_FOUND', 404), 'not_found'],
    [fastifyError('FST_ERR_BAD_URL', 400), 'invalid_request'],
    // A status no code has becomes a plain bad request: one code, one status.
    [fastifyError('FST_ERR_MAX_PARAM_LENGTH', 414), 'invalid_request'],
    [new Error('boom'), 'internal_error'],
    [fastifyError('FST_ERR_BAD_STATUS_CODE', 500), 'internal_error'],
  ];
  for (const [error, code] of cases) {
    const described = describeError(error);
    assert.equal(described.body.error.code, code, String(error));
    assert.equal(described.status, statusOf(code), `${code}: ${String(error)}`);
  }
  assert.equal(statusOf('body_too_large'), 413);
  assert.equal(statusOf('unsupported_media_type'), 415);
  assert.equal(statusOf('internal_error'), 500);
});

test('the factories refuse an unknown code or a code of another kind (checked by tsc)', () => {
  // Each line below must stay a type error; `npx tsc` fails if one compiles.
  // @ts-expect-error reset_link_invalid is gone (410), never unauthenticated
  const wrongKind = () => unauthenticated('reset_link_invalid', 'm');
  // @ts-expect-error no such code in the catalogue
  const unknown = () => invalidInput('made_up_code', 'm');
  // @ts-expect-error a not-found code is not an invalid-input code
  const other = () => invalidInput('user_not_found', 'm');
  // @ts-expect-error the constructor pairs kind and code too
  const constructed = () => new TwofoldError('conflict', 'user_not_found', 'm');
  assert.equal(typeof wrongKind, 'function');
  assert.equal(typeof unknown, 'function');
  assert.equal(typeof other, 'function');
  assert.equal(typeof constructed, 'function');
  assert.equal(notFound('user_not_found', 'm').kind, 'not_found');
});

/** Source files of src/, for the codes written straight into JSON bodies (which no factory types). */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

test('codes written straight into an error body in src/ are in the catalogue', () => {
  const written = new Set<string>();
  for (const file of sourceFiles(join(import.meta.dirname, '../../src'))) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/error:\s*\{\s*code:\s*'([a-z_0-9]+)'/g)) written.add(match[1]!);
    for (const match of text.matchAll(/errorBody\(\s*'([a-z_0-9]+)'/g)) written.add(match[1]!);
  }
  assert.ok(written.has('not_found'), 'the scan finds the API 404');
  for (const code of written) assert.ok(isErrorCode(code), `${code} is written in src/ but missing from the catalogue`);
});
