/**
 * The OpenAPI document describes every answer: each operation has a schema for its success and
 * the shared error schema for its 4xx and 5xx statuses, with the error codes listed per status
 * (each the code's one status in the catalogue). Response objects are closed, so nothing outside
 * them can be sent; and real replies (session, factors, sessions, users, a sign-in step, an
 * error) fit the documented schema exactly.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isErrorCode, statusOf } from '../../src/core/errors.js';
import { PASSWORD, enrolledMember, signedInClient } from '../helpers/authenticator.js';
import { TestClient } from '../helpers/client.js';
import { TestClock } from '../helpers/clock.js';
import { SYSTEM } from '../helpers/policy.js';
import type { TestServer } from '../helpers/server.js';
import { startTestServer } from '../helpers/server.js';

interface Schema {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  'x-error-codes'?: string[];
}
interface Response {
  description?: string;
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  responses?: Record<string, Response>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
/** Responses that have no body. */
const BODILESS = new Set(['204', '304']);
/** Objects that are free-form on purpose: error details, audit and activity details, a deployed bundle (its bytes are the deploy). */
const OPEN_OBJECTS = [/\.details$/, /^GET \/deploy\/\{key\}\/bundle 200$/];

async function openapi(server: TestServer): Promise<Document> {
  const res = await fetch(`${server.url}/api/v1/openapi.json`);
  assert.equal(res.status, 200);
  return (await res.json()) as Document;
}

function operations(doc: Document): Array<{ name: string; path: string; method: string; op: Operation }> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => ({ name: `${method.toUpperCase()} ${path}`, path, method, op })),
  );
}

/** Problems with one response schema: open objects, snake_case (database) names. */
function schemaProblems(schema: Schema, where: string, out: string[]): string[] {
  for (const branch of schema.anyOf ?? []) schemaProblems(branch, where, out);
  if (schema.type === 'object') {
    const open = schema.additionalProperties !== false;
    if (open && !OPEN_OBJECTS.some((pattern) => pattern.test(where))) out.push(`${where}: an object that is not closed (additionalProperties: false)`);
    if (!open && !schema.properties) out.push(`${where}: a closed object with no properties`);
    for (const [name, property] of Object.entries(schema.properties ?? {})) {
      if (name.includes('_') || /hash|encrypted|sealed|private/i.test(name)) out.push(`${where}.${name}: a storage field name in an API answer`);
      schemaProblems(property, `${where}.${name}`, out);
    }
  }
  if (schema.type === 'array') {
    if (!schema.items) out.push(`${where}: an array without items`);
    else schemaProblems(schema.items, `${where}[]`, out);
  }
  return out;
}

/** Does `value` fit `schema` exactly (OpenAPI 3.0: nullable, closed objects)? Returns the first misfit. */
function misfit(schema: Schema, value: unknown, where = '$'): string | null {
  if (schema.anyOf) return schema.anyOf.some((branch) => misfit(branch, value, where) === null) ? null : `${where}: fits none of anyOf`;
  if (value === null) return schema.nullable ? null : `${where}: null where ${schema.type} is expected`;
  if (schema.enum && !schema.enum.includes(value)) return `${where}: ${JSON.stringify(value)} not in ${JSON.stringify(schema.enum)}`;
  switch (schema.type) {
    case 'string':
      return typeof value === 'string' ? null : `${where}: not a string`;
    case 'integer':
      return Number.isInteger(value) ? null : `${where}: not an integer`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${where}: not a boolean`;
    case 'array': {
      if (!Array.isArray(value)) return `${where}: not an array`;
      for (const [i, item] of value.entries()) {
        const problem = schema.items ? misfit(schema.items, item, `${where}[${i}]`) : null;
        if (problem) return problem;
      }
      return null;
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) return `${where}: not an object`;
      const record = value as Record<string, unknown>;
      for (const name of schema.required ?? []) if (!(name in record)) return `${where}.${name}: missing`;
      for (const [name, item] of Object.entries(record)) {
        const property = schema.properties?.[name];
        if (!property) {
          if (schema.additionalProperties === false) return `${where}.${name}: not in the schema`;
          continue;
        }
        const problem = misfit(property, item, `${where}.${name}`);
        if (problem) return problem;
      }
      return null;
    }
    default:
      return null;
  }
}

test('every operation in /api/v1/openapi.json declares its success and its errors, with each code under its own status', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const doc = await openapi(server);
  const ops = operations(doc);
  assert.ok(ops.length >= 80, `the document lists the API (${ops.length} operations)`);
  for (const name of ['GET /api/v1/session', 'GET /api/v1/factors', 'POST /api/v1/auth/sign-in', 'GET /.well-known/jwks.json', 'GET /deploy/{key}/bundle']) {
    assert.ok(ops.some((o) => o.name === name), `${name} is in the document`);
  }

  const problems: string[] = [];
  for (const { name, op } of ops) {
    const responses = op.responses ?? {};
    const statuses = Object.keys(responses);
    const successes = statuses.filter((s) => /^2\d\d$/.test(s));
    if (successes.length === 0) problems.push(`${name}: no 2xx response`);
    for (const status of successes) {
      const response = responses[status]!;
      const schema = response.content?.['application/json']?.schema ?? Object.values(response.content ?? {})[0]?.schema;
      if (!BODILESS.has(status) && !schema) problems.push(`${name} ${status}: no response schema`);
      if (schema && (schema.type === 'object' || schema.anyOf)) schemaProblems(schema, `${name} ${status}`, problems);
    }
    const errors = statuses.filter((s) => /^[45]\d\d$/.test(s));
    if (!errors.some((s) => s.startsWith('4'))) problems.push(`${name}: no 4xx error response`);
    if (!errors.some((s) => s.startsWith('5'))) problems.push(`${name}: no 5xx error response`);
    for (const status of errors) {
      const response = responses[status]!;
      const schema = response.content?.['application/json']?.schema;
      const error = schema?.properties?.error;
      if (!schema || !error || error.properties?.code?.type !== 'string' || error.properties?.message?.type !== 'string' || !schema.required?.includes('error')) {
        problems.push(`${name} ${status}: not the shared error schema {error: {code, message, details?}}`);
        continue;
      }
      schemaProblems(schema, `${name} ${status}`, problems);
      const codes = schema['x-error-codes'];
      if (!codes || codes.length === 0) problems.push(`${name} ${status}: no x-error-codes`);
      for (const code of codes ?? []) {
        if (!isErrorCode(code)) problems.push(`${name} ${status}: ${code} is not in the catalogue`);
        else if (statusOf(code) !== Number(status)) problems.push(`${name} ${status}: ${code} is a ${statusOf(code)} in the catalogue`);
        if (!response.description?.includes(`\`${code}\``)) problems.push(`${name} ${status}: the description does not name ${code}`);
      }
    }
    if (name.startsWith('GET ') === false && !errors.includes('415')) problems.push(`${name}: writes can be refused 415 unsupported_media_type`);
  }
  assert.deepEqual(problems, []);
});

