import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTwofoldError } from '../../src/core/errors.js';
import { describeError } from '../../src/http/errors.js';
import { databaseUnavailable, isConnectionFailure, translateConnectionFailure } from '../../src/store/postgres/errors.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test('connection failures are recognised in the shapes pg, pg-pool and Node give them', () => {
  const failures: Array<[string, unknown]> = [
    ['refused', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['reset', withCode('read ECONNRESET', 'ECONNRESET')],
    ['localhost refused on ::1 and 127.0.0.1', new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED'), withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')])],
    ['admin_shutdown', withCode('terminating connection due to administrator command', '57P01')],
    ['crash_shutdown', withCode('terminating connection because of crash of another server process', '57P02')],
    ['cannot_connect_now', withCode('the database system is starting up', '57P03')],
    ['too_many_connections', withCode('sorry, too many clients already', '53300')],
    ['connection_failure', withCode('connection failure', '08006')],
    ['protocol_violation', withCode('protocol violation', '08P01')],
    ['dropped', new Error('Connection terminated unexpectedly')],
    ['connect timeout', new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') })],
    ['pool wait timeout', new Error('timeout exceeded when trying to connect')],
    ['dead client reused', new Error('Client has encountered a connection error and is not queryable')],
    ['wrapped', new Error('query failed', { cause: withCode('x', '57P01') })],
    // TWOFOLD_DATABASE_STATEMENT_TIMEOUT_MS cancelled it: the database is too busy for this request now (503, not 500).
    ['statement timeout', withCode('canceling statement due to statement timeout', '57014')],
  ];
  for (const [name, error] of failures) assert.equal(isConnectionFailure(error), true, name);
});

test('query errors and everything else are not connection failures', () => {
  const others: Array<[string, unknown]> = [
    ['unique violation', withCode('duplicate key value violates unique constraint', '23505')],
    ['syntax', withCode('syntax error at or near "selec"', '42601')],
    ['division by zero', withCode('division by zero', '22012')],
    ['serialization', withCode('could not serialize access', '40001')],
    ['type error', new TypeError('x is not a function')],
    ['a string', 'ECONNREFUSED'],
    ['undefined', undefined],
  ];
  for (const [name, error] of others) assert.equal(isConnectionFailure(error), false, name);
});

test('a connection failure becomes database_unavailable (503, Retry-After); other errors pass through unchanged', () => {
  const refused = withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED');
  let thrown: unknown;
  try {
    translateConnectionFailure(refused);
  } catch (error) {
    thrown = error;
  }
  assert.ok(isTwofoldError(thrown));
  assert.equal(thrown.code, 'database_unavailable');
  assert.equal(thrown.kind, 'unavailable');
  assert.equal(thrown.cause, refused, 'the driver error is kept for the logs');
  assert.doesNotMatch(thrown.message, /ECONNREFUSED|127\.0\.0\.1/, 'nothing about the database reaches the client');

  const described = describeError(databaseUnavailable(refused));
  assert.equal(described.status, 503);
  assert.equal(described.body.error.code, 'database_unavailable');
  assert.equal(described.retryAfter, 5);

  const unique = withCode('duplicate key', '23505');
  assert.throws(() => translateConnectionFailure(unique), (error) => error === unique);
});
