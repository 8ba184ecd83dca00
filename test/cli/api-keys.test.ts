import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';
import type { CliResult } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';
import { TestClient } from '../helpers/client.js';
import { startTestServer } from '../helpers/server.js';


let location: TestDatabaseLocation;

before(async () => {
  location = await freshDatabaseLocation();
});

after(() => location.dispose());

function cli(args: string[]): Promise<CliResult> {
  return runCli(location, args);
}

async function apiKeyRows() {
  const database = await openTestDatabase(location);
  try {
    return await database.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
  } finally {
    await database.close();
  }
}

describe(`twofold api-keys (${currentBackend()})`, () => {
  let agencyId = '';

  test('create prints the key once; only its hash is stored; the key works as a Bearer token', async () => {
    const org = await cli(['orgs', 'create', '--name', 'Agency']);
    assert.equal(org.code, 0, org.stderr);
    agencyId = org.stdout.split('\t')[0]!;

    const created = await cli(['api-keys', 'create', '--org', 'Agency', '--name', 'CI pipeline', '--scope', 'changes:write', '--scope', 'deployments:read']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stderr, '');
    const lines = created.stdout.trim().split('\n');
    assert.match(lines[0]!, /^created API key [0-9a-f-]{36} "CI pipeline" in Agency with scopes changes:write, deployments:read$/);
    const key = /^key: (tfk_[\w-]+)$/.exec(lines[1]!)?.[1];
    assert.ok(key, created.stdout);
    assert.equal(created.stdout.split(key).length, 2, 'the key appears exactly once');
    assert.match(lines[2]!, /only time the key is shown/);

    const rows = await apiKeyRows();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.org_id, agencyId);
    assert.equal(rows[0]?.name, 'CI pipeline');
    assert.deepEqual(JSON.parse(rows[0]!.scopes), ['changes:write', 'deployments:read']);
    assert.equal(rows[0]?.key_hash, createHash('sha256').update(key).digest('base64url'));
    assert.ok(!JSON.stringify(rows).includes(key), 'the key itself is nowhere in the table');
    assert.equal(rows[0]?.created_by, null);

    // A server on the same database accepts it, for what its scopes allow.
    const server = await startTestServer({ location });
    try {
      const app = new TestClient(server.url, { authorization: `Bearer ${key}` });
      const listed = await app.get(`/api/v1/deploy-targets?org=${agencyId}`);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.json?.targets, []);
      const wrong = await new TestClient(server.url, { authorization: `Bearer ${key}x` }).get('/api/v1/deploy-targets');
      assert.equal(wrong.status, 401, wrong.text);
    } finally {
      await server.close();
    }
  });

  test('comma-separated scopes and an organisation id work too', async () => {
    const created = await cli(['api-keys', 'create', '--org', agencyId, '--name', 'Dashboard', '--scope', 'deployments:read,deployments:write']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /with scopes deployments:read, deployments:write\n/);
    assert.equal((await apiKeyRows()).length, 2);
  });

  test('bad input exits non-zero with one line on stderr and creates nothing', async () => {
    const before = (await apiKeyRows()).length;
    const cases: Array<[string[], RegExp]> = [
      [['api-keys', 'create', '--org', 'No Such Org', '--name', 'CI', '--scope', 'changes:write'], /No organisation "No Such Org"/],
      [['api-keys', 'create', '--org', 'Agency', '--name', 'CI'], /at least one --scope/],
      [['api-keys', 'create', '--org', 'Agency', '--name', 'CI', '--scope', 'deploy:everything'], /scopes_invalid/],
      [['api-keys', 'create', '--org', 'Agency', '--name', '   ', '--scope', 'changes:write'], /name_invalid/],
      [['api-keys', 'create', '--org', 'Agency', '--scope', 'changes:write'], /--name/],
      [['api-keys', 'create', '--name', 'CI', '--scope', 'changes:write'], /--org/],
      [['api-keys', 'create', '--org', 'Agency', '--name', 'CI', '--scope'], /--scope/],
      [['api-keys', 'mint'], /unknown command|error/i],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      const label = args.join(' ');
      assert.notEqual(r.code, 0, `${label} should fail`);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, 1, `${label}: stderr was ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, pattern, label);
      assert.ok(!/tfk_/.test(r.stdout), `${label}: no key printed`);
    });
    assert.equal((await apiKeyRows()).length, before);
  });

  test('--help explains the command and lists the scopes', async () => {
    const help = await cli(['api-keys', 'create', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: twofold api-keys create/);
    assert.match(help.stdout, /changes:write, deployments:read, deployments:write/);
  });
});
