import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';
import type { CliResult } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer } from '../helpers/server.js';


let location: TestDatabaseLocation;

before(async () => {
  location = await freshDatabaseLocation();
});

after(() => location.dispose());

/** The CLI as an operator runs it, against this suite's own database (see cli.test.ts). */
function cli(args: string[], stdin = ''): Promise<CliResult> {
  // A fixed public URL (the issuer clients are told about) and the key file of the data directory.
  const env: Record<string, string> = { TWOFOLD_PUBLIC_URL: 'https://sso.example.test' };
  return runCli(location, args, { stdin, env, withoutSecretKey: true });
}

async function clientRows() {
  const database = await openTestDatabase(location);
  try {
    return await database.db.selectFrom('oidc_clients').selectAll().orderBy('created_at').execute();
  } finally {
    await database.close();
  }
}

describe(`twofold clients (${currentBackend()})`, () => {
  test('without an organisation there is nothing to put a client in: one line, no client', async () => {
    const r = await cli(['clients', 'create', '--name', 'Wiki', '--redirect-uri', 'https://wiki.example.test/callback']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /no organisation yet/);
  });

  test('create prints the id and the secret once; only an HMAC of the secret is stored, and the server accepts the secret', async () => {
    const user = await cli(['users', 'create', '--email', 'admin@example.test', '--password-stdin'], 'a long enough passphrase 1\n');
    assert.equal(user.code, 0, user.stderr);

    const r = await cli(['clients', 'create', '--name', 'Wiki', '--redirect-uri', 'https://wiki.example.test/callback', '--redirect-uri', 'http://localhost:3000/callback', '--post-logout-redirect-uri', 'https://wiki.example.test/']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'created confidential client "Wiki" in Twofold with scopes openid email profile offline_access');
    assert.equal(lines[1], 'issuer: https://sso.example.test');
    const clientId = /^client_id: (tfc_[\w-]+)$/.exec(lines[2]!)?.[1];
    const secret = /^client_secret: (tfs_[\w-]+)$/.exec(lines[3]!)?.[1];
    assert.ok(clientId && secret, r.stdout);
    assert.match(lines[4]!, /only time the secret is shown/);

    const rows = await clientRows();
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.equal(row.id, clientId);
    assert.deepEqual(JSON.parse(row.redirect_uris), ['https://wiki.example.test/callback', 'http://localhost:3000/callback']);
    assert.deepEqual(JSON.parse(row.post_logout_redirect_uris), ['https://wiki.example.test/']);
    assert.equal(row.public, 0);
    assert.equal(row.require_two_factor, 0);
    assert.ok(!JSON.stringify(rows).includes(secret), 'the secret itself is nowhere in the table');
    assert.match(row.secret_hash ?? '', /^[\w-]{43}$/);

    // A server with the same secret key (the key file the CLI made) recognises the secret.
    const key = readFileSync(join(location.dataDir, 'secret.key'), 'utf8').trim();
    const server = await startTestServer({ location, env: { TWOFOLD_SECRET_KEY: key } });
    try {
      assert.equal(await server.services.oidcClients.verifySecret(clientId, secret), true);
      assert.equal(await server.services.oidcClients.verifySecret(clientId, `${secret}x`), false);
      const metadata = await server.services.oidcClients.providerMetadata(clientId);
      assert.equal(metadata?.token_endpoint_auth_method, 'client_secret_basic');
      assert.equal(metadata?.client_secret, row.secret_hash);
    } finally {
      await server.close();
    }
  });

  test('a public client has no secret; scopes, 2FA and the organisation can be chosen', async () => {
    const org = await cli(['orgs', 'create', '--name', 'Shop']);
    assert.equal(org.code, 0, org.stderr);
    const r = await cli(['clients', 'create', '--name', 'Shop app', '--redirect-uri', 'https://shop.example.test/cb', '--public', '--scope', 'email', '--scope', 'profile', '--require-2fa', '--org', 'Shop']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^created public client "Shop app" in Shop with scopes openid email profile, requiring two-step verification\n/);
    assert.doesNotMatch(r.stdout, /client_secret/);
    const row = (await clientRows()).find((c) => c.name === 'Shop app')!;
    assert.equal(row.public, 1);
    assert.equal(row.secret_hash, null);
    assert.equal(row.require_two_factor, 1);
    assert.equal(row.org_id, org.stdout.split('\t')[0]);
    assert.deepEqual(JSON.parse(row.scopes), ['openid', 'email', 'profile']);
  });

  test('bad input exits non-zero with one line on stderr and creates nothing', async () => {
    const before = (await clientRows()).length;
    const cases: Array<[string[], RegExp]> = [
      [['clients', 'create', '--redirect-uri', 'https://a.example.test/cb'], /--name/],
      [['clients', 'create', '--name', 'A'], /at least one --redirect-uri/],
      [['clients', 'create', '--name', 'A', '--redirect-uri', 'http://a.example.test/cb'], /must use https/],
      [['clients', 'create', '--name', 'A', '--redirect-uri', 'https://a.example.test/cb#x'], /fragment/],
      [['clients', 'create', '--name', 'A', '--redirect-uri', 'not a url'], /not an absolute URL/],
      [['clients', 'create', '--name', 'A', '--redirect-uri', 'https://a.example.test/cb', '--scope', 'admin'], /Unknown scope "admin"/],
      [['clients', 'create', '--name', 'A', '--redirect-uri', 'https://a.example.test/cb', '--org', 'Nope'], /No organisation "Nope"/],
      [['clients', 'create', '--name', '  ', '--redirect-uri', 'https://a.example.test/cb'], /name_invalid/],
      [['clients', 'create', '--name', 'A', '--redirect-uri', 'https://a.example.test/cb', '--post-logout-redirect-uri', 'ftp://a.example.test/'], /post-logout redirect URI/],
      [['clients', 'mint'], /unknown command|error/i],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((r, i) => {
      const [args, pattern] = cases[i]!;
      const label = args.join(' ');
      assert.notEqual(r.code, 0, `${label} should fail`);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, 1, `${label}: stderr was ${JSON.stringify(r.stderr)}`);
      assert.match(r.stderr, pattern, label);
      assert.doesNotMatch(r.stdout, /client_secret/, label);
    });
    assert.equal((await clientRows()).length, before);
  });

  test('--help explains the command', async () => {
    const help = await cli(['clients', 'create', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: twofold clients create/);
    assert.match(help.stdout, /--require-2fa/);
    assert.match(help.stdout, /--public/);
  });
});
