import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';
import type { CliResult } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';

let location: TestDatabaseLocation;

before(async () => {
  location = await freshDatabaseLocation();
});

after(() => location.dispose());

function cli(args: string[], stdin = ''): Promise<CliResult> {
  return runCli(location, args, { stdin, env: { TWOFOLD_PUBLIC_URL: 'https://sso.example.test' }, withoutSecretKey: true });
}

async function audienceOf(name: string): Promise<string | undefined> {
  const database = await openTestDatabase(location);
  try {
    return (await database.db.selectFrom('oidc_clients').select('audience').where('name', '=', name).executeTakeFirst())?.audience;
  } finally {
    await database.close();
  }
}

describe(`twofold clients create: who may sign in (${currentBackend()})`, () => {
  test('by default only the organisation tree; --open-to-everyone makes a shared app, and says so', async () => {
    const org = await cli(['orgs', 'create', '--name', 'Acme']);
    assert.equal(org.code, 0, org.stderr);

    const own = await cli(['clients', 'create', '--name', 'Wiki', '--redirect-uri', 'https://wiki.example.test/cb']);
    assert.equal(own.code, 0, own.stderr);
    assert.doesNotMatch(own.stdout.split('\n')[0]!, /everyone/);
    assert.equal(await audienceOf('Wiki'), 'organisation');

    const shared = await cli(['clients', 'create', '--name', 'Desk', '--redirect-uri', 'https://desk.example.test/cb', '--open-to-everyone']);
    assert.equal(shared.code, 0, shared.stderr);
    assert.match(shared.stdout, /^created confidential client "Desk" in Acme with scopes openid email profile offline_access, open to everyone\n/);
    assert.equal(await audienceOf('Desk'), 'everyone');
  });

  test('--help names the option', async () => {
    const help = await cli(['clients', 'create', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--open-to-everyone/);
  });
});
