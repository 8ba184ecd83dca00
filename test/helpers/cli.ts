import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDatabaseLocation } from './backend.js';
import { withSchemasStable } from './backend.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * How to start `twofold` from the repository root: the bundle scripts/run-tests.mjs built for
 * this run (the same source, compiled once), or else the TypeScript source under tsx.
 */
export function cliArgs(...args: string[]): string[] {
  const bundle = process.env.TWOFOLD_TEST_CLI_BUNDLE;
  return bundle ? [bundle, ...args] : ['--import', 'tsx', 'src/cli.ts', ...args];
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI as an operator runs it (a separate process), against one test database. Every command
 * migrates, so it runs under the shared schema lock that keeps parallel tests from dropping
 * schemas mid-scan.
 */
export function runCli(location: TestDatabaseLocation, args: string[], options: { stdin?: string; env?: Record<string, string>; withoutSecretKey?: boolean } = {}): Promise<CliResult> {
  return withSchemasStable(location, () => {
    // The key test servers use (test/helpers/server.ts), so a server and the CLI can share a database.
    const env: NodeJS.ProcessEnv = { ...process.env, TWOFOLD_SECRET_KEY: 'a'.repeat(64), TWOFOLD_DATA_DIR: location.dataDir, ...options.env };
    delete env.TWOFOLD_DATABASE_URL;
    // Without it the CLI uses (or makes) the key file in the data directory, as a fresh install does.
    if (options.withoutSecretKey) delete env.TWOFOLD_SECRET_KEY;
    if (location.databaseUrl && location.postgresSchema) {
      const url = new URL(location.databaseUrl);
      url.searchParams.set('options', `-c search_path=${location.postgresSchema}`);
      env.TWOFOLD_DATABASE_URL = url.toString();
    }
    return new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, cliArgs(...args), { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(options.stdin ?? '');
    });
  });
}
