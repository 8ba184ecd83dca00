import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import type { Config } from '../config.js';
import { ConfigError, loadConfig } from '../config.js';
import { isTwofoldError } from '../core/errors.js';
import { ADMIN_ROLE } from '../services/accounts.js';
import { SYSTEM_ACTOR } from '../services/actor.js';
import { API_KEY_SCOPES } from '../services/api-keys.js';
import { OIDC_SCOPES } from '../core/oidc.js';
import type { Runtime } from '../services/bootstrap.js';
import { openRuntime } from '../services/bootstrap.js';
import { serve } from './serve.js';
import type { Organisation } from '../store/index.js';
import { registerBackupCommands } from './backup.js';
import { registerKeyCommands } from './keys.js';

const CLI_ACTOR = { userId: null, meta: { ip: 'cli', userAgent: 'twofold-cli' } };

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) throw new ConfigError('--password-stdin expects the password on standard input (e.g. echo "$PW" | twofold ...)');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function withRuntime<T>(run: (runtime: Runtime, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const runtime = await openRuntime(config);
  try {
    return await run(runtime, config);
  } finally {
    await runtime.close();
  }
}

/** Finds an organisation by id or exact name. */
function resolveOrganisation(runtime: Runtime, ref: string): Promise<Organisation> {
  return runtime.services.organisations.resolve(ref);
}

/** package.json sits two levels above both src/cli/main.ts and dist/cli/main.js. */
function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command('twofold')
    .description('Twofold two-factor authentication server')
    .version(packageVersion(), '--version', 'print the version')
    .exitOverride()
    // Usage errors are one line: commander puts its "(Did you mean ...?)" hint on a second one.
    .configureOutput({ outputError: (text, write) => write(`${text.trim().replace(/\s*\n\s*/g, ' ')}\n`) });

  program
    .command('serve')
    .description('Start the server (applies migrations first); prints a setup link on an empty database')
    .action(() => serve(loadConfig()));

  program
    .command('migrate')
    .description('Apply database migrations and exit')
    .action(() =>
      withRuntime(async (runtime) => {
        const applied = runtime.appliedMigrations;
        process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'database is up to date\n');
      }),
    );

  const users = program.command('users').description('Manage users');
  users
    .command('create')
    .description('Create a user; on an empty database this creates the first organisation and admin')
    .requiredOption('--email <email>', 'email address (unique)')
    .option('--password-stdin', 'read the password from standard input')
    .option('--name <name>', 'display name')
    .option('--org <org>', 'organisation id or name (default: the first organisation)')
    .option('--role <role>', 'grant a role (repeatable)', collect, [] as string[])
    .option('--time-zone <tz>', 'IANA time zone', 'UTC')
    .action((opts: { email: string; passwordStdin?: boolean; name?: string; org?: string; role: string[]; timeZone: string }) =>
      withRuntime(async (runtime, config) => {
        if (!opts.passwordStdin) throw new ConfigError('pass --password-stdin and the password on standard input');
        const password = await readStdin();
        const existing = await runtime.services.organisations.all();
        const firstUser = await runtime.services.setup.needsSetup();
        let org: Organisation;
        if (opts.org) org = await resolveOrganisation(runtime, opts.org);
        else if (existing[0]) org = existing[0];
        else org = await runtime.services.accounts.createOrganisation(config.companyName, null, CLI_ACTOR);
        const roles = firstUser && !opts.role.includes(ADMIN_ROLE) ? [...opts.role, ADMIN_ROLE] : opts.role;
        const user = await runtime.services.accounts.createUser(
          { orgId: org.id, email: opts.email, password, displayName: opts.name, timeZone: opts.timeZone, roles },
          CLI_ACTOR,
        );
        process.stdout.write(`created user ${user.id} <${user.email}> in ${org.name}${roles.length ? ` with roles ${roles.join(', ')}` : ''}\n`);
      }),
    );

  users
    .command('disable')
    .description('Disable a user: their sessions end and they can no longer sign in')
    .requiredOption('--email <email>', 'email address')
    .action((opts: { email: string }) =>
      withRuntime(async (runtime) => {
        const user = await runtime.services.accounts.requireUserByEmail(undefined, opts.email);
        await runtime.services.accounts.setStatus(user, 'disabled', CLI_ACTOR);
        process.stdout.write(`disabled ${user.email}\n`);
      }),
    );

  const orgs = program.command('orgs').description('Manage organisations');
  orgs
    .command('create')
    .description('Create an organisation, optionally below a parent (an agency and its sub-accounts)')
    .requiredOption('--name <name>', 'organisation name')
    .option('--parent <org>', 'parent organisation id or name')
    .action((opts: { name: string; parent?: string }) =>
      withRuntime(async (runtime) => {
        const parent = opts.parent ? await resolveOrganisation(runtime, opts.parent) : null;
        const org = await runtime.services.accounts.createOrganisation(opts.name, parent?.id ?? null, CLI_ACTOR);
        process.stdout.write(`${org.id}\t${org.name}${parent ? `\t(parent: ${parent.name})` : ''}\n`);
      }),
    );
  orgs
    .command('list')
    .description('List organisations')
    .action(() =>
      withRuntime(async (runtime) => {
        for (const o of await runtime.services.organisations.all()) process.stdout.write(`${o.id}\t${o.name}\t${o.parent_id ?? '-'}\n`);
      }),
    );

  const roles = program.command('roles').description('Manage roles');
  roles
    .command('create')
    .description('Create a role in an organisation')
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--name <name>', 'role name')
    .action((opts: { org: string; name: string }) =>
      withRuntime(async (runtime) => {
        const org = await resolveOrganisation(runtime, opts.org);
        const role = await runtime.services.accounts.createRole(org.id, opts.name, CLI_ACTOR);
        process.stdout.write(`${role.id}\t${role.name}\n`);
      }),
    );
  roles
    .command('grant')
    .description('Grant a role to a user, or to a group with --group')
    .requiredOption('--role <role>', 'role name')
    .option('--email <email>', 'user email')
    .option('--group <group>', 'group name (needs --org)')
    .option('--org <org>', 'organisation id or name, for --group')
    .action((opts: { role: string; email?: string; group?: string; org?: string }) =>
      withRuntime(async (runtime) => {
        if (opts.email) {
          await runtime.services.accounts.grantRoleToUser(opts.email, opts.role, CLI_ACTOR);
          process.stdout.write(`granted ${opts.role} to ${opts.email}\n`);
        } else if (opts.group && opts.org) {
          const org = await resolveOrganisation(runtime, opts.org);
          await runtime.services.accounts.grantRoleToGroup(org.id, opts.group, opts.role, CLI_ACTOR);
          process.stdout.write(`granted ${opts.role} to group ${opts.group}\n`);
        } else {
          throw new ConfigError('give --email, or --group with --org');
        }
      }),
    );

  const groups = program.command('groups').description('Manage groups');
  groups
    .command('create')
    .description('Create a group in an organisation')
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--name <name>', 'group name')
    .action((opts: { org: string; name: string }) =>
      withRuntime(async (runtime) => {
        const org = await resolveOrganisation(runtime, opts.org);
        const group = await runtime.services.accounts.createGroup(org.id, opts.name, CLI_ACTOR);
        process.stdout.write(`${group.id}\t${group.name}\n`);
      }),
    );
  groups
    .command('add-member')
    .description('Add a user to a group')
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--group <group>', 'group name')
    .requiredOption('--email <email>', 'user email')
    .action((opts: { org: string; group: string; email: string }) =>
      withRuntime(async (runtime) => {
        const org = await resolveOrganisation(runtime, opts.org);
        await runtime.services.accounts.addGroupMember(org.id, opts.group, opts.email, CLI_ACTOR);
        process.stdout.write(`added ${opts.email} to ${opts.group}\n`);
      }),
    );

  const apiKeys = program.command('api-keys').description('Manage API keys for apps');
  apiKeys
    .command('create')
    .description(`Create an API key for an organisation and print it (shown once; only a hash is kept). Scopes: ${API_KEY_SCOPES.join(', ')}`)
    .requiredOption('--org <org>', 'organisation id or name')
    .requiredOption('--name <name>', 'what the key is for, e.g. "CI pipeline"')
    .option('--scope <scope>', 'allow an action (repeatable, or comma-separated)', collect, [] as string[])
    .action((opts: { org: string; name: string; scope: string[] }) =>
      withRuntime(async (runtime) => {
        const scopes = opts.scope.flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
        if (scopes.length === 0) throw new ConfigError(`give at least one --scope (${API_KEY_SCOPES.join(', ')})`);
        const org = await resolveOrganisation(runtime, opts.org);
        const { key, apiKey } = await runtime.services.apiKeys.create(SYSTEM_ACTOR, org.id, { name: opts.name, scopes }, CLI_ACTOR.meta);
        process.stdout.write(`created API key ${apiKey.id} "${apiKey.name}" in ${org.name} with scopes ${apiKey.scopes.join(', ')}\n`);
        process.stdout.write(`key: ${key}\n`);
        process.stdout.write('This is the only time the key is shown; store it now.\n');
      }),
    );

  const clients = program.command('clients').description('Manage apps that sign people in with OpenID Connect');
  clients
    .command('create')
    .description('Register an OpenID Connect client and print its id and secret (the secret is shown once; only its HMAC is kept)')
    .requiredOption('--name <name>', 'what the app is called, shown on the consent page')
    .option('--redirect-uri <uri>', 'an exact redirect URI (repeatable; https, or http on localhost)', collect, [] as string[])
    .option('--post-logout-redirect-uri <uri>', 'where the app may send people after signing out (repeatable)', collect, [] as string[])
    .option('--public', 'a public client (browser or mobile app): no secret, PKCE only')
    .option('--scope <scope>', `a scope it may ask for (repeatable, or comma-separated; default all of ${OIDC_SCOPES.join(', ')})`, collect, [] as string[])
    .option('--require-2fa', 'everyone signing in to this app passes a second factor, whatever their organisation policy')
    .option('--org <org>', 'organisation id or name whose admins manage it; only its people and those of organisations below it may sign in (default: the first organisation)')
    .option('--open-to-everyone', 'a shared app: anyone with an account may sign in to it, whatever their organisation (the ID token says which, in org_id)')
    .action((opts: { name: string; redirectUri: string[]; postLogoutRedirectUri: string[]; public?: boolean; scope: string[]; require2fa?: boolean; org?: string; openToEveryone?: boolean }) =>
      withRuntime(async (runtime, config) => {
        if (opts.redirectUri.length === 0) throw new ConfigError('give at least one --redirect-uri');
        let org: Organisation | undefined;
        if (opts.org) org = await resolveOrganisation(runtime, opts.org);
        else org = (await runtime.services.organisations.all())[0];
        if (!org) throw new ConfigError('there is no organisation yet: create one with "twofold orgs create" or "twofold users create"');
        const { client, secret } = await runtime.services.oidcClients.create(
          SYSTEM_ACTOR,
          org.id,
          {
            name: opts.name,
            redirectUris: opts.redirectUri,
            postLogoutRedirectUris: opts.postLogoutRedirectUri,
            public: opts.public === true,
            scopes: opts.scope.length ? opts.scope : undefined,
            requireTwoFactor: opts.require2fa === true,
            audience: opts.openToEveryone === true ? 'everyone' : 'organisation',
          },
          CLI_ACTOR.meta,
        );
        const kind = client.public ? 'public' : 'confidential';
        process.stdout.write(`created ${kind} client "${client.name}" in ${org.name} with scopes ${client.scopes.join(' ')}${client.requireTwoFactor ? ', requiring two-step verification' : ''}${client.audience === 'everyone' ? ', open to everyone' : ''}\n`);
        process.stdout.write(`issuer: ${config.publicUrl}\n`);
        process.stdout.write(`client_id: ${client.id}\n`);
        if (secret) {
          process.stdout.write(`client_secret: ${secret}\n`);
          process.stdout.write('This is the only time the secret is shown; store it now.\n');
        }
      }),
    );

  registerBackupCommands(program);
  registerKeyCommands(program);

  return program;
}

/** Runs the CLI; every failure becomes one line on stderr and a non-zero exit. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    const message = isTwofoldError(error) ? `${error.message} (${error.code})` : error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
    process.stderr.write(`twofold: ${message}\n`);
    process.exitCode = 1;
  }
}
