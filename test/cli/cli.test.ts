import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { MIGRATIONS, organisations, roles, users } from '../../src/store/index.js';
import type { Database } from '../../src/store/index.js';
import type { TestDatabaseLocation } from '../helpers/backend.js';
import { currentBackend, freshDatabaseLocation, openTestDatabase } from '../helpers/backend.js';
import type { CliResult } from '../helpers/cli.js';
import { runCli } from '../helpers/cli.js';

const PASSWORD = 'correct horse battery staple 42';

let location: TestDatabaseLocation;

before(async () => {
  location = await freshDatabaseLocation();
});

after(() => location.dispose());

function cli(args: string[], input?: string): Promise<CliResult> {
  return runCli(location, args, input === undefined ? {} : { stdin: input });
}

async function ok(args: string[], input?: string): Promise<string> {
  const r = await cli(args, input);
  assert.equal(r.code, 0, `twofold ${args.join(' ')} failed: ${r.stderr}`);
  assert.equal(r.stderr, '');
  return r.stdout;
}

/** Opens the same database the CLI wrote to. */
async function withDatabase<T>(read: (database: Database) => Promise<T>): Promise<T> {
  const database = await openTestDatabase(location);
  try {
    return await read(database);
  } finally {
    await database.close();
  }
}

async function rolesOf(email: string): Promise<string[]> {
  return withDatabase(async (d) => {
    const user = await users.findUserByEmail(d.db, email);
    assert.ok(user, `${email} exists`);
    return roles.effectiveRoleNames(d.db, user.id);
  });
}

function leafCommands(command: Command, prefix: string[] = []): string[][] {
  const children = command.commands.filter((c) => c.name() !== 'help');
  if (children.length === 0) return [prefix];
  return children.flatMap((c) => leafCommands(c, [...prefix, c.name()]));
}

describe(`twofold CLI (${currentBackend()})`, () => {
  test('every command has --help and exits 0', async () => {
    const commands = [[], ...leafCommands(buildProgram())];
    assert.ok(commands.length >= 10);
    const results = await Promise.all(commands.map((path) => cli([...path, '--help'])));
    results.forEach((r, i) => {
      const path = commands[i]!.join(' ');
      assert.equal(r.code, 0, `${path} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: twofold ${path}`.trim()), path);
    });
  });

  test('--version prints the version', async () => {
    assert.match(await ok(['--version']), /^\d+\.\d+\.\d+/);
  });

  test('migrate applies every migration once', async () => {
    assert.equal(await ok(['migrate']), `applied: ${MIGRATIONS.map((m) => m.name).join(', ')}\n`);
    assert.equal(await ok(['migrate']), 'database is up to date\n');
  });

  test('the first user becomes admin; later users get only the roles asked for', async () => {
    const first = await ok(['users', 'create', '--email', 'Ops@Example.com', '--password-stdin'], `${PASSWORD}\n`);
    assert.match(first, /created user .* <Ops@Example.com> .*with roles admin/);
    assert.deepEqual(await rolesOf('ops@example.com'), ['admin']);
    await ok(['users', 'create', '--email', 'second@example.com', '--password-stdin', '--role', 'support'], PASSWORD);
    assert.deepEqual(await rolesOf('second@example.com'), ['support']);
  });

  test('organisations nest below a parent named by name', async () => {
    const agency = (await ok(['orgs', 'create', '--name', 'Agency'])).split('\t')[0];
    assert.ok(agency);
    assert.match(await ok(['orgs', 'create', '--name', 'Sub', '--parent', 'Agency']), /\tSub\t\(parent: Agency\)/);
    const listed = await ok(['orgs', 'list']);
    assert.ok(listed.split('\n').some((line) => line.endsWith(`\tSub\t${agency}`)), listed);
    const subtree = await withDatabase((d) => organisations.subtreeIds(d.db, agency));
    assert.equal(subtree.length, 2);
  });

  test('roles reach a user through a group', async () => {
    await ok(['users', 'create', '--email', 'dev@agency.example', '--org', 'Agency', '--password-stdin'], PASSWORD);
    assert.deepEqual(await rolesOf('dev@agency.example'), []);
    await ok(['roles', 'create', '--org', 'Agency', '--name', 'deployer']);
    await ok(['groups', 'create', '--org', 'Agency', '--name', 'ops']);
    await ok(['groups', 'add-member', '--org', 'Agency', '--group', 'ops', '--email', 'dev@agency.example']);
    await ok(['roles', 'grant', '--role', 'deployer', '--group', 'ops', '--org', 'Agency']);
    assert.deepEqual(await rolesOf('dev@agency.example'), ['deployer']);
    await ok(['roles', 'grant', '--role', 'auditor', '--email', 'dev@agency.example']);
    assert.deepEqual(await rolesOf('dev@agency.example'), ['auditor', 'deployer']);
  });

  test('bad input exits non-zero with one line on stderr and changes nothing', async () => {
    const before = await withDatabase(async (d) => [await users.countUsers(d.db), (await organisations.listOrganisations(d.db)).length]);
    const cases: [string[], string?][] = [
      [['users', 'create', '--email', 'not-an-email', '--password-stdin'], PASSWORD],
      [['users', 'create', '--email', 'weak@example.com', '--password-stdin'], 'password123'],
      [['users', 'create', '--email', 'ops@example.com', '--password-stdin'], PASSWORD],
      [['users', 'create', '--email', 'nobody@example.com', '--org', 'No Such Org', '--password-stdin'], PASSWORD],
      [['users', 'create', '--email', 'nopw@example.com']],
      [['users', 'create', '--password-stdin'], PASSWORD],
      [['orgs', 'create', '--name', 'Orphan', '--parent', 'No Such Org']],
      [['orgs', 'create', '--name', '   ']],
      [['groups', 'create', '--org', 'Agency', '--name', 'ops']],
      [['groups', 'add-member', '--org', 'Agency', '--group', 'nope', '--email', 'dev@agency.example']],
      [['roles', 'create', '--org', 'Agency', '--name', 'has spaces']],
      [['roles', 'grant', '--role', 'x']],
      [['frobnicate']],
      [['user', 'create']],
      [['orgs', 'create', '--name']],
    ];
    const results = await Promise.all(cases.map(([args, input]) => cli(args, input)));
    results.forEach((r, i) => {
      const label = cases[i]![0].join(' ');
      assert.notEqual(r.code, 0, `${label} should fail`);
      const lines = r.stderr.split('\n').filter((l) => l.length > 0);
      assert.equal(lines.length, 1, `${label}: stderr was ${JSON.stringify(r.stderr)}`);
      assert.ok(r.stderr.endsWith('\n'));
    });
    const afterCounts = await withDatabase(async (d) => [await users.countUsers(d.db), (await organisations.listOrganisations(d.db)).length]);
    assert.deepEqual(afterCounts, before);
  });
});