test('real replies fit their documented schema exactly: session, factors, sessions, users, a sign-in step, an error', async (t) => {
  const clock = new TestClock();
  const server = await startTestServer({ clock });
  t.after(() => server.close());
  const doc = await openapi(server);
  const schemaOf = (method: string, path: string, status: number): Schema => {
    const schema = doc.paths[path]?.[method]?.responses?.[String(status)]?.content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${path} ${status} has a schema`);
    return schema;
  };
  const fits = (method: string, path: string, res: { status: number; json: unknown; text: string }, url = path) => {
    assert.equal(misfit(schemaOf(method, path, res.status), res.json), null, `${method} ${url} → ${res.status}: ${res.text.slice(0, 500)}`);
    assert.doesNotMatch(res.text, /password_hash|secret_encrypted|token_hash|_encrypted|_hash"/, `${method} ${url} carries no stored secret`);
  };

  const member = await enrolledMember(server, clock);
  const session = await member.client.get('/api/v1/session');
  assert.equal(session.status, 200, session.text);
  fits('get', '/api/v1/session', session);
  assert.deepEqual(Object.keys(session.json!).sort(), ['session', 'user']);

  const factors = await member.client.get('/api/v1/factors');
  assert.equal(factors.status, 200, factors.text);
  fits('get', '/api/v1/factors', factors);
  assert.equal((factors.json?.factors as unknown[]).length, 1);

  const sessions = await member.client.get('/api/v1/sessions');
  assert.equal(sessions.status, 200, sessions.text);
  fits('get', '/api/v1/sessions', sessions);

  // The password step of an enrolled member: the second_factor_required branch.
  const step = await new TestClient(server.url).post('/api/v1/auth/sign-in', { email: member.email, password: PASSWORD });
  assert.equal(step.json?.status, 'second_factor_required', step.text);
  fits('post', '/api/v1/auth/sign-in', step);

  const stranger = await new TestClient(server.url).get('/api/v1/factors');
  assert.equal(stranger.status, 401);
  fits('get', '/api/v1/factors', stranger);
  assert.deepEqual(Object.keys(stranger.json!), ['error']);

  // An admin (password just proven, no factor held: sudo) lists the users of the organisation.
  const adminEmail = `admin-${member.user.id.slice(0, 8)}@example.com`;
  await server.services.accounts.createUser({ orgId: member.user.org_id, email: adminEmail, password: PASSWORD, roles: ['admin'] }, SYSTEM);
  const admin = await signedInClient(server, adminEmail);
  const list = await admin.get('/api/v1/users');
  assert.equal(list.status, 200, list.text);
  fits('get', '/api/v1/users', list);
  assert.ok((list.json?.users as Array<{ email: string }>).some((u) => u.email === member.email));
  const one = await admin.get(`/api/v1/users/${member.user.id}`);
  assert.equal(one.status, 200, one.text);
  fits('get', '/api/v1/users/{id}', one, `/api/v1/users/${member.user.id}`);
});

test('the schema check in this file notices a reply with a field outside the schema', () => {
  const closed: Schema = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string' } } };
  assert.equal(misfit(closed, { id: 'u1' }), null);
  assert.match(misfit(closed, { id: 'u1', password_hash: 'x' }) ?? '', /password_hash: not in the schema/);
  assert.match(misfit(closed, {}) ?? '', /id: missing/);
  assert.match(misfit(closed, { id: null }) ?? '', /null where string/);
  assert.deepEqual(schemaProblems({ type: 'object', properties: { token_hash: { type: 'string' } } }, 'X', []), ['X: an object that is not closed (additionalProperties: false)', 'X.token_hash: a storage field name in an API answer']);
});
